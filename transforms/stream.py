"""Streaming transforms for ``newsbeam stream`` (wired in ``pipelines.streaming``).

* :class:`PollFeeds`: poll ticks (timestamps, e.g. from ``PeriodicImpulse``) to raw feed entries
  and error records. Each tick fetches every feed; a stateful DoFn keyed by host fetches one host's
  feeds one at a time and keeps the conditional-GET validators in Beam state (the runner commits
  state and output together, so a 304 never hides entries that were not processed).
* :class:`DedupEntries`: stateful dedup in the global window, keyed by the entry's article id:
  the first sighting goes on, later ones are dropped. The state expires ``ttl`` after the *last*
  sighting (an event-time timer that every sighting pushes forward), so memory is bounded by the
  entries seen in the last ``ttl``. Articles that other runs (batch runs, earlier stream jobs)
  committed to ROOT before a worker started are dropped too; the job's own windows are left to the
  state, so whether an expired entry comes back does not depend on when a worker restarted.
* :class:`WriteWindows`: one commit per window: all rows of a window (articles, entities, events,
  error rows) are
  grouped, written with ``transforms.storage.sink.write_part`` and committed together with
  ``transforms.storage.sink.commit_run`` under the run id ``<window start>-<job id>``; a retried bundle finds
  the manifest and does not write again.
"""
from __future__ import annotations

import collections
import datetime as _dt
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
from apache_beam.coders import BooleanCoder, PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils import shared
from apache_beam.utils.timestamp import Duration, Timestamp

from transforms.normalise.articles import build_article
from transforms.fetch.client import FetchError, Fetcher, FetchSettings, host_of
from transforms.fetch.feeds import entry_article_id, feed_records
from transforms.records import RawArticle, RecordError
from transforms.normalise.urls import article_id

_LOGGER = logging.getLogger(__name__)

__all__ = ["PollFeeds", "DedupEntries", "NormaliseAt", "WriteWindows", "entry_key", "ERRORS_TAG",
           "DUPLICATES_TAG", "POLLS_TAG"]

ERRORS_TAG = "errors"
DUPLICATES_TAG = "duplicates"
POLLS_TAG = "polls"
_NS = "newsbeam"


def _utc(ts: Timestamp) -> _dt.datetime:
    return ts.to_utc_datetime(has_tz=True)


def entry_key(raw: RawArticle) -> str:
    """The dedup key of a raw entry: its article id when the link decides it (the same id the
    article will get), else a hash of the raw title and text."""
    return entry_article_id(raw) or article_id(None, raw.title, raw.text or "")


class _PollHostFn(beam.DoFn):
    """(host, feed URL) at a tick's timestamp to raw entries; validators per host in state."""

    VALIDATORS = userstate.ReadModifyWriteStateSpec("validators", PickleCoder())

    def __init__(self, settings: FetchSettings):
        self._settings = settings
        self._not_modified = Metrics.counter(_NS, "feeds_not_modified")
        self._failed = Metrics.counter(_NS, "feeds_failed")

    def setup(self) -> None:
        self._fetcher = Fetcher(self._settings)

    def process(self, element: Tuple[str, str], ts=beam.DoFn.TimestampParam,
                validators=beam.DoFn.StateParam(VALIDATORS)):
        _, url = element
        known: Dict[str, Dict[str, str]] = validators.read() or {}
        yield beam.pvalue.TaggedOutput(POLLS_TAG, url)
        try:
            response = self._fetcher.get(url, known.get(url))
        except FetchError as exc:
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(ERRORS_TAG, RecordError(url, None, "fetch", exc.kind, str(exc)))
            return
        if response.not_modified:
            self._not_modified.inc()
            return
        if response.validators:
            known[url] = response.validators
        else:
            known.pop(url, None)
        validators.write(known)
        for record in feed_records(url, response, max_bytes=self._settings.max_decompressed_bytes):
            if isinstance(record, RecordError):
                yield beam.pvalue.TaggedOutput(ERRORS_TAG, record)
            else:
                yield record


class PollFeeds(beam.PTransform):
    """Tick timestamps to raw entries (``raw``), error records (``errors``) and one ``polls``
    element per feed and tick (for the counts). Outputs carry the tick's timestamp."""

    def __init__(self, urls: List[str], settings: FetchSettings):
        super().__init__()
        self._urls = list(urls)
        self._settings = settings

    def expand(self, ticks):
        urls = self._urls
        return (ticks
                | "FeedsPerTick" >> beam.FlatMap(lambda _: [(host_of(u), u) for u in urls]).with_output_types(
                    Tuple[str, str])
                | "FetchPerHost" >> beam.ParDo(_PollHostFn(self._settings)).with_outputs(
                    ERRORS_TAG, POLLS_TAG, main="raw"))


class _IdSet:
    def __init__(self, ids: frozenset):
        self.ids = ids


class _DedupFn(beam.DoFn):
    SEEN = userstate.ReadModifyWriteStateSpec("seen", BooleanCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, ttl: float, root: Optional[str], handle: shared.Shared, job_id: Optional[str] = None):
        self._ttl = Duration.of(ttl)
        self._root = root
        self._job_id = job_id
        self._handle = handle
        self._dropped = Metrics.counter(_NS, "duplicates_in_stream")

    def setup(self) -> None:
        from transforms.storage.sink import existing_article_ids

        root, job = self._root, self._job_id
        # ROOT's articles except this job's own (its state decides those, also after a worker restart)
        self._in_root = self._handle.acquire(
            lambda: _IdSet(existing_article_ids(root, except_job=job) if root else frozenset()),
            tag=f"stream-ids|{root}|{job}")

    def process(self, element: Tuple[str, RawArticle], ts=beam.DoFn.TimestampParam,
                seen=beam.DoFn.StateParam(SEEN), expiry=beam.DoFn.TimerParam(EXPIRY)):
        key, raw = element
        expiry.set(ts + self._ttl)  # every sighting keeps the key for another ttl
        if seen.read():
            self._dropped.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, "in_stream")
            return
        seen.write(True)
        if key in self._in_root.ids:
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, "in_root")
            return
        yield raw

    @userstate.on_timer(EXPIRY)
    def expire(self, seen=beam.DoFn.StateParam(SEEN)):
        seen.clear()


class DedupEntries(beam.PTransform):
    """Raw entries (global window) to first sightings (``raw``) and one ``duplicates`` element
    (the reason) per dropped entry. See the module docstring for the expiry."""

    def __init__(self, ttl: float, root: Optional[str] = None, job_id: Optional[str] = None):
        super().__init__()
        self._ttl = ttl
        self._root = root
        self._job_id = job_id

    def expand(self, raw):
        return (raw
                | "KeyByEntry" >> beam.Map(lambda r: (entry_key(r), r)).with_output_types(Tuple[str, Any])
                | "FirstSighting" >> beam.ParDo(_DedupFn(self._ttl, self._root, shared.Shared(), self._job_id)).with_outputs(
                    DUPLICATES_TAG, main="raw"))


class _NormaliseAtFn(beam.DoFn):
    """A raw entry to ``("article", row)`` or ``("error", (RecordError, ingested_at))``; the
    ingest time is the element's timestamp (the tick that fetched it)."""

    def process(self, raw: RawArticle, ts=beam.DoFn.TimestampParam):
        ingested_at = _utc(ts)
        try:
            result = build_article(raw, run_id="", ingested_at=ingested_at)
        except Exception as exc:  # one error row, never a stuck stream
            result = RecordError(raw.input_path, raw.record_index, "normalise", "normalise_failed",
                                 f"{type(exc).__name__}: {exc}", RecordError.excerpt_of(raw.text))
        if isinstance(result, RecordError):
            yield ("error", (result, ingested_at))
        else:
            yield ("article", result)


class NormaliseAt(beam.PTransform):
    """Raw entries to tagged rows for :class:`WriteWindows` (see :class:`_NormaliseAtFn`)."""

    def expand(self, raw):
        return raw | "NormaliseEntries" >> beam.ParDo(_NormaliseAtFn())


class _CommitWindowFn(beam.DoFn):
    def __init__(self, root: str, job_id: str, max_rows: int, make_manifest: Callable[..., Dict[str, Any]],
                 error_row: Callable[..., Dict[str, Any]], record_stages: Iterable[str] = ()):
        self._record_stages = tuple(record_stages)
        self._root = root
        self._job_id = job_id
        self._max_rows = max_rows
        self._make_manifest = make_manifest
        self._error_row = error_row
        self._windows = Metrics.counter(_NS, "windows_committed")

    def process(self, element, window=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        from transforms.storage.sink import commit_run, load_manifest, write_part

        _, items = element
        start = _utc(window.start)
        run_id = f"{start:%Y%m%dT%H%M%SZ}-{self._job_id}" + (f"-p{pane.index}" if pane.index else "")
        done = load_manifest(self._root, run_id)
        if done is not None:  # a retried bundle: the window is already committed
            yield done
            return
        articles: List[Dict[str, Any]] = []
        entities: List[Dict[str, Any]] = []
        events: List[Dict[str, Any]] = []
        errors: List[Dict[str, Any]] = []
        duplicates: Dict[str, int] = collections.Counter()
        polls = skipped = 0
        for kind, value in items:
            if kind == "article":
                articles.append(dict(value, run_id=run_id))
            elif kind == "entity":
                entities.append(dict(value, run_id=run_id))
            elif kind == "event":
                events.append(dict(value, run_id=run_id))
            elif kind == "error":
                err, ingested_at = value  # NLP errors have no tick of their own: the window's start
                errors.append(self._error_row(err, run_id, ingested_at or start))
            elif kind == "duplicate":
                duplicates[value] += 1
            elif kind == "poll":
                polls += 1
            elif kind == "skipped":
                skipped += value
        staged = []
        for table, rows in (("articles", articles), ("entities", entities), ("events", events), ("errors", errors)):
            by_dt: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
            for row in rows:
                by_dt[row["dt"].isoformat()].append(row)
            for dt in sorted(by_dt):
                part = by_dt[dt]
                for n, i in enumerate(range(0, len(part), self._max_rows)):
                    name = f"{table[:2]}{dt.replace('-', '')}-{n:04d}"  # fixed names: a retry overwrites
                    staged.append(write_part(self._root, table, run_id, dt, part[i:i + self._max_rows], name))
        by_stage = collections.Counter(e["stage"] for e in errors)
        record_errors = sum(n for stage, n in by_stage.items() if stage in self._record_stages)
        manifest = self._make_manifest(
            run_id=run_id, started_at=start.isoformat(), files=polls,
            records_read=len(articles) + record_errors + sum(duplicates.values()), articles=len(articles),
            duplicates=dict(duplicates), errors_by_stage=dict(by_stage), entities=len(entities), events=len(events),
            entities_skipped_language=skipped)
        manifest["window"] = {"start": start.isoformat(), "end": _utc(window.end).isoformat(), "pane": pane.index}
        self._windows.inc()
        yield commit_run(self._root, run_id, staged, manifest)


class WriteWindows(beam.PTransform):
    """Tagged rows in fixed windows (``("article", row)``, ``("entity", row)``, ``("event", row)``,
    ``("error", (RecordError, ingested_at or None))``, ``("duplicate", reason)``, ``("poll", url)``,
    ``("skipped", n)``) to one committed run per window; outputs the
    manifests. ``make_manifest`` and ``error_row`` are ``pipelines.batch.make_manifest`` and
    ``transforms.inputs.read.error_row`` (partial-applied as needed); ``record_stages`` are the error
    stages that count as records.

    Cost: a window's rows meet on one worker (a single key); a 15-minute window of news is small.
    """

    def __init__(self, root: str, job_id: str, *, max_rows: int, make_manifest: Callable[..., Dict[str, Any]],
                 error_row: Callable[..., Dict[str, Any]], record_stages: Iterable[str]):
        super().__init__()
        self._fn = _CommitWindowFn(root, job_id, max_rows, make_manifest, error_row, record_stages)

    def expand(self, tagged):
        return (tagged
                | "OneKeyPerWindow" >> beam.Map(lambda item: ("window", item))
                | "GroupWindow" >> beam.GroupByKey()
                | "CommitWindow" >> beam.ParDo(self._fn))
