"""The event lexicon is data, and valid: every event type one of PLOVER's 16, every mode a mode of
its type in the PLOVER manual, no rule twice, every irregular form a form of a lemma with a rule."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import CORPORA, need
from transforms.nlp.events.lexicon import DATA_DIR, EVENT_TYPES, LEXICON, MODES, QUAD_CLASS, TRIGGER_WORDS, load_lexicon

MANUAL = CORPORA / "plover" / "PLOVER_MANUAL.tex"


def _manual_modes(tex: str) -> dict:
    out = {}
    for m in re.finditer(r"\\caption\{(?:\\plcat\{)?([A-Z]+)\}? modes", tex):
        body = tex[m.end():tex.index("\\end{tabular}", m.end())]
        out[m.group(1)] = [x for x in re.findall(r"^\s*([a-z][\w\-]*)\s*&", body, re.M)]
    return out


def test_plover_types_and_modes_are_the_manuals():
    tex = need(MANUAL).read_text(encoding="utf-8")
    modes = _manual_modes(tex)
    for event, expected in modes.items():
        assert list(MODES[event]) == expected, event
    assert set(EVENT_TYPES) - set(modes) == {"AGREE", "SUPPORT", "CONCEDE", "COOPERATE", "AID"}
    assert all(MODES[t] == () for t in ("AGREE", "SUPPORT", "CONCEDE", "COOPERATE", "AID"))
    quad = tex[tex.index("caption{Quad categories in PLOVER}"):]
    for label, name in (("Verbal cooperation", "verbal_cooperation"), ("Material cooperation", "material_cooperation"),
                        ("Verbal conflict", "verbal_conflict"), ("Material conflict", "material_conflict")):
        listed = re.search(re.escape(label) + r" & ([A-Z, ]+) &", quad).group(1)
        assert sorted(t for t in EVENT_TYPES if QUAD_CLASS[t] == name) == sorted(x.strip() for x in listed.split(","))


def test_there_are_sixteen_types():
    assert len(EVENT_TYPES) == 16 and len(set(EVENT_TYPES)) == 16


def test_every_rule_codes_a_plover_type_and_one_of_its_modes():
    for rule in LEXICON:
        assert rule.event in EVENT_TYPES, rule
        assert rule.pos in ("V", "N"), rule
        assert rule.mode is None or rule.mode in MODES[rule.event], rule
        assert all(mode in MODES[rule.event] for _, mode in rule.modifier_modes), rule
        assert 0 < rule.weight <= 1, rule


def test_no_rule_is_listed_twice():
    seen = {}
    for rule in LEXICON:
        assert rule not in seen, f"{rule} is listed twice"
        seen[rule] = True


def test_every_irregular_form_belongs_to_a_lemma_with_a_rule():
    data = yaml.safe_load((DATA_DIR / "lexicon.yaml").read_text(encoding="utf-8"))
    lemmas = {r.lemma for r in LEXICON}
    assert set(data["irregular_forms"]) <= lemmas
    assert all(data["irregular_forms"].values())
    assert {"shot", "struck", "met", "withdrew", "froze"} <= TRIGGER_WORDS


def _write(tmp_path: Path, rules: dict, irregular: dict = None) -> Path:
    path = tmp_path / "lexicon.yaml"
    path.write_text(yaml.safe_dump({"rules": rules, "irregular_forms": irregular or {}}), encoding="utf-8")
    return path


@pytest.mark.parametrize("rules, irregular, message", [
    ({"FIGHT": [{"lemma": "fight", "pos": "V"}]}, {}, "not a PLOVER event type"),
    ({"ASSAULT": [{"lemma": "fight", "pos": "V", "objekts": ["x"]}]}, {}, "unknown field"),
    ({"ASSAULT": [{"lemma": "fight", "pos": "V"}]}, {"sell": ["sold"]}, "without a rule"),
])
def test_a_bad_lexicon_file_is_refused_with_a_clear_message(tmp_path, rules, irregular, message):
    with pytest.raises(ValueError, match=message):
        load_lexicon(_write(tmp_path, rules, irregular))


def test_the_loaded_lexicon_keeps_file_order_per_lemma():
    lex = load_lexicon()
    assert [r.event for r in lex.by_lemma["strike"]] == ["ASSAULT", "ASSAULT", "PROTEST", "PROTEST"]
    assert [r.event for r in lex.by_lemma["send"]] == ["AID", "MOBILIZE", "MOBILIZE"]
