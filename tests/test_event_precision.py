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
    ("Protesters clashed with police in the capital.", "PROTEST"),  # a riot: PLOVER codes violent protest as PROTEST
    ("The two leaders met in Geneva to discuss the ceasefire.", "CONSULT"),
    ("Unions demanded higher wages from the government.", "REQUEST"),
    ("The two countries agreed to reopen their embassies.", "AGREE"),
]


# Session 4: senses and modality that the audit set's tune half showed (eval/eval_audit.py), each with a
# true counterpart below.
NOT_ASSERTED = [
    ("Both were arrested and charged with attempt to murder.", "ASSAULT"),          # an attempt's infinitive
    ("The group was making bombs to carry out attacks in the country.", "ASSAULT"),  # carrying out, planned
    ("The minister will meet the police leadership to discuss the leaks.", "CONSULT"),  # purpose of a future meeting
    ("Eriador has called for an embargo against Osgiliath.", "SANCTION"),          # asked for, not imposed
    ("We encourage everyone to focus on advancing a ceasefire.", "RETREAT"),
    ("Tehran offered to pay them $500,000 to plan the journalist's murder.", "ASSAULT"),
    ("The United States defended the right of Russian troops to fire on militants.", "ASSAULT"),
    ("Putin offered to negotiate with the president of Armenia.", "CONSULT"),
    ("He said he would be ready to host a meeting between an Israeli peace movement and the PLO.", "CONSULT"),
    ("Well, I'm going to comply with the rules.", "CONCEDE"),
    ("Of course, we have to support renewable energies, said the director.", "SUPPORT"),
    ("Masih Alinejad was almost gunned down on the streets of New York City by a hitman.", "ASSAULT"),
]

NOT_EVENTS_TOO = [
    ("Zuma-Sambudla pleaded not guilty to the charges on Monday.", "REQUEST"),   # a plea in court, no appeal
    ("She has had panic attacks and has fainted at work.", "ASSAULT"),
    ("Another candidate will echo his line of attack.", "ASSAULT"),
    ("That is what is killing the glaciers in the Himalayas, she explained.", "ASSAULT"),
    ("The agency warns that all hazards will be possible, including tornadoes.", "THREATEN"),  # a forecast
    ("Abu Hassan Amer, 44, agreed.", "AGREE"),                                    # an opinion
    ("Some told VOA they agree with the removal of the deputy president.", "AGREE"),
    ("The commentator was discussing how public attitudes have changed.", "CONSULT"),  # no partner
    ("Setting the attribute of a bidding scheme is now supported in the API.", "SUPPORT"),  # technical senses
    ("BatchJobService supports all of the same operations as MutateJobService.", "SUPPORT"),
    ("There was a threat in the general area, said the minister.", "THREATEN"),    # an assessment
    ("Military cooperation between them is a growing threat to the international community.", "THREATEN"),
    ("Meghan was welcomed to the Royal Family as a breath of fresh air.", "SUPPORT"),
]

STILL_EVENTS_TOO = [
    ("Gunmen tried to kill him at his home on Sunday.", "ASSAULT"),               # an attempt that happened
    ("It is time to stop Israel's cruel attacks, he tweeted.", "ASSAULT"),
    ("Israel's decision to ban the agency angered the UN.", "COERCE"),
    ("Managers came outside to monitor the rally, Fischer said.", "PROTEST"),
    ("Rubio led eight hours of talks with Ukrainian officials to reach the agreement.", "AGREE"),
    ("It is hard to predict how Duterte will react to Suga's visit.", "CONSULT"),
    ("On Friday, Macron called the explosion an attack.", "ASSAULT"),
    ("Thousands of residents had to flee the fighting.", "ASSAULT"),
    ("The two sides agreed on a truce.", "AGREE"),
    ("The rebels agreed to release the hostages.", "AGREE"),
    ("President Donald Trump discussed trade with Xi Jinping on Friday.", "CONSULT"),
    ("The cabinet discussed the plan on Monday.", "CONSULT"),
    ("The United States supports the Ukrainian government.", "SUPPORT"),
    ("Reporters Without Borders welcomed the release of the journalist.", "SUPPORT"),
    ("The judge received death threats.", "THREATEN"),
    ("The United States warned that it would impose sanctions.", "THREATEN"),
    ("Amirov pleaded with the judge for mercy.", "REQUEST"),
    ("Rebels attacked the town before dawn, killing five villagers.", "ASSAULT"),
    ("Nearly 100 people were killed in the attack.", "ASSAULT"),
    ("The minister welcomed the decision.", "SUPPORT"),
    ("Lebanon complained over two Israeli air raids last Friday.", "ASSAULT"),  # an air raid is aerial ASSAULT
]


@pytest.mark.parametrize("text, wrong", NOT_EVENTS + NOT_EVENTS_TOO)
def test_everyday_news_is_not_coded_as_events(nlp, text, wrong):
    assert wrong not in types_of(nlp, text), text


@pytest.mark.parametrize("text, right", STILL_EVENTS + STILL_EVENTS_TOO)
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


def test_confidence_is_a_logistic_model_over_what_the_extractor_knows(tmp_path):
    import math

    import yaml

    from transforms.nlp.events import confidence as c

    coef = c.load_coefficients()
    assert set(coef) == set(c.FEATURES)
    base = dict(weight=1.0, verb=True, actor="Police", recipient="a man", actor_entity="ORG:x",
                recipient_entity=None, flagged=False, domain=None, violence_cue=True,
                quad_class="material_conflict", sentence="Police shot a man in Brooklyn on Thursday.")
    values = c.features(**base)
    z = sum(coef[name] * values[name] for name in c.FEATURES)
    assert c.score(values) == round(1 / (1 + math.exp(-z)), 3)
    assert c.score(values, {name: 100.0 for name in c.FEATURES}) == 0.99  # clamped: never certain
    assert yaml.safe_load(c.DATA_FILE.read_text())["fitted_on"].startswith("audit tune")
    bad = tmp_path / "confidence.yaml"
    bad.write_text(yaml.safe_dump({"coefficients": {"bias": 1.0}}), encoding="utf-8")
    with pytest.raises(ValueError, match="missing"):
        c.load_coefficients(bad)


def test_a_date_years_before_publication_is_history_not_the_event_date(nlp):
    events = [e for e in events_of(nlp, "On 31 October 1517 Ottoman troops attacked the city.")
              if e["event_type"] == "ASSAULT"]
    assert events and events[0]["event_date"] is None and events[0]["date_text"] == "31 October 1517"
    recent = [e for e in events_of(nlp, "On Thursday rebels attacked the city.") if e["event_type"] == "ASSAULT"]
    assert recent and recent[0]["event_date"] is not None


NO_AGENT = [
    ("Version v201601 supports both MutateJobService and BatchJobService concurrently.", "SUPPORT"),
    ("The greatest threat is very large hail across the southern Plains.", "THREATEN"),
    ("Visit us on the AdWords API Forum or our Google+ page.", "CONSULT"),
    ("The new guidance was released after the state of the world worsened.", "RETREAT"),
    ("We are now releasing the Google My Business API to help you manage locations.", "RETREAT"),
    ("In addition, ConstantDataService now supports retrieving the lists of mobile app categories.", "SUPPORT"),
]

WITH_AGENT = [
    ("The minister supported the plan on Tuesday.", "SUPPORT"),
    ("He was accused of misusing public funds.", "ACCUSE"),
    ("Rubio led eight hours of peace talks with Ukrainian officials in Jeddah.", "CONSULT"),
    ("Every time we report our concerns, they promise to act.", "AGREE"),
    ("The rebels released five hostages on Sunday.", "RETREAT"),
    ("Gunmen freed two of the abducted students overnight.", "RETREAT"),
]


@pytest.mark.parametrize("text, event_type", NO_AGENT)
def test_verbal_events_need_someone_who_acts(nlp, text, event_type):
    assert event_type not in types_of(nlp, text)


@pytest.mark.parametrize("text, event_type", WITH_AGENT)
def test_a_person_a_passive_recipient_or_a_partner_is_enough(nlp, text, event_type):
    assert event_type in types_of(nlp, text)


@pytest.mark.parametrize("text, event_type", NOT_ASSERTED)
def test_planned_asked_for_and_purposed_events_are_not_asserted(nlp, text, event_type):
    events = [e for e in events_of(nlp, text) if e["event_type"] == event_type]
    assert events, text  # still extracted, as a mention ...
    assert all(e["hypothetical"] or e["future"] or e["negated"] for e in events), text  # ... that did not happen

