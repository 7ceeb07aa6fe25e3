"""The streaming pipeline (``newsbeam stream``): poll ticks to committed windows.

    ticks (PeriodicImpulse) ──► PollFeeds ──► DedupEntries ──► [FetchArticles] ──► Normalise
      every --interval          (per host,     (global window,                      (ingest time =
                                 validators    state expires                         the tick)
                                 in state)     after --dedup-ttl)
                                       │              │                                  │
                                       └── errors ────┴── duplicates ───────────────────┴──► FixedWindows
                                                                                            (--window)
          ┌───────────────────────────────────────────────────────────────────────────────────┘
          ├── articles ──► AnalyseArticles (entities, events, story profiles; batches stay inside their window) ──┐
          │                    └── profiles ──► PlanStories (one worker per window) ── story fields ──┐        │
          └──────────────────────────────────────────────────────────────────────────────────────────┴────────┴──► WriteWindows
                                                                  (rows written in shards by many workers with their
                                                                   story fields, then one commit per window under the
                                                                   run lock, which checks the plan)

Only wiring lives here; the steps are the batch pipeline's where they can be
(:class:`transforms.normalise.stage.Normalise`, :class:`transforms.nlp.analyse.AnalyseArticles`,
:func:`transforms.fetch.feeds.poll_feed`) and the stream's own otherwise
(:class:`transforms.storage.dedup.DedupEntries`, :class:`transforms.storage.windows.WriteWindows`).
Tests feed :func:`build_stream` with a ``TestStream`` of ticks or a bounded ``PeriodicImpulse``.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.transforms import window as beam_window
from apache_beam.transforms.periodicsequence import PeriodicImpulse

from pipelines.options import DEFAULT_NLP_BATCH_SIZE
from transforms.fetch.client import FetchSettings
from transforms.fetch.feeds import ERRORS_TAG, POLLS_TAG, PollFeeds
from transforms.fetch.pages import FetchArticlePages
from transforms.normalise.stage import Normalise
from transforms.records import RecordError
from transforms.storage.dedup import DUPLICATES_TAG, DedupEntries
from transforms.storage.manifest import RECORD_STAGES
from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE
from transforms.storage.windows import WriteWindows

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
    """An error record to ``("error", (err, ingest time))``: the time is the element's (its tick)."""

    def process(self, err: RecordError, ts: Any = beam.DoFn.TimestampParam) -> Iterator[Tuple[str, Any]]:
        yield ("error", (err, ts.to_utc_datetime(has_tz=True)))


def _read_if_record(err: RecordError) -> List[Tuple[str, int]]:
    """A feed-level error of a record stage (an unreadable feed) counts as one record read."""
    return [("read", 1)] if err.stage in RECORD_STAGES else []


def build_stream(ticks, feeds: List[str], *, root: str, job_id: str, fetch: FetchSettings,
                 window: float = DEFAULT_WINDOW, dedup_ttl: float = DEFAULT_DEDUP_TTL, fetch_articles: bool = False,
                 max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE, options: Optional[Dict[str, Any]] = None,
                 nlp: bool = True, spacy_model: Optional[str] = None, nlp_batch_size: int = DEFAULT_NLP_BATCH_SIZE,
                 expire_dedup: bool = True):
    """Wire the streaming pipeline onto ``ticks`` (a PCollection of timestamps in the global
    window); returns the PCollection of window manifests. With ``nlp`` (the default) every
    window also gets its ``entities`` and ``events`` (see :func:`build_from_entries`)."""
    polled = ticks | "PollFeeds" >> PollFeeds(feeds, fetch)
    extra = [polled[ERRORS_TAG] | "TagFetchErrors" >> beam.ParDo(_TagErrorFn()),
             polled[ERRORS_TAG] | "CountErrorRecordsRead" >> beam.FlatMap(_read_if_record),
             polled[POLLS_TAG] | "TagPolls" >> beam.Map(lambda url: ("poll", url))]
    return build_from_entries(polled.raw, feeds, root=root, job_id=job_id, fetch=fetch, window=window,
                              dedup_ttl=dedup_ttl, fetch_articles=fetch_articles, max_rows_per_file=max_rows_per_file,
                              options=options, extra=extra, nlp=nlp, spacy_model=spacy_model,
                              nlp_batch_size=nlp_batch_size, expire_dedup=expire_dedup)


def build_from_entries(raw, feeds: List[str], *, root: str, job_id: str, fetch: Optional[FetchSettings] = None,
                       window: float = DEFAULT_WINDOW, dedup_ttl: float = DEFAULT_DEDUP_TTL,
                       fetch_articles: bool = False, max_rows_per_file: int = DEFAULT_MAX_ROWS_PER_FILE,
                       options: Optional[Dict[str, Any]] = None, extra: Sequence[Any] = (), nlp: bool = True,
                       spacy_model: Optional[str] = None, nlp_batch_size: int = DEFAULT_NLP_BATCH_SIZE,
                       expire_dedup: bool = True):
    """Everything after polling: raw entries (timestamped, global window) to window manifests.
    ``extra`` are already tagged PCollections (errors, polls) that join the windows. Every raw
    entry counts as one record read (``("read", 1)``), before deduplication and normalisation.
    ``expire_dedup=False``: the dedup state is kept for the whole (bounded) run (see
    :class:`transforms.storage.dedup.DedupEntries`).

    With ``nlp``, the windowed articles also go through :class:`transforms.nlp.analyse.AnalyseArticles`
    (the batch pipeline's entity and event extraction; its batches never cross a window) and
    their rows, errors and skipped (non-English) counts join their window's commit."""
    tagged = list(extra) + [raw | "CountRecordsRead" >> beam.Map(lambda _: ("read", 1))]
    unique = raw | "DedupEntries" >> DedupEntries(dedup_ttl, root, job_id, expire=expire_dedup)
    raw = unique["raw"]
    if fetch_articles:
        pages = raw | "FetchArticles" >> FetchArticlePages(fetch or FetchSettings(), root=None, grouped=False)
        raw = pages["raw"]
        tagged.append(pages["errors"] | "TagPageErrors" >> beam.ParDo(_TagErrorFn()))
    normalised = raw | "Normalise" >> Normalise(run_id="", ingested_at=None)
    tagged += [
        normalised.articles | "TagArticles" >> beam.Map(lambda row: ("article", row)),
        normalised[ERRORS_TAG] | "TagNormaliseErrors" >> beam.ParDo(_TagErrorFn()),
        unique[DUPLICATES_TAG] | "TagDuplicates" >> beam.Map(lambda reason: ("duplicate", reason)),
    ]
    windowed = (tuple(tagged)
                | "FlattenRows" >> beam.Flatten()
                | "FixedWindows" >> beam.WindowInto(beam_window.FixedWindows(window)))
    prepare = fields = attach = None
    if nlp:
        from transforms.stories.stage import STORY_FIELDS, window_stories

        analysed, fields = _analyse_windowed(windowed, spacy_model, nlp_batch_size, root=root, job_id=job_id)
        windowed = (windowed, *analysed) | "FlattenNlp" >> beam.Flatten()
        prepare, attach = window_stories, STORY_FIELDS
    return windowed | "WriteWindows" >> WriteWindows(root, job_id, max_rows=max_rows_per_file, inputs=list(feeds),
                                                      options=dict(options or {}), prepare=prepare, fields=fields,
                                                      attach=attach)


def _articles_of(item: Tuple[str, Any]) -> List[Any]:
    kind, value = item
    return [value] if kind == "article" else []


def _analyse_windowed(windowed, spacy_model: Optional[str], batch_size: int, *, root: str, job_id: str):
    """The windowed article rows through entity and event extraction, as tagged rows for
    :class:`transforms.storage.windows.WriteWindows` (an NLP error's ingest time is its window's start),
    and the story fields planned for each window's articles (:class:`transforms.stories.stage.PlanStories`),
    which the row writers set before they write."""
    from transforms.nlp.analyse import ENTITY_EXTRACTOR, EVENT_EXTRACTOR, AnalyseArticles
    from transforms.stories.stage import PLANS_TAG, PROFILE_EXTRACTOR, PROFILES_TAG, PlanStories

    analysed = (windowed
                | "WindowedArticles" >> beam.FlatMap(_articles_of)
                | "AnalyseArticles" >> AnalyseArticles(spacy_model, batch_size=batch_size,
                                                       min_batch_size=min(8, batch_size),
                                                       extractors=(ENTITY_EXTRACTOR, EVENT_EXTRACTOR,
                                                                   PROFILE_EXTRACTOR)))
    planned = analysed[PROFILES_TAG] | "PlanStories" >> PlanStories(root, job_id)
    return ((analysed["entities"] | "TagEntities" >> beam.Map(lambda row: ("entity", row)),
             analysed["events"] | "TagEvents" >> beam.Map(lambda row: ("event", row)),
             analysed[PROFILES_TAG] | "TagProfiles" >> beam.Map(lambda p: ("profile", p)),
             planned[PLANS_TAG],
             analysed["errors"] | "TagNlpErrors" >> beam.Map(lambda err: ("error", (err, None))),
             analysed["skipped"] | "TagSkipped" >> beam.Map(lambda _: ("skipped", 1))),
            planned["fields"])
