"""Actor sectors (government, military, police, ... see ``sectors.yaml`` beside this file, which says
where each comes from): the sector of an argument's words, of an organisation's name and of a
person's title. Pure functions over strings and lemmas; the rules are the YAML file's."""
from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Sequence, Tuple

import yaml

__all__ = ["SECTORS", "SectorLexicon", "sector_lexicon", "sector_of_words", "sector_of_org", "sector_of_title",
           "is_agent_noun",
           "SECTORS_FILE"]

SECTORS_FILE = Path(__file__).resolve().parent / "sectors.yaml"

SECTORS = ("government", "military", "police", "judiciary", "legislature", "party", "rebels", "opposition",
           "protesters", "labour", "business", "media", "education", "health", "religious", "civilians", "criminals",
           "igo", "ngo")
"""Every value of ``events.actor_sector`` / ``recipient_sector``."""

_KEYS = {"words", "modifier_words", "org_words", "titles"}


@dataclasses.dataclass(frozen=True)
class SectorLexicon:
    words: Dict[str, str]            # head lemma -> sector
    phrases: Tuple[Tuple[str, str], ...]  # (lower-case phrase, sector), longest first
    modifiers: Dict[str, str]        # modifier lemma -> sector
    org_words: Tuple[Tuple[re.Pattern, str], ...]
    titles: Tuple[Tuple[str, str], ...]  # (title, sector), longest first
    person_nouns: FrozenSet[str]
    armed: FrozenSet[str]  # modifiers that make a person noun no civilian ("armed men")
    human_nouns: FrozenSet[str]  # people and groups with no sector of their own ("author", "group")


@functools.lru_cache(maxsize=None)
def sector_lexicon() -> SectorLexicon:
    """``sectors.yaml``, validated: known sectors and keys only, each word or phrase in one sector."""
    raw = yaml.safe_load(SECTORS_FILE.read_text(encoding="utf-8"))
    words: Dict[str, str] = {}
    phrases: Dict[str, str] = {}
    modifiers: Dict[str, str] = {}
    org: Dict[str, str] = {}
    titles: Dict[str, str] = {}
    for sector, entry in raw["sectors"].items():
        if sector not in SECTORS:
            raise ValueError(f"{SECTORS_FILE.name}: unknown sector {sector!r}")
        unknown = set(entry) - _KEYS
        if unknown:
            raise ValueError(f"{SECTORS_FILE.name}: {sector}: unknown keys {sorted(unknown)}")
        for key, target in (("words", None), ("modifier_words", modifiers), ("org_words", org), ("titles", titles)):
            for item in entry.get(key, ()):
                item = str(item)
                if target is None:
                    target_map = phrases if " " in item else words
                else:
                    target_map = target
                if item in target_map and target_map[item] != sector:
                    raise ValueError(f"{SECTORS_FILE.name}: {item!r} is in {target_map[item]} and {sector}")
                target_map[item] = sector
    return SectorLexicon(
        words=words,
        phrases=tuple(sorted(phrases.items(), key=lambda p: -len(p[0]))),
        modifiers=modifiers,
        org_words=tuple((re.compile(rf"(?<![\w]){re.escape(w)}(?![\w])"), s) for w, s in org.items()),
        titles=tuple(sorted(titles.items(), key=lambda t: -len(t[0]))),
        person_nouns=frozenset(raw.get("person_nouns", ())),
        armed=frozenset(raw.get("armed_modifiers", ())),
        human_nouns=frozenset(raw.get("human_nouns", ())),
    )


def is_agent_noun(lemma: str) -> bool:
    """Can a noun with this lemma act? A sector word, a generic person noun or a human noun."""
    lex = sector_lexicon()
    lemma = lemma.lower()
    return lemma in lex.words or lemma in lex.person_nouns or lemma in lex.human_nouns


def sector_of_words(head_lemma: str, modifier_lemmas: Sequence[str] = (), text: str = "") -> Optional[str]:
    """The sector of a noun phrase: a phrase of the lexicon in its words ("security forces"), else a
    modifier that decides for a generic person noun ("police officers", "army officer"), else its head
    ("troops", "protesters"), else a modifier that names a sector by itself ("opposition" leaders)."""
    lex = sector_lexicon()
    low = " " + " ".join(text.lower().split()) + " "
    for phrase, sector in lex.phrases:
        if f" {phrase} " in low or f" {phrase}s " in low:
            return sector
    head = head_lemma.lower()
    mods = [m.lower() for m in modifier_lemmas]
    if lex.words.get(head) == "civilians" and lex.armed & set(mods):
        return None  # "armed men", "masked men": not civilians, and not yet anyone in particular
    if head in lex.person_nouns or head not in lex.words:
        for m in reversed(mods):  # the nearest modifier first: "US immigration officials"
            if m in lex.modifiers:
                return lex.modifiers[m]
    return lex.words.get(head)


def sector_of_org(name: str) -> Optional[str]:
    """The sector an organisation's name gives: the head of "X of Y" is X ("Ministry of Health":
    government); otherwise the last sector word ("Nigerian Army", "Kenya Health Workers Union")."""
    lex = sector_lexicon()
    head = name.split(" of ", 1)[0] if " of " in name else name
    best: Optional[Tuple[int, str]] = None
    for pattern, sector in lex.org_words:
        for m in pattern.finditer(head):
            if best is None or m.end() > best[0]:
                best = (m.end(), sector)
    return best[1] if best else None


def sector_of_title(preceding: str) -> Optional[str]:
    """The sector of the title right before a person's name (``preceding`` is the text before it):
    "President" -> government, "Gen." -> military."""
    lex = sector_lexicon()
    tail = preceding.rstrip()
    for title, sector in lex.titles:
        if tail.endswith(title) and (len(tail) == len(title) or tail[-len(title) - 1] in " \t\n\"'(\u201c"):
            return sector
    return None
