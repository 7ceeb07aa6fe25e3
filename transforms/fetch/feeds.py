"""Beam transforms around ``transforms.fetch.client``: feed URLs to raw articles, and article pages.

* :class:`FetchFeeds`: feed URLs to raw articles (main) and error records (``errors``). URLs are
  grouped by host and each host's feeds are fetched one after the other (one request at a time per
  host, with the polite delay). Conditional GET: validators come from ``ROOT/_state`` and the ones
  received are written as *pending* for this run (see ``transforms.fetch.state``), so they only
  count once the run has committed. A 304 yields nothing.
* :class:`FetchArticlePages` (``--fetch-articles``): feed entries to the same entries with the full
  text of the page their link points to (``transforms.inputs.readers.parse_html``, as for HTML files).
  When the page cannot be fetched or holds no article, the entry keeps its summary and an error
  record with stage ``fetch`` is added (an extra row: the entry itself is not lost).
* :class:`FetchOptions`: the fetch flags, for ``run`` (passed through to Beam) and ``watch``.

Error records: a feed that cannot be fetched is one record with stage ``fetch``, the feed URL as
``input_path`` and no ``record_index``; a failed article page is one with the feed URL, the entry's
``record_index`` and its ``article_id``.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
from typing import Any, Dict, Iterable, Iterator, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.utils import shared

from transforms.fetch.client import FetchError, Fetcher, FetchSettings, Response, gunzip_bounded, host_of, is_url
from transforms.inputs.readers import Record, detect_format, parse_bytes, parse_html
from transforms.records import RawArticle, RecordError
from transforms.normalise.urls import article_id, canonical_url

_LOGGER = logging.getLogger(__name__)

__all__ = ["FetchFeeds", "FetchArticlePages", "FetchOptions", "feed_records", "with_page", "fetch_page",
           "fetch_settings_from_options", "entry_article_id", "ERRORS_TAG"]

ERRORS_TAG = "errors"
_NS = "newsbeam"


def _duration(text: str) -> float:
    from transforms.durations import parse_duration

    return parse_duration(text)


class FetchOptions(PipelineOptions):
    """Flags for feed URLs and ``--fetch-articles`` (``help=`` on each)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--fetch-articles", "--fetch_articles", dest="fetch_articles", action="store_true",
                            default=False,
                            help="Follow each feed entry's link and use the page's full text (HTML extractor as for "
                                 "files); the entry's summary is kept when the page cannot be fetched.")
        parser.add_argument("--fetch-timeout", "--fetch_timeout", dest="fetch_timeout", type=_duration,
                            default=FetchSettings.read_timeout,
                            help="Read timeout of one HTTP request, e.g. 20s (connect timeout: half of it, at most "
                                 "10s; whole response: three times it).")
        parser.add_argument("--fetch-retries", "--fetch_retries", dest="fetch_retries", type=int,
                            default=FetchSettings.retries,
                            help="Retries (with exponential backoff from 1s) on timeouts, dropped connections, 429 "
                                 "and 5xx.")
        parser.add_argument("--fetch-delay", "--fetch_delay", dest="fetch_delay", type=_duration,
                            default=FetchSettings.host_delay,
                            help="Polite pause between two requests to the same host, e.g. 1s.")
        parser.add_argument("--max-fetch-bytes", "--max_fetch_bytes", dest="max_fetch_bytes", type=int,
                            default=FetchSettings.max_bytes,
                            help="Largest HTTP body on the wire (compressed); decompressed bodies are bounded by "
                                 "--max-file-bytes.")


def fetch_settings_from_options(options: PipelineOptions, *, max_decompressed_bytes: Optional[int] = None,
                                backoff: Optional[float] = None) -> FetchSettings:
    """:class:`FetchSettings` from the flags of :class:`FetchOptions`."""
    view = options.view_as(FetchOptions)
    read = float(view.fetch_timeout)
    kwargs: Dict[str, Any] = dict(
        read_timeout=read, connect_timeout=min(10.0, max(read / 2, 0.05)), total_timeout=3 * read,
        retries=max(0, int(view.fetch_retries)), host_delay=max(0.0, float(view.fetch_delay)),
        max_bytes=int(view.max_fetch_bytes))
    if max_decompressed_bytes:
        kwargs["max_decompressed_bytes"] = max_decompressed_bytes
    if backoff is not None:
        kwargs["backoff"] = backoff
    return FetchSettings(**kwargs)


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
    from urllib.parse import urlsplit

    fmt = detect_format(urlsplit(url).path or "/", body[:4096])
    if fmt is None:
        yield RecordError(url, None, "read", "unknown_format", f"binary or unknown content ({response.content_type})",
                          RecordError.excerpt_of(body[:200]))
        return
    yield from parse_bytes(body, url, fmt)


def entry_article_id(raw: RawArticle) -> Optional[str]:
    """The article_id an entry will get, when its link decides it (None without a link)."""
    url = canonical_url(raw.url) or canonical_url(raw.guid)
    return article_id(url, None, "") if url else None


def with_page(entry: RawArticle, page: RawArticle) -> RawArticle:
    """The feed entry with the page's text. The entry keeps its link (so its article_id does not
    depend on whether the page could be fetched), input and position; the page fills in what the
    entry lacks (title, dates, authors)."""
    return dataclasses.replace(
        entry, text=page.text, is_html=False, title=entry.title or page.title,
        published=tuple(entry.published) + tuple(page.published), authors=entry.authors or page.authors,
        source=entry.source or page.source, language=entry.language or page.language)


def fetch_page(fetcher: Fetcher, entry: RawArticle, max_bytes: int) -> Tuple[RawArticle, Optional[RecordError]]:
    """Fetch the page of ``entry.url`` and return the entry with its full text, or the entry
    unchanged and a ``fetch`` error record."""
    link = entry.url if entry.url and is_url(entry.url) else entry.guid

    def failed(kind: str, message: str) -> Tuple[RawArticle, RecordError]:
        return entry, RecordError(entry.input_path, entry.record_index, "fetch", kind,
                                  f"article page {link}: {message}; the feed's summary is kept",
                                  None, entry_article_id(entry))
    try:
        response = fetcher.get(link)
        body = gunzip_bounded(response.body, max_bytes)
    except FetchError as exc:
        return failed(exc.kind, str(exc))
    ctype = (response.content_type or "").lower()
    if ctype and "html" not in ctype and "xml" not in ctype and "text/plain" not in ctype:
        return failed("not_html", f"the page is {response.content_type}, not HTML")
    pages = [r for r in parse_html(body, link)]
    page = pages[0] if pages else None
    if not isinstance(page, RawArticle):
        return failed(page.error_type if page else "no_main_text", page.message if page else "nothing extracted")
    if len(page.text) < len(entry.text or "") // 2:
        return failed("page_shorter_than_summary", "the page's text is shorter than the feed's summary")
    return with_page(entry, page), None


# ------------------------------------------------------------------ DoFns and transforms

def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


class _ValidatorSet:
    """Weak-referenceable holder for ``shared.Shared``."""

    def __init__(self, validators: Dict[str, Dict[str, str]]):
        self.validators = validators


class _FetchFeedsFn(beam.DoFn):
    """(host, feed URLs) to raw articles and error records; one host's feeds one after the other."""

    def __init__(self, settings: FetchSettings, state_root: Optional[str], run_id: str, max_bytes: int,
                 handle: shared.Shared):
        self._settings = settings
        self._state_root = state_root
        self._run_id = run_id
        self._max_bytes = max_bytes
        self._handle = handle
        self._fetched = Metrics.counter(_NS, "feeds_fetched")
        self._not_modified = Metrics.counter(_NS, "feeds_not_modified")
        self._failed = Metrics.counter(_NS, "feeds_failed")
        self._wire = Metrics.counter(_NS, "feed_bytes_fetched")

    def setup(self) -> None:
        from transforms.fetch.state import load_validators

        self._fetcher = Fetcher(self._settings)
        root = self._state_root
        self._known = self._handle.acquire(lambda: _ValidatorSet(load_validators(root) if root else {}),
                                           tag=f"{root}|{self._run_id}")

    def start_bundle(self) -> None:
        self._pending: Dict[str, Dict[str, Any]] = {}

    def process(self, element: Tuple[str, Iterable[str]]):
        _, urls = element
        for url in sorted(set(urls)):
            try:
                response = self._fetcher.get(url, self._known.validators.get(url))
            except FetchError as exc:
                self._failed.inc()
                _LOGGER.info("feed %s failed: %s", url, exc)
                yield beam.pvalue.TaggedOutput(ERRORS_TAG, RecordError(url, None, "fetch", exc.kind, str(exc)))
                continue
            self._wire.inc(response.wire_bytes)
            if response.not_modified:
                self._not_modified.inc()
                continue
            self._fetched.inc()
            self._pending[url] = dict(response.validators, fetched_at=_now_iso())
            for record in feed_records(url, response, max_bytes=self._max_bytes):
                if isinstance(record, RecordError):
                    yield beam.pvalue.TaggedOutput(ERRORS_TAG, record)
                else:
                    yield record

    def finish_bundle(self):
        if self._pending and self._state_root:
            from transforms.fetch.state import write_pending_validators

            write_pending_validators(self._state_root, self._run_id, self._pending)
        self._pending = {}


class FetchFeeds(beam.PTransform):
    """Feed URLs to raw articles (``raw``) and :class:`RecordError` (``errors``).

    ``state_root`` is the dataset root whose ``_state`` holds the validators (None: no
    conditional GET); ``run_id`` names this run's pending validators.
    """

    def __init__(self, settings: FetchSettings, *, state_root: Optional[str], run_id: str):
        super().__init__()
        self._settings = settings
        self._state_root = state_root
        self._run_id = run_id

    def expand(self, urls):
        return (urls
                | "KeyByHost" >> beam.Map(lambda url: (host_of(url), url))
                | "GroupByHost" >> beam.GroupByKey()
                | "FetchEachHost" >> beam.ParDo(_FetchFeedsFn(
                    self._settings, self._state_root, self._run_id, self._settings.max_decompressed_bytes,
                    shared.Shared())).with_outputs(ERRORS_TAG, main="raw"))


class _IdSet:
    def __init__(self, ids: frozenset):
        self.ids = ids


def _wants_page(raw: RawArticle) -> bool:
    link = raw.url if raw.url and is_url(raw.url) else raw.guid
    return raw.input_format == "feed" and bool(link) and is_url(link)


class _SkipKnownFn(beam.DoFn):
    """Entries whose article is already in ROOT go on unfetched (they are duplicates anyway)."""

    def __init__(self, root: Optional[str], tag: str, handle: shared.Shared):
        self._root = root
        self._tag = tag
        self._handle = handle

    def setup(self) -> None:
        from transforms.storage.sink import existing_article_ids

        root = self._root
        self._known = self._handle.acquire(lambda: _IdSet(existing_article_ids(root) if root else frozenset()),
                                           tag=f"ids|{root}|{self._tag}")

    def process(self, raw: RawArticle):
        if _wants_page(raw) and entry_article_id(raw) not in self._known.ids:
            link = raw.url if raw.url and is_url(raw.url) else raw.guid
            yield beam.pvalue.TaggedOutput("fetch", (host_of(link), raw))
        else:
            yield raw


class _FetchPagesFn(beam.DoFn):
    """(host, entries) to entries with full text, and ``fetch`` error records; or, without
    grouping (``grouped=False``), one entry at a time (per-process politeness only)."""

    def __init__(self, settings: FetchSettings, grouped: bool = True):
        self._settings = settings
        self._grouped = grouped
        self._pages = Metrics.counter(_NS, "article_pages_fetched")
        self._failed = Metrics.counter(_NS, "article_pages_failed")

    def setup(self) -> None:
        self._fetcher = Fetcher(self._settings)

    def process(self, element):
        entries = element[1] if self._grouped else [element]
        for entry in entries:
            article, error = fetch_page(self._fetcher, entry, self._settings.max_decompressed_bytes)
            if error is not None:
                self._failed.inc()
                yield beam.pvalue.TaggedOutput(ERRORS_TAG, error)
            else:
                self._pages.inc()
            yield article


class FetchArticlePages(beam.PTransform):
    """Raw articles to raw articles (``raw``; feed entries with a link get their page's full text)
    and ``fetch`` error records (``errors``) for the pages that failed; entries already in ``root``
    are not fetched (``run_id`` scopes the cache of ROOT's ids). Every input element comes out
    exactly once on ``raw``.

    ``grouped`` (batch): entries are grouped by host so that one host's pages are fetched one after
    the other. Streaming pipelines pass ``grouped=False`` (per-process politeness).
    """

    def __init__(self, settings: FetchSettings, *, root: Optional[str], run_id: str = "", grouped: bool = True):
        super().__init__()
        self._settings = settings
        self._root = root
        self._run_id = run_id
        self._grouped = grouped

    def expand(self, raw):
        split = raw | "SkipKnownArticles" >> beam.ParDo(_SkipKnownFn(self._root, self._run_id, shared.Shared())).with_outputs(
            "fetch", main="keep")
        todo = split.fetch
        if self._grouped:
            todo = todo | "GroupPagesByHost" >> beam.GroupByKey()
        else:
            todo = todo | "DropHost" >> beam.Values()
        pages = todo | "FetchPages" >> beam.ParDo(_FetchPagesFn(self._settings, self._grouped)).with_outputs(
            ERRORS_TAG, main="raw")
        merged = (split.keep, pages.raw) | "FlattenPages" >> beam.Flatten()
        return {"raw": merged, "errors": pages[ERRORS_TAG]}
