"""Beam transforms around ``transforms.sink``: staged Parquet writes and the run commit."""
from __future__ import annotations

import collections
from typing import Any, Callable, Dict, List

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from transforms.sink import DEFAULT_MAX_ROWS_PER_FILE, StagedFile, commit_run, new_writer_name, write_part

__all__ = ["WriteTable", "CommitRun"]


class _WritePartsFn(beam.DoFn):
    """Buffers rows per partition and writes a staged Parquet file when a buffer is full and at
    the end of each bundle; outputs one :class:`StagedFile` per file."""

    def __init__(self, root: str, table: str, run_id: str, max_rows: int, max_bytes: int):
        self._root = root
        self._table = table
        self._run_id = run_id
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._rows_written = Metrics.counter("newsbeam", f"{table}_rows_written")
        self._files_written = Metrics.counter("newsbeam", f"{table}_files_written")

    def start_bundle(self) -> None:
        self._buffers: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
        self._sizes: Dict[str, int] = collections.defaultdict(int)
        self._name = new_writer_name()
        self._seq = 0

    def _flush(self, dt: str) -> StagedFile:
        rows = self._buffers.pop(dt)
        self._sizes.pop(dt, None)
        staged = write_part(self._root, self._table, self._run_id, dt, rows, f"{self._name}-{self._seq:04d}")
        self._seq += 1
        self._rows_written.inc(len(rows))
        self._files_written.inc()
        return staged

    def process(self, row: Dict[str, Any]):
        dt = row["dt"].isoformat()
        self._buffers[dt].append(row)
        self._sizes[dt] += len(row.get("text") or "") + 200
        if len(self._buffers[dt]) >= self._max_rows or self._sizes[dt] >= self._max_bytes:
            yield self._flush(dt)

    def finish_bundle(self):
        for dt in sorted(self._buffers):
            yield GlobalWindows.windowed_value(self._flush(dt))


class WriteTable(beam.PTransform):
    """Rows of one table to staged Parquet files under ``ROOT/_staging/<run_id>``; outputs the
    :class:`StagedFile` records that :class:`CommitRun` makes visible."""

    def __init__(self, root: str, table: str, run_id: str, max_rows: int = DEFAULT_MAX_ROWS_PER_FILE,
                 max_bytes: int = 128 * 1024 * 1024):
        super().__init__()
        self._args = (root, table, run_id, max_rows, max_bytes)

    def expand(self, rows):
        return rows | "WriteParts" >> beam.ParDo(_WritePartsFn(*self._args))


class _CommitFn(beam.DoFn):
    def __init__(self, root: str, run_id: str, make_manifest: Callable[..., Dict[str, Any]]):
        self._root = root
        self._run_id = run_id
        self._make_manifest = make_manifest

    def process(self, staged: List[StagedFile], **counts):
        manifest = self._make_manifest(**counts)
        yield commit_run(self._root, self._run_id, staged, manifest)


class CommitRun(beam.PTransform):
    """All staged files of a run, plus counts given as singleton side inputs, to one commit:
    the files move into place and the manifest is written. ``make_manifest`` receives the counts
    as keyword arguments and returns the manifest dict (without the file list)."""

    def __init__(self, root: str, run_id: str, make_manifest: Callable[..., Dict[str, Any]], **counts):
        super().__init__()
        self._root = root
        self._run_id = run_id
        self._make_manifest = make_manifest
        self._counts = counts

    def expand(self, staged):
        side = {name: beam.pvalue.AsSingleton(pcoll) for name, pcoll in self._counts.items()}
        return (staged
                | "CollectStagedFiles" >> beam.combiners.ToList()
                | "Commit" >> beam.ParDo(_CommitFn(self._root, self._run_id, self._make_manifest), **side))
