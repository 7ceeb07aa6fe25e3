"""Actors coded like PLOVER/POLECAT (issue 14, item 4): sectors from the lexicon, countries from
nationality words, places and the alias table, generic mentions resolved only when the article is
clear. Unit tests on the data files and the pure functions, then sentences through the real model."""
from __future__ import annotations

import json

import pytest

from transforms.nlp.actors.countries import alpha3, country_of_word
from transforms.nlp.actors.sectors import SECTORS, sector_lexicon, sector_of_org, sector_of_title, sector_of_words
from transforms.nlp.places.nationalities import DEMONYMS_FILE


def test_sector_lexicon_is_valid_and_every_sector_has_words():
    lex = sector_lexicon()
    assert set(lex.words.values()) | {s for _, s in lex.phrases} == set(SECTORS)


def test_a_word_in_two_sectors_is_rejected(tmp_path, monkeypatch):
    from transforms.nlp.actors import sectors

    bad = tmp_path / "sectors.yaml"
    bad.write_text("person_nouns: []\nsectors:\n  police: {words: [officer]}\n  military: {words: [officer]}\n")
    monkeypatch.setattr(sectors, "SECTORS_FILE", bad)
    sectors.sector_lexicon.cache_clear()
    try:
        with pytest.raises(ValueError, match="officer"):
            sectors.sector_lexicon()
    finally:
        sectors.sector_lexicon.cache_clear()


@pytest.mark.parametrize("head, mods, text, sector", [
    ("officer", ["police"], "police officers", "police"),
    ("officer", ["army"], "army officers", "military"),
    ("official", ["immigration"], "US immigration officials", "government"),
    ("official", [], "officials", "government"),
    ("troop", [], "Iraqi troops", "military"),
    ("force", ["security"], "security forces", "police"),
    ("protester", [], "protesters", "protesters"),
    ("leader", ["opposition"], "opposition leaders", "opposition"),
    ("gunman", [], "gunmen", None),
    ("author", [], "the authors", None),
])
def test_sector_of_words(head, mods, text, sector):
    assert sector_of_words(head, mods, text) == sector


@pytest.mark.parametrize("name, sector", [
    ("Ministry of Health", "government"), ("Nigerian Army", "military"), ("Kenya Police Service", "police"),
    ("Harvard University", "education"), ("Kenya Health Workers Union", "labour"), ("Acme Corp", "business"),
    ("Erick Diaz", None),
])
def test_sector_of_org(name, sector):
    assert sector_of_org(name) == sector


def test_sector_of_title():
    assert sector_of_title("said Kenyan President ") == "government"
    assert sector_of_title("according to Gen. ") == "military"
    assert sector_of_title("a man called ") is None


def test_demonyms_are_valid_iso_codes_and_cover_the_un_members():
    import pycountry

    raw = json.loads(DEMONYMS_FILE.read_text(encoding="utf-8"))
    codes = set(raw["demonyms"].values())
    assert all(pycountry.countries.get(alpha_3=c) is not None or c == "XKX" for c in codes)
    assert set(raw["ambiguous"]) <= set(raw["demonyms"])
    assert len(codes) >= 190 and "EU" not in raw["demonyms"]


@pytest.mark.parametrize("word, code", [
    ("Iraqi", "IRQ"), ("Americans", "USA"), ("US", "USA"), ("U.S.", "USA"), ("British", "GBR"), ("Kenyan", "KEN"),
    ("Kabul", "AFG"), ("Nigeria", "NGA"), ("Korean", None), ("Congolese", None), ("iraqi", None), ("Smith", None),
])
def test_country_of_word(word, code):
    assert country_of_word(word) == code


def test_alpha3():
    assert alpha3("US") == "USA" and alpha3("XK") == "XKX" and alpha3(None) is None


# ----------------------------------------------------------------------------- events, end to end

def _one(article_events, text, event_type):
    found = [e for e in article_events(text) if e["event_type"] == event_type]
    assert found, (text, article_events(text))
    return found[0]


@pytest.mark.parametrize("text, event_type, actor, recipient", [
    ("Iraqi troops shelled the village of Tarmiyah on Monday.", "ASSAULT", ("IRQ", "military"), None),
    ("Kenyan police arrested 20 protesters in Nakuru on Tuesday.", "COERCE", ("KEN", "police"), ("KEN", "protesters")),
    ("Police arrested 20 protesters in Nakuru on Tuesday.", "COERCE", ("KEN", "police"), ("KEN", "protesters")),
    ("Boko Haram fighters attacked a village near Maiduguri on Sunday.", "ASSAULT", ("NGA", "rebels"), None),
    ("The United Nations condemned the attack on the convoy.", "ACCUSE", (None, "igo"), None),
    ("Armed men kidnapped a local chief in Zamfara state on Tuesday.", "ASSAULT", (None, None), None),
])
def test_actor_country_and_sector(article_events, text, event_type, actor, recipient):
    e = _one(article_events, text, event_type)
    assert (e["actor_country"], e["actor_sector"]) == actor
    if recipient is not None:
        assert (e["recipient_country"], e["recipient_sector"]) == recipient


def test_an_unresolved_pronoun_is_no_actor(article_events):
    events = article_events("You attacked the town, he said. It was a massacre.")
    for e in events:
        assert e["actor"] not in ("You", "you", "It", "it")


def test_they_needs_a_plural_actor_in_the_same_or_the_previous_sentence(article_events):
    text = ("Police arrested three men on Monday. The weather was mild and the market was busy. "
            "Shops opened late. The mayor spoke. They attacked a bus later.")
    attack = _one(article_events, text, "ASSAULT")
    assert attack["actor_canonical"] is None and attack["actor"] is None


@pytest.mark.parametrize("text, recipient", [
    ("President Donald Trump discussed trade with Chinese President Xi Jinping on Friday.", "Xi Jinping"),
    ("Putin met Erdogan in Sochi on Tuesday.", "Erdogan"),
    ("The minister met his Chinese counterpart in Beijing.", "his Chinese counterpart"),
])
def test_a_consultation_partner_is_who_it_is_with_not_the_topic(article_events, text, recipient):
    events = [e for e in article_events(text) if e["event_type"] == "CONSULT"]
    assert events and recipient in (events[0]["recipient"] or ""), events
