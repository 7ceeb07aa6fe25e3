"""eval/eval_events.py: scoring arithmetic on hand-made examples, the type maps, and the seed gold file."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import pathlib

import pytest

from transforms.nlp.events.lexicon import EVENT_TYPES

REPO = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = REPO / "eval" / "eval_events.py"
SEED_GOLD = REPO / "eval" / "gold" / "seed_events.json"


@pytest.fixture(scope="module")
def ev():
    spec = importlib.util.spec_from_file_location("eval_events", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # no model is loaded at import
    return module


def sys_event(start, end, event_type, **extra):
    return dict({"trigger_start": start, "trigger_end": end, "event_type": event_type, "negated": False,
                 "hypothetical": False, "future": False}, **extra)


def test_trigger_matching_and_prf(ev):
    gold = [
        {"start": 0, "end": 4, "type": "ASSAULT"},  # matched by an overlapping trigger
        {"start": 10, "end": 20, "type": "COERCE"},  # system has the span but the wrong type
        {"start": 30, "end": 36, "type": "ASSAULT"},  # matched
        {"start": 50, "end": 55, "type": "PROTEST"},  # missed
    ]
    system = [
        sys_event(2, 6, "ASSAULT"),  # overlaps gold 0..4 -> TP
        sys_event(12, 15, "ASSAULT"),  # type differs from the COERCE gold -> FP (and COERCE FN)
        sys_event(30, 36, "ASSAULT"),  # TP
        sys_event(31, 35, "ASSAULT"),  # second system event on an already matched gold -> FP
        sys_event(70, 75, "REQUEST"),  # nothing there -> FP
    ]
    pairs, missed, extra = ev.match_events(gold, system)
    assert [(g["start"], e["trigger_start"]) for g, e in pairs] == [(0, 2), (30, 30)]
    assert sorted(g["start"] for g in missed) == [10, 50]
    assert sorted(e["trigger_start"] for e in extra) == [12, 31, 70]
    scores = ev.Scores()
    ev.add_matches(scores, pairs, missed, extra)
    assert (scores.tp["ASSAULT"], scores.fp["ASSAULT"], scores.fn["ASSAULT"]) == (2, 2, 0)
    p, r, f, n = scores.prf("ASSAULT")
    assert (p, r, n) == (0.5, 1.0, 2) and f == pytest.approx(2 / 3)
    assert scores.prf("COERCE") == (0.0, 0.0, 0.0, 1)
    assert scores.prf("REQUEST") == (0.0, 0.0, 0.0, 0)
    p, r, f, n = scores.prf()  # micro: tp 2, fp 3, fn 2
    assert (p, r, n) == (pytest.approx(2 / 5), pytest.approx(2 / 4), 4)
    assert f == pytest.approx(2 * 0.4 * 0.5 / 0.9)


def test_match_prefers_attack_over_life_and_touching_spans_do_not_overlap(ev):
    gold = [{"start": 0, "end": 7, "type": "ASSAULT", "priority": 1, "row": "ASSAULT(Life)"},
            {"start": 0, "end": 7, "type": "ASSAULT", "priority": 0, "row": "ASSAULT"}]
    pairs, missed, extra = ev.match_events(gold, [sys_event(0, 7, "ASSAULT"), sys_event(7, 9, "ASSAULT")])
    assert pairs[0][0]["row"] == "ASSAULT" and missed[0]["row"] == "ASSAULT(Life)" and len(extra) == 1
    scores = ev.Scores()
    ev.add_matches(scores, pairs, missed, extra, label_of=lambda g: g["row"])
    assert scores.tp["ASSAULT"] == 1 and scores.fn["ASSAULT(Life)"] == 1 and scores.fp["ASSAULT"] == 1


def test_sentence_level_scoring(ev):
    scores = ev.Scores()
    ev.add_sentence(scores, "PROTEST", ["PROTEST", "REQUEST", "REQUEST"])  # TP PROTEST, FP REQUEST once
    ev.add_sentence(scores, "AGREE", [])  # FN AGREE
    ev.add_sentence(scores, "ACCUSE", ["ASSAULT"])  # FN ACCUSE, FP ASSAULT
    assert dict(scores.tp) == {"PROTEST": 1}
    assert dict(scores.fp) == {"REQUEST": 1, "ASSAULT": 1}
    assert dict(scores.fn) == {"AGREE": 1, "ACCUSE": 1}
    p, r, f, n = scores.prf()
    assert (p, r, n) == (pytest.approx(1 / 3), pytest.approx(1 / 3), 3) and f == pytest.approx(1 / 3)


def test_type_maps(ev):
    assert ev.kairos_to_plover("Conflict.Attack.DetonateExplode") == ("ASSAULT", "explosives")
    assert ev.kairos_to_plover("Conflict.Attack.Unspecified") == ("ASSAULT", None)
    assert ev.kairos_to_plover("Justice.ArrestJailDetain.Unspecified") == ("COERCE", "arrest")
    assert ev.kairos_to_plover("Contact.Contact.Meet") == ("CONSULT", None)
    assert ev.kairos_to_plover("Contact.ThreatenCoerce.Broadcast")[0] == "THREATEN"
    assert ev.kairos_to_plover("Movement.Transportation.Evacuation") is None
    assert ev.kairos_to_plover("Contact.Contact.Broadcast") is None
    assert ev.kairos_to_plover("Something.Never.Seen") is None
    for value in ev.KAIROS_TO_PLOVER.values():
        assert value is None or value[0] in EVENT_TYPES
    assert [ev.plover_label(x) for x in ("FIGHT", "DEMAND", "DISAPPROVE", "INVESTIGATE", "DOCUMENT", "AGREE")] == \
        ["ASSAULT", "REQUEST", "ACCUSE", "ACCUSE", None, "AGREE"]
    assert ev.split_of("road_ied_8") in ("tune", "held-out")


def test_attack_caused(ev):
    life = {"arguments": [], "trigger": {"sent_idx": 5}}
    assert ev.attack_caused(life, [3]) and not ev.attack_caused(life, [9])
    assert ev.attack_caused({"arguments": [{"role": "Killer"}], "trigger": {"sent_idx": 5}}, [])


def test_place_and_argument_helpers(ev):
    assert ev.km(40.6782, -73.9442, 40.6782, -73.9442) == 0.0
    assert 330 < ev.km(48.8566, 2.3522, 51.5074, -0.1278) < 360  # Paris-London ~344 km
    assert ev.text_overlap("ice officers", "ICE") and ev.text_overlap("Diaz's hand", "Erick Diaz")
    assert not ev.text_overlap("the police", "a man") and not ev.text_overlap(None, "x")
    assert ev.place_matches({"location": "Bensonhurst"}, ["Brooklyn", "Bensonhurst"], 25)
    assert ev.place_matches({"location": "New York", "latitude": 40.71, "longitude": -74.0}, ["Brooklyn"], 25)
    assert not ev.place_matches({"location": "Boston", "latitude": 42.36, "longitude": -71.06}, ["Brooklyn"], 25)


def test_offset_map(ev):
    old = "A  b\u2019s   c."
    new = "A b's c."
    m = ev.offset_map(old, new)
    assert new[m[0]:m[1]] == "A" and new[m[3]:m[4]] == "b" and new[m[9]:m[10]] == "c" and m[len(old)] == len(new)


def test_seed_gold_parses_and_names_plover_types(ev):
    gold = json.loads(SEED_GOLD.read_text(encoding="utf-8"))
    assert gold["events"], "no events"
    text = gold["text"]
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == gold["text_sha256"]
    for e in gold["events"]:
        assert e["event_type"] in EVENT_TYPES, e
        assert text[e["start_char"]:e["end_char"]] == e["trigger"], e
        assert e["reason"].strip()
        assert e["event_date"] is None or len(e["event_date"]) == 10
    for j in gold["judged_not_events"]:
        assert text[j["start_char"]:j["end_char"]] == j["trigger"] and j["reason"].strip()
    assert ev.load_seed_gold(SEED_GOLD)["events"] == gold["events"]
