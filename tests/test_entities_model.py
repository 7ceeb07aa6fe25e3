"""Integration tests with the real spaCy model (loaded once per module): the seed article's
"done when" list from issue 3, exact offsets on the seed and the VOA stories, and AnalyseArticles
end to end."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

# The real model loads once per module (about 2 s); these run in the default suite.
from tests.conftest import CORPORA, SEED  # noqa: E402  (../shared beside the repo, or the workplace copy)
from transforms.inputs.readers import read_input
from transforms.nlp.analyse import AnalyseArticles
from transforms.nlp.entities import extract_entities
from transforms.nlp.model import EVENT_PIPES, load_nlp, resolve_model_name
from transforms.normalise.articles import build_article
from transforms.records import RecordError

VOA = CORPORA / "voa" / "voa_stories.jsonl"
NOW = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
ICE = "Immigration and Customs Enforcement"


def _rows_of(path: Path):
    out = []
    for raw in read_input(str(path)):
        if not isinstance(raw, RecordError):
            row = build_article(raw, run_id="r1", ingested_at=NOW)
            if isinstance(row, dict):
                out.append(row)
    return out


@pytest.fixture(scope="module")
def nlp(entity_nlp):
    return entity_nlp


@pytest.fixture(scope="module")
def seed():
    return _rows_of(SEED)[0]


@pytest.fixture(scope="module")
def seed_entities(nlp, seed):
    return extract_entities(nlp(seed["text"]), seed["article_id"])


def test_load_nlp_disables_what_entities_do_not_need(nlp):
    assert set(nlp.pipe_names) >= {"ner"}
    assert "parser" not in nlp.pipe_names and "tagger" not in nlp.pipe_names
    assert "parser" in nlp.component_names  # still available for events


def test_event_pipes_keep_the_parser():
    nlp = load_nlp(None, keep=EVENT_PIPES)
    assert {"tok2vec", "parser", "ner"} <= set(nlp.pipe_names)
    doc = nlp("Police arrested Erick Diaz in Brooklyn. He was released.")
    assert doc.has_annotation("DEP") and len(list(doc.sents)) == 2
    assert any(r["canonical"] == "Erick Diaz" for r in extract_entities(doc, "a"))


def test_seed_offsets_are_exact(seed, seed_entities):
    assert seed_entities
    for row in seed_entities:
        assert seed["text"][row["start_char"]:row["end_char"]] == row["text"]


def _has(rows, label, canonical):
    return any(r["label"] == label and r["canonical"] == canonical for r in rows)


@pytest.mark.parametrize("label,canonical", [
    ("PERSON", "Erick Diaz"), ("PERSON", "Gasper Avendano-Hernandez"), ("PERSON", "Bill de Blasio"),
    ("PERSON", "Donald Trump"), ("PERSON", "Freddi Goldstein"),
    ("GPE", "New York"), ("GPE", "Brooklyn"), ("GPE", "Connecticut"), ("GPE", "Mexico"),
    ("ORG", "New York Post"), ("ORG", "New York Daily News"), ("ORG", "New York City Police Department"),
    ("ORG", ICE),
])
def test_seed_done_when(seed_entities, label, canonical):
    assert _has(seed_entities, label, canonical)


def test_seed_details(seed, seed_entities):
    text = seed["text"]
    avendano = [r for r in seed_entities if r["text"] == "Avendano-Hernandez"]
    assert len(avendano) == text.count("Avendano-Hernandez") - 1  # every bare mention, not the full name
    assert all(r["label"] == "PERSON" and r["canonical"] == "Gasper Avendano-Hernandez" for r in avendano)
    assert any(r["text"] == "Bensonhurst" and r["label"] in ("GPE", "LOC") for r in seed_entities)
    assert any(r["text"] == "NYPD" and r["label"] == "ORG" for r in seed_entities)
    ice = [r for r in seed_entities if r["text"] == "Ice"]
    assert ice and all(r["label"] == "ORG" and r["canonical"] == ICE for r in ice)
    texts = {r["text"] for r in seed_entities}
    assert not texts & {"26-year-old", "hundreds", "The Consul General"}
    assert "Diaz" in {r["text"] for r in seed_entities if r["canonical"] == "Erick Diaz"}
    assert len({r["entity_id"] for r in seed_entities if r["canonical"] == "Erick Diaz"}) == 1


def test_voa_offsets_are_exact(nlp):
    articles = _rows_of(VOA)
    assert len(articles) >= 80
    n = 0
    for article, doc in zip(articles, nlp.pipe([a["text"] for a in articles], batch_size=32)):
        for row in extract_entities(doc, article["article_id"]):
            assert article["text"][row["start_char"]:row["end_char"]] == row["text"], row
            assert row["canonical"] and row["label"] and row["sentence_index"] is not None
            n += 1
    assert n > 1000


def test_analyse_articles_with_the_model(seed):
    german = dict(seed, article_id="de1", language="de", record_index=1)
    with TestPipeline() as p:
        out = p | beam.Create([seed, german]) | "Analyse" >> AnalyseArticles(resolve_model_name(None), batch_size=4)
        assert_that(out["entities"] | beam.Filter(lambda r: r["canonical"] == "Freddi Goldstein")
                    | beam.Map(lambda r: (r["article_id"], r["label"], r["run_id"], r["dt"])),
                    equal_to([(seed["article_id"], "PERSON", "r1", seed["dt"])]), label="CheckEntities")
        assert_that(out["errors"], equal_to([]), label="CheckErrors")
        assert_that(out["skipped"] | beam.Map(lambda s: s["article_id"]), equal_to(["de1"]), label="CheckSkipped")
