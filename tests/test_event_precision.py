"""Events an analyst can count on: the false events of everyday news (issue 14's examples) are not
coded, and their true counterparts still are. The real model, the real extraction path."""
from __future__ import annotations

import pytest

from tests.test_events import events_of


@pytest.fixture(scope="module")
def nlp():
    from transforms.nlp.model import load_nlp, resolve_model_name

    return load_nlp(resolve_model_name(None), keep=("parser", "tagger", "attribute_ruler", "lemmatizer", "ner"))


def types_of(nlp, text):
    return sorted({e["event_type"] for e in events_of(nlp, text)
                   if not (e["negated"] or e["hypothetical"] or e["future"])})


NOT_EVENTS = [
    ("The soap beat fellow ITV1 show Filthy Love to win the best TV drama prize.", "ASSAULT"),
    ("Franz Ferdinand beat Morrissey to the music award.", "ASSAULT"),
    ("Dame Julie, who shot to fame in The Sound of Music, was honoured on Monday.", "ASSAULT"),
    ("Dirty Den was killed off in 1989 after the actor left the show.", "ASSAULT"),
    ("The 22-year-old star injured her knee during rehearsals.", "ASSAULT"),
    ("Tragedy struck the production when the lead actor fell ill.", "ASSAULT"),
    ("Spears clashed with Us Weekly over the cover story.", "ASSAULT"),
    ("The Irish beat Italy in the 1994 World Cup.", "ASSAULT"),
    ("Confidence is a crucial factor in defending.", "SUPPORT"),
    ("Low-cost firms are driving down prices and demand is dipping.", "REQUEST"),
    ("When I first met her husband, he was a teacher.", "CONSULT"),
    ("When asked whether he would do the same again, he smiled.", "REQUEST"),
    ("A format could not be agreed.", "AGREE"),
]

STILL_EVENTS = [
    ("Police beat protesters outside parliament on Tuesday.", "ASSAULT"),
    ("Rebels attacked the town before dawn.", "ASSAULT"),
    ("Gunmen shot two police officers in Karachi.", "ASSAULT"),
    ("Protesters clashed with police in the capital.", "ASSAULT"),
    ("The two leaders met in Geneva to discuss the ceasefire.", "CONSULT"),
    ("Unions demanded higher wages from the government.", "REQUEST"),
    ("The two countries agreed to reopen their embassies.", "AGREE"),
]


@pytest.mark.parametrize("text, wrong", NOT_EVENTS)
def test_everyday_news_is_not_coded_as_events(nlp, text, wrong):
    assert wrong not in types_of(nlp, text), text


@pytest.mark.parametrize("text, right", STILL_EVENTS)
def test_the_true_counterparts_still_are(nlp, text, right):
    assert right in types_of(nlp, text), text


def test_a_sports_score_is_no_assault(nlp):
    assert "ASSAULT" not in types_of(nlp, "Italy beat France 2-1 in the final.")


def test_story_domain_reads_url_section_title_and_vocabulary():
    from transforms.nlp.events.senses import story_domain

    assert story_domain("Italy beat France in the final", "https://www.bbc.co.uk/sport/football/123") == "sport"
    assert story_domain("Franz Ferdinand beat Morrissey to award",
                        "https://news.bbc.co.uk/1/hi/entertainment/music/4.stm",
                        text="The band won the award for best album at the ceremony.") == "culture"
    assert story_domain("Police arrest 12 in Paris", "https://example.com/world/europe/1", "World",
                        "Police arrested twelve protesters after clashes.") is None


def test_the_sense_lists_are_validated(tmp_path):
    import yaml

    from transforms.nlp.events.senses import DATA_FILE, load_senses

    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    data["idioms"].append({"lemma": "kill", "particle": False})  # what an unquoted `off` becomes in YAML
    bad = tmp_path / "senses.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match="quote YAML"):
        load_senses(bad)
    del data["victims"]
    data["idioms"].pop()
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match="victims"):
        load_senses(bad)


@pytest.mark.parametrize("text, wrong", [
    ("To make ends meet, they borrowed money against her life insurance.", "CONSULT"),
    ("These gadgets are hard to beat.", "ASSAULT"),
    ("She was kicked out of the band in 2019.", "ASSAULT"),
])
def test_more_everyday_idioms(nlp, text, wrong):
    assert wrong not in types_of(nlp, text)


def test_asked_to_do_something_is_still_a_request(nlp):
    assert "REQUEST" in types_of(nlp, "The judge asked the witness to point him out.")
