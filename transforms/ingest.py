"""Beam transforms that read inputs into normalised article rows, with a dead-letter output."""
from __future__ import annotations

import datetime as _dt
import logging
import time
from typing import Any, Dict, Iterable, List, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.articles import build_article
from transforms.inputs import expand_input
from transforms.readers import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_LINE_BYTES, read_input
from transforms.records import RawArticle, RecordError

_LOGGER = logging.getLogger(__name__)

__all__ = ["ReadArticles", "error_row", "ERRORS_TAG"]

ERRORS_TAG = "errors"
_NS = "newsbeam"


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


class ReadArticles(beam.PTransform):
    """Input patterns (paths, directories, globs, fsspec URLs) to ``articles`` rows.

    Returns a tuple-like result with ``articles`` (dict rows), ``errors`` (:class:`RecordError`)
    and ``files`` (one element per input file, for counting). Every record read ends up in exactly
    one of ``articles`` and ``errors``.
    """

    def __init__(self, patterns: List[str], *, run_id: str, ingested_at: _dt.datetime,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES):
        super().__init__()
        self._patterns = list(patterns)
        self._run_id = run_id
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_line_bytes = max_line_bytes

    def expand(self, pbegin):
        files = (pbegin
                 | "CreatePatterns" >> beam.Create(self._patterns)
                 | "ExpandInputs" >> beam.ParDo(_ExpandFn())
                 | "SpreadFiles" >> beam.Reshuffle())
        read = files | "ReadFiles" >> beam.ParDo(
            _ReadFileFn(self._max_file_bytes, self._max_line_bytes)).with_outputs(ERRORS_TAG, main="raw")
        normalised = read.raw | "Normalise" >> beam.ParDo(
            _NormaliseFn(self._run_id, self._ingested_at)).with_outputs(ERRORS_TAG, main="articles")
        errors = (read[ERRORS_TAG], normalised[ERRORS_TAG]) | "FlattenRecordErrors" >> beam.Flatten()
        return {"articles": normalised.articles, "errors": errors, "files": files}
