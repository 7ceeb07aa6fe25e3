"""Short event reports (issue 14, item 6): one-sentence notes in the style of ACLED or a wire brief
get the right type, date and place. Sentences written for these tests (not from eval/gold/reports)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.test_places import km


@pytest.fixture(scope="module")
def events_of(article_events):
    return lambda text, published="2023-05-12": article_events(text, published)


def asserted_types(events):
    return {e["event_type"] for e in events if not (e["negated"] or e["hypothetical"] or e["future"])}


@pytest.mark.parametrize("text, mode", [
    ("On 9 May 2023, thousands of nurses took to the streets of Lisbon to demand higher pay.", "demo"),
    ("On 9 May 2023, residents gathered outside the town hall in Mombasa to demand clean water.", "demo"),
    ("On 9 May 2023, dock workers marched downtown in Rotterdam.", "demo"),
    ("On 9 May 2023, families held a vigil outside the prosecutor's office in Puebla.", "demo"),
    ("On 9 May 2023, bus drivers held a 24-hour strike in Accra over unpaid wages.", "strike"),
    ("On 9 May 2023, farmers blocked the national route near Rosario (Santa Fe) to demand lower taxes.", "obstruct"),
    ("On 9 May 2023, rioters set fire to two buses and looted shops in Marseille.", "riot"),
    ("On 9 May 2023, tens of thousands of protesters stormed the parliament building in Colombo.", "riot"),
    ("On 9 May 2023, supporters of the opposition leader clashed with police in Dakar.", "riot"),
    ("On 9 May 2023, unemployed workers staged a protest camp outside the ministry in Tucuman.", "demo"),
])
def test_protest_reports_are_typed(events_of, text, mode):
    protests = [e for e in events_of(text) if e["event_type"] == "PROTEST"]
    assert protests, events_of(text)
    assert protests[0]["mode"] == mode
    assert protests[0]["event_date"] == dt.date(2023, 5, 9)


def test_police_violence_against_protesters_stays_an_assault(events_of):
    assert "ASSAULT" in asserted_types(events_of("On 9 May 2023, police beat protesters outside parliament in Nairobi."))


@pytest.mark.parametrize("text", [
    "On 9 May 2023, a police patrol exchanged fire with armed men near Temuco.",
    "On 9 May 2023, tribal fighters clashed with the Syrian Democratic Forces east of the Euphrates.",
])
def test_armed_clashes_are_assaults(events_of, text):
    assert "ASSAULT" in asserted_types(events_of(text))


def test_troops_marching_are_not_a_protest(events_of):
    assert "PROTEST" not in asserted_types(events_of("On 9 May 2023, troops marched into the border town."))


def test_a_range_is_dated_by_its_first_day(events_of):
    (e,) = [e for e in events_of("Between 2 and 4 May 2023, teachers protested in Kisumu to demand their arrears.")
            if e["event_type"] == "PROTEST"]
    assert e["event_date"] == dt.date(2023, 5, 2) and e["date_text"] == "Between 2 and 4 May 2023"


@pytest.mark.parametrize("text, country, lat, lon", [
    # the model calls these NORP / PRODUCT or misses them; after "in" a known city is a place
    ("On 9 May 2023, hundreds of people marched in Omdurman against the coup.", "SD", 15.64, 32.48),
    ("On 9 May 2023, thousands demonstrated in front of the Congress in Asuncion to demand new elections.",
     "PY", -25.29, -57.65),
    # a name the model cut at a linking word, and a province in brackets that is no acronym
    ("On 9 May 2023, in San Cristobal de las Casas (Chiapas), teachers marched to demand their pay.",
     "MX", 16.73, -92.64),
    # a nationality names the article's country: this La Paz is the Honduran one
    ("On 9 May 2023, in La Paz (La Paz department), Honduran nurses protested to demand overdue salaries.",
     "HN", 14.32, -87.68),
    # a province written after the town's name: the town of that province
    ("On 9 May 2023, sugar workers in San Pedro (Jujuy) went on strike to demand a bonus.", "AR", -24.23, -64.87),
])
def test_protest_reports_are_placed(events_of, text, country, lat, lon):
    (e,) = [e for e in events_of(text) if e["event_type"] == "PROTEST"][:1]
    assert e["country_code"] == country, e
    assert km(e["latitude"], e["longitude"], lat, lon) < 50
