"""Feeds polled over HTTP into raw records: one implementation of "poll a feed" for the batch
pipeline (:class:`FetchFeeds`) and the streaming one (:class:`PollFeeds`).

* :func:`poll_feed`: one conditional GET of a feed and its records; it counts, logs and turns
  every failure into an error record. Both transforms call it.
* :class:`FetchFeeds` (batch, ``run`` and ``watch``): feed URLs to raw articles (main) and error
  records (``errors``). URLs are grouped by host and each host's feeds are fetched one after the
  other (one request at a time per host, with the polite delay). Conditional GET: validators come
  from ``ROOT/_state`` and the ones received are written as *pending* for this run (see
  :mod:`transforms.fetch.state`), so they only count once the run has committed. A 304 yields
  nothing.
* :class:`PollFeeds` (stream): poll ticks (timestamps, e.g. from ``PeriodicImpulse``) to raw
  feed entries; a stateful DoFn keyed by host fetches one host's feeds one at a time and keeps the
  validators in Beam state (the runner commits state and output together, so a 304 never hides
  entries that were not processed).

Error records: a feed that cannot be fetched is one record with stage ``fetch``, the feed URL as
``input_path`` and no ``record_index``.
"""
from __future__ import annotations

import datetime as _dt
import logging
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate
from apache_beam.utils import shared

from transforms.fetch.client import Fetcher, FetchError, FetchSettings, Response, gunzip_bounded, host_of
from transforms.inputs.readers import Record, detect_format, parse_bytes
from transforms.records import RecordError

_LOGGER = logging.getLogger(__name__)

__all__ = ["FetchFeeds", "PollFeeds", "FeedCounters", "poll_feed", "feed_records", "ERRORS_TAG", "POLLS_TAG"]

ERRORS_TAG = "errors"
POLLS_TAG = "polls"
_NS = "newsbeam"


# ------------------------------------------------------------------ pure functions

def feed_records(url: str, response: Response, *, max_bytes: int) -> Iterator[Record]:
    """The records of a fetched feed (or any readable document) at ``url``."""
    try:
        body = gunzip_bounded(response.body, max_bytes)
    except FetchError as exc:
        yield RecordError(url, None, "read", exc.kind, str(exc), None)
        return
    if not body.strip():
        yield RecordError(url, None, "read", "empty_file", "the server sent an empty body", None)
        return
    fmt = detect_format(urlsplit(url).path or "/", body[:4096])
    if fmt is None:
        yield RecordError(url, None, "read", "unknown_format", f"binary or unknown content ({response.content_type})",
                          RecordError.excerpt_of(body[:200]))
        return
    yield from parse_bytes(body, url, fmt)


class FeedCounters:
    """The metrics of feed polling, the same names in batch and stream runs."""

    def __init__(self) -> None:
        self.fetched = Metrics.counter(_NS, "feeds_fetched")
        self.not_modified = Metrics.counter(_NS, "feeds_not_modified")
        self.failed = Metrics.counter(_NS, "feeds_failed")
        self.wire_bytes = Metrics.counter(_NS, "feed_bytes_fetched")


def poll_feed(fetcher: Fetcher, url: str, validators: Optional[Dict[str, str]], *, max_bytes: int,
              counters: FeedCounters, on_new: Callable[[Response], None]) -> Iterator[Any]:
    """One conditional GET of the feed at ``url`` with the ``validators`` known for it: yields its
    raw articles (main output) and error records (as ``TaggedOutput(ERRORS_TAG, ...)``). A
    failed fetch is one ``fetch`` error record; a 304 yields nothing. ``on_new(response)`` is
    called before the records of a response with new content, to keep its validators."""
    try:
        response = fetcher.get(url, validators)
    except FetchError as exc:
        counters.failed.inc()
        _LOGGER.info("feed %s failed: %s", url, exc)
        yield beam.pvalue.TaggedOutput(ERRORS_TAG, RecordError(url, None, "fetch", exc.kind, str(exc)))
        return
    counters.wire_bytes.inc(response.wire_bytes)
    if response.not_modified:
        counters.not_modified.inc()
        return
    counters.fetched.inc()
    on_new(response)
    for record in feed_records(url, response, max_bytes=max_bytes):
        if isinstance(record, RecordError):
            yield beam.pvalue.TaggedOutput(ERRORS_TAG, record)
        else:
            yield record


# ------------------------------------------------------------------ batch: FetchFeeds

def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


class _ValidatorSet:
    """Weak-referenceable holder for ``shared.Shared``."""

    def __init__(self, validators: Dict[str, Dict[str, str]]) -> None:
        self.validators = validators


class _FetchFeedsFn(beam.DoFn):
    """(host, feed URLs) to raw articles and error records; one host's feeds one after the other."""

    def __init__(self, settings: FetchSettings, state_root: Optional[str], run_id: str, max_bytes: int,
                 handle: shared.Shared) -> None:
        self._settings = settings
        self._state_root = state_root
        self._run_id = run_id
        self._max_bytes = max_bytes
        self._handle = handle

    def setup(self) -> None:
        from transforms.fetch.state import load_validators

        self._fetcher = Fetcher(self._settings)
        self._counters = FeedCounters()
        root = self._state_root
        self._known = self._handle.acquire(lambda: _ValidatorSet(load_validators(root) if root else {}),
                                           tag=f"{root}|{self._run_id}")

    def start_bundle(self) -> None:
        self._pending: Dict[str, Dict[str, Any]] = {}

    def process(self, element: Tuple[str, Iterable[str]]) -> Iterator[Any]:
        _, urls = element
        for url in sorted(set(urls)):
            def keep(response: Response, url: str = url) -> None:
                self._pending[url] = dict(response.validators, fetched_at=_now_iso())

            yield from poll_feed(self._fetcher, url, self._known.validators.get(url), max_bytes=self._max_bytes,
                                 counters=self._counters, on_new=keep)

    def finish_bundle(self) -> None:
        if self._pending and self._state_root:
            from transforms.fetch.state import write_pending_validators

            write_pending_validators(self._state_root, self._run_id, self._pending)
        self._pending = {}


@beam.typehints.with_input_types(str)
class FetchFeeds(beam.PTransform[beam.PCollection[Any], beam.pvalue.DoOutputsTuple]):
    """Feed URLs to raw articles (``raw``) and :class:`RecordError` (``errors``).

    ``state_root`` is the dataset root whose ``_state`` holds the validators (None: no
    conditional GET); ``run_id`` names this run's pending validators.
    """

    def __init__(self, settings: FetchSettings, *, state_root: Optional[str], run_id: str) -> None:
        super().__init__()
        self._settings = settings
        self._state_root = state_root
        self._run_id = run_id

    def expand(self, urls: beam.PCollection[Any]) -> beam.pvalue.DoOutputsTuple:
        return (urls
                | "KeyByHost" >> beam.Map(lambda url: (host_of(url), url)).with_output_types(Tuple[str, str])
                | "GroupByHost" >> beam.GroupByKey()
                | "FetchEachHost" >> beam.ParDo(_FetchFeedsFn(
                    self._settings, self._state_root, self._run_id, self._settings.max_decompressed_bytes,
                    shared.Shared())).with_outputs(ERRORS_TAG, main="raw"))


# ------------------------------------------------------------------ stream: PollFeeds

class _PollHostFn(beam.DoFn):
    """(host, feed URL) at a tick's timestamp to raw entries; validators per host in state."""

    VALIDATORS = userstate.ReadModifyWriteStateSpec("validators", PickleCoder())

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings

    def setup(self) -> None:
        self._fetcher = Fetcher(self._settings)
        self._counters = FeedCounters()

    def process(self, element: Tuple[str, str],
                validators: Any = beam.DoFn.StateParam(VALIDATORS)) -> Iterator[Any]:
        _, url = element
        known: Dict[str, Dict[str, str]] = validators.read() or {}
        yield beam.pvalue.TaggedOutput(POLLS_TAG, url)

        def keep(response: Response) -> None:
            if response.validators:
                known[url] = response.validators
            else:
                known.pop(url, None)
            validators.write(known)

        yield from poll_feed(self._fetcher, url, known.get(url), max_bytes=self._settings.max_decompressed_bytes,
                             counters=self._counters, on_new=keep)


@beam.typehints.with_input_types(Any)
class PollFeeds(beam.PTransform[beam.PCollection[Any], beam.pvalue.DoOutputsTuple]):
    """Tick timestamps to raw entries (``raw``), error records (``errors``) and one ``polls``
    element per feed and tick (for the counts). Outputs carry the tick's timestamp."""

    def __init__(self, urls: List[str], settings: FetchSettings) -> None:
        super().__init__()
        self._urls = list(urls)
        self._settings = settings

    def expand(self, ticks: beam.PCollection[Any]) -> beam.pvalue.DoOutputsTuple:
        urls = self._urls
        return (ticks
                | "FeedsPerTick" >> beam.FlatMap(lambda _: [(host_of(u), u) for u in urls]).with_output_types(
                    Tuple[str, str])
                | "FetchPerHost" >> beam.ParDo(_PollHostFn(self._settings)).with_outputs(
                    ERRORS_TAG, POLLS_TAG, main="raw"))
