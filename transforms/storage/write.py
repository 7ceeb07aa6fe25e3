"""Beam transforms around ``transforms.storage.sink``: staged Parquet writes and the run commit."""
from __future__ import annotations

import collections
import dataclasses
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from transforms.storage.idindex import stage_marker
from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE, StagedFile, commit_run, new_writer_name, write_part

__all__ = ["WriteTable", "CommitRun", "Counted", "DEFAULT_MAX_BUFFERED_BYTES"]

DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024
"""Rows (estimated bytes) a table writer holds before it writes its largest partition."""


class _WritePartsFn(beam.DoFn):
    """Buffers rows per partition and writes a staged Parquet file when a buffer is full, when
    all buffers together pass ``max_buffered_bytes`` (the largest is written: memory stays flat
    however long the bundle, e.g. the single bundle of the in-process runner) and at the end of
    each bundle; outputs one :class:`StagedFile` per file."""

    _ROW_OVERHEAD = 600  # bytes of a row dict beyond its text, roughly (an entity row is ~1 KB)

    def __init__(self, root: str, table: str, run_id: str, max_rows: int, max_bytes: int,
                 max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES):
        self._root = root
        self._table = table
        self._run_id = run_id
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._max_buffered = max_buffered_bytes
        self._rows_written = Metrics.counter("newsbeam", f"{table}_rows_written")
        self._files_written = Metrics.counter("newsbeam", f"{table}_files_written")

    def start_bundle(self) -> None:
        self._buffers: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
        self._sizes: Dict[str, int] = collections.defaultdict(int)
        self._buffered = 0
        self._name = new_writer_name()
        self._seq = 0

    def _flush(self, dt: str) -> StagedFile:
        rows = self._buffers.pop(dt)
        self._buffered -= self._sizes.pop(dt, 0)
        staged = write_part(self._root, self._table, self._run_id, dt, rows, f"{self._name}-{self._seq:04d}")
        self._seq += 1
        self._rows_written.inc(len(rows))
        self._files_written.inc()
        return staged

    def process(self, row: Dict[str, Any]) -> Iterator[StagedFile]:
        dt = row["dt"].isoformat()
        self._buffers[dt].append(row)
        size = len(row.get("text") or "") + self._ROW_OVERHEAD
        self._sizes[dt] += size
        self._buffered += size
        if len(self._buffers[dt]) >= self._max_rows or self._sizes[dt] >= self._max_bytes:
            yield self._flush(dt)
        while self._buffered > self._max_buffered and self._buffers:
            yield self._flush(max(self._sizes, key=self._sizes.__getitem__))

    def finish_bundle(self) -> Iterator[Any]:
        for dt in sorted(self._buffers):
            yield GlobalWindows.windowed_value(self._flush(dt))


@beam.typehints.with_input_types(Dict[str, Any])
@beam.typehints.with_output_types(StagedFile)
class WriteTable(beam.PTransform[beam.PCollection[Any], beam.PCollection[Any]]):
    """Rows of one table to staged Parquet files under ``ROOT/_staging/<run_id>``; outputs the
    :class:`StagedFile` records that :class:`CommitRun` makes visible."""

    def __init__(self, root: str, table: str, run_id: str, max_rows: int = DEFAULT_MAX_ROWS_PER_FILE,
                 max_bytes: int = 128 * 1024 * 1024, max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES):
        super().__init__()
        self._args = (root, table, run_id, max_rows, max_bytes, max_buffered_bytes)

    def expand(self, rows: beam.PCollection[Any]) -> beam.PCollection[Any]:
        return rows | "WriteParts" >> beam.ParDo(_WritePartsFn(*self._args))


@dataclasses.dataclass(frozen=True)
class Counted:
    """A PCollection counted for the run manifest by :class:`CommitRun`.

    ``key`` None: the number of elements, or the sum of ``value(element)`` when ``value`` is
    given; else a dict ``key(element) -> number of elements`` (empty when there are none)."""
    pcoll: Any
    key: Optional[Callable[[Any], Any]] = None
    value: Optional[Callable[[Any], int]] = None


_STAGED = "__staged_files__"


def _tally_item(element: Any, name: str, key: Optional[Callable[[Any], Any]],
                value: Optional[Callable[[Any], int]]) -> Tuple[str, Any, Any]:
    return name, (key(element) if key else None), (value(element) if value else 1)


class _TallyFn(beam.CombineFn):
    """Every count of the manifest and the staged file list, in one combine (one Beam stage
    instead of two per count: on a multi-process runner each stage costs a round trip)."""

    def __init__(self, scalars: Sequence[str], keyed: Sequence[str]):
        self._scalars = tuple(scalars)
        self._keyed = tuple(keyed)

    def create_accumulator(self) -> Dict[str, Any]:
        return {}

    def add_input(self, acc: Dict[str, Any], item: Tuple[str, Any, Any]) -> Dict[str, Any]:
        name, key, value = item
        if name == _STAGED:
            acc.setdefault(_STAGED, []).append(value)
        elif key is None:
            acc[name] = acc.get(name, 0) + value
        else:
            per_key = acc.setdefault(name, {})
            per_key[key] = per_key.get(key, 0) + value
        return acc

    def merge_accumulators(self, accs: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for acc in accs:
            for name, v in acc.items():
                if name == _STAGED:
                    out.setdefault(_STAGED, []).extend(v)
                elif isinstance(v, dict):
                    for k, n in v.items():
                        self.add_input(out, (name, k, n))
                else:
                    self.add_input(out, (name, None, v))
        return out

    def extract_output(self, acc: Dict[str, Any]) -> Dict[str, Any]:
        out = {name: acc.get(name, 0) for name in self._scalars}
        out.update({name: dict(acc.get(name, {})) for name in self._keyed})
        out[_STAGED] = list(acc.get(_STAGED, []))
        return out


class _CommitFn(beam.DoFn):
    def __init__(self, root: str, run_id: str, make_manifest: Callable[..., Dict[str, Any]]):
        self._root = root
        self._run_id = run_id
        self._make_manifest = make_manifest

    def process(self, tally: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        counts = dict(tally)
        staged: List[StagedFile] = counts.pop(_STAGED)
        staged.append(stage_marker(self._root, self._run_id))  # the run's ids are in the id index
        manifest = self._make_manifest(**counts)
        yield commit_run(self._root, self._run_id, staged, manifest)


@beam.typehints.with_input_types(StagedFile)
@beam.typehints.with_output_types(Dict[str, Any])
class CommitRun(beam.PTransform[beam.PCollection[Any], beam.PCollection[Any]]):
    """All staged files of a run, plus the run's counts (:class:`Counted` keyword arguments), to
    one commit: the files move into place and the manifest is written. ``make_manifest``
    receives the counts as keyword arguments and returns the manifest dict (without the file
    list). Files and counts are gathered by one combine."""

    def __init__(self, root: str, run_id: str, make_manifest: Callable[..., Dict[str, Any]], **counts: Counted):
        super().__init__()
        self._root = root
        self._run_id = run_id
        self._make_manifest = make_manifest
        self._counts = counts

    def expand(self, staged: beam.PCollection[Any]) -> beam.PCollection[Any]:
        parts = [staged | "TallyStagedFiles" >> beam.Map(lambda f: (_STAGED, None, f))]
        for name, counted in self._counts.items():
            parts.append(counted.pcoll | f"Tally_{name}" >> beam.Map(_tally_item, name, counted.key, counted.value))
        scalars = [n for n, c in self._counts.items() if c.key is None]
        keyed = [n for n, c in self._counts.items() if c.key is not None]
        return (tuple(parts)
                | "FlattenTallies" >> beam.Flatten()
                | "Tally" >> beam.CombineGlobally(_TallyFn(scalars, keyed))
                | "Commit" >> beam.ParDo(_CommitFn(self._root, self._run_id, self._make_manifest)))
