"""What event extraction knows of the article beyond one sentence: its entities, places and the
people it identifies (:class:`ArticleContext`), the discourse date that carries over from sentence
to sentence and where an event happened. Who an argument is: :mod:`transforms.nlp.events.actors`."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

from transforms.nlp.events.syntax import PLACE_NOUNS
from transforms.nlp.places.geocode import NO_HINTS, SPECIFICITY, GeoPoint, PlaceHints, geocode, sure_point
from transforms.nlp.places.mentions import admin_word_after, bracketed_places, qualifier_after
from transforms.nlp.places.nationalities import nationality_alpha2
from transforms.nlp.temporal import find_date_expressions

PLACE_LABELS = ("GPE", "LOC", "FAC")
QUALIFIER_KINDS = ("admin1", "country")

__all__ = ["PLACE_LABELS", "ArticleContext", "identified_people", "is_modifier_or_actor", "locate", "new_paragraph",
           "event_date", "advance_date", "HISTORY_DAYS"]


@dataclasses.dataclass
class ArticleContext:
    """What event extraction needs to know of the article beyond one sentence."""
    article_id: str
    published: Optional[_dt.date]
    entities: Sequence[Dict[str, Any]] = ()
    run_id: str = ""
    dt: Optional[_dt.date] = None
    # discourse state, updated sentence by sentence
    reference_date: Optional[_dt.date] = None
    reference_text: Optional[str] = None
    last_plural_actor: Optional[Any] = None  # the Argument (transforms.nlp.events.actors) of the last plural actor
    last_plural_sentence: int = -10
    sentence_index: int = 0  # of the sentence being coded
    identified: Dict[str, Dict[str, Any]] = dataclasses.field(default_factory=dict)  # "victim" -> PERSON entity
    groups: Dict[str, Tuple[int, Any]] = dataclasses.field(default_factory=dict)  # lemma -> (sentence, Argument)
    person_codes: Dict[str, Tuple[Optional[str], Optional[str]]] = dataclasses.field(default_factory=dict)
    _org_names: Optional[List[Tuple[FrozenSet[str], Dict[str, Any]]]] = dataclasses.field(default=None, repr=False)
    _points: Dict[int, Optional[GeoPoint]] = dataclasses.field(default_factory=dict, repr=False)
    dominant_place: Optional[Tuple[str, Any]] = None
    place_hints: PlaceHints = NO_HINTS  # the countries and provinces the article names without doubt
    text: Optional[str] = None  # the article text: paragraph breaks reset a vague reference date
    lead_date: Optional[Tuple[_dt.date, str]] = None
    last_end: Optional[int] = None
    last_start: int = 0
    domain: Optional[str] = None  # the story's domain (sport, culture, ...): see transforms.nlp.events.senses

    def __post_init__(self) -> None:
        self.entities = sorted(self.entities, key=lambda e: e["start_char"])
        places = [e for e in self.entities if e["label"] in PLACE_LABELS]
        # first the places the article names without doubt (each alone), then every place in their light
        countries, admin1s = set(), set()
        nationalities = {code for e in self.entities if e["label"] == "NORP"  # "Honduran teachers"
                         for code in [nationality_alpha2(e["canonical"])] if code}
        for e in places:
            g = sure_point(e["canonical"], frozenset(nationalities)) or sure_point(e["text"], frozenset(nationalities))
            if g is not None:
                countries.add(g.country_code)
                if g.admin1_code:
                    admin1s.add((g.country_code, g.admin1_code))
        self.place_hints = PlaceHints(frozenset(countries), frozenset(admin1s), frozenset(nationalities))
        if self.text:
            self.identified = identified_people(self.text, self.entities)
        counts: Dict[str, int] = {}
        points: Dict[str, GeoPoint] = {}
        for e in places:
            g = self.geocode_entity(e)
            if g is not None:
                counts[e["canonical"]] = counts.get(e["canonical"], 0) + 1
                points.setdefault(e["canonical"], g)
        if counts:
            name = max(counts, key=lambda k: (counts[k], -SPECIFICITY.get(points[k].kind, 0)))
            self.dominant_place = (name, points[name])

    def geocode_entity(self, e: Dict[str, Any]) -> Optional[GeoPoint]:
        """The point of a place entity, with the qualifier written after it ("(Cordoba)", ", Illinois")
        and the article's hints; an entity that is itself such a qualifier is only a province or country.
        Computed once per entity (every event of a sentence asks again)."""
        if e["start_char"] not in self._points:
            self._points[e["start_char"]] = self._geocode_entity(e, self.place_hints)
        return self._points[e["start_char"]]

    def _geocode_entity(self, e: Dict[str, Any], hints: PlaceHints) -> Optional[GeoPoint]:
        if not self.text:
            return geocode(e["canonical"], None, hints) or geocode(e["text"], None, hints)
        admin = admin_word_after(self.text, e["end_char"])
        if self.is_qualifier(e) or admin:  # "(Cordoba)", "Santa Cruz department": a province or a country
            names = [f"{e['text']} {admin}"] if admin else []
            return next((g for n in names + [e["canonical"], e["text"]]
                         for g in [geocode(n, kinds=QUALIFIER_KINDS, hints=hints)] if g is not None), None)
        within = qualifier_after(self.text, e["end_char"])
        return geocode(e["canonical"], within, hints) or geocode(e["text"], within, hints)

    def is_qualifier(self, e: Dict[str, Any]) -> bool:
        """Is the entity the "(Cordoba)" of "San Francisco (Cordoba)" or the ", Illinois" of "Springfield, Illinois"?"""
        if not self.text:
            return False
        before = self.text[max(0, e["start_char"] - 60):e["start_char"]]
        m = re.search(r"([A-Z][\w'\u2019.\-]*)\s*(\(|,)\s*$", before)
        if m is None:
            return False
        if m.group(2) == "(":
            return True
        prev_end = e["start_char"] - len(before) + m.end(1)
        return any(p["end_char"] == prev_end and p["label"] in PLACE_LABELS for p in self.entities)

    def org_names(self) -> List[Tuple[FrozenSet[str], Dict[str, Any]]]:
        """(lower-case words of the canonical name, entity) of every ORG entity, built once per article."""
        if self._org_names is None:
            self._org_names = [(frozenset(w.lower() for w in re.findall(r"[\w']+", e["canonical"])), e)
                               for e in self.entities if e["label"] == "ORG"]
        return self._org_names

    def remember(self, head_lemma: str, argument):
        """Keep a group argument that names someone ("ICE officers") for a later "the officers"."""
        if argument.entity_id and head_lemma:
            self.groups[head_lemma] = (self.sentence_index, argument)
        return argument

    def recent_group(self, head_lemma: str, within: int = 3):
        """The named group of ``head_lemma`` remembered in the last ``within`` sentences, or None."""
        found = self.groups.get(head_lemma)
        return found[1] if found is not None and self.sentence_index - found[0] <= within else None

    def entities_in(self, start: int, end: int) -> List[Dict[str, Any]]:
        return [e for e in self.entities if e["start_char"] < end and start < e["end_char"]]

    def person_before(self, offset: int) -> Optional[Dict[str, Any]]:
        best = None
        for e in self.entities:
            if e["end_char"] > offset:
                break
            if e["label"] == "PERSON":
                best = e
        return best


_SUSPECT_NOUNS = frozenset("man woman suspect gunman shooter attacker assailant driver person".split())
_IDENTIFIED = re.compile(
    r"\b(?P<role>victim|victims|man|woman|boy|girl|teenager|suspect|gunman|shooter|attacker|assailant|driver)\b"
    r"[^.;:]{0,40}?\b(?:is|was|as|named|identified)\b[^.;:]{0,25}?$")


def identified_people(text: str, entities) -> Dict[str, Dict[str, Any]]:
    """{"victim": entity, "suspect": entity} for the people the article identifies in a role ("the
    shooting victim is 26-year-old Erick Diaz", "the suspect was identified as ..."); a role with
    more than one identified person is left out (no guess)."""
    found: Dict[str, List[Dict[str, Any]]] = {"victim": [], "suspect": []}
    for e in entities:
        if e["label"] != "PERSON":
            continue
        before = text[max(0, e["start_char"] - 80):e["start_char"]]
        m = _IDENTIFIED.search(before)
        if m is None:
            continue
        role = m.group("role")
        key = "victim" if role.startswith("victim") or role in ("boy", "girl", "teenager") else \
            "suspect" if role in _SUSPECT_NOUNS - {"man", "woman", "person"} else None
        if key is None:  # "the man was identified as": a victim when attacked, a suspect when acting
            for k in ("victim", "suspect"):
                found[k].append(e)
        else:
            found[key].append(e)
    return {k: v[0] for k, v in found.items() if len({e["canonical"] for e in v}) == 1}


def is_modifier_or_actor(t) -> bool:
    """A place entity (by its root token) that only modifies a noun ("Connecticut license plates",
    "City Hall spokeswoman") or acts ("Russia threatened") does not say where an event happened."""
    if t.dep_ in ("compound", "amod", "nmod", "poss"):
        return t.head.ent_type_ not in ("GPE", "LOC", "FAC") and t.head.lemma_.lower() not in PLACE_NOUNS
    return t.dep_ in ("nsubj", "nsubjpass", "dobj") or (t.dep_ == "conj" and t.head.dep_ == "nsubj")


def locate(sent_start: int, sent_end: int, ctx: ArticleContext, modifier_starts=frozenset()):
    """(name, GeoPoint or None, source) for the event's sentence, else the article's dominant place.

    The sentence's places are its place entities (not those that only modify a noun or act, see
    :func:`is_modifier_or_actor`) and the "in <Name> (<Province>)" places the tagger missed; each is
    geocoded with the qualifier beside it and the article's hints. The most specific point wins (a
    town over its province over its country), the first one on a tie."""
    places = [e for e in ctx.entities_in(sent_start, sent_end) if e["label"] in PLACE_LABELS
              and e["start_char"] not in modifier_starts]
    coded = [(e["start_char"], e["canonical"], g) for e in places for g in [ctx.geocode_entity(e)] if g is not None]
    if ctx.text:
        tagged = {e["start_char"] for e in places}
        for p in bracketed_places(ctx.text, sent_start, sent_end):
            g = geocode(p.name, p.qualifier, ctx.place_hints) if p.start not in tagged else None
            if g is not None:
                coded.append((p.start, p.name, g))
    if coded:
        start, name, g = max(coded, key=lambda c: (SPECIFICITY.get(c[2].kind, 0), -c[0]))
        return name, g, "sentence"
    if places:
        return places[0]["canonical"], None, "sentence"
    if ctx.dominant_place is not None:
        name, g = ctx.dominant_place
        return name, g, "article"
    return None, None, None


def new_paragraph(ctx: ArticleContext, start: int) -> None:
    """At a paragraph break, a vague reference date ("earlier this week") stops applying; the
    lead's date (the story's main day) takes over again."""
    if ctx.text is None or ctx.last_end is None:
        return
    previous = ctx.text[ctx.last_start:start]  # the previous sentence, with the white space after it
    if "\n\n" not in previous[len(previous.rstrip()):]:
        return
    if ctx.reference_text is not None and ctx.reference_date is None and ctx.lead_date is not None:
        ctx.reference_date, ctx.reference_text = ctx.lead_date


HISTORY_DAYS = 366
"""A date more than a year before publication ("in 1517", "since 1996", "the 2019 election") is history the
story refers to, not the day of an event it reports: the event keeps ``date_text`` and gets no
``event_date``, so counts per day are not spread over centuries."""


def event_date(token, sentence_dates, ctx: ArticleContext, future: bool):
    """The date of the event at ``token``: the sentence's temporal expression nearest the trigger,
    else the discourse reference date (the last expression of earlier sentences); None (with the
    words kept) for a date that is history (:data:`HISTORY_DAYS`)."""
    value, text = _event_date(token, sentence_dates, ctx, future)
    if value is not None and ctx.published is not None and (ctx.published - value).days > HISTORY_DAYS:
        return None, text
    return value, text


def _event_date(token, sentence_dates, ctx: ArticleContext, future: bool):
    if sentence_dates:
        sent_offset = token.sent.start_char if hasattr(token, "sent") else 0
        pos = token.idx - sent_offset
        # a day beats a vague or year-only expression ("since 1996 ... arrested him on Thursday")
        pool = [d for d in sentence_dates if d.date is not None] or sentence_dates
        nearest = min(pool, key=lambda d: abs((d.start + d.end) / 2 - pos))
        if future and nearest.date is not None:
            redo = find_date_expressions(nearest.text, ctx.published, future=True)
            if redo:
                return redo[0].date, nearest.text
        return nearest.date, nearest.text
    perfect = any(c.dep_ in ("aux", "auxpass") and c.lower_ in ("has", "have", "had") for c in token.children)
    if ctx.reference_text is not None and not perfect and (token.pos_ == "NOUN" or _is_past(token)):
        return ctx.reference_date, ctx.reference_text
    return None, None


def _is_past(token) -> bool:
    """Is the clause of ``token`` in the past ("tried to arrest", "did not identify ... before
    attacking")? Walks up to the governing finite verb."""
    for _ in range(5):
        if token.tag_ in ("VBD", "VBN") or any(c.dep_ in ("aux", "auxpass") and c.lower_ in (
                "did", "had", "was", "were", "has", "have") for c in token.children):
            return True
        if token.dep_ not in ("xcomp", "pcomp", "prep", "conj", "advcl") or token.head.i == token.i:
            return False
        token = token.head
    return False


def advance_date(text: str, ctx: ArticleContext, found=None) -> None:
    found = find_date_expressions(text, ctx.published) if found is None else found
    if found:
        last = found[-1]
        ctx.reference_date, ctx.reference_text = last.date, last.text
        if ctx.lead_date is None:
            first = next((d for d in found if d.date is not None), None)
            if first is not None:
                ctx.lead_date = (first.date, first.text)
