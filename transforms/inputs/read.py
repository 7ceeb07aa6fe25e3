"""Beam transforms that read inputs into normalised article rows, with a dead-letter output."""
from __future__ import annotations

import datetime as _dt
import logging
import time
from typing import Any, Dict, Iterable, List, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.normalise.articles import build_article
from transforms.fetch.client import FetchSettings, is_url
from transforms.fetch.feeds import FetchArticlePages, FetchFeeds, FetchOptions, fetch_settings_from_options
from transforms.inputs.expand import expand_input
from transforms.inputs.readers import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_LINE_BYTES, read_input
from transforms.records import RawArticle, RecordError

_LOGGER = logging.getLogger(__name__)

__all__ = ["ReadArticles", "error_row", "ERRORS_TAG", "MAX_TEXT_CHARS"]

ERRORS_TAG = "errors"
_NS = "newsbeam"
MAX_TEXT_CHARS = 2_000_000
"""Longest raw article text (characters, markup included) that is normalised; longer is one
``text_too_long`` error row. The longest real news articles are ~200,000 characters; normalising
a 50 MB "article" would take over 1 GB of memory for nothing anyone reads."""


def error_row(err: RecordError, run_id: str, ingested_at: _dt.datetime) -> Dict[str, Any]:
    """An ``errors`` table row (see ``schemas.ERRORS``); errors are partitioned by ingest date."""
    return {
        "input_path": err.input_path, "record_index": err.record_index, "stage": err.stage,
        "error_type": err.error_type, "message": err.message, "excerpt": err.excerpt,
        "article_id": err.article_id, "ingested_at": ingested_at, "run_id": run_id, "dt": ingested_at.date(),
    }


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


class _NormaliseFn(beam.DoFn):
    """A raw article to an ``articles`` row (main) or an error record (``errors``)."""

    def __init__(self, run_id: str, ingested_at: _dt.datetime):
        self._run_id = run_id
        self._ingested_at = ingested_at
        self._errors = Metrics.counter(_NS, "normalise_errors")

    def process(self, raw: RawArticle):
        if len(raw.text) > MAX_TEXT_CHARS:
            self._errors.inc()
            yield beam.pvalue.TaggedOutput(ERRORS_TAG, RecordError(
                raw.input_path, raw.record_index, "normalise", "text_too_long",
                f"the article text has {len(raw.text)} characters (at most {MAX_TEXT_CHARS})",
                RecordError.excerpt_of(raw.text[:500])))
            return
        try:
            result = build_article(raw, run_id=self._run_id, ingested_at=self._ingested_at)
        except Exception as exc:  # a bug or a pathological input: one error row, never a crashed run
            result = RecordError(raw.input_path, raw.record_index, "normalise", "normalise_failed",
                                 f"{type(exc).__name__}: {exc}", RecordError.excerpt_of(raw.text))
        if isinstance(result, RecordError):
            self._errors.inc()
            yield beam.pvalue.TaggedOutput(ERRORS_TAG, result)
        else:
            yield result


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

    Fetching (see ``transforms.fetch.feeds``): ``root`` is the dataset root whose ``_state`` keeps
    the conditional-GET validators, ``fetch`` the HTTP settings and ``fetch_articles`` whether to
    follow entry links. Left as None they come from the pipeline's options (``--output``,
    :class:`~transforms.fetch.feeds.FetchOptions`).
    """

    def __init__(self, patterns: List[str], *, run_id: str, ingested_at: _dt.datetime,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 root: Optional[str] = None, fetch: Optional[FetchSettings] = None,
                 fetch_articles: Optional[bool] = None):
        super().__init__()
        self._patterns = list(patterns)
        self._run_id = run_id
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_line_bytes = max_line_bytes
        self._root = root
        self._fetch = fetch
        self._fetch_articles = fetch_articles

    def _fetch_config(self, pipeline):
        options = pipeline.options
        fetch = self._fetch or fetch_settings_from_options(options, max_decompressed_bytes=self._max_file_bytes)
        fetch_articles = (self._fetch_articles if self._fetch_articles is not None
                          else options.view_as(FetchOptions).fetch_articles)
        root = self._root or options.get_all_options(retain_unknown_options=True).get("output")
        return fetch, fetch_articles, root

    def expand(self, pbegin):
        fetch, fetch_articles, root = self._fetch_config(pbegin.pipeline)
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
        normalised = raw | "Normalise" >> beam.ParDo(
            _NormaliseFn(self._run_id, self._ingested_at)).with_outputs(ERRORS_TAG, main="articles")
        errors = tuple(errors) + (normalised[ERRORS_TAG],) | "FlattenRecordErrors" >> beam.Flatten()
        return {"articles": normalised.articles, "errors": errors, "files": files}
