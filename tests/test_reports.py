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
    # the vocabulary of a second blind batch of reports (eval/gold/reports/batch2.jsonl)
    ("On 9 May 2023, bus drivers staged a strike in Accra.", "strike"),  # "staged" is no stag
    ("On 9 May 2023, fishermen staged a sit-in outside the port of Al Hoceima.", "demo"),
    ("On 9 May 2023, a sit-in was staged in front of the governor's office in Jos by widows.", "demo"),
    ("On 9 May 2023, a long march was held by Papuan students in Jayapura.", "demo"),
    ("Dock workers downed tools in Antofagasta on 9 May 2023.", "strike"),
    ("On 9 May 2023, doctors in Ankara held a work stoppage over low pay.", "strike"),
    ("On 9 May 2023, teachers and students formed a human chain through central Budapest.", "demo"),
    ("On 9 May 2023, teachers occupied the rotunda of the state capitol in Madison, Wisconsin.", "obstruct"),
    ("On 9 May 2023, protesters erected barricades across several streets in Port-au-Prince.", "obstruct"),
    ("On 9 May 2023, taxi drivers in Medan switched off their apps in a strike over lower fares.", "strike"),
    ("On 9 May 2023, thousands of people demonstrated near the Israeli embassy in Amman.", "demo"),
    ("On 9 May 2023, demonstrators gathered in the main square of Suwayda, chanting slogans.", "demo"),
    ("On 9 May 2023, rioting broke out in Port Moresby.", "riot"),
    ("On 9 May 2023, youths burned tyres and stoned the police headquarters in Tamale.", "riot"),
    ("On 9 May 2023, farmers pelted the European Parliament with eggs in Brussels, demanding lower taxes.", "riot"),
    ("On 9 May 2023, students clashed with police during a march in Concepcion.", "riot"),
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


@pytest.mark.parametrize("text", [
    "On 9 May 2023, Russian troops occupied the town of Bakhmut.",
    "On 9 May 2023, unknown gunmen tried to kill the mayor hours after an opposition rally in Kisumu.",
])
def test_armed_men_are_no_rioters_and_troops_occupy_no_protest(events_of, text):
    assert not [e for e in events_of(text) if e["event_type"] == "PROTEST" and e["trigger"] != "rally"], events_of(text)


@pytest.mark.parametrize("text", [
    "Authorities restricted internet access across Sistan and Baluchestan province on 9 May 2023.",
    "Authorities cut mobile internet services across Sudan on 9 May 2023.",
    "Authorities shut down mobile internet across Bangladesh on 9 May 2023 amid student protests.",
])
def test_internet_shutdowns_are_censorship(events_of, text):
    assert [e["mode"] for e in events_of(text) if e["event_type"] == "COERCE"] == ["censor"], events_of(text)


def test_a_company_cutting_and_restricting_is_no_censorship(events_of):
    assert not events_of("The company cut its workforce and restricted access to the building on 9 May 2023.")


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
    # the model calls these ORG or misses them: a city of 50,000+ after "in" or a place noun, a name
    # before an administrative word
    ("Rioters set fire to shops and cars in Noumea on 9 May 2023 during protests.", "NC", -22.28, 166.46),
    ("Residents of Bethlehem, Free State, marched to the municipal offices on 9 May 2023.", "ZA", -28.23, 28.31),
    ("Residents of Tartagal, Salta province, blocked Route 86 with burning tyres on 9 May 2023.", "AR", -22.52, -63.80),
    ("On 9 May 2023, in Gafsa governorate, young unemployed people blocked the railway lines.", "TN", 34.42, 8.78),
    # a direction before the qualifier: this Tripoli is Lebanon's
    ("Residents of Tripoli, northern Lebanon, blocked roads with burning tyres on 9 May 2023.", "LB", 34.44, 35.85),
])
def test_protest_reports_are_placed(events_of, text, country, lat, lon):
    (e,) = [e for e in events_of(text) if e["event_type"] == "PROTEST"][:1]
    assert e["country_code"] == country, e
    assert km(e["latitude"], e["longitude"], lat, lon) < 50
