"""The batch pipeline's input composite: patterns to normalised article rows, with a dead-letter
output (files are read here, feed URLs fetched by :mod:`transforms.fetch`, records normalised by
:mod:`transforms.normalise.stage`)."""
from __future__ import annotations

import datetime as _dt
import logging
import time
from typing import Any, Dict, Iterable, List, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.fetch.client import FetchSettings
from transforms.normalise.urls import is_url
from transforms.fetch.feeds import FetchFeeds
from transforms.fetch.pages import FetchArticlePages
from transforms.inputs.expand import expand_input
from transforms.inputs.readers import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_LINE_BYTES, read_input
from transforms.normalise.stage import Normalise
from transforms.records import RecordError

_LOGGER = logging.getLogger(__name__)

__all__ = ["ReadArticles", "ERRORS_TAG"]

ERRORS_TAG = "errors"
_NS = "newsbeam"


class _ExpandFn(beam.DoFn):
    def process(self, pattern: str) -> Iterable[str]:
        yield from expand_input(pattern)


class _ReadFileFn(beam.DoFn):
    """A file path to raw articles (main) and error records (``errors``), with progress logs."""

    def __init__(self, max_file_bytes: int, max_line_bytes: int):
        self._max_file_bytes = max_file_bytes
        self._max_line_bytes = max_line_bytes
        self._files = Metrics.counter(_NS, "files_read")
        self._records = Metrics.counter(_NS, "records_read")
        self._errors = Metrics.counter(_NS, "read_errors")

    def setup(self) -> None:
        self._count_files = 0
        self._count_records = 0
        self._last_log = time.monotonic()

    def process(self, path: str):
        self._files.inc()
        self._count_files += 1
        for record in read_input(path, max_file_bytes=self._max_file_bytes, max_line_bytes=self._max_line_bytes):
            self._records.inc()
            self._count_records += 1
            if isinstance(record, RecordError):
                self._errors.inc()
                yield beam.pvalue.TaggedOutput(ERRORS_TAG, record)
            else:
                yield record
        now = time.monotonic()
        if now - self._last_log >= 10:
            self._last_log = now
            _LOGGER.info("progress: read %d files, %d records in this worker", self._count_files, self._count_records)


def _fetches(patterns: List[str]) -> bool:
    from transforms.inputs.feedlists import is_feed_list

    return any(is_url(p) or is_feed_list(p) for p in patterns)


class ReadArticles(beam.PTransform):
    """Input patterns (paths, directories, globs, fsspec URLs, http(s) feed URLs, feed lists) to
    ``articles`` rows.

    Returns a tuple-like result with ``articles`` (dict rows), ``errors`` (:class:`RecordError`)
    and ``files`` (one element per input file or feed URL, for counting). Every record read ends up
    in exactly one of ``articles`` and ``errors``; ``errors`` also holds the ``fetch`` rows (a feed
    that could not be fetched, an article page that could not be fetched), which are not records.

    Fetching (see :mod:`transforms.fetch`): ``root`` is the dataset root whose ``_state`` keeps
    the conditional-GET validators (None: no conditional GET), ``fetch`` the HTTP settings
    (default: :class:`FetchSettings` with ``max_decompressed_bytes = max_file_bytes``) and
    ``fetch_articles`` whether to follow entry links. Nothing is read from the pipeline options:
    the command line's flags arrive here as these arguments.
    """

    def __init__(self, patterns: List[str], *, run_id: str, ingested_at: _dt.datetime,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 root: Optional[str] = None, fetch: Optional[FetchSettings] = None,
                 fetch_articles: bool = False) -> None:
        super().__init__()
        self._patterns = list(patterns)
        self._run_id = run_id
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_line_bytes = max_line_bytes
        self._root = root
        self._fetch = fetch or FetchSettings(max_decompressed_bytes=max_file_bytes)
        self._fetch_articles = fetch_articles

    def expand(self, pbegin):
        fetch, fetch_articles, root = self._fetch, self._fetch_articles, self._root
        files = (pbegin
                 | "CreatePatterns" >> beam.Create(self._patterns)
                 | "ExpandInputs" >> beam.ParDo(_ExpandFn())
                 | "SpreadFiles" >> beam.Reshuffle())
        local = files
        fetched = None
        if _fetches(self._patterns):
            if not root:
                _LOGGER.warning("no dataset root known: conditional GET validators are not kept")
            local = files | "LocalFiles" >> beam.Filter(lambda p: not is_url(p))
            fetched = (files
                       | "FeedUrls" >> beam.Filter(is_url)
                       | "FetchFeeds" >> FetchFeeds(fetch, state_root=root, run_id=self._run_id))
        read = local | "ReadFiles" >> beam.ParDo(
            _ReadFileFn(self._max_file_bytes, self._max_line_bytes)).with_outputs(ERRORS_TAG, main="raw")
        raw, errors = read.raw, [read[ERRORS_TAG]]
        if fetched is not None:
            raw = (raw, fetched.raw) | "FlattenRaw" >> beam.Flatten()
            errors.append(fetched[ERRORS_TAG])
        if fetch_articles:
            pages = raw | "FetchArticles" >> FetchArticlePages(fetch, root=root, run_id=self._run_id)
            raw = pages["raw"]
            errors.append(pages["errors"])
        # One file can hold thousands of records (a JSONL dump, a big feed): spread them before the
        # per-record work, so normalising (and what is fused after it) runs on every worker.
        raw = raw | "SpreadRecords" >> beam.Reshuffle()
        normalised = raw | "Normalise" >> Normalise(run_id=self._run_id, ingested_at=self._ingested_at)
        errors = tuple(errors) + (normalised[ERRORS_TAG],) | "FlattenRecordErrors" >> beam.Flatten()
        return {"articles": normalised.articles, "errors": errors, "files": files}
