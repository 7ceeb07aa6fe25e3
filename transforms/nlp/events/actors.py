"""Who an event's actor or recipient is: the words, the entity they name, its country and sector.

From the argument's head token (:func:`transforms.nlp.events.syntax.arguments`):

- a name: the entity covering the head ("Erick Diaz"), or an organisation modifying it ("ICE
  officers" -> Immigration and Customs Enforcement);
- a group: "US immigration officials" is not the United States: it is the article's organisation
  whose name holds a word of the group ("immigration" -> Immigration and Customs Enforcement), or
  else the group itself ("US immigration officials"), with the country of its nationality word;
  "the officers" or "an officer" is the group of officers named in the last three sentences;
- a generic person: "a man" (recipient of an attack) is the victim the article identifies ("the
  shooting victim is 26-year-old Erick Diaz") when it identifies exactly one; "Diaz's hand" is Diaz;
  "two of his officers" is who "his officers" are;
- a pronoun: "he"/"she" the person named last before it; "they"/"them" the plural actor of the same
  or the previous sentence. An unresolved pronoun or a stray token ("you", "it", "g", "A") is no
  actor at all: every field is null.

Country (ISO 3166-1 alpha-3) comes from the entity (a country or place; the organisation alias table),
a nationality or place word in the phrase ("Iraqi troops", "Kenyan President"), else it is left to
the caller (the event's place: :func:`transforms.nlp.events.extract.extract_events`). Sector is the
lexicon's (:mod:`transforms.nlp.actors.sectors`). A field that cannot be told stays null.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from transforms.nlp import gazetteer
from transforms.nlp.actors.countries import alpha3, country_of_word
from transforms.nlp.actors.sectors import is_agent_noun, sector_lexicon, sector_of_org, sector_of_title, sector_of_words
from transforms.nlp.events.context import ArticleContext
from transforms.nlp.events.syntax import PRONOUNS_PERSON, PRONOUNS_PLURAL, noun_phrase, of_phrase_noun
from transforms.nlp.places.geocode import geocode

__all__ = ["Argument", "NO_ARGUMENT", "AGENT_LABELS", "resolve_argument", "entity_for", "BODY_PARTS", "GENERIC_PEOPLE"]


class Argument(NamedTuple):
    surface: Optional[str]
    canonical: Optional[str]
    entity_id: Optional[str]
    country: Optional[str]
    sector: Optional[str]
    label: Optional[str] = None  # the entity's label (PERSON, ORG, ...), None for a group without one
    agent: bool = False  # can it act: a named entity, a resolved pronoun, a person or group noun


NO_ARGUMENT = Argument(None, None, None, None, None)
AGENT_LABELS = ("PERSON", "ORG", "GPE", "NORP")
_PERSONAL_PRONOUNS = frozenset("i we he she they".split())

BODY_PARTS = frozenset("hand hands face head leg legs arm arms chest back neck foot feet eye eyes body stomach "
                       "shoulder knee".split())
GENERIC_PEOPLE = frozenset("man woman person boy girl teenager teen youth child victim someone individual".split())
_DETERMINERS = re.compile(r"^(?:the|a|an|another|his|her|their|its|our|some|several|"
                          r"two|three|four|five|six|seven|eight|nine|ten|dozens of|"
                          r"hundreds of|thousands of|\d+)\s+", re.I)

def entity_for(tokens_range: Tuple[int, int], head, sent, offset: int, ctx: ArticleContext):
    """The entity row naming an argument: one covering the head word, else an ORG/NORP/GPE
    modifier of it ("ice officers" -> ICE, "US officials" -> United States)."""
    doc = head.doc
    hs, he = head.idx + offset, head.idx + len(head.text) + offset
    s = doc[tokens_range[0]].idx + offset
    e = doc[tokens_range[1] - 1].idx + len(doc[tokens_range[1] - 1].text) + offset
    inside = ctx.entities_in(s, e)
    for ent in inside:
        if ent["start_char"] < he and hs < ent["end_char"] and ent["label"] not in ("DATE", "TIME", "CARDINAL",
                                                                                     "ORDINAL", "QUANTITY"):
            return ent
    for ent in inside:
        if ent["label"] in ("ORG", "NORP", "GPE") and ent["end_char"] <= hs:
            return ent
    return None


def _modifiers(token) -> List[Any]:
    return [c for c in token.lefts if c.dep_ in ("compound", "amod", "nmod", "poss")]


def _entity_code(ent: Dict[str, Any], text: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(country, sector) of a named entity."""
    label, canonical = ent["label"], ent["canonical"]
    if label == "ORG":
        alias = gazetteer.lookup_alias(canonical)
        if alias is not None and (alias.sector or alias.country):
            return alias.country, alias.sector
        country = next((c for c in (country_of_word(w) for w in re.findall(r"[A-Z][\w'\u2019.\-]+", canonical)) if c),
                       None)
        return country, sector_of_org(canonical)
    if label in ("GPE", "LOC"):
        point = geocode(canonical)
        return (alpha3(point.country_code) if point else None), None
    if label == "NORP":
        return country_of_word(canonical, places=False), None
    if label == "PERSON" and text:
        before = text[max(0, ent["start_char"] - 60):ent["start_char"]]
        sector = sector_of_title(before)
        words = re.findall(r"[A-Z][\w'\u2019.\-]+", before)[-3:]
        country = next((c for c in (country_of_word(w, places=False) for w in reversed(words)) if c), None)
        return (country if sector else None), sector
    return None, None


def _group_org(modifier_lemmas, head_lemma: str, ctx: ArticleContext) -> Optional[Dict[str, Any]]:
    """The article's one organisation named by a word of a group ("immigration officials" ->
    Immigration and Customs Enforcement; "the police" -> the article's one police force)."""
    words = {m.lower() for m in modifier_lemmas if len(m) >= 4} | ({head_lemma.lower()} if head_lemma else set())
    words -= sector_lexicon().person_nouns
    if not words:
        return None
    matches = {ent["canonical"]: ent for name_words, ent in ctx.org_names() if words & name_words}
    return next(iter(matches.values())) if len(matches) == 1 else None


def _name_like(word: str) -> bool:
    """Could a proper noun the tagger did not name be someone ("Avendano", "Romendacil")? Not a code
    identifier ("ConstantDataService", "v201601") nor an acronym without an entity ("API")."""
    return word.isalpha() and not word.isupper() and not any(ch.isupper() for ch in word[1:])


def _clean_group(text: str) -> str:
    return _DETERMINERS.sub("", " ".join(text.split())).strip()


def resolve_argument(token, sent, offset: int, ctx: ArticleContext, role: str = "actor",
                     violent: bool = False) -> Argument:
    """The :class:`Argument` a head token names (see the module docstring). ``role`` is ``actor``
    or ``recipient``; ``violent`` says the event is an attack (a generic recipient may then be
    the identified victim)."""
    if token is None:
        return NO_ARGUMENT
    start, end = noun_phrase(token)
    doc = token.doc
    text = doc[start:end].text
    low = token.lower_
    lemma = token.lemma_.lower()
    if token.pos_ == "PRON" or low in PRONOUNS_PERSON | PRONOUNS_PLURAL:
        if low in PRONOUNS_PERSON:
            ent = ctx.person_before(token.idx + offset)
            if ent is not None:
                country, sector = ctx.person_codes.get(ent["canonical"], (None, None))
                return Argument(token.text, ent["canonical"], ent["entity_id"], country, sector, "PERSON", True)
        if low in ("they", "them") and ctx.last_plural_actor is not None \
                and ctx.sentence_index - ctx.last_plural_sentence <= 1:
            return ctx.last_plural_actor._replace(surface=token.text, agent=True)
        # an unresolved "he" or "they" is no actor value, but someone did act
        return NO_ARGUMENT._replace(agent=low in _PERSONAL_PRONOUNS)
    if sum(ch.isalpha() for ch in text) < 2:
        return NO_ARGUMENT  # a stray token ("g", "A", a digit)
    inner = of_phrase_noun(token)
    if inner is not None:  # "two of his officers": who they are is "his officers"
        return resolve_argument(inner, sent, offset, ctx, role, violent)._replace(surface=text)
    if lemma in BODY_PARTS:
        owner = next((c for c in token.children if c.dep_ == "poss"), None)
        if owner is not None:
            resolved = resolve_argument(owner, sent, offset, ctx, role, violent)
            if resolved.canonical:
                return resolved._replace(surface=text)
    modifiers = _modifiers(token)
    mod_lemmas = [m.lemma_ for m in modifiers]
    ent = entity_for((start, end), token, sent, offset, ctx)
    covers = ent is not None and ent["start_char"] <= token.idx + offset < ent["end_char"]
    if ent is not None and (covers or ent["label"] == "ORG"):
        country, sector = _entity_code(ent, ctx.text)
        if country is None and ent["label"] in ("ORG", "PERSON"):  # "the US Congress", "Iraqi President X"
            country = next((c for c in (country_of_word(m.text, places=False) for m in modifiers
                                        if m.text[:1].isupper() and m.idx + offset < ent["start_char"]) if c), None)
        if ent["label"] == "PERSON":
            sector = sector or sector_of_words(lemma, mod_lemmas, text) if not covers else sector
            ctx.person_codes.setdefault(ent["canonical"], (country, sector))
        elif not covers:  # "ICE officers": the organisation, its sector unless the head says more
            sector = sector or sector_of_words(lemma, mod_lemmas, text)
        agent = ent["label"] in AGENT_LABELS or is_agent_noun(lemma)
        return ctx.remember(lemma, Argument(text, ent["canonical"], ent["entity_id"], country, sector, ent["label"],
                                            agent))
    # a generic person or a group
    if lemma in GENERIC_PEOPLE and not modifiers and violent \
            and not any(c.lower_ in ("another", "other", "every", "each", "no") for c in token.lefts):
        person = ctx.identified.get("victim" if role == "recipient" else "suspect")
        if person is not None:
            return Argument(text, person["canonical"], person["entity_id"], None, sector_of_words(lemma), "PERSON", True)
    sector = sector_of_words(lemma, mod_lemmas, text)
    country = None
    if ent is not None:  # a nationality or place modifier: "US immigration officials", "Iraqi troops"
        country = _entity_code(ent, ctx.text)[0]
    if country is None:
        country = next((c for c in (country_of_word(m.text) for m in modifiers if m.text[:1].isupper()) if c), None)
    org = _group_org(mod_lemmas, lemma if token.pos_ != "PROPN" else "", ctx)
    if org is not None:
        org_country, org_sector = _entity_code(org, ctx.text)
        return ctx.remember(lemma, Argument(text, org["canonical"], org["entity_id"], country or org_country,
                                            org_sector or sector, "ORG", True))
    earlier = ctx.recent_group(lemma) if not modifiers or all(m.dep_ == "poss" for m in modifiers) else None
    if earlier is not None:
        return earlier._replace(surface=text)  # "the officers", "an officer": the officers named just before
    canonical = _clean_group(text) if (modifiers or sector) else None
    agent = sector is not None or is_agent_noun(lemma) or (token.pos_ == "PROPN" and _name_like(token.text)) or (
        ent is not None and ent["label"] in AGENT_LABELS)
    return ctx.remember(lemma, Argument(text, canonical or None, None, country, sector, None, agent))
