"""One atomic commit per stream window (``newsbeam stream``): all tagged rows of a window
(articles, entities, events, error rows, and the counts) are grouped, written with
:func:`transforms.storage.sink.write_part` and committed together with
:func:`transforms.storage.sink.commit_run` under the run id ``<window start>-<job id>``; a retried
bundle finds the manifest and does not write again.

The tagged items (``(kind, value)``):

``("read", 1)``
    one input record entered the pipeline (a polled entry, or a feed-level read/parse error):
    the window's ``records_read``, counted where records enter, independently of the rows.
``("article", row)``, ``("entity", row)``, ``("event", row)``
    table rows (their ``run_id`` is set here).
``("error", (RecordError, ingested_at or None))``
    an error row (None: the window's start, for NLP errors, which have no tick of their own).
``("duplicate", reason)``, ``("poll", url)``, ``("skipped", n)``
    counts: a dropped duplicate, one feed polled (the manifest's ``files``), non-English articles.
``("profile", value)``
    anything a ``prepare`` step needs beside the rows (the story profiles), in :attr:`WindowRows.profiles`.
``("staged", StagedFile)``
    a file of the window written beforehand by :class:`WriteShards` (the ``entities`` rows, most of a
    window's rows: written by many workers, one file per partition and shard), committed with the window;
    ``("rows", (table, n))`` counts its rows.

The commit holds ROOT's run lock (:class:`transforms.storage.locks.run_lock`): windows and batch runs
on one ROOT take turns, and ``prepare(root, run_id, rows)``, called under the lock before the
tables are written, may change the rows and counts and return more staged files for the same commit
(the stream's story step: :func:`transforms.stories.stage.window_stories`).
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as _dt
import functools
import zlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.records import error_row
from transforms.storage.idindex import INDEX_DIR, merge_buckets, stage_ids, stage_marker
from transforms.storage.locks import run_lock
from transforms.storage.manifest import make_manifest
from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE, StagedFile, commit_run, load_manifest, write_part

__all__ = ["WriteWindows", "WriteShards", "WindowRows", "tally_window", "window_run_id", "Prepare"]

_TABLE_KINDS = {"article": "articles", "entity": "entities", "event": "events"}


@dataclasses.dataclass
class WindowRows:
    """A window's rows by table and its counts (the keyword arguments of ``make_manifest``)."""
    tables: Dict[str, List[Dict[str, Any]]]
    counts: Dict[str, Any]
    profiles: List[Any] = dataclasses.field(default_factory=list)
    staged: List[StagedFile] = dataclasses.field(default_factory=list)
    """Files :class:`WriteShards` wrote for the window, committed with it."""


def window_run_id(start: _dt.datetime, job_id: str, pane_index: int = 0) -> str:
    """``<window start>-<job id>`` (``-p<n>`` for a late pane): a retry computes the same id."""
    return f"{start:%Y%m%dT%H%M%SZ}-{job_id}" + (f"-p{pane_index}" if pane_index else "")


def tally_window(items: Iterable[Tuple[str, Any]], run_id: str, start: _dt.datetime) -> WindowRows:
    """The rows and counts of one window's tagged items (see the module notes). Every count is
    taken from its own kind of item: ``records_read`` from the ``read`` items, never from the
    rows it is checked against, so the manifest's ``balanced`` is false when a record was lost."""
    tables: Dict[str, List[Dict[str, Any]]] = {t: [] for t in ("articles", "entities", "events", "errors")}
    duplicates: Dict[str, int] = collections.Counter()
    read = polls = skipped = 0
    profiles: List[Any] = []
    pre_staged: List[StagedFile] = []
    pre_rows: Dict[str, int] = collections.Counter()
    for kind, value in items:
        if kind in _TABLE_KINDS:
            tables[_TABLE_KINDS[kind]].append(dict(value, run_id=run_id))
        elif kind == "error":
            err, ingested_at = value
            tables["errors"].append(dict(error_row(err, run_id, ingested_at or start)))
        elif kind == "read":
            read += value
        elif kind == "duplicate":
            duplicates[value] += 1
        elif kind == "poll":
            polls += 1
        elif kind == "skipped":
            skipped += value
        elif kind == "profile":
            profiles.append(value)
        elif kind == "staged":
            pre_staged.append(value)
        elif kind == "rows":
            pre_rows[value[0]] += value[1]
        else:
            raise ValueError(f"unknown window item kind {kind!r}")
    by_stage = collections.Counter(e["stage"] for e in tables["errors"])
    counts = {"files": polls, "records_read": read, "articles": len(tables["articles"]),
              "duplicates": dict(duplicates), "errors_by_stage": dict(by_stage),
              "entities": len(tables["entities"]) + pre_rows["entities"],
              "events": len(tables["events"]) + pre_rows["events"],
              "entities_skipped_language": skipped}
    return WindowRows(tables, counts, profiles, pre_staged)


def _write_tables(root: str, run_id: str, tables: Dict[str, List[Dict[str, Any]]], max_rows: int) -> List[StagedFile]:
    staged = []
    for table, rows in tables.items():
        by_dt: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
        for row in rows:
            by_dt[row["dt"].isoformat()].append(row)
        for dt in sorted(by_dt):
            part = by_dt[dt]
            for n, i in enumerate(range(0, len(part), max_rows)):
                name = f"{table[:2]}{dt.replace('-', '')}-{n:04d}"  # fixed names: a retry overwrites
                staged.append(write_part(root, table, run_id, dt, part[i:i + max_rows], name))
    return staged


Prepare = Callable[[str, str, WindowRows], List[StagedFile]]


class _CommitWindowFn(beam.DoFn):
    def __init__(self, root: str, job_id: str, max_rows: int, manifest_fn: Callable[..., Dict[str, Any]],
                 prepare: Optional[Prepare] = None) -> None:
        self._root = root
        self._job_id = job_id
        self._max_rows = max_rows
        self._manifest_fn = manifest_fn
        self._prepare = prepare
        self._windows = Metrics.counter("newsbeam", "windows_committed")

    def process(self, element: Tuple[str, Iterable[Tuple[str, Any]]], window: Any = beam.DoFn.WindowParam,
                pane: Any = beam.DoFn.PaneInfoParam) -> Iterator[Dict[str, Any]]:
        _, items = element
        start = window.start.to_utc_datetime(has_tz=True)
        run_id = window_run_id(start, self._job_id, pane.index)
        done = load_manifest(self._root, run_id)
        if done is not None:  # a retried bundle: the window is already committed
            yield done
            return
        rows = tally_window(items, run_id, start)
        with run_lock(self._root):
            done = load_manifest(self._root, run_id)
            if done is not None:  # committed by a retry that got the lock first
                yield done
                return
            extra = self._prepare(self._root, run_id, rows) if self._prepare else []
            staged = (_write_tables(self._root, run_id, rows.tables, self._max_rows) + list(extra)
                      + [f for f in rows.staged if "/_staging/" + run_id + "/" in f.staged])
            new_ids = {r["article_id"]: r["dt"].isoformat() for r in rows.tables["articles"]}
            staged += stage_ids(self._root, run_id, new_ids) + [stage_marker(self._root, run_id)]
            manifest = self._manifest_fn(run_id=run_id, started_at=start.isoformat(), **rows.counts)
            manifest["window"] = {"start": start.isoformat(),
                                  "end": window.end.to_utc_datetime(has_tz=True).isoformat(), "pane": pane.index}
            self._windows.inc()
            committed = commit_run(self._root, run_id, staged, manifest)
            merge_buckets(self._root, {s.dt for s in staged if s.table == INDEX_DIR and s.dt})
            yield committed


class _WriteShardFn(beam.DoFn):
    def __init__(self, root: str, job_id: str, table: str, max_rows: int) -> None:
        self._root = root
        self._job_id = job_id
        self._table = table
        self._max_rows = max_rows

    def process(self, element: Tuple[Tuple[str, int], Iterable[Dict[str, Any]]], window: Any = beam.DoFn.WindowParam,
                pane: Any = beam.DoFn.PaneInfoParam) -> Iterator[Tuple[str, Any]]:
        (dt, shard), rows = element
        run_id = window_run_id(window.start.to_utc_datetime(has_tz=True), self._job_id, pane.index)
        part = [dict(r, run_id=run_id) for r in rows]
        for n, i in enumerate(range(0, len(part), self._max_rows)):
            name = f"{self._table[:2]}{dt.replace('-', '')}-s{shard:03d}-{n:04d}"  # fixed names: a retry overwrites
            yield "staged", write_part(self._root, self._table, run_id, dt, part[i:i + self._max_rows], name)
        yield "rows", (self._table, len(part))


@beam.typehints.with_input_types(Dict[str, Any])
@beam.typehints.with_output_types(Tuple[str, Any])
class WriteShards(beam.PTransform[beam.PCollection[Any], beam.PCollection[Any]]):
    """Windowed rows of ``table`` to staged files of their window's run, one per partition and shard (a hash
    of the article id), so a busy window's biggest table is written by many workers; outputs the
    ``("staged", ...)`` and ``("rows", ...)`` items :class:`WriteWindows` commits with the window."""

    def __init__(self, root: str, job_id: str, table: str, *, shards: int = 16,
                 max_rows: int = DEFAULT_MAX_ROWS_PER_FILE) -> None:
        super().__init__()
        self._fn = _WriteShardFn(root, job_id, table, max_rows)
        self._shards = shards

    def expand(self, rows: beam.PCollection[Any]) -> beam.PCollection[Any]:
        shards = self._shards
        return (rows
                | "KeyByPartitionAndShard" >> beam.Map(
                    lambda r: ((r["dt"].isoformat(), zlib.crc32(r["article_id"].encode()) % shards), r))
                | "GroupShard" >> beam.GroupByKey()
                | "WriteShard" >> beam.ParDo(self._fn))


@beam.typehints.with_input_types(Tuple[str, Any])
@beam.typehints.with_output_types(Dict[str, Any])
class WriteWindows(beam.PTransform[beam.PCollection[Any], beam.PCollection[Any]]):
    """Tagged items in fixed windows (see the module notes) to one committed run per window;
    outputs the manifests. ``inputs`` and ``options`` are recorded in every manifest; ``prepare`` is
    called before each commit (see the module notes).

    Cost: a window's items meet on one worker (a single key): its articles, events and errors (the story
    step sets their story fields under the run lock, in order) and the file records of the entities, which
    :class:`WriteShards` wrote on many workers beforehand.
    """

    def __init__(self, root: str, job_id: str, *, max_rows: int, inputs: List[str], options: Dict[str, Any],
                 prepare: Optional[Prepare] = None) -> None:
        super().__init__()
        manifest_fn = functools.partial(make_manifest, inputs=list(inputs), options=dict(options))
        self._fn = _CommitWindowFn(root, job_id, max_rows, manifest_fn, prepare)

    def expand(self, tagged: beam.PCollection[Any]) -> beam.PCollection[Any]:
        return (tagged
                | "OneKeyPerWindow" >> beam.Map(lambda item: ("window", item))
                | "GroupWindow" >> beam.GroupByKey()
                | "CommitWindow" >> beam.ParDo(self._fn))
