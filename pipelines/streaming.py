"""The streaming pipeline (``newsbeam stream``): poll ticks to committed windows.

    ticks (PeriodicImpulse) ──► PollFeeds ──► DedupEntries ──► [FetchArticles] ──► Normalise
      every --interval          (per host,     (global window,                      (ingest time =
                                 validators    state expires                         the tick)
                                 in state)     after --dedup-ttl)
                                       │              │                                  │
                                       └── errors ────┴── duplicates ───────────────────┴──► FixedWindows
                                                                                            (--window)
          ┌───────────────────────────────────────────────────────────────────────────────────┘
          ├── articles ──► AnalyseArticles (entities, events; batches stay inside their window) ──┐
          └────────────────────────────────────────────────────────────────────────────────────┴──► WriteWindows
                                                                                                  (one commit
                                                                                                   per window)

Only wiring lives here; the steps are in ``transforms.stream`` and ``transforms.fetch.feeds``.
Tests feed :func:`build_stream` with a ``TestStream`` of ticks or a bounded ``PeriodicImpulse``.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional

import apache_beam as beam
from apache_beam.transforms import window as beam_window
from apache_beam.transforms.periodicsequence import PeriodicImpulse

from pipelines.batch import RECORD_STAGES, make_manifest
from pipelines.options import DEFAULT_NLP_BATCH_SIZE
from transforms.fetch.client import FetchSettings
from transforms.fetch.feeds import FetchArticlePages
from transforms.inputs.read import error_row
from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE
from transforms.stream import DUPLICATES_TAG, ERRORS_TAG, POLLS_TAG, DedupEntries, NormaliseAt, PollFeeds, WriteWindows

__all__ = ["build_stream", "build_from_entries", "periodic_ticks", "DEFAULT_WINDOW", "DEFAULT_DEDUP_TTL"]

DEFAULT_WINDOW = 15 * 60.0
"""Fixed windows of 15 minutes, like GDELT's update cycle."""
DEFAULT_DEDUP_TTL = 3 * 86400.0


def periodic_ticks(pipeline: beam.Pipeline, *, start: float, interval: float, stop: Optional[float] = None):
    """A tick every ``interval`` seconds from ``start`` (epoch seconds), until ``stop`` (exclusive;
    None: forever, which only a streaming runner such as Flink or Dataflow can run)."""
    kwargs: Dict[str, Any] = {"start_timestamp": start, "fire_interval": interval}
    if stop is not None:
        kwargs["stop_timestamp"] = stop
    return pipeline | "PollEvery" >> PeriodicImpulse(**kwargs)


class _TagErrorFn(beam.DoFn):
    def process(self, err, ts=beam.DoFn.TimestampParam):
        yield ("error", (err, ts.to_utc_datetime(has_tz=True)))


def build_stream(ticks, feeds: List[str], *, root: str, job_id: str, fetch: FetchSettings,
                 window: float = DEFAULT_WINDOW, dedup_ttl: float = DEFAULT_DEDUP_TTL, fetch_articles: bool = False,
                 max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE, options: Optional[Dict[str, Any]] = None,
                 nlp: bool = True, spacy_model: Optional[str] = None, nlp_batch_size: int = DEFAULT_NLP_BATCH_SIZE):
    """Wire the streaming pipeline onto ``ticks`` (a PCollection of timestamps in the global
    window); returns the PCollection of window manifests. With ``nlp`` (the default) every
    window also gets its ``entities`` and ``events`` (see :func:`build_from_entries`)."""
    polled = ticks | "PollFeeds" >> PollFeeds(feeds, fetch)
    extra = [polled[ERRORS_TAG] | "TagFetchErrors" >> beam.ParDo(_TagErrorFn()),
             polled[POLLS_TAG] | "TagPolls" >> beam.Map(lambda url: ("poll", url))]
    return build_from_entries(polled.raw, feeds, root=root, job_id=job_id, fetch=fetch, window=window,
                              dedup_ttl=dedup_ttl, fetch_articles=fetch_articles, max_rows_per_file=max_rows_per_file,
                              options=options, extra=extra, nlp=nlp, spacy_model=spacy_model,
                              nlp_batch_size=nlp_batch_size)


def build_from_entries(raw, feeds: List[str], *, root: str, job_id: str, fetch: Optional[FetchSettings] = None,
                       window: float = DEFAULT_WINDOW, dedup_ttl: float = DEFAULT_DEDUP_TTL,
                       fetch_articles: bool = False, max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE,
                       options: Optional[Dict[str, Any]] = None, extra=(), nlp: bool = True,
                       spacy_model: Optional[str] = None, nlp_batch_size: int = DEFAULT_NLP_BATCH_SIZE):
    """Everything after polling: raw entries (timestamped, global window) to window manifests.
    ``extra`` are already tagged PCollections (errors, polls) that join the windows.

    With ``nlp``, the windowed articles also go through :class:`transforms.nlp.analyse.AnalyseArticles`
    (the batch pipeline's entity and event extraction; its batches never cross a window) and
    their rows, errors and skipped (non-English) counts join their window's commit."""
    unique = raw | "DedupEntries" >> DedupEntries(dedup_ttl, root, job_id)
    raw = unique.raw
    tagged = list(extra)
    if fetch_articles:
        pages = raw | "FetchArticles" >> FetchArticlePages(fetch or FetchSettings(), root=None, grouped=False)
        raw = pages["raw"]
        tagged.append(pages["errors"] | "TagPageErrors" >> beam.ParDo(_TagErrorFn()))
    tagged += [
        raw | "Normalise" >> NormaliseAt(),
        unique[DUPLICATES_TAG] | "TagDuplicates" >> beam.Map(lambda reason: ("duplicate", reason)),
    ]
    manifest_fn = functools.partial(make_manifest, inputs=list(feeds), options=dict(options or {}))
    windowed = (tuple(tagged)
                | "FlattenRows" >> beam.Flatten()
                | "FixedWindows" >> beam.WindowInto(beam_window.FixedWindows(window)))
    if nlp:
        windowed = (windowed, *_analyse_windowed(windowed, spacy_model, nlp_batch_size)) | "FlattenNlp" >> beam.Flatten()
    return windowed | "WriteWindows" >> WriteWindows(root, job_id, max_rows=max_rows_per_file,
                                                      make_manifest=manifest_fn, error_row=error_row,
                                                      record_stages=RECORD_STAGES)


def _articles_of(item):
    kind, value = item
    return [value] if kind == "article" else []


def _analyse_windowed(windowed, spacy_model: Optional[str], batch_size: int):
    """The windowed article rows through entity and event extraction, as tagged rows for
    :class:`transforms.stream.WriteWindows` (an NLP error's ingest time is its window's start)."""
    from transforms.nlp.analyse import ENTITY_EXTRACTOR, EVENT_EXTRACTOR, AnalyseArticles

    analysed = (windowed
                | "WindowedArticles" >> beam.FlatMap(_articles_of)
                | "AnalyseArticles" >> AnalyseArticles(spacy_model, batch_size=batch_size,
                                                       min_batch_size=min(8, batch_size),
                                                       extractors=(ENTITY_EXTRACTOR, EVENT_EXTRACTOR)))
    return (analysed["entities"] | "TagEntities" >> beam.Map(lambda row: ("entity", row)),
            analysed["events"] | "TagEvents" >> beam.Map(lambda row: ("event", row)),
            analysed["errors"] | "TagNlpErrors" >> beam.Map(lambda err: ("error", (err, None))),
            analysed["skipped"] | "TagSkipped" >> beam.Map(lambda _: ("skipped", 1)))
