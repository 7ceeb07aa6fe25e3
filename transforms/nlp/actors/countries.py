"""The country of an actor's word: a nationality ("Iraqi", "Americans", "US" as in "US troops"), a
country name, or a place whose country is clear ("Kabul", "Lagos state"). Codes are ISO 3166-1
alpha-3, as PLOVER/POLECAT and CAMEO write them.

Nationality words are :mod:`transforms.nlp.places.nationalities`'s; places are the event geocoder's
(:mod:`transforms.nlp.places.geocode`). Words that name several countries ("Korean", "Congolese")
give no country.
"""
from __future__ import annotations

import functools
from typing import Optional

from transforms.nlp.places.geocode import geocode
from transforms.nlp.places.nationalities import demonyms, nationality_alpha3

__all__ = ["alpha3", "country_of_word"]


_EXTRA_ALPHA3 = {"XK": "XKX"}  # Kosovo: a user-assigned code, as GeoNames and POLECAT use it


@functools.lru_cache(maxsize=None)
def alpha3(alpha2: Optional[str]) -> Optional[str]:
    """ISO 3166-1 alpha-3 of an alpha-2 code ("US" -> "USA"), or None."""
    if not alpha2:
        return None
    if alpha2 in _EXTRA_ALPHA3:
        return _EXTRA_ALPHA3[alpha2]
    import pycountry

    country = pycountry.countries.get(alpha_2=alpha2)
    return country.alpha_3 if country is not None else None


@functools.lru_cache(maxsize=20_000)
def country_of_word(word: str, places: bool = True) -> Optional[str]:
    """The alpha-3 country a capitalised word or name stands for, or None: a nationality word
    (case-sensitive), else (``places``) a country, province or large town the geocoder is sure of."""
    word = " ".join(word.split()).strip(" .,'\"")
    if not word or not word[:1].isupper():
        return None
    _, ambiguous = demonyms()
    if word in ambiguous:
        return None
    bare = word[:-2] if word.endswith(("'s", "\u2019s")) else word
    # "Iraqi", "Iraqi's", or the first word of "Bosnian Serbs", "Iraqi Kurds"
    code = nationality_alpha3(word) or nationality_alpha3(bare) or (
        nationality_alpha3(word.split()[0]) if " " in word else None)
    if code is not None:
        return code
    if not places:
        return None
    point = geocode(bare)
    if point is None or (point.kind == "city" and point.population < 100_000):
        return None
    return alpha3(point.country_code)
