"""Which place a name means, offline: the name's candidates in the place table, narrowed by the
province or country written beside it and ranked by what else the article names.

``geocode("San Francisco", within="Cordoba")`` is the Argentinian town; ``geocode("San Francisco")``
the Californian city; ``geocode("Paris", hints=PlaceHints(countries={"US"}, ...))`` may be Paris, Texas.
Every point says how precise it is (:data:`PRECISIONS`): a province or a country is placed at its
seat or capital and says ``admin1`` or ``country``, never passed off as a city.

Ranking, highest score first (each part documented in :func:`_score`): a place inside the article's
countries or provinces; the place's own name over an alternate name; a country over a province over
a town of the same name; then population. A town that shares its name with a province and lies in it
("Mendoza", "Neuquen") is the town, unless the text says "province". A small place (under
:data:`SMALL_PLACE` people) is only taken when the text or the article points to its country, or
when its name is unique: "Erlang" (a programming language the model called a place) is not a
village in China.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import re
from typing import FrozenSet, Optional, Tuple

from transforms.nlp.places.names import is_acronym, place_key, strip_admin_suffix
from transforms.nlp.places.table import Candidate, candidates, towns_starting


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))

__all__ = ["distance_km", "GeoPoint", "PlaceHints", "geocode", "geocode_candidates", "SPECIFICITY", "PRECISIONS", "SMALL_PLACE",
           "point_of", "sure_point", "NO_HINTS"]

SPECIFICITY = {"city": 3, "admin1": 2, "country": 1}
"""Larger is more specific: a town beats a province beats a country."""

PRECISIONS = ("point", "city", "admin1", "country")
"""``location_precision`` values: ``point`` coordinates given by the source itself; ``city`` a populated
place (village, town, city, neighbourhood) at its own coordinates; ``admin1`` a province, state or region
placed at its namesake town or else its largest town; ``country`` a country placed at its capital."""

SMALL_PLACE = 50_000
"""Places smaller than this need a reason (a province or country beside the name, or the article's
countries) to be taken."""

_BIG_CITY = 500_000  # a city this big beats a province/state of the same name elsewhere ("Washington")
_CITY_WORDS = re.compile(r"\s+(?:town|city|village|municipality)$")


@dataclasses.dataclass(frozen=True)
class GeoPoint:
    name: str
    kind: str  # city | admin1 | country
    country_code: str
    latitude: float
    longitude: float
    precision: str  # one of PRECISIONS
    admin1: Optional[str] = None
    admin1_code: Optional[str] = None
    population: int = 0


@dataclasses.dataclass(frozen=True)
class PlaceHints:
    """What the article says about where it is: the countries and (country, admin1 code) pairs of
    the places it names without ambiguity."""
    countries: FrozenSet[str] = frozenset()
    admin1s: FrozenSet[Tuple[str, str]] = frozenset()
    nationalities: FrozenSet[str] = frozenset()  # countries of the article's nationality words ("Honduran")


NO_HINTS = PlaceHints()


def point_of(c: Candidate) -> Optional[GeoPoint]:
    if c.latitude is None or c.longitude is None:
        return None
    return GeoPoint(c.name, c.kind, c.country_code, c.latitude, c.longitude, c.kind,
                    c.admin1 if c.kind != "country" else None, c.admin1_code, c.population)


def _clean(name: str) -> str:
    name = " ".join(name.replace("\u2019", "'").split()).strip(" .,'\"()")
    if name.lower().startswith("the "):
        name = name[4:]
    return name


def _inside(c: Candidate, q: Candidate) -> bool:
    if c.id == q.id or c.country_code != q.country_code:
        return False
    if q.kind == "country":
        return c.kind != "country"
    return c.kind == "city" and c.admin1_code == q.admin1_code


@functools.lru_cache(maxsize=20_000)
def _qualifiers(within: str) -> Tuple[Candidate, ...]:
    """The provinces and countries ``within`` may name ("Cordoba", "San Juan province", "Illinois", "Kenya")."""
    key = place_key(_clean(within))
    base, _ = strip_admin_suffix(key)
    return tuple(c for c in candidates(base) + (candidates(key) if base != key else ())
                 if c.kind in ("admin1", "country"))


def _score(c: Candidate, hints: PlaceHints, admin_word: bool, city_word: bool) -> float:
    score = math.log10(c.population + 1) / 2  # 500 people: 1.35; ten million: 3.5
    if c.preferred:
        score += 8  # the alias table's choice ("Kiev" is Kyiv, "Holland" the Netherlands)
    if c.main:
        score += 2  # its own name, not one of its alternate names
    score += {"country": 4.0, "admin1": 1.0, "city": 0.0}[c.kind]
    if admin_word:
        score += 5 if c.kind == "admin1" else 0
    if city_word:
        score += 5 if c.kind == "city" else 0
    if c.country_code in hints.countries and c.kind != "country":
        score += 3
    if c.country_code in hints.nationalities and c.kind != "country":
        score += 5  # "Honduran nurses protested in La Paz": the Honduran La Paz
    if (c.country_code, c.admin1_code) in hints.admin1s and c.kind == "city":
        score += 2
    return score


def geocode_candidates(name: str, within: Optional[str] = None, hints: PlaceHints = NO_HINTS,
                       kinds: Tuple[str, ...] = ("country", "admin1", "city")) -> Tuple[Candidate, ...]:
    """The candidates of ``name`` best first (after the ``within`` filter); empty when none is plausible."""
    name = _clean(name)
    key = place_key(name)
    if not key or not name[:1].isupper():
        return ()
    base, admin_word = strip_admin_suffix(key)
    city_base = _CITY_WORDS.sub("", key)
    city_word = city_base != key
    found = list(candidates(name))
    if admin_word:
        found += [c for c in candidates(base) if c.kind == "admin1"]
    if city_word and not found:
        found += [c for c in candidates(city_base) if c.kind == "city"]
    found = [c for c in dict.fromkeys(found) if c.kind in kinds and (c.preferred or not is_acronym(name))]
    qualified = False
    if within:
        quals = _qualifiers(within)
        inside = [c for c in found if any(_inside(c, q) for q in quals)]
        if not inside and "city" in kinds:  # "San Pedro (Jujuy)" is "San Pedro de Jujuy" there
            inside = [c for q in quals if q.kind == "admin1" for c in towns_starting(key, q.country_code, q.admin1_code)]
        if not inside and "admin1" in kinds:  # a town the table does not know: at least its province
            inside = [q for q in quals if q.kind == "admin1"][:1]
        if inside:
            found, qualified = inside, True
    if not found:
        return ()
    ranked = sorted(found, key=lambda c: (-_score(c, hints, admin_word, city_word), c.id))
    best = ranked[0]
    if best.kind == "admin1" and not admin_word and not best.preferred:
        # a name shared by a province and a town is the town: the one in the province ("Mendoza"), or
        # a big one elsewhere ("San Juan", Puerto Rico; "Washington"); "New York" is New York City
        towns = [c for c in ranked if c.kind == "city" and (
            (c.country_code, c.admin1_code) == (best.country_code, best.admin1_code) and c.main
            or c.population >= _BIG_CITY and c.country_code == best.country_code
            or c.population >= 100_000 and c.main)]
        if towns:
            best = towns[0]
            ranked = [best] + [c for c in ranked if c is not best]
    if best.kind == "city" and best.population < SMALL_PLACE and not qualified \
            and best.country_code not in hints.countries | hints.nationalities and not best.preferred:
        return ()
    if best.kind == "city" and not best.main and not best.preferred and not qualified \
            and best.population < 100_000 and best.country_code not in hints.countries | hints.nationalities:
        return ()  # an alternate name of a small town ("Aurora" for San Francisco, Philippines)
    return tuple(ranked)


@functools.lru_cache(maxsize=50_000)
def sure_point(name: str, nationalities: FrozenSet[str] = frozenset()) -> Optional[GeoPoint]:
    """The point of ``name`` when the name alone leaves no doubt about its country: a country, or a
    place whose plausible namesakes (own names, 15,000+ people) are all in one country, or a city of a
    million people that has no namesake in the article's ``nationalities``. These make the article's
    :class:`PlaceHints`; "La Paz" beside "Honduran nurses" does not."""
    ranked = geocode_candidates(name)
    if not ranked:
        return None
    best = ranked[0]
    rivals = {c.country_code for c in ranked if c.main and (c.kind != "city" or c.population >= 15_000)}
    everywhere = {c.country_code for c in ranked}
    if best.kind == "country" or rivals <= {best.country_code} or (
            best.population >= 1_000_000 and not (everywhere - {best.country_code}) & nationalities):
        return point_of(best)
    return None


@functools.lru_cache(maxsize=50_000)
def geocode(name: str, within: Optional[str] = None, hints: PlaceHints = NO_HINTS,
            kinds: Tuple[str, ...] = ("country", "admin1", "city")) -> Optional[GeoPoint]:
    """The place ``name`` most likely means, or None (see the module docstring). ``within`` is a
    province, state or country written beside the name ("San Francisco (Cordoba)", "Springfield,
    Illinois"); ``hints`` are the article's countries and provinces. Names must be capitalised:
    "Turkey" the country is found, "turkey" the bird is not. ``kinds`` limits what the name may be."""
    ranked = geocode_candidates(name, within, hints, kinds)
    return point_of(ranked[0]) if ranked else None
