"""How place names are compared: one key per spelling, so "Neuquén", "Neuquen" and "NEUQUEN" meet.

The key folds accents, case, curly apostrophes, hyphens and full stops ("Dar-es-Salaam" = "Dar es
Salaam", "St. Louis" = "St Louis"). Both the table builder and the resolver use it: a name in the
text is looked up under the same key it was stored with.
"""
from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["place_key", "strip_admin_suffix", "is_acronym", "ADMIN_SUFFIXES"]

ADMIN_SUFFIXES = (
    "province", "state", "region", "county", "department", "departement", "governorate", "district",
    "oblast", "prefecture", "municipality", "division", "territory", "emirate", "canton", "krai", "republic",
    "voivodeship", "parish", "autonomous region", "federal district", "capital district", "special region",
    "lga", "local government area",
)
"""Words that follow a first-level name ("Neuquen province", "Plateau State", "Homa Bay County"): a
name with one of them is a province or state; the bare name is one of its forms."""

_SUFFIX = re.compile(r"\s+(?:" + "|".join(re.escape(s) for s in sorted(ADMIN_SUFFIXES, key=len, reverse=True))
                     + r")$")
_PREFIX = re.compile(r"^(?:province|state|region|department|governorate|county|district|prefecture|oblast)"
                     r"\s+(?:of|de|del|du)\s+")


@functools.lru_cache(maxsize=200_000)
def place_key(name: str) -> str:
    """The comparison key of a place name ("Córdoba" and "cordoba" -> "cordoba")."""
    decomposed = unicodedata.normalize("NFKD", name.replace("\u2019", "'").replace("\u02bc", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("-", " ").replace(".", " ").replace("\u2018", "'")
    return " ".join(plain.casefold().split())


def strip_admin_suffix(key: str) -> tuple[str, bool]:
    """(key without an administrative word, whether one was there): "neuquen province" ->
    ("neuquen", True); "province of buenos aires" -> ("buenos aires", True); "mendoza" -> ("mendoza", False)."""
    stripped = _SUFFIX.sub("", key)
    stripped = _PREFIX.sub("", stripped)
    return stripped, stripped != key and bool(stripped)


def is_acronym(name: str) -> bool:
    """A short all-capitals name ("UN", "FBI", "U.S."): such a name is a place only when the alias
    table says so, never because it folds to a town's name ("UN" is not Un, India)."""
    letters = name.replace(".", "").replace(" ", "")
    return letters.isupper() and len(letters) <= 5
