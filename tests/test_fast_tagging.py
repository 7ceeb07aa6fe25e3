"""The event parse's fast attribute ruler and lemmatizer give exactly spaCy's annotations."""
from __future__ import annotations

import json

import pytest

from tests.conftest import CORPORA, SEED, need


@pytest.fixture(scope="module")
def texts():
    stories = [json.loads(line)["text"] for line in need(CORPORA / "voa" / "voa_stories.jsonl").open(encoding="utf-8")]
    return [need(SEED).read_text(encoding="utf-8")] + stories[:40]


def _annotations(docs):
    return [[(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i) for t in doc] for doc in docs]


def test_fast_components_equal_spacy_components_token_for_token(texts):
    from transforms.nlp.entities import extract_entities
    from transforms.nlp.events.parse import PARSE_PIPES, parse_docs, prepare
    from transforms.nlp.model import ENTITY_PIPES, load_nlp

    ours = load_nlp(None, keep=ENTITY_PIPES)
    reference = load_nlp(None, keep=ENTITY_PIPES)  # a second copy: spaCy's components, untouched tables
    docs = [prepare(d, extract_entities(d, "a")).doc for d in ours.pipe(texts)]
    docs = [d for d in docs if d is not None]
    copies = [d.copy() for d in docs]
    fast = parse_docs(ours, docs)
    slow = copies
    for name in [n for n in reference.component_names if n in PARSE_PIPES]:
        slow = list(reference.get_pipe(name).pipe(slow))
    got, want = _annotations(fast), _annotations(slow)
    assert sum(len(d) for d in want) > 10_000
    assert got == want
    from transforms.nlp.fast_tagging import compile_attribute_ruler

    assert compile_attribute_ruler(ours.get_pipe("attribute_ruler")) is not None  # the fast path was taken
    assert {t[2] for d in got for t in d} >= {"VERB", "NOUN", "PROPN", "AUX", "PRON", "SCONJ"}


def test_unsupported_rules_fall_back_to_spacy():
    import spacy

    from transforms.nlp.fast_tagging import compile_attribute_ruler

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "who", "OP": "?"}]], {"POS": "PRON"})
    assert compile_attribute_ruler(ruler) is None
    ruler2 = spacy.blank("en").add_pipe("attribute_ruler")
    ruler2.add([[{"LENGTH": 3}]], {"POS": "NOUN"})
    assert compile_attribute_ruler(ruler2) is None


def test_two_token_rule_with_negative_index_and_later_rules_winning():
    import spacy
    from spacy.tokens import Doc

    from transforms.nlp.fast_tagging import compile_attribute_ruler

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"TAG": "VB"}]], {"POS": "VERB", "MORPH": "VerbForm=Inf"})
    ruler.add([[{"LOWER": "gon"}, {"LOWER": "na"}]], {"LEMMA": "to"}, index=-1)
    ruler.add([[{"LOWER": {"REGEX": "^go"}, "TAG": {"IN": ["VB", "VBG"]}}]], {"POS": "AUX"})
    fast = compile_attribute_ruler(ruler)
    assert fast is not None
    words = ["I", "'m", "gon", "na", "go"]
    tags = ["PRP", "VBP", "VBG", "TO", "VB"]
    a = fast(Doc(nlp.vocab, words=words, tags=tags))
    b = ruler(Doc(nlp.vocab, words=words, tags=tags))
    assert [(t.pos_, str(t.morph), t.lemma_) for t in a] == [(t.pos_, str(t.morph), t.lemma_) for t in b]
    assert a[3].lemma_ == "to" and a[4].pos_ == "AUX" and a[2].pos_ == "AUX"
