"""The shipped place table (``data/places.sqlite``, built by :mod:`transforms.nlp.places.build`).

Every country, first-level division (province, state, region) and populated place of 500+ people,
with their names under :func:`~transforms.nlp.places.names.place_key` keys. The file is opened
read-only in place: there is no load step (opening takes under a millisecond and a look-up about
20 µs), and memory grows only with SQLite's page cache (2 MB) and the look-ups cached per process.
"""
from __future__ import annotations

import dataclasses
import functools
import sqlite3
import threading
from pathlib import Path
from typing import Optional, Tuple

from transforms.nlp.places.names import place_key

__all__ = ["Candidate", "PLACES_DB", "candidates", "towns_starting", "table_info"]

PLACES_DB = Path(__file__).resolve().parent.parent / "data" / "places.sqlite"

_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One place a name may mean. ``kind`` is ``country`` | ``admin1`` | ``city``; ``main`` says the
    name is the place's own (or official) name rather than one of its alternate names."""
    id: int
    kind: str
    name: str
    country_code: str
    admin1_code: Optional[str]
    admin1: Optional[str]
    latitude: Optional[float]
    longitude: Optional[float]
    population: int
    main: bool
    preferred: bool = False


@functools.lru_cache(maxsize=None)
def _connection() -> sqlite3.Connection:
    uri = f"file:{PLACES_DB}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _query(sql: str, params: tuple = ()) -> list:
    with _LOCK:
        return _connection().execute(sql, params).fetchall()


def _candidate(r: tuple, main: bool, preferred: bool = False) -> Candidate:
    return Candidate(id=r[0], kind=r[1], name=r[2], country_code=r[3], admin1_code=r[4], admin1=r[5], latitude=r[6],
                     longitude=r[7], population=r[8], main=main, preferred=preferred)


_COLUMNS = "p.id, p.kind, p.name, p.country, p.admin1, p.admin1_name, p.latitude, p.longitude, p.population"


@functools.lru_cache(maxsize=100_000)
def candidates(name: str) -> Tuple[Candidate, ...]:
    """Every place called ``name`` (any spelling that folds to the same key), own names first,
    then by population."""
    key = place_key(name)
    if not key:
        return ()
    rows = _query(f"SELECT {_COLUMNS}, n.main FROM names n JOIN places p ON p.id = n.place WHERE n.key = ? "
                  "ORDER BY n.main DESC, p.population DESC, p.id", (key,))
    return tuple(_candidate(r, r[9] >= 1, r[9] == 2) for r in rows)


@functools.lru_cache(maxsize=10_000)
def towns_starting(key: str, country_code: str, admin1_code: Optional[str]) -> Tuple[Candidate, ...]:
    """Towns of one province whose name starts with the words of ``key`` ("san pedro" -> San Pedro de
    Jujuy), largest first."""
    if not key:
        return ()
    rows = _query(f"SELECT {_COLUMNS}, n.main FROM names n JOIN places p ON p.id = n.place "
                  "WHERE n.key >= ? AND n.key < ? AND p.kind = 'city' AND p.country = ? AND p.admin1 IS ? "
                  "ORDER BY n.main DESC, p.population DESC, p.id LIMIT 20",
                  (key + " ", key + "!", country_code, admin1_code))  # keys that start with "<key> "
    return tuple(dict.fromkeys(_candidate(r, r[9] >= 1, r[9] == 2) for r in rows))


def table_info() -> dict:
    """The table's ``meta`` rows (source, counts)."""
    return dict(_query("SELECT key, value FROM meta"))
