"""Fast tests of entity resolution: ``spacy.blank("en")`` docs with hand-made spans, no model.

The Beam test loads a tiny pipeline saved to a temporary folder (an EntityRuler named ``ner``),
so ``AnalyseArticles`` runs end to end without the statistical model.
"""
from __future__ import annotations

import datetime as _dt
from typing import List, Sequence, Tuple

import apache_beam as beam
import pytest
import spacy
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.nlp import entities as E
from transforms.nlp import gazetteer
from transforms.nlp import model as M
from transforms.nlp.analyse import ENTITY_EXTRACTOR, AnalyseArticles, DocExtractor, entity_rows
from transforms.nlp.entities import Mention
from transforms.records import RecordError

_BLANK = spacy.blank("en")


def make_doc(text: str, spans: Sequence[Tuple[str, str]], sentences: bool = True):
    """A blank doc whose ents are the first occurrences of each (surface, label)."""
    doc = _BLANK(text)
    ents, pos = [], 0
    for surface, label in spans:
        start = text.index(surface, pos)
        span = doc.char_span(start, start + len(surface), label=label)
        assert span is not None, surface
        ents.append(span)
        pos = start + len(surface)
    doc.ents = ents
    if sentences:
        for token in doc:
            token.is_sent_start = token.i == 0 or doc[token.i - 1].text in (".", "!", "?")
    return doc


def rows_of(text, spans, article_id="a1"):
    rows = E.extract_entities(make_doc(text, spans), article_id)
    for row in rows:
        assert text[row["start_char"]:row["end_char"]] == row["text"]
    return rows


def triples(rows) -> List[Tuple[str, str, str]]:
    return [(r["text"], r["label"], r["canonical"]) for r in rows]


# ------------------------------------------------------------------------- canonical / trimming

@pytest.mark.parametrize("surface,label,expected", [
    ("Diaz's", "PERSON", "Diaz"),
    ("Diaz\u2019s", "PERSON", "Diaz"),
    ("the New York Post", "ORG", "New York Post"),
    ("The New York Daily News", "ORG", "New York Daily News"),
    ("Mayor Bill de Blasio", "PERSON", "Bill de Blasio"),
    ("Gen. Vyacheslav Gladkikh", "PERSON", "Vyacheslav Gladkikh"),
    ("Prime Minister Boris  Johnson", "PERSON", "Boris Johnson"),
    ("\u201cHamas\u201d", "ORG", "Hamas"),
    ("the past few weeks", "DATE", "the past few weeks"),  # only names lose their article
    ("The Hague", "GPE", "The Hague"),  # the article is part of the name
])
def test_canonical_name(surface, label, expected):
    assert E.canonical_name(surface, label) == expected


def test_trim_mention_offsets_stay_exact():
    text = 'He read "the New York Post\'s" story.'
    start = text.index("the")
    end = text.index('" story')
    s, e = E.trim_mention(text, start, end, "ORG")
    assert text[s:e] == "New York Post"


@pytest.mark.parametrize("surface,label", [
    ("26-year-old", "DATE"), ("26 years old", "DATE"), ("hundreds", "CARDINAL"), ("Thousands", "CARDINAL"),
    ("tens of thousands", "CARDINAL"), ("The Consul General", "ORG"), ("President", "PERSON"), ("He", "PERSON"),
    ("--", "ORG"),
])
def test_non_entities(surface, label):
    assert E.is_non_entity(surface, label)


@pytest.mark.parametrize("surface,label", [
    ("Thursday", "DATE"), ("two", "CARDINAL"), ("US", "GPE"), ("General Motors", "ORG"), ("2011", "DATE"),
])
def test_real_entities_are_kept(surface, label):
    assert not E.is_non_entity(surface, label)


def test_entity_id_is_stable_and_label_sensitive():
    assert E.entity_id("PERSON", "Erick Diaz") == E.entity_id("PERSON", "erick  diaz")
    assert E.entity_id("PERSON", "Jordan") != E.entity_id("GPE", "Jordan")
    assert len(E.entity_id("ORG", "NYPD")) == 16


# ------------------------------------------------------------------------------ resolution rules

def test_short_mention_links_to_earlier_full_name_and_takes_its_label():
    text = ("Police arrested Gasper Avendano-Hernandez on Monday. Erick Diaz was shot. "
            "Diaz knew Avendano-Hernandez. The Avendano-Hernandez record is long. Diaz\u2019s hand was hurt.")
    rows = rows_of(text, [("Gasper Avendano-Hernandez", "PERSON"), ("Erick Diaz", "PERSON"), ("Diaz", "PERSON"),
                          ("Avendano-Hernandez", "ORG"), ("Avendano-Hernandez", "ORG"), ("Diaz\u2019s", "PERSON")])
    got = triples(rows)
    assert got.count(("Avendano-Hernandez", "PERSON", "Gasper Avendano-Hernandez")) == 2
    assert got.count(("Diaz", "PERSON", "Erick Diaz")) == 2  # the possessive lost its "'s"
    ids = {r["entity_id"] for r in rows if r["canonical"] == "Erick Diaz"}
    assert len(ids) == 1


def test_multiword_surname_links():
    text = "Mayor Bill de Blasio spoke. Later de Blasio left."
    rows = rows_of(text, [("Mayor Bill de Blasio", "PERSON"), ("de Blasio", "ORG")])
    assert triples(rows) == [("Bill de Blasio", "PERSON", "Bill de Blasio"),
                             ("de Blasio", "PERSON", "Bill de Blasio")]


def test_nearest_earlier_full_name_wins():
    text = "Ana Diaz met Erick Diaz. Diaz smiled."
    rows = rows_of(text, [("Ana Diaz", "PERSON"), ("Erick Diaz", "PERSON"), ("Diaz", "PERSON")])
    assert rows[-1]["canonical"] == "Erick Diaz"


def test_known_place_called_gpe_is_not_linked_to_a_person():
    text = "George Washington was born in Virginia. Officials in Washington said so."
    rows = rows_of(text, [("George Washington", "PERSON"), ("Virginia", "GPE"), ("Washington", "GPE")])
    assert triples(rows)[-1] == ("Washington", "GPE", "Washington")


def test_alias_table_resolves_and_adds_agencies():
    text = ("Immigration officers came. Ice did not respond. An ice officer shot him. "
            "The NYPD was called. The FBI and the UN were not.")
    rows = rows_of(text, [("Ice", "PERSON"), ("FBI", "ORG")])
    got = {(r["text"], r["label"], r["canonical"]) for r in rows}
    assert ("Ice", "ORG", "Immigration and Customs Enforcement") in got
    assert ("ice", "ORG", "Immigration and Customs Enforcement") in got
    assert ("NYPD", "ORG", "New York City Police Department") in got
    assert ("FBI", "ORG", "Federal Bureau of Investigation") in got
    assert ("UN", "ORG", "United Nations") in got


def test_ambiguous_alias_needs_context():
    text = "The Ice on the lake was thin. We skated on ice all day."
    assert rows_of(text, []) == []


def test_acronym_definition_joins_long_and_short_form():
    text = "Officials from the Immigration and Customs Service (Ice) spoke. Ice said nothing."
    rows = rows_of(text, [("the Immigration and Customs Service", "ORG")])
    got = triples(rows)
    assert got[0] == ("Immigration and Customs Service", "ORG", "Immigration and Customs Enforcement")
    assert got[1:] == [("Ice", "ORG", "Immigration and Customs Enforcement")] * 2


def test_unknown_acronym_definition_is_propagated():
    text = "The Kenya Wildlife Service (KWS) said so. Later KWS rangers left."
    rows = rows_of(text, [("The Kenya Wildlife Service", "ORG")])
    assert triples(rows) == [("Kenya Wildlife Service", "ORG", "Kenya Wildlife Service"),
                             ("KWS", "ORG", "Kenya Wildlife Service"),
                             ("KWS", "ORG", "Kenya Wildlife Service")]


def test_role_word_or_title_makes_a_person():
    text = "City Hall spokeswoman Freddi Goldstein said it. Then Mayor Eric Adams spoke."
    rows = rows_of(text, [("City Hall", "FAC"), ("Freddi Goldstein", "ORG"), ("Mayor Eric Adams", "ORG")])
    assert triples(rows) == [("City Hall", "FAC", "City Hall"),
                             ("Freddi Goldstein", "PERSON", "Freddi Goldstein"),
                             ("Eric Adams", "PERSON", "Eric Adams")]


def test_gazetteer_fixes_labels_and_names():
    text = "The US and Connecticut and Brooklyn and Bensonhurst. Kiev too."
    rows = rows_of(text, [("US", "GPE"), ("Connecticut", "ORG"), ("Brooklyn", "LOC"), ("Bensonhurst", "LOC"),
                          ("Kiev", "GPE")])
    assert triples(rows) == [("US", "GPE", "United States"), ("Connecticut", "GPE", "Connecticut"),
                             ("Brooklyn", "GPE", "Brooklyn"), ("Bensonhurst", "LOC", "Bensonhurst"),
                             ("Kiev", "GPE", "Kyiv")]


def test_missed_repeats_of_a_person_are_added_but_not_inside_other_names():
    text = "Erick Diaz was shot. Witnesses saw Diaz fall. Maria Diaz was not there."
    rows = rows_of(text, [("Erick Diaz", "PERSON")])
    assert triples(rows) == [("Erick Diaz", "PERSON", "Erick Diaz"), ("Diaz", "PERSON", "Erick Diaz")]


def test_non_entities_are_dropped_from_rows():
    text = "The victim is 26-year-old Erick Diaz. He lies hundreds of times."
    rows = rows_of(text, [("26-year-old", "DATE"), ("Erick Diaz", "PERSON"), ("hundreds", "CARDINAL")])
    assert triples(rows) == [("Erick Diaz", "PERSON", "Erick Diaz")]


def test_rows_have_columns_sentence_index_and_no_overlaps():
    text = "Erick Diaz was shot. The NYPD came. Diaz lived."
    rows = rows_of(text, [("Erick Diaz", "PERSON"), ("NYPD", "ORG"), ("Diaz", "PERSON")], article_id="x")
    assert set(rows[0]) == {"article_id", "entity_id", "text", "canonical", "label", "start_char", "end_char",
                            "sentence_index"}
    assert [r["sentence_index"] for r in rows] == [0, 1, 2]
    assert all(r["article_id"] == "x" for r in rows)
    assert all(a["end_char"] <= b["start_char"] for a, b in zip(rows, rows[1:]))


def test_sentence_index_is_none_without_boundaries():
    doc = make_doc("Erick Diaz was shot.", [("Erick Diaz", "PERSON")], sentences=False)
    assert E.extract_entities(doc, "a")[0]["sentence_index"] is None


def test_resolve_mentions_works_on_strings_alone():
    text = "the New York Post"
    out = E.resolve_mentions(text, [Mention(0, len(text), "ORG")])
    assert out == [Mention(4, len(text), "ORG", "New York Post", "model")]


def test_resolve_model_name(monkeypatch):
    assert M.resolve_model_name("en_core_web_trf") == "en_core_web_trf"
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n: None if n == M.DEFAULT_MODEL else real(n))
    assert M.resolve_model_name(None) == M.FALLBACK_MODEL
    monkeypatch.setattr(importlib.util, "find_spec", lambda n: object())
    assert M.resolve_model_name(None) == M.DEFAULT_MODEL


def test_gazetteer_lookups():
    assert gazetteer.lookup_place("Mexico").country_code == "MX"
    assert gazetteer.lookup_place("New York").kind == "us_state"
    assert gazetteer.lookup_place("U.S.").canonical == "United States"
    assert gazetteer.lookup_place("Erick Diaz") is None
    assert gazetteer.lookup_alias("NATO").canonical == "North Atlantic Treaty Organization"


# ------------------------------------------------------------------------------- Beam, no model

@pytest.fixture(scope="module")
def ruler_model(tmp_path_factory):
    """A saved pipeline whose ``ner`` is an EntityRuler: loadable by path like a real model."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Erick Diaz"}, {"label": "PERSON", "pattern": "Diaz"},
                        {"label": "GPE", "pattern": "Brooklyn"}])
    path = tmp_path_factory.mktemp("model") / "ruler"
    nlp.to_disk(path)
    return str(path)


def _article(i: int, text: str, language: str = "en"):
    return {"article_id": f"a{i}", "text": text, "language": language, "run_id": "run1",
            "dt": _dt.date(2020, 2, 7), "input_path": "in.jsonl", "record_index": i}


def _explode(nlp, docs, articles, results):
    """Fails for the whole batch when one article says BOOM: the stage retries one by one."""
    if any("BOOM" in a["text"] for a in articles):
        raise RuntimeError("boom")
    return [entity_rows(doc, article) for doc, article in zip(docs, articles)]


ARTICLES = [
    _article(0, "Erick Diaz lives in Brooklyn. Diaz was shot."),
    _article(1, "Ein Artikel aus Brooklyn.", language="de"),
    _article(2, "BOOM in Brooklyn."),
    _article(3, "Nobody here."),
]


def test_load_nlp_keeps_only_what_is_asked(ruler_model):
    nlp = M.load_nlp(ruler_model)
    assert "ner" in nlp.pipe_names and "sentencizer" in nlp.pipe_names
    doc = nlp("Erick Diaz left. He came back.")
    assert len(list(doc.sents)) == 2


def test_load_nlp_unknown_model_fails_with_one_line():
    with pytest.raises(ValueError, match="not installed"):
        M.load_nlp("no_such_model_xyz")


def test_analyse_articles_outputs_entities_errors_and_skipped(ruler_model):
    with TestPipeline() as p:
        out = (p | "CreateArticles" >> beam.Create(ARTICLES)
               | "Analyse" >> AnalyseArticles(ruler_model, batch_size=2,
                                              extractors=(DocExtractor("entities", "entities", _explode),)))
        assert_that(out["entities"] | beam.Map(lambda r: (r["article_id"], r["text"], r["canonical"], r["label"],
                                                          r["run_id"], str(r["dt"]), r["sentence_index"])),
                    equal_to([("a0", "Erick Diaz", "Erick Diaz", "PERSON", "run1", "2020-02-07", 0),
                              ("a0", "Brooklyn", "Brooklyn", "GPE", "run1", "2020-02-07", 0),
                              ("a0", "Diaz", "Erick Diaz", "PERSON", "run1", "2020-02-07", 1)]),
                    label="CheckEntities")
        assert_that(out["errors"], equal_to([RecordError("in.jsonl", 2, "entities", "entities_failed",
                                                         "RuntimeError: boom", "BOOM in Brooklyn.", "a2")]),
                    label="CheckErrors")
        assert_that(out["skipped"] | beam.Map(lambda s: (s["article_id"], s["language"])),
                    equal_to([("a1", "de")]), label="CheckSkipped")


def test_analyse_articles_rejects_bad_arguments():
    with pytest.raises(ValueError):
        AnalyseArticles("x", batch_size=0)
    with pytest.raises(ValueError):
        AnalyseArticles("x", extractors=(ENTITY_EXTRACTOR, ENTITY_EXTRACTOR))
