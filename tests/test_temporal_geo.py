"""Event date resolution and offline geocoding."""
from __future__ import annotations

import datetime as dt

import pytest

from transforms.nlp.places.geocode import geocode
from transforms.nlp.temporal import find_date_expressions, resolve_date

FRI = dt.date(2020, 2, 7)  # the seed's publication date, a Friday


@pytest.mark.parametrize("text, published, expected", [
    ("on Thursday", FRI, dt.date(2020, 2, 6)),
    ("on Friday", FRI, dt.date(2020, 2, 7)),
    ("last Friday", FRI, dt.date(2020, 1, 31)),
    ("on Saturday", FRI, dt.date(2020, 2, 1)),
    ("yesterday", FRI, dt.date(2020, 2, 6)),
    ("Yesterday's attack", dt.date(2020, 3, 1), dt.date(2020, 2, 29)),  # across a month end, leap year
    ("yesterday", dt.date(2021, 1, 1), dt.date(2020, 12, 31)),  # across a year end
    ("on Wednesday", dt.date(2021, 1, 1), dt.date(2020, 12, 30)),
    ("on Monday", dt.date(2020, 3, 2), dt.date(2020, 3, 2)),
    ("today", FRI, FRI), ("this morning", FRI, FRI), ("tomorrow", FRI, dt.date(2020, 2, 8)),
    ("three days ago", FRI, dt.date(2020, 2, 4)), ("2 weeks ago", FRI, dt.date(2020, 1, 24)),
    ("on February 6", FRI, dt.date(2020, 2, 6)), ("on Feb. 6, 2019", FRI, dt.date(2019, 2, 6)),
    ("on 6 February 2020", FRI, dt.date(2020, 2, 6)), ("on Dec. 30", dt.date(2021, 1, 2), dt.date(2020, 12, 30)),
    ("2020-01-31", FRI, dt.date(2020, 1, 31)),
])
def test_past_dates_resolve_against_publication(text, published, expected):
    assert resolve_date(text, published) == expected


@pytest.mark.parametrize("text, expected", [
    ("will meet on Monday", dt.date(2020, 2, 10)),
    ("on Friday", dt.date(2020, 2, 14)),
    ("on January 3", dt.date(2021, 1, 3)),
])
def test_future_dates_look_forward(text, expected):
    published = FRI if "January" not in text else dt.date(2020, 12, 20)
    assert resolve_date(text, published, future=True) == expected


@pytest.mark.parametrize("text", ["last week", "earlier this week", "Earlier this week, police said", "last month",
                                  "recently", "in recent days"])
def test_vague_expressions_keep_text_but_no_date(text):
    (expr,) = find_date_expressions(text, FRI)
    assert expr.date is None and expr.text.lower() in text.lower()


def test_no_expression_and_ordinary_words():
    assert find_date_expressions("The minister may visit the sun-lit coast.", FRI) == []


def test_relative_dates_without_publication_date_are_unknown():
    assert resolve_date("on Thursday", None) is None
    assert resolve_date("on Feb. 6, 2019", None) == dt.date(2019, 2, 6)


@pytest.mark.parametrize("name, kind, cc, lat", [
    ("Brooklyn", "city", "US", 40.65), ("Bensonhurst", "city", "US", 40.60), ("New York", "city", "US", 40.71),
    ("Mexico", "country", "MX", 19.43), ("Connecticut", "admin1", "US", None), ("the United States", "country", "US", None),
    ("Kiev", "city", "UA", 50.45), ("Washington", "city", "US", 38.90),
])
def test_geocode(name, kind, cc, lat):
    point = geocode(name)
    assert point is not None and point.kind == kind and point.country_code == cc
    if lat is not None:
        assert abs(point.latitude - lat) < 0.05


@pytest.mark.parametrize("name", ["turkey", "Nowhere Land", "", "the"])
def test_geocode_unknown(name):
    assert geocode(name) is None


@pytest.mark.parametrize("name, code", [("U.S.", "US"), ("U.S", "US"), ("UAE", "AE"), ("Burma", "MM"), ("Holland", "NL"),
                                        ("West Bank", "PS"), ("Britain", "GB"), ("DR Congo", "CD")])
def test_country_short_names_come_from_the_one_alias_table(name, code):
    """The geocoder and the gazetteer share place_aliases.json (the geocoder's own copy of the
    short names had drifted: "U.S." with its final dot stripped, "Burma", "UAE" were unknown)."""
    from transforms.nlp import gazetteer

    point = geocode(name)
    assert point is not None and point.kind == "country" and point.country_code == code
    assert gazetteer.lookup_place(name).country_code == code



@pytest.mark.parametrize("text, expression", [
    ("In 1517 Ottoman troops attacked the city.", "In 1517"),
    ("Since 1996 the group has killed 300 people.", "Since 1996"),
    ("The factory closed in March 2019.", "March 2019"),
    ("Prices rose during the summer of 2008.", "during the summer of 2008"),
])
def test_a_month_or_a_year_is_an_expression_without_a_day(text, expression):
    found = find_date_expressions(text, dt.date(2024, 5, 3))
    assert [(d.text, d.date) for d in found] == [(expression, None)]


@pytest.mark.parametrize("text", ["Fire destroyed buildings in 1500 homes.", "Turnout was 61% in 2,000 stations.",
                                  "They scored in 2020 seasons.", "It fell by 1999 points."])
def test_counts_are_not_years(text):
    assert find_date_expressions(text, dt.date(2024, 5, 3)) == []


def test_a_bare_year_leaves_the_event_date_empty_and_keeps_the_words(article_events):
    events = [e for e in article_events("In 1517, Ottoman troops attacked the city. On Thursday rebels attacked "
                                         "the town again.", published="2024-05-03") if e["event_type"] == "ASSAULT"]
    assert [(e["event_date"], e["date_text"]) for e in events] == [(None, "In 1517"), (dt.date(2024, 5, 2), "On Thursday")]
