"""Event extraction inside the NLP pass: parse only the sentences that can hold an event.

The entity pass (``ner`` + ``senter``) gives sentence boundaries and entity rows. Sentences
that contain a trigger word (:func:`transforms.events.candidate_sentence`, about 40% of news
sentences) are parsed with the tagger, lemmatizer and dependency parser in one ``nlp.pipe``
call per article; the others only advance the discourse date. The article's resolved entities
are set on the parsed sentences, so the parse never runs NER again.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, List, Sequence

from transforms.entities import load_nlp
from transforms.events import ArticleContext, candidate_sentence, extract_events

__all__ = ["PARSE_PIPES", "event_rows", "parser_for"]

PARSE_PIPES = ("tagger", "attribute_ruler", "lemmatizer", "parser")


@functools.lru_cache(maxsize=4)
def parser_for(model_name: str):
    """The parsing pipeline of ``model_name``, loaded once per process."""
    return load_nlp(model_name, keep=PARSE_PIPES)


def _set_entities(sent_doc, offset: int, entities: Sequence[Dict[str, Any]]) -> None:
    spans = []
    end_of_doc = offset + len(sent_doc.text)
    for e in entities:
        if e["start_char"] >= offset and e["end_char"] <= end_of_doc:
            span = sent_doc.char_span(e["start_char"] - offset, e["end_char"] - offset, label=e["label"],
                                      alignment_mode="expand")
            if span is not None and (not spans or span.start >= spans[-1].end):
                spans.append(span)
    sent_doc.set_ents(spans, default="outside")


def event_rows(doc, article: Dict[str, Any], entities: Sequence[Dict[str, Any]], model_name: str) -> List[Dict[str, Any]]:
    """``events`` rows of one article, from its entity-pass ``doc`` and its entity rows."""
    published = article["published_at"].date() if article.get("published_at") else None
    ctx = ArticleContext(article["article_id"], published, entities, run_id=article["run_id"], dt=article["dt"],
                         text=article["text"])
    sentences = [(s.text, s.start_char) for s in doc.sents]
    wanted = [i for i, (text, _) in enumerate(sentences) if candidate_sentence(text)]
    parsed = {}
    if wanted:
        nlp = parser_for(model_name)
        for i, sent_doc in zip(wanted, nlp.pipe(sentences[i][0] for i in wanted)):
            _set_entities(sent_doc, sentences[i][1], entities)
            parsed[i] = sent_doc
    stream = []
    for i, (text, offset) in enumerate(sentences):
        if i in parsed:
            sent_doc = parsed[i]
            stream.extend((s, offset) for s in sent_doc.sents)
        else:
            stream.append((text, offset))
    return extract_events(stream, ctx)
