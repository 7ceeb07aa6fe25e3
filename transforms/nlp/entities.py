"""Entity extraction: spaCy NER plus a per-article resolution layer, as pure functions.

The model gives mentions (:func:`mentions_from_doc`); :func:`resolve_mentions` then works on plain
strings and :class:`Mention` values only, so every rule is testable with ``spacy.blank("en")``
docs or no doc at all:

1. :func:`trim_mention`: offsets lose surrounding quotes and punctuation, a leading article
   ("the New York Post"), a trailing possessive ("Diaz's") and, for people, titles ("Mayor ...").
2. :func:`is_non_entity`: ages ("26-year-old" as DATE), vague quantities ("hundreds"), spans
   made only of titles ("The Consul General").
3. :func:`apply_aliases`: the alias table (``transforms/nlp/data/aliases.json``) relabels and names
   agencies and acronyms, including ones the model missed ("NYPD", "Ice").
4. :func:`apply_acronym_definitions`: "Long Name (ACR)" makes both one entity.
5. :func:`apply_person_context`: a name after a role word ("spokeswoman Freddi Goldstein") or
   starting with a personal title is a PERSON.
6. :func:`link_short_mentions`: a short mention ("Diaz", "Avendano-Hernandez") takes the label and
   canonical name of the full PERSON name it ends ("Erick Diaz"), whatever the model called it.
7. :func:`extend_place_names`: a place cut at a linking word ("Mar" of "Mar del Plata") gets its
   whole name when the place table knows it.
8. :func:`apply_gazetteer`: countries, US states and cities get GPE and the gazetteer's name.
9. :func:`apply_place_prepositions`: a known country, state or city of 100,000+ after "in", "at", ...
   is a place, whatever the model called it, and is added where the model missed it.
10. :func:`propagate_names`: later bare repeats of a resolved person's name or a defined acronym
   that the model missed become mentions too.

Rows (:func:`extract_entities`) satisfy ``text == article_text[start_char:end_char]`` always.
"""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from transforms.nlp import gazetteer
from transforms.nlp.places.table import candidates as place_candidates

__all__ = [
    "NAME_LABELS", "Mention", "extract_entities", "mentions_from_doc", "resolve_mentions",
    "trim_mention", "canonical_name", "is_non_entity", "apply_aliases", "apply_acronym_definitions",
    "apply_person_context", "link_short_mentions", "extend_place_names", "apply_gazetteer", "apply_place_prepositions",
    "propagate_names",
    "entity_id", "sentence_starts", "sentence_index_of",
]

NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT",
                         "WORK_OF_ART", "LAW", "LANGUAGE"})

_APOS = "'\u2019"
_NAME_PARTICLES = ("de", "van", "von", "al", "bin", "da", "del", "la", "le")
_EDGE_CHARS = " \t\r\n\"\u201c\u201d\u2018,;:()[]{}"
_DETERMINERS = frozenset({"the", "a", "an"})

# Tokens (without a trailing ".") that are titles or roles in front of a person's name.
_TITLES = frozenset("""
Mr Mrs Ms Miss Mx Dr Prof Professor Sir Dame Lord Lady President Vice Prime Minister Premier Chancellor
Mayor Governor Gov Senator Sen Representative Rep Congressman Congresswoman Judge Justice Secretary
Ambassador Envoy Commissioner Chief Inspector Detective Officer Sergeant Sgt Lieutenant Lt Colonel Col
Major Maj General Gen Brig Brigadier Marshal Captain Capt Admiral Adm Commander Cmdr Corporal Cpl Private
Pvt King Queen Prince Princess Emperor Pope Cardinal Archbishop Bishop Rev Reverend Sheikh Sheik
Ayatollah Imam Rabbi Pastor Spokesman Spokeswoman Spokesperson Consul Deputy Foreign Interior Defense
Defence Finance Attorney Speaker Chairman Chairwoman CEO Director Councilman Councilwoman Assemblyman
Assemblywoman Former Acting Interim Vice-President Superintendent Sheriff Warden
""".split())

# Titles that, at the start of any name span, can only introduce a person ("General" cannot:
# General Motors; "Chief" cannot: Chief Rabbinate).
_PERSON_TITLES = frozenset("""
Mr Mrs Ms Miss Dr Prof Professor Sir Dame President Mayor Governor Gov Senator Sen Rep Congressman
Congresswoman Judge Ambassador Sgt Lt Col Maj Gen Capt Adm Cmdr Cpl Pvt Pope Rev Reverend Sheikh
Ayatollah Imam Rabbi Pastor Spokesman Spokeswoman Spokesperson Superintendent Sheriff
""".split())

# Lower-case role words right before a name that make it a person ("spokeswoman Freddi Goldstein").
_ROLE_WORDS = frozenset("""
spokeswoman spokesman spokesperson mayor president minister senator governor lawyer attorney judge
officer reporter correspondent director chief leader commander analyst professor researcher
secretary ambassador envoy chairman chairwoman ceo founder activist journalist editor author actor
singer coach captain general colonel sergeant lieutenant councilman councilwoman mr mrs ms dr rep
sen gov gen lt col capt sgt prosecutor detective sheriff premier chancellor pastor imam rabbi
witness victim resident suspect son daughter wife husband mother father brother sister
""".split())

_PRONOUNS = frozenset("i me he him she her it they them we us you who his hers its their our".split())

_AGE = re.compile(r"^(?:aged?\s+)?\d{1,3}(?:\s*|-)(?:years?|yrs?|months?|weeks?|days?)(?:\s*|-)old$", re.I)
_VAGUE = re.compile(r"^(?:(?:many|several|some|tens of|hundreds of|thousands of)\s+)?"
                    r"(?:tens|dozens|scores|hundreds|thousands|millions|billions|trillions)$", re.I)
_WORD = re.compile(r"[^\W_][\w\-.'\u2019&]*")


@dataclasses.dataclass(frozen=True)
class Mention:
    """One entity mention: character offsets into the article text, an OntoNotes label and the
    canonical name (empty until resolved). ``source`` says which rule produced it
    (``model`` | ``alias`` | ``acronym`` | ``propagated``)."""
    start: int
    end: int
    label: str
    canonical: str = ""
    source: str = "model"


# ------------------------------------------------------------------------------- text utilities

def _words(text: str, start: int, end: int) -> List[Tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]


def _bare(word: str) -> str:
    return word.rstrip(".")


def _norm(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'")
                    .replace("\u201c", '"').replace("\u201d", '"').split())


def _is_cap(word: str) -> bool:
    return bool(word) and (word[0].isupper() or word[0].isdigit())


def _strip_possessive(text: str, start: int, end: int) -> int:
    if end - start > 2 and text[end - 2] in _APOS and text[end - 1] in "sS":
        return end - 2
    if end - start > 1 and text[end - 1] in _APOS and text[end - 2] in "sS":
        return end - 1
    return end


def trim_mention(text: str, start: int, end: int, label: str) -> Tuple[int, int]:
    """Offsets of the mention ``text[start:end]`` without surrounding whitespace, quotes and
    punctuation, a trailing possessive, and (for names) a leading article, unless the article is
    part of a known name ("The Hague"); a PERSON also loses leading titles ("Mayor", "Gen.").
    Returns ``(start, start)`` when nothing is left."""
    for _ in range(8):  # each pass removes one layer; names never need more
        s, e = start, end
        while s < e and text[s] in _EDGE_CHARS:
            s += 1
        while e > s and text[e - 1] in _EDGE_CHARS:
            e -= 1
        while s < e and text[s] in _APOS:
            s += 1
        e = _strip_possessive(text, s, e)
        while e > s and text[e - 1] in "-\u2013\u2014":
            e -= 1
        if label in NAME_LABELS:
            paren = text.find("(", s, e)
            if paren > s and text.find(")", paren, e) < 0:  # "Armed Forces (FANB": cut the open bracket
                e = paren
            words = _words(text, s, e)
            if len(words) > 1 and text[words[0][0]:words[0][1]].lower() in _DETERMINERS:
                whole = text[s:e]
                if gazetteer.lookup_place(whole) is None and gazetteer.lookup_alias(whole) is None:
                    s = words[1][0]
            if label == "PERSON":
                words = _words(text, s, e)
                while len(words) > 1 and _bare(text[words[0][0]:words[0][1]]) in _TITLES:
                    words = words[1:]
                    s = words[0][0]
        if (s, e) == (start, end):
            break
        start, end = s, e
    return (start, end) if start < end else (start, start)


def canonical_name(surface: str, label: str) -> str:
    """The canonical form of a surface string on its own: straight quotes, single spaces, no
    possessive, no leading article, no titles for people ("Mayor Bill de Blasio" -> "Bill de
    Blasio", "the New York Post" -> "New York Post", "Diaz's" -> "Diaz"). Gazetteer and alias
    names are applied later by :func:`resolve_mentions`."""
    s, e = trim_mention(surface, 0, len(surface), label)
    return _norm(surface[s:e])


def is_non_entity(surface: str, label: str) -> bool:
    """Obvious non-entities the small models emit: ages as DATE ("26-year-old"), vague amounts
    ("hundreds", "dozens"), pronouns, text without letters or digits, and name spans made only of
    titles and articles ("The Consul General")."""
    text = _norm(surface)
    if not any(ch.isalnum() for ch in text):
        return True
    if label in ("DATE", "CARDINAL", "QUANTITY", "TIME") and _AGE.match(text):
        return True
    if label in ("CARDINAL", "QUANTITY", "MONEY", "DATE") and _VAGUE.match(text):
        return True
    if label in NAME_LABELS:
        words = [_bare(w) for w in text.split()]
        if len(words) == 1 and words[0].lower() in _PRONOUNS and (words[0] == "I" or not words[0].isupper()):
            return True  # "He", "They"; but "US" is the country
        content = [w for w in words if w.lower() not in _DETERMINERS and w.lower() not in ("of", "and")]
        if content and all(w in _TITLES or w.capitalize() in _TITLES for w in content):
            return True
    return False


def entity_id(label: str, canonical: str) -> str:
    """Stable id of an entity, equal across articles: a hash of the label and the canonical name
    (case-insensitive)."""
    key = f"{label}\x1f{_norm(canonical).casefold()}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------------------------ resolution

def _overlaps(a: Mention, b: Mention) -> bool:
    return a.start < b.end and b.start < a.end


def _surface(text: str, m: Mention) -> str:
    return _norm(text[m.start:m.end])


def apply_aliases(text: str, mentions: Sequence[Mention]) -> List[Mention]:
    """Alias-table organisations: a mention whose surface is an alias form takes the alias's
    label and canonical name; alias forms the model missed are added (when they overlap no
    mention) and replace the mentions they strictly contain ("U.S. State Department")."""
    out = list(mentions)
    for start, end, alias in gazetteer.alias_matches(text):
        hit = Mention(start, end, alias.label, alias.canonical, "alias")
        overlapping = [m for m in out if _overlaps(m, hit)]
        if not overlapping:
            out.append(hit)
        elif all(m.start >= start and m.end <= end for m in overlapping):
            out = [m for m in out if m not in overlapping] + [hit]
    for i, m in enumerate(out):
        if m.source != "alias" and m.label in NAME_LABELS:
            found = gazetteer.lookup_alias(_surface(text, m))
            if found is not None:
                out[i] = dataclasses.replace(m, label=found.label, canonical=found.canonical, source="alias")
    return sorted(out, key=lambda m: (m.start, m.end))


_PAREN = re.compile(r"\s*\(\s*([A-Za-z][A-Za-z.&\-]{1,11})\s*\)")


def apply_acronym_definitions(text: str, mentions: Sequence[Mention]) -> Tuple[List[Mention], Dict[str, Mention]]:
    """"Long Name (ACR)": the long-form mention and the bracketed short form become one entity.
    The canonical name is the alias table's when either form is known there ("Immigration and
    Customs Service (Ice)" -> Immigration and Customs Enforcement), else the long form's.
    Returns the mentions and the defined short forms (surface -> template mention)."""
    out = list(mentions)
    defined: Dict[str, Mention] = {}
    by_start = {m.start: i for i, m in enumerate(out)}
    for i, long in enumerate(list(out)):
        if long.label not in ("ORG", "FAC", "GPE", "NORP", "LOC", "EVENT", "LAW", "PRODUCT"):
            continue
        m = _PAREN.match(text, long.end)
        if not m:
            continue
        short_s, short_e = m.start(1), m.end(1)
        short = text[short_s:short_e]
        long_words = [w for w in _norm(text[long.start:long.end]).split() if _is_cap(w)]
        if not long_words or short[0].upper() != long_words[0][0].upper() or short.lower() == short:
            continue
        if long.label in ("GPE", "LOC") and gazetteer.is_province_or_country(short):
            continue  # "San Francisco (Cordoba)": the province the town is in, not a short form
        alias = gazetteer.lookup_alias(short) or gazetteer.lookup_alias(_surface(text, long))
        if alias is not None:
            label, canonical = alias.label, alias.canonical
        else:
            label, canonical = long.label, long.canonical or canonical_name(text[long.start:long.end], long.label)
        out[i] = dataclasses.replace(long, label=label, canonical=canonical, source="acronym")
        template = Mention(short_s, short_e, label, canonical, "acronym")
        j = by_start.get(short_s)
        if j is not None and out[j].end == short_e:
            out[j] = template
        elif not any(_overlaps(template, x) for x in out):
            out.append(template)
        defined[short] = template
    return sorted(out, key=lambda m: (m.start, m.end)), defined


def _preceding_word(text: str, start: int) -> str:
    m = re.search(r"([A-Za-z]+)\.?\s+$", text[max(0, start - 40):start])
    return m.group(1) if m else ""


def apply_person_context(text: str, mentions: Sequence[Mention]) -> List[Mention]:
    """People the model called something else: a span that starts with a personal title
    ("Mayor Bill de Blasio" as ORG) or a 2-4 word capitalised name right after a role word
    ("spokeswoman Freddi Goldstein") becomes a PERSON (titles trimmed off). Alias and gazetteer
    names are left alone."""
    out: List[Mention] = []
    for m in mentions:
        if m.label in NAME_LABELS and m.label != "PERSON" and m.source == "model":
            surface = _surface(text, m)
            words = _words(text, m.start, m.end)
            if gazetteer.lookup_place(surface) is None and gazetteer.lookup_alias(surface) is None:
                first = _bare(text[words[0][0]:words[0][1]]) if words else ""
                if len(words) >= 2 and first in _PERSON_TITLES:
                    s, e = trim_mention(text, m.start, m.end, "PERSON")
                    rest = _words(text, s, e)
                    if rest and all(_is_cap(text[a:b]) or text[a:b] in _NAME_PARTICLES for a, b in rest):
                        m = dataclasses.replace(m, start=s, end=e, label="PERSON", canonical="")
                elif 2 <= len(words) <= 4 and all(_is_cap(text[a:b]) for a, b in (words[0], words[-1])) \
                        and _preceding_word(text, m.start).lower() in _ROLE_WORDS \
                        and not any(ch.isdigit() for ch in surface):
                    m = dataclasses.replace(m, label="PERSON", canonical="")
        out.append(m)
    return out


def _name_tokens(name: str) -> List[str]:
    return name.split()


def link_short_mentions(text: str, mentions: Sequence[Mention]) -> List[Mention]:
    """A mention whose name ends a full PERSON name of the article ("Diaz" of "Erick Diaz",
    "de Blasio" of "Bill de Blasio"), or repeats it, becomes that PERSON with its canonical name,
    whatever label the model gave it. The nearest full name before the mention wins, else the
    first after it. A mention the model called GPE stays a place when the gazetteer knows it."""
    full: List[Tuple[int, List[str], str]] = []
    for m in mentions:
        if m.label == "PERSON":
            canonical = m.canonical or canonical_name(text[m.start:m.end], "PERSON")
            tokens = _name_tokens(canonical)
            if len(tokens) >= 2:
                full.append((m.start, tokens, canonical))
    if not full:
        return list(mentions)
    out: List[Mention] = []
    for m in mentions:
        if m.label in NAME_LABELS and m.source not in ("alias", "acronym"):
            name = m.canonical or canonical_name(text[m.start:m.end], "PERSON")
            tokens = _name_tokens(name)
            if tokens and not (m.label == "GPE" and gazetteer.lookup_place(name) is not None):
                candidates = [(pos, canonical) for pos, ftokens, canonical in full
                              if len(tokens) <= len(ftokens) and ftokens[-len(tokens):] == tokens
                              and (len(tokens) < len(ftokens) or pos != m.start)]
                if candidates:
                    before = [c for c in candidates if c[0] < m.start]
                    canonical = (max(before) if before else min(candidates))[1]
                    m = dataclasses.replace(m, label="PERSON", canonical=canonical)
        out.append(m)
    return out


def apply_gazetteer(text: str, mentions: Sequence[Mention]) -> List[Mention]:
    """Places from the offline gazetteer: a LOC/FAC/ORG/PERSON mention whose name is a country or
    US state, or a LOC/FAC/ORG (or a lone, unlinked PERSON word such as "Lyon") that is a city of
    100,000+ people, becomes a GPE; every known place keeps or gets the gazetteer's canonical name
    ("US" -> "United States"). NORP mentions keep their label."""
    out: List[Mention] = []
    for m in mentions:
        if m.label in ("GPE", "LOC", "FAC", "ORG", "NORP", "PERSON") and m.source == "model":
            name = m.canonical or canonical_name(text[m.start:m.end], m.label)
            place = gazetteer.lookup_place(name)
            if place is not None:
                if m.label == "GPE":
                    m = dataclasses.replace(m, canonical=place.canonical)
                elif place.kind in ("country", "us_state") and m.label != "NORP":
                    m = dataclasses.replace(m, label="GPE", canonical=place.canonical)
                elif (place.population or 0) >= gazetteer.MAJOR_CITY_POPULATION and (
                        m.label in ("LOC", "FAC", "ORG")
                        or (m.label == "PERSON" and name == _surface(text, m) and " " not in name)):
                    # a lone "Lyon" the model called PERSON is the city unless it ends a full name
                    m = dataclasses.replace(m, label="GPE", canonical=place.canonical)
        out.append(m)
    return out


_LINK_WORDS = r"(?:de|del|de la|de las|de los|do|da|dos|das|di|du|des|el|al|la|las|los|sur|upon|on)"
_PLACE_TAIL = re.compile(rf"(?:\s+{_LINK_WORDS})*\s+[A-Z][\w'\u2019\-]*(?:\s+[A-Z][\w'\u2019\-]*)?")
_ENDS_WITH_LINK = re.compile(rf"\s{_LINK_WORDS}$")


def extend_place_names(text: str, mentions: Sequence[Mention]) -> List[Mention]:
    """A place the model cut at a linking word ("Mar" of "Mar del Plata", "San Cristobal de" + "Casas"
    of "San Cristobal de las Casas") is extended to the whole name when the place table knows the
    longer name; place mentions inside the extension merge into it."""
    out = list(mentions)
    i = 0
    while i < len(out):
        m = out[i]
        i += 1
        if m.label not in ("GPE", "LOC") or m.source != "model":
            continue
        tail = _PLACE_TAIL.match(text, m.end)
        if tail is None or not (re.match(rf"\s+{_LINK_WORDS}\s", tail.group(0)) or _ENDS_WITH_LINK.search(text[m.start:m.end])):
            continue
        last = tail.group(0).split()[-1]
        for end in sorted({tail.end(), tail.end() - len(last) - 1}, reverse=True):
            longer = text[m.start:end].rstrip()
            inside = [x for x in out if x is not m and m.end <= x.start and x.end <= m.start + len(longer)]
            others = [x for x in out if x is not m and x not in inside]
            if all(x.label in ("GPE", "LOC") for x in inside) and _uncovered(others, m.end, m.start + len(longer)) \
                    and any(place.main for place in place_candidates(longer)):
                merged = dataclasses.replace(m, end=m.start + len(longer), label="GPE", canonical="")
                out = [merged if x is m else x for x in out if x not in inside]
                break
    return out


_PLACE_PREPOSITION_BODY = (r"(?:\b(?:in|at|near|outside|across|into|from)\s+(?:central\s+|downtown\s+|northern\s+|"
                           r"southern\s+|eastern\s+|western\s+)?|\b(?i:streets?|square|port|city|town|village|outskirts|"
                           r"cent(?:re|er)|residents|inhabitants|people|suburbs?|province|region|district)\s+of\s+)")
# a name before an administrative word is a place whatever the model said ("in Gafsa governorate")
_ADMIN_AFTER = re.compile(r"\s+(?:province|governorate|state|department|region|district|county|prefecture|oblast)\b")
SURE_CITY_POPULATION = 50_000
"""A city this big is a place when a preposition or place noun says so (smaller towns share names)."""
_PLACE_PREPOSITION = re.compile(_PLACE_PREPOSITION_BODY + "$")  # right before a mention
_PLACE_PREPOSITIONS = re.compile(_PLACE_PREPOSITION_BODY)
_CAP_NAME = re.compile(r"[A-Z][\w'\u2019\-]*(?:\s+[A-Z][\w'\u2019\-]*){0,2}")


def _sure_place(name: str) -> bool:
    place = gazetteer.lookup_place(name)
    return place is not None and (place.kind in ("country", "us_state")
                                  or (place.population or 0) >= SURE_CITY_POPULATION)


def apply_place_prepositions(text: str, mentions: Sequence[Mention]) -> List[Mention]:
    """A known country, US state or city of 50,000+ people right after "in", "at", "near", ... or a
    place noun ("the streets of", "residents of") is a place: a model mention of another label becomes
    GPE ("marched in Omdurman" as NORP, "a rally in Montevideo" as PRODUCT, "in Noumea" as ORG), and a
    name the model missed is added ("demonstrated in Asuncion"); so is a name before an administrative
    word ("in Gafsa governorate")."""
    out: List[Mention] = []
    for m in mentions:
        if m.label not in ("GPE", "DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT") \
                and m.source == "model" and _PLACE_PREPOSITION.search(text[max(0, m.start - 30):m.start]):
            name = _surface(text, m)
            if _sure_place(name):
                m = dataclasses.replace(m, label="GPE", canonical=gazetteer.place_canonical(name) or "")
        elif m.label in ("ORG", "PERSON", "NORP", "FAC", "LOC") and m.source == "model" and _ADMIN_AFTER.match(text, m.end) \
                and any(c.kind in ("admin1", "city") for c in place_candidates(_surface(text, m))):
            m = dataclasses.replace(m, label="GPE", canonical="")
        out.append(m)
    for match in _PLACE_PREPOSITIONS.finditer(text):
        found = _CAP_NAME.match(text, match.end())
        if found is None:
            continue
        ends = {found.end()} | {found.start() + k.end() for k in re.finditer(r"[\w'\u2019\-]+(?=\s|$)", found.group(0))}
        for end in sorted(ends, reverse=True):
            candidate = text[found.start():end]
            if _uncovered(out, found.start(), end) and _sure_place(candidate):
                out.append(Mention(found.start(), end, "GPE", gazetteer.place_canonical(candidate) or "", "gazetteer"))
                break
    return sorted(out, key=lambda m: (m.start, m.end))


def _uncovered(mentions: Sequence[Mention], start: int, end: int) -> bool:
    return not any(m.start < end and start < m.end for m in mentions)


def propagate_names(text: str, mentions: Sequence[Mention], defined: Optional[Dict[str, Mention]] = None) -> List[Mention]:
    """Bare repeats the model missed: every whole-word occurrence of a resolved person's full name
    or surname (the last one or two name words, capitalised, 3+ letters) and of an acronym
    defined in the article becomes a mention, unless it overlaps a mention or (for person names)
    touches another capitalised word that is not a title (it is then part of a longer name)."""
    forms: Dict[str, Tuple[str, str]] = {}
    for m in mentions:
        if m.label == "PERSON" and m.canonical:
            tokens = m.canonical.split()
            forms.setdefault(m.canonical, ("PERSON", m.canonical))
            if len(tokens) >= 2:
                last = tokens[-1]
                if len(last) >= 3 and _is_cap(last):
                    forms.setdefault(last, ("PERSON", m.canonical))
                if len(tokens) >= 3 and tokens[-2][0].islower():  # "de Blasio"
                    forms.setdefault(" ".join(tokens[-2:]), ("PERSON", m.canonical))
    for short, template in (defined or {}).items():
        forms.setdefault(short, (template.label, template.canonical))
    if not forms:
        return list(mentions)
    out = list(mentions)
    body = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    for hit in re.finditer(rf"(?<![\w\-])(?:{body})(?![\w\-])", text):
        s, e = hit.span()
        if not _uncovered(out, s, e):
            continue
        before = re.search(r"([A-Z][\w\-]*)\s+$", text[max(0, s - 30):s])
        after = re.match(r"\s+([A-Z][\w\-]*)", text[e:e + 30])
        person = forms[hit.group(0)][0] == "PERSON" and hit.group(0) not in (defined or {})
        if person and ((before and _bare(before.group(1)) not in _TITLES) or after):
            continue
        label, canonical = forms[hit.group(0)]
        out.append(Mention(s, e, label, canonical, "propagated"))
    return sorted(out, key=lambda m: (m.start, m.end))


def _drop_overlaps(mentions: Sequence[Mention]) -> List[Mention]:
    out: List[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.start, -(m.end - m.start))):
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


def resolve_mentions(text: str, mentions: Sequence[Mention]) -> List[Mention]:
    """The resolution layer: raw model mentions of one article to trimmed, filtered, relabelled
    mentions with canonical names, sorted by offset and never overlapping (see the module doc for
    the rules and their order)."""
    trimmed: List[Mention] = []
    for m in mentions:
        s, e = trim_mention(text, m.start, m.end, m.label)
        if s < e and not is_non_entity(text[s:e], m.label):
            trimmed.append(dataclasses.replace(m, start=s, end=e))
    out = apply_aliases(text, trimmed)
    out, defined = apply_acronym_definitions(text, out)
    out = apply_person_context(text, out)
    out = [m if m.canonical else dataclasses.replace(m, canonical=canonical_name(text[m.start:m.end], m.label))
           for m in out]
    out = link_short_mentions(text, out)
    out = extend_place_names(text, out)
    out = apply_gazetteer(text, out)
    out = apply_place_prepositions(text, out)
    out = propagate_names(text, out, defined)
    return _drop_overlaps(out)


# ----------------------------------------------------------------------------------- doc -> rows

def mentions_from_doc(doc) -> List[Mention]:
    """The model's mentions (``doc.ents``) as :class:`Mention` values."""
    return [Mention(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]


def sentence_starts(doc) -> Optional[List[int]]:
    """Character offsets where the doc's sentences start, or None without sentence boundaries."""
    if not doc.has_annotation("SENT_START"):
        return None
    return [sent.start_char for sent in doc.sents]


def sentence_index_of(starts: Optional[Sequence[int]], char: int) -> Optional[int]:
    """Index of the sentence holding character ``char``, given :func:`sentence_starts`."""
    if not starts:
        return None
    return max(0, bisect.bisect_right(starts, char) - 1)


def extract_entities(doc, article_id: str) -> List[Dict[str, Any]]:
    """Entity rows of one parsed article: keys article_id, entity_id, text, canonical, label,
    start_char, end_char, sentence_index (the caller adds run_id and dt from the article).
    ``text == doc.text[start_char:end_char]`` for every row."""
    text = doc.text
    starts = sentence_starts(doc)
    rows: List[Dict[str, Any]] = []
    for m in resolve_mentions(text, mentions_from_doc(doc)):
        canonical = m.canonical or _norm(text[m.start:m.end])
        rows.append({
            "article_id": article_id,
            "entity_id": entity_id(m.label, canonical),
            "text": text[m.start:m.end],
            "canonical": canonical,
            "label": m.label,
            "start_char": m.start,
            "end_char": m.end,
            "sentence_index": sentence_index_of(starts, m.start),
        })
    return rows
