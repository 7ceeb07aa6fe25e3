"""Nationality words ("Iraqi", "Americans", "US" as in "US troops") and the country each names:
``data/demonyms.json``, written by hand (every code is checked against pycountry by a test). Words
that name several countries ("Korean", "Congolese") are the file's ``ambiguous`` list and name none.
Used for actors' countries (:mod:`transforms.nlp.actors.countries`) and for the countries an article
is about (:class:`transforms.nlp.events.context.ArticleContext`)."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Tuple

__all__ = ["DEMONYMS_FILE", "demonyms", "nationality_alpha3", "nationality_alpha2"]

DEMONYMS_FILE = Path(__file__).resolve().parent.parent / "data" / "demonyms.json"


@functools.lru_cache(maxsize=None)
def demonyms() -> Tuple[Dict[str, str], FrozenSet[str]]:
    """(word -> ISO 3166-1 alpha-3, the ambiguous words)."""
    raw = json.loads(DEMONYMS_FILE.read_text(encoding="utf-8"))
    return dict(raw["demonyms"]), frozenset(raw.get("ambiguous", ()))


def nationality_alpha3(word: str) -> Optional[str]:
    """The alpha-3 country of a nationality word (case-sensitive), None if it is not one or is ambiguous."""
    table, ambiguous = demonyms()
    word = word.strip()
    return None if word in ambiguous else table.get(word)


@functools.lru_cache(maxsize=2_000)
def nationality_alpha2(word: str) -> Optional[str]:
    """The alpha-2 country of a nationality word ("Honduran" -> "HN"), as :func:`nationality_alpha3`."""
    code = nationality_alpha3(word)
    if code is None:
        return None
    if code == "XKX":
        return "XK"
    import pycountry

    country = pycountry.countries.get(alpha_3=code)
    return country.alpha_2 if country is not None else None
