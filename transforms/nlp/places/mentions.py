"""Where the text itself says which place a name is: the province, state or country written beside it.

"in San Francisco (Cordoba)", "in Calingasta (San Juan)", "Springfield, Illinois", "Santa Rosa, La
Pampa province", "Jos North LGA, Plateau state": the words in brackets or after the comma are the
*qualifier* of the name before them (:func:`qualifier_after`). Wire briefs in the style of ACLED
write small towns this way, and the tagger often misses the town itself; :func:`bracketed_places`
finds "<Capitalised words> (<qualifier>)" after a place preposition whether or not it was tagged.
Whether a qualifier really is a province or country is the geocoder's call
(:func:`transforms.nlp.places.geocode.geocode`, ``within=``).
"""
from __future__ import annotations

import re
from typing import List, NamedTuple, Optional

__all__ = ["qualifier_after", "bracketed_places", "admin_word_after", "TextPlace"]

_NAME_WORD = r"[A-Z][\w'\u2019.\-]*"
_LINK = r"(?:de la|de las|de los|de l'|del|de|do|da|dos|das|di|du|des|el|al|la|las|los|le|of|y|upon|on|en|sur|am|an)"
_NAME = rf"{_NAME_WORD}(?:\s+(?:{_LINK}\s+)?{_NAME_WORD}){{0,4}}"
_ADMIN_WORD = (r"(?:province|state|region|county|department|governorate|district|prefecture|oblast|municipality|"
               r"division|territory|LGA|local government area)")

# a direction before the qualifier is not part of its name: "Tripoli, northern Lebanon", "(central Java)"
_DIRECTION = r"(?:(?:north|south|east|west|central|north-?east|north-?west|south-?east|south-?west)(?:ern)?\s+)?"
_BRACKETED = re.compile(rf"^\s*\(\s*{_DIRECTION}({_NAME}(?:\s+{_ADMIN_WORD})?)\s*\)")
_COMMA = re.compile(rf"^\s*,\s*{_DIRECTION}({_NAME}(?:\s+{_ADMIN_WORD})?)(?='s|\u2019s|\s*[,.;:)]|\s+[a-z]|\s*$)")
_AFTER_PREPOSITION = re.compile(
    rf"\b(?:in|at|near|outside|around|from|of|to)\s+(?:the\s+(?:town|village|city|locality|area|commune)s?\s+of\s+)?"
    rf"({_NAME})\s*\(({_NAME}(?:\s+{_ADMIN_WORD})?)\)")


def qualifier_after(text: str, end: int) -> Optional[str]:
    """The province/state/country written right after a place name that ends at ``end``: in brackets
    ("(Cordoba)") or after a comma (", Illinois"); None when there is none. The possessive of
    "Lagos, Nigeria's largest city" is dropped."""
    tail = text[end:end + 80]
    m = _BRACKETED.match(tail) or _COMMA.match(tail)
    return re.sub(r"['\u2019]s$", "", m.group(1).strip()) if m else None


_ADMIN_AFTER = re.compile(rf"^\s+({_ADMIN_WORD})\b", re.I)


def admin_word_after(text: str, end: int) -> Optional[str]:
    """The administrative word right after a name that ends at ``end`` ("Santa Cruz *department*",
    "Plateau *state*"), or None: the name is then a province, not the town of the same name."""
    m = _ADMIN_AFTER.match(text[end:end + 40])
    return m.group(1) if m else None


class TextPlace(NamedTuple):
    name: str
    qualifier: str
    start: int  # offset of the name in the text
    end: int


def bracketed_places(text: str, start: int = 0, end: Optional[int] = None) -> List[TextPlace]:
    """"<preposition> <Name> (<Qualifier>)" in ``text[start:end]``, tagged as a place or not
    ("On 3 May, in Calingasta (San Juan), ..."). Offsets are the text's."""
    end = len(text) if end is None else end
    out = []
    for m in _AFTER_PREPOSITION.finditer(text, start, end):
        out.append(TextPlace(m.group(1), m.group(2).strip(), m.start(1), m.end(1)))
    return out
