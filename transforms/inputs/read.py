"""Beam transforms of the inputs: patterns to files (:class:`ExpandInputs`) and files to raw
records with a dead-letter output (:class:`ReadFiles`). Feed URLs are fetched by
:mod:`transforms.fetch`; the batch pipeline wires both (``pipelines.batch.ReadArticles``)."""
from __future__ import annotations

import logging
import time
from typing import Iterable, List

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.inputs.expand import expand_input
from transforms.inputs.readers import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_LINE_BYTES, read_input
from transforms.records import RecordError

_LOGGER = logging.getLogger(__name__)

__all__ = ["ExpandInputs", "ReadFiles", "ERRORS_TAG"]

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


@beam.typehints.with_output_types(str)
class ExpandInputs(beam.PTransform):
    """Input patterns (files, folders, globs, fsspec URLs, http(s) URLs, feed lists) to one element
    per input file or URL (see :func:`transforms.inputs.expand.expand_input`), spread over workers."""

    def __init__(self, patterns: List[str]) -> None:
        super().__init__()
        self._patterns = list(patterns)

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return (pbegin
                | "CreatePatterns" >> beam.Create(self._patterns)
                | "Expand" >> beam.ParDo(_ExpandFn()).with_output_types(str)
                | "SpreadFiles" >> beam.Reshuffle())


@beam.typehints.with_input_types(str)
class ReadFiles(beam.PTransform):
    """File paths (local or fsspec URLs) to raw records (``raw``: :class:`RawArticle`) and error
    records (``errors``: :class:`RecordError`), each format by its reader (:mod:`transforms.inputs.readers`);
    every record of a file comes out once on one of the two."""

    def __init__(self, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        super().__init__()
        self._max_file_bytes = max_file_bytes
        self._max_line_bytes = max_line_bytes

    def expand(self, paths: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return paths | "ReadEachFile" >> beam.ParDo(
            _ReadFileFn(self._max_file_bytes, self._max_line_bytes)).with_input_types(str).with_outputs(
            ERRORS_TAG, main="raw")
