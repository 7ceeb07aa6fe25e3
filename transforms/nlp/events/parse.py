"""Event extraction inside the NLP pass: parse only the sentences that can hold an event.

The entity pass (``ner`` + ``senter``) gives tokens, sentence boundaries and entity rows.
Sentences that contain a trigger word (:func:`transforms.nlp.events.candidate_sentence`, about 40%
of news sentences) are copied, already tokenised, into one new ``Doc`` per article with their
sentence starts preset and the article's resolved entities set; the docs of a whole batch of
articles then go through the parsing components of the *same* loaded pipeline (``tok2vec``,
``tagger``, ``parser``, ``attribute_ruler``, ``lemmatizer``: disabled in the entity pass, so
they are only ever run here) in one ``pipe`` call per component. The other sentences only
advance the discourse date. Nothing is tokenised, loaded or NER-tagged twice.
"""
from __future__ import annotations

import dataclasses
import weakref
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from transforms.nlp.events.context import ArticleContext
from transforms.nlp.events.extract import extract_events
from transforms.nlp.events.lexicon import candidate_sentence, lexicon
from transforms.nlp.events.senses import story_domain

__all__ = ["PARSE_PIPES", "ParseInput", "event_rows", "event_rows_batch", "parse_docs", "prepare"]

PARSE_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
"""Components run on the candidate sentences, in this order (those the model has)."""

PARSE_BATCH_SIZE = 64


@dataclasses.dataclass
class ParseInput:
    """One article's sentences and the doc of its candidate sentences.

    ``sentences`` are ``(text, article_offset)`` of every entity-pass sentence; ``segments``
    are ``(sentence_index, first_token, end_token, offset)`` of the candidate sentences inside
    ``doc`` (``offset`` = article character offset minus doc character offset); ``doc`` is None
    when no sentence can hold an event."""
    sentences: List[Tuple[str, int]]
    segments: List[Tuple[int, int, int, int]]
    doc: Any = None


def prepare(doc, entities: Sequence[Dict[str, Any]]) -> ParseInput:
    """The :class:`ParseInput` of an entity-pass ``doc``: candidate sentences copied token by
    token (no second tokenisation) with preset sentence starts and the resolved ``entities``."""
    from spacy.tokens import Doc

    sents = list(doc.sents)
    sentences = [(s.text, s.start_char) for s in sents]
    words: List[str] = []
    spaces: List[bool] = []
    starts: List[Optional[Union[bool, int]]] = []
    segments: List[Tuple[int, int, int, int]] = []
    char = 0
    for i, sent in enumerate(sents):
        if not len(sent) or not candidate_sentence(sentences[i][0]):
            continue
        first = len(words)
        segments.append((i, first, first + len(sent), sent.start_char - char))
        last = len(sent) - 1
        for j, token in enumerate(sent):
            words.append(token.text)
            space = j == last or bool(token.whitespace_)  # one space between copied sentences
            spaces.append(space)
            starts.append(True if j == 0 else None)  # the parser may still split inside
            char += len(token.text) + space
    if not segments:
        return ParseInput(sentences, segments)
    parse_doc = Doc(doc.vocab, words=words, spaces=spaces, sent_starts=starts)
    _set_entities(parse_doc, segments, entities)
    return ParseInput(sentences, segments, parse_doc)


def _set_entities(parse_doc, segments: Sequence[Tuple[int, int, int, int]],
                  entities: Sequence[Dict[str, Any]]) -> None:
    spans: List[Any] = []
    ordered = sorted(entities, key=lambda e: e["start_char"])
    k = 0
    for _, first, end, offset in segments:
        lo = parse_doc[first].idx + offset
        hi = parse_doc[end - 1].idx + len(parse_doc[end - 1]) + offset
        while k < len(ordered) and ordered[k]["start_char"] < lo:
            k += 1
        j = k
        while j < len(ordered) and ordered[j]["start_char"] < hi:
            e = ordered[j]
            j += 1
            if e["end_char"] > hi:
                continue
            span = parse_doc.char_span(e["start_char"] - offset, e["end_char"] - offset, label=e["label"],
                                       alignment_mode="expand")
            if span is not None and (not spans or span.start >= spans[-1].end):
                spans.append(span)
    parse_doc.set_ents(spans, default="outside")


_FAST: "weakref.WeakKeyDictionary[Any, Dict[str, Any]]" = weakref.WeakKeyDictionary()


def _steps(nlp) -> Dict[str, Any]:
    """Per pipeline: component name -> callable over a list of docs. ``attribute_ruler`` and a
    rule ``lemmatizer`` use the exact fast equivalents of :mod:`transforms.nlp.fast_tagging`."""
    steps = _FAST.get(nlp)
    if steps is not None:
        return steps
    from transforms.nlp.fast_tagging import compile_attribute_ruler, fast_lemmatize, index_as_sets

    steps = {}
    for name in nlp.component_names:
        if name not in PARSE_PIPES:
            continue
        proc = nlp.get_pipe(name)
        fast = None
        if name == "attribute_ruler":
            ruler = compile_attribute_ruler(proc)
            if ruler is not None:
                fast = lambda docs, _r=ruler: [_r(d) for d in docs]  # noqa: E731
        elif name == "lemmatizer" and getattr(proc, "mode", None) == "rule":
            index_as_sets(proc)
            cache: Dict[Any, int] = {}
            fixes = dict(lexicon().lemma_fixes)
            fast = lambda docs, _p=proc, _c=cache, _f=fixes: [fast_lemmatize(_p, d, _c, _f) for d in docs]  # noqa: E731
        if fast is None:
            if hasattr(proc, "pipe"):
                fast = lambda docs, _p=proc: list(_p.pipe(docs, batch_size=PARSE_BATCH_SIZE))  # noqa: E731
            else:
                fast = lambda docs, _p=proc: [_p(d) for d in docs]  # noqa: E731
        steps[name] = fast
    if "parser" not in steps:
        raise ValueError(f"spaCy pipeline has no 'parser' (components: {nlp.component_names})")
    _FAST[nlp] = steps
    return steps


def parse_docs(nlp, docs: List[Any], timings: Optional[Dict[str, float]] = None) -> List[Any]:
    """Run :data:`PARSE_PIPES` of ``nlp`` (enabled or not) over ``docs``, one call per component
    over all docs; ``timings`` (component -> seconds) is added to when given (the benchmark)."""
    import time

    for name, step in _steps(nlp).items():
        started = time.perf_counter()
        docs = step(docs)
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
    return docs


def _context(article: Dict[str, Any], entities: Sequence[Dict[str, Any]]) -> ArticleContext:
    published = article["published_at"].date() if article.get("published_at") else None
    domain = story_domain(article.get("title"), article.get("url"), article.get("source"), article["text"])
    return ArticleContext(article["article_id"], published, entities, run_id=article["run_id"], dt=article["dt"],
                          text=article["text"], domain=domain)


def _stream(prepared: ParseInput) -> Iterable[Tuple[Any, int]]:
    """``(sentence, offset)`` pairs in article order for :func:`extract_events`: parsed spans for
    candidate sentences (split where the parser split them), plain text for the others."""
    by_sentence = {seg[0]: seg for seg in prepared.segments}
    doc = prepared.doc
    for i, (text, offset) in enumerate(prepared.sentences):
        seg = by_sentence.get(i)
        if seg is None:
            yield text, offset
            continue
        _, first, end, seg_offset = seg
        start = first
        for t in range(first + 1, end):  # the parser's sentence starts inside the segment
            if doc[t].is_sent_start:
                yield doc[start:t], seg_offset
                start = t
        yield doc[start:end], seg_offset


def event_rows_batch(nlp, docs: Sequence[Any], articles: Sequence[Dict[str, Any]],
                     entity_lists: Sequence[Sequence[Dict[str, Any]]],
                     timings: Optional[Dict[str, float]] = None) -> List[List[Dict[str, Any]]]:
    """``events`` rows of a batch of articles (one list per article), from their entity-pass
    docs and entity rows: all candidate sentences of the batch are parsed together."""
    prepared = [prepare(doc, ents) for doc, ents in zip(docs, entity_lists)]
    todo = [p for p in prepared if p.doc is not None]
    if todo:
        for p, parsed in zip(todo, parse_docs(nlp, [p.doc for p in todo], timings=timings)):
            p.doc = parsed
    return [extract_events(_stream(p), _context(article, ents))
            for p, article, ents in zip(prepared, articles, entity_lists)]


def event_rows(doc, article: Dict[str, Any], entities: Sequence[Dict[str, Any]], nlp) -> List[Dict[str, Any]]:
    """``events`` rows of one article (see :func:`event_rows_batch`); ``nlp`` is the pipeline
    that made ``doc`` (loaded by :func:`transforms.nlp.entities.load_nlp`)."""
    return event_rows_batch(nlp, [doc], [article], [entities])[0]
