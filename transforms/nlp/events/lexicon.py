"""The PLOVER ontology and newsbeam's trigger lexicon, loaded once from the data files beside
this module (``plover.yaml``: event types, quad categories, modes; ``lexicon.yaml``: the trigger
rules and irregular forms), and the cheap test of which sentences can hold a trigger."""
from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple

import yaml

__all__ = [
    "Rule", "Lexicon", "load_lexicon", "lexicon", "rules_for", "candidate_sentence", "EVENT_TYPES", "QUAD_CLASS",
    "MODES", "LEXICON", "TRIGGER_WORDS", "DATA_DIR", "inflections",
]

DATA_DIR = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Rule:
    """One trigger: ``lemma`` with part of speech ``pos`` ("V" verb, "N" noun) codes ``event``
    with ``mode``. ``objects`` (lemmas) restrict it to those direct objects / noun modifiers;
    ``not_objects`` exclude them; ``preps``/``particle`` require a preposition or particle child.
    ``modifier_modes`` refine the mode from a compound/amod child ("air" strike -> aerial)."""
    lemma: str
    pos: str
    event: str
    mode: Optional[str] = None
    objects: Tuple[str, ...] = ()
    not_objects: Tuple[str, ...] = ()
    preps: Tuple[str, ...] = ()
    particle: Optional[str] = None
    modifier_modes: Tuple[Tuple[str, str], ...] = ()
    weight: float = 1.0
    not_subjects: Tuple[str, ...] = ()
    needs_xcomp: bool = False  # "asked X to ...", "warned that ... would", "offered to ..."
    subjects: Tuple[str, ...] = ()  # only with one of these subjects
    purposes: Tuple[str, ...] = ()  # only with a purpose clause "to <one of these>" ("gathered to demand")
    prep_objects: Tuple[str, ...] = ()  # only with a preposition whose object is one of these ("took to the streets")
    compound_heads: Tuple[str, ...] = ()  # as a modifier of one of these nouns only ("a protest camp")
    human_objects: bool = False  # only when the object is people ("released five prisoners", not "the guidance")


_LIST_FIELDS = ("objects", "not_objects", "preps", "not_subjects", "subjects", "purposes", "prep_objects",
                "compound_heads")
_FIELDS = frozenset(f.name for f in dataclasses.fields(Rule)) - {"event"}


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """The loaded data: PLOVER types (in the manual's order) with their quad category and modes,
    the rules in file order, and the irregular surface forms per lemma."""
    types: Tuple[str, ...]
    quad_class: Mapping[str, str]
    modes: Mapping[str, Tuple[str, ...]]
    rules: Tuple[Rule, ...]
    irregular_forms: Mapping[str, Tuple[str, ...]]
    by_lemma: Mapping[str, Tuple[Rule, ...]]
    riot_actors: FrozenSet[str] = frozenset()  # an ASSAULT by one of these is a PROTEST (riot)
    riot_cues: FrozenSet[str] = frozenset()  # ... or by civilians in a sentence with one of these words
    lemma_fixes: Mapping[str, str] = dataclasses.field(default_factory=dict)  # verb form -> lemma


def _rule(event: str, spec: Dict[str, Any]) -> Rule:
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(f"lexicon rule {spec} has unknown field(s) {sorted(unknown)}")
    kwargs = dict(spec)
    for name in _LIST_FIELDS:
        if name in kwargs:
            kwargs[name] = tuple(kwargs[name])
    if "modifier_modes" in kwargs:
        kwargs["modifier_modes"] = tuple((str(k), str(v)) for k, v in kwargs["modifier_modes"].items())
    if "weight" in kwargs:
        kwargs["weight"] = float(kwargs["weight"])
    return Rule(event=event, **kwargs)


def load_lexicon(lexicon_file: Path = DATA_DIR / "lexicon.yaml", plover_file: Path = DATA_DIR / "plover.yaml") -> Lexicon:
    """Read and check the two data files. Raises ``ValueError`` for a rule under an unknown
    event type, a field the rules do not have, or an irregular form of a lemma without a rule
    (the full validation, against the PLOVER manual too, is ``tests/test_event_lexicon.py``)."""
    plover = yaml.safe_load(plover_file.read_text(encoding="utf-8"))["types"]
    data = yaml.safe_load(lexicon_file.read_text(encoding="utf-8"))
    rules: List[Rule] = []
    for event, specs in data["rules"].items():
        if event not in plover:
            raise ValueError(f"{lexicon_file.name}: {event!r} is not a PLOVER event type")
        rules.extend(_rule(event, spec) for spec in specs)
    by_lemma: Dict[str, List[Rule]] = {}
    for rule in rules:
        by_lemma.setdefault(rule.lemma, []).append(rule)
    irregular = {lemma: tuple(forms) for lemma, forms in (data.get("irregular_forms") or {}).items()}
    orphans = sorted(set(irregular) - set(by_lemma))
    if orphans:
        raise ValueError(f"{lexicon_file.name}: irregular forms for lemmas without a rule: {orphans}")
    return Lexicon(types=tuple(plover), quad_class={t: v["quad"] for t, v in plover.items()},
                   modes={t: tuple(v["modes"]) for t, v in plover.items()}, rules=tuple(rules),
                   irregular_forms=irregular, by_lemma={k: tuple(v) for k, v in by_lemma.items()},
                   riot_actors=frozenset(data.get("riot_actors") or ()),
                   riot_cues=frozenset(data.get("riot_cues") or ()),
                   lemma_fixes={str(k): str(v) for k, v in (data.get("lemma_fixes") or {}).items()})


@functools.lru_cache(maxsize=None)
def lexicon() -> Lexicon:
    """The shipped lexicon, loaded once per process."""
    return load_lexicon()


def rules_for(lemma: str) -> Tuple[Rule, ...]:
    """The rules of ``lemma`` in file order (empty for a word that triggers nothing)."""
    return lexicon().by_lemma.get(lemma, ())


EVENT_TYPES: Tuple[str, ...] = lexicon().types
QUAD_CLASS: Mapping[str, str] = lexicon().quad_class
MODES: Mapping[str, Tuple[str, ...]] = lexicon().modes
LEXICON: Tuple[Rule, ...] = lexicon().rules

TRIGGER_WORDS: FrozenSet[str] = frozenset(
    form for lemma in lexicon().by_lemma for form in ((lemma,) + lexicon().irregular_forms.get(lemma, ())))
"""Surface forms that can carry a trigger: every lemma and its irregular forms."""


def inflections(word: str) -> List[str]:
    """``word`` and the stems regular suffixes attach to ("seize" -> "seiz", "rally" -> "ralli")."""
    forms = [word]
    if word.endswith("e"):
        forms.append(word[:-1])  # seiz-ing, seiz-ed
    if word.endswith("y"):
        forms.append(word[:-1] + "i")  # ralli-ed, ralli-es
    return forms


_TRIGGER_SUFFIXES = ("", "s", "es", "ed", "d", "ing", "ings")
_TRIGGER_FORMS = frozenset(f + suffix for w in TRIGGER_WORDS for f in inflections(w) for suffix in _TRIGGER_SUFFIXES)
_WORD_RE = re.compile(r"\w+")


def candidate_sentence(text: str) -> bool:
    """Cheap pre-filter: can ``text`` hold a trigger? Only such sentences are parsed.

    True when a whole word of ``text`` (a run of word characters), lower-cased, is a trigger word
    or an inflection of one ("arrest", "arrested", "seizing"): the same test as the regex
    ``\\b(?:form1|form2|...)(?:s|es|ed|d|ing|ings)?\\b`` without its cost (a set lookup per word
    instead of a 200-way alternation at every character)."""
    forms = _TRIGGER_FORMS
    return any(w.lower() in forms for w in _WORD_RE.findall(text))
