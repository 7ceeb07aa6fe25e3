"""One atomic commit per stream window (``newsbeam stream``): a window's table rows are written in
shards by many workers (:class:`WriteShards`, one staged file per table, partition and shard of article
ids), then the file records and the counts meet on one key and are committed together with
:func:`transforms.storage.sink.commit_run` under the run id ``<window start>-<job id>``; a retried
bundle finds the manifest and does not write again.

The tagged items (``(kind, value)``) :class:`WriteWindows` takes:

``("read", 1)``
    one input record entered the pipeline (a polled entry, or a feed-level read/parse error):
    the window's ``records_read``, counted where records enter, independently of the rows.
``("article", row)``, ``("entity", row)``, ``("event", row)``
    table rows (their ``run_id`` is set when they are written).
``("error", (RecordError, ingested_at or None))``
    an error row (None: the window's start, for NLP errors, which have no tick of their own).
``("duplicate", reason)``, ``("poll", url)``, ``("skipped", n)``
    counts: a dropped duplicate, one feed polled (the manifest's ``files``), non-English articles.
``("profile", value)``, ``("plan", value)``
    what a ``prepare`` step needs beside the file records (the story profiles and the stories planned for
    the window, :mod:`transforms.stories.stage`), in :attr:`WindowRows.profiles` and :attr:`WindowRows.plans`.

The row kinds become commit items on the way (what the commit sees, with the counts):
``("staged", StagedFile)``, ``("rows", (table, n))``, ``("shard_ids", (staged path, article ids))``,
``("error_stages", {stage: n})`` and ``("new_ids", {article_id: dt})``. ``fields`` (optional, a
PCollection of ``(article_id, value)`` in the same windows) is joined to the rows of the tables in
``attach`` (table -> ``attach(row, value)``), which set the rows' fields before they are written: the
story fields the stream plans for the window beforehand.

The commit holds ROOT's run lock (:class:`transforms.storage.locks.run_lock`): windows and batch runs
on one ROOT take turns, and ``prepare(root, run_id, rows)``, called under the lock before the
commit, may change the counts, add rows (written at the commit), rewrite staged files whose fields it
finds stale (:func:`transforms.storage.sink.rewrite_part`) and return more staged files for the same
commit (the stream's story step: :func:`transforms.stories.stage.window_stories`).
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as _dt
import functools
import zlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.records import error_row
from transforms.storage.idindex import INDEX_DIR, merge_buckets, stage_ids, stage_marker
from transforms.storage.locks import run_lock
from transforms.storage.manifest import make_manifest
from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE, StagedFile, commit_run, load_manifest, write_part

__all__ = ["WriteWindows", "WriteShards", "WindowRows", "tally_window", "window_run_id", "Prepare", "Attach",
           "TABLES", "DEFAULT_SHARDS", "JoinFields"]

TABLES = {"article": "articles", "entity": "entities", "event": "events", "error": "errors"}
"""Row kinds and their tables."""
DEFAULT_SHARDS = 16

Attach = Callable[[Dict[str, Any], Any], Dict[str, Any]]
"""``attach(row, value)``: the row with its fields from ``value`` (None when the window's ``fields`` have
none for its article)."""


@dataclasses.dataclass
class WindowRows:
    """What a window's commit sees: rows written at the commit by table (those ``prepare`` adds), the
    counts (the keyword arguments of ``make_manifest``) and the files written beforehand."""
    tables: Dict[str, List[Dict[str, Any]]]
    counts: Dict[str, Any]
    profiles: List[Any] = dataclasses.field(default_factory=list)
    staged: List[StagedFile] = dataclasses.field(default_factory=list)
    """Files :class:`WriteShards` wrote for the window, committed with it."""
    shard_ids: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
    """Staged path -> the article ids of its rows (files of tables an ``attach`` sets fields of)."""
    plans: List[Any] = dataclasses.field(default_factory=list)
    new_ids: Dict[str, str] = dataclasses.field(default_factory=dict)
    """The window's article ids and their ``dt``, for the id index."""


def window_run_id(start: _dt.datetime, job_id: str, pane_index: int = 0) -> str:
    """``<window start>-<job id>`` (``-p<n>`` for a late pane): a retry computes the same id."""
    return f"{start:%Y%m%dT%H%M%SZ}-{job_id}" + (f"-p{pane_index}" if pane_index else "")


def tally_window(items: Iterable[Tuple[str, Any]], run_id: str) -> WindowRows:
    """The file records and counts of one window's commit items (see the module notes). Every count is
    taken from its own kind of item: ``records_read`` from the ``read`` items, never from the rows
    it is checked against, so the manifest's ``balanced`` is false when a record was lost. Files staged
    under another run id (another pane of the window) are not the window's."""
    duplicates: Dict[str, int] = collections.Counter()
    by_stage: Dict[str, int] = collections.Counter()
    rows: Dict[str, int] = collections.Counter()
    read = polls = skipped = 0
    out = WindowRows({}, {})
    own = f"/_staging/{run_id}/"
    for kind, value in items:
        if kind == "read":
            read += value
        elif kind == "duplicate":
            duplicates[value] += 1
        elif kind == "poll":
            polls += 1
        elif kind == "skipped":
            skipped += value
        elif kind == "profile":
            out.profiles.append(value)
        elif kind == "plan":
            out.plans.append(value)
        elif kind == "staged":
            if own in value.staged:
                out.staged.append(value)
        elif kind == "rows":
            rows[value[0]] += value[1]
        elif kind == "shard_ids":
            out.shard_ids[value[0]] = list(value[1])
        elif kind == "error_stages":
            by_stage.update(value)
        elif kind == "new_ids":
            out.new_ids.update(value)
        else:
            raise ValueError(f"unknown window item kind {kind!r}")
    out.counts = {"files": polls, "records_read": read, "articles": rows["articles"],
                  "duplicates": dict(duplicates), "errors_by_stage": dict(by_stage),
                  "entities": rows["entities"], "events": rows["events"], "entities_skipped_language": skipped}
    return out


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
        rows = tally_window(items, run_id)
        with run_lock(self._root):
            done = load_manifest(self._root, run_id)
            if done is not None:  # committed by a retry that got the lock first
                yield done
                return
            extra = self._prepare(self._root, run_id, rows) if self._prepare else []
            staged = _write_tables(self._root, run_id, rows.tables, self._max_rows) + list(extra) + rows.staged
            staged += stage_ids(self._root, run_id, rows.new_ids) + [stage_marker(self._root, run_id)]
            manifest = self._manifest_fn(run_id=run_id, started_at=start.isoformat(), **rows.counts)
            manifest["window"] = {"start": start.isoformat(),
                                  "end": window.end.to_utc_datetime(has_tz=True).isoformat(), "pane": pane.index}
            self._windows.inc()
            committed = commit_run(self._root, run_id, staged, manifest)
            merge_buckets(self._root, {s.dt for s in staged if s.table == INDEX_DIR and s.dt})
            yield committed


def _shard_key(row: Dict[str, Any]) -> str:
    """What a row's shard is hashed from: its article id (an article's rows of every table meet in the
    same shard number), else (an error row without an article) its record."""
    return row.get("article_id") or f"{row.get('input_path')}#{row.get('record_index')}"


class _WriteShardFn(beam.DoFn):
    def __init__(self, root: str, job_id: str, table: str, max_rows: int, track_ids: bool) -> None:
        self._root = root
        self._job_id = job_id
        self._table = table
        self._max_rows = max_rows
        self._track_ids = track_ids

    def process(self, element: Tuple[Tuple[str, int], Iterable[Dict[str, Any]]], window: Any = beam.DoFn.WindowParam,
                pane: Any = beam.DoFn.PaneInfoParam) -> Iterator[Tuple[str, Any]]:
        (dt, shard), rows = element
        run_id = window_run_id(window.start.to_utc_datetime(has_tz=True), self._job_id, pane.index)
        if load_manifest(self._root, run_id) is not None:  # a retry after the window's commit: nothing to add
            return
        part = sorted((dict(r, run_id=run_id) for r in rows), key=_shard_key)  # the same file from a retry
        for n, i in enumerate(range(0, len(part), self._max_rows)):
            chunk = part[i:i + self._max_rows]
            name = f"{self._table[:2]}{dt.replace('-', '')}-s{shard:03d}-{n:04d}"  # fixed names: a retry overwrites
            staged = write_part(self._root, self._table, run_id, dt, chunk, name)
            yield "staged", staged
            if self._track_ids:
                yield "shard_ids", (staged.staged, sorted({r["article_id"] for r in chunk if r.get("article_id")}))
        yield "rows", (self._table, len(part))
        if self._table == "articles":
            yield "new_ids", {r["article_id"]: dt for r in part}
        elif self._table == "errors":
            yield "error_stages", dict(collections.Counter(r["stage"] for r in part))


def _set_fields(element: Tuple[str, Dict[str, List[Any]]], attach: Attach) -> Iterator[Dict[str, Any]]:
    _, grouped = element
    value = grouped["fields"][0] if grouped["fields"] else None
    for row in grouped["rows"]:
        yield attach(row, value)


@beam.typehints.with_input_types(Dict[str, Any])
@beam.typehints.with_output_types(Dict[str, Any])
class JoinFields(beam.PTransform[beam.PCollection[Any], beam.PCollection[Any]]):
    """Rows joined by article id to ``fields`` (``(article_id, value)``, the same windows) and returned as
    ``attach(row, value)`` (value None for an article without one): a join, not a side input, so it waits
    for the fields the same way on every runner."""

    def __init__(self, fields: beam.PCollection[Any], attach: Attach) -> None:
        super().__init__()
        self._fields = fields
        self._attach = attach

    def expand(self, rows: beam.PCollection[Any]) -> beam.PCollection[Any]:
        return ({"rows": rows | "KeyByArticle" >> beam.Map(lambda r: (r["article_id"], r)), "fields": self._fields}
                | "JoinFields" >> beam.CoGroupByKey()
                | "SetFields" >> beam.FlatMap(_set_fields, self._attach))


@beam.typehints.with_input_types(Dict[str, Any])
@beam.typehints.with_output_types(Tuple[str, Any])
class WriteShards(beam.PTransform[beam.PCollection[Any], beam.PCollection[Any]]):
    """Windowed rows of ``table`` to staged files of their window's run, one per partition and shard (a hash
    of the article id), so a busy window is written by many workers; outputs the commit items of the files
    (see the module notes). With ``fields`` (``(article_id, value)`` in the same windows), each row is
    joined to its article's value and written as ``attach(row, value)``.

    Cost: one shuffle of the rows by shard, and one more by article id with ``fields`` (a join, not a side
    input: it waits for the window's fields the same way on every runner)."""

    def __init__(self, root: str, job_id: str, table: str, *, shards: int = DEFAULT_SHARDS,
                 max_rows: int = DEFAULT_MAX_ROWS_PER_FILE, attach: Optional[Attach] = None,
                 fields: Optional[beam.PCollection[Any]] = None) -> None:
        super().__init__()
        if (attach is None) != (fields is None):
            raise ValueError("attach and fields go together")
        self._fn = _WriteShardFn(root, job_id, table, max_rows, track_ids=fields is not None)
        self._shards = shards
        self._fields = fields
        self._attach = attach

    def expand(self, rows: beam.PCollection[Any]) -> beam.PCollection[Any]:
        shards = self._shards
        if self._fields is not None and self._attach is not None:
            rows = rows | "Join" >> JoinFields(self._fields, self._attach)
        return (rows
                | "KeyByPartitionAndShard" >> beam.Map(
                    lambda r: ((r["dt"].isoformat(), zlib.crc32(_shard_key(r).encode()) % shards), r))
                | "GroupShard" >> beam.GroupByKey()
                | "WriteShard" >> beam.ParDo(self._fn))


class _SplitRowsFn(beam.DoFn):
    """Row items to their table's output (an error to its row, ingested at the window's start when it has
    no time of its own); every other item to the commit."""

    def process(self, item: Tuple[str, Any], window: Any = beam.DoFn.WindowParam) -> Iterator[Any]:
        kind, value = item
        if kind == "error":
            err, ingested_at = value
            yield beam.pvalue.TaggedOutput("errors", dict(error_row(
                err, "", ingested_at or window.start.to_utc_datetime(has_tz=True))))
        elif kind in TABLES:
            yield beam.pvalue.TaggedOutput(TABLES[kind], value)
        else:
            yield item


@beam.typehints.with_input_types(Tuple[str, Any])
@beam.typehints.with_output_types(Dict[str, Any])
class WriteWindows(beam.PTransform[beam.PCollection[Any], beam.PCollection[Any]]):
    """Tagged items in fixed windows (see the module notes) to one committed run per window;
    outputs the manifests. ``inputs`` and ``options`` are recorded in every manifest; ``prepare`` is
    called before each commit, ``fields`` and ``attach`` set fields of the rows (see the module notes).

    Cost: a window's rows are written by up to ``shards`` workers per table and partition; what meets on
    one worker (a single key) is small: a record per staged file, the counts, the new article ids and
    whatever ``prepare`` needs (the story profiles, a few KB per article).
    """

    def __init__(self, root: str, job_id: str, *, max_rows: int, inputs: List[str], options: Dict[str, Any],
                 prepare: Optional[Prepare] = None, fields: Optional[beam.PCollection[Any]] = None,
                 attach: Optional[Mapping[str, Attach]] = None, shards: int = DEFAULT_SHARDS) -> None:
        super().__init__()
        manifest_fn = functools.partial(make_manifest, inputs=list(inputs), options=dict(options))
        self._fn = _CommitWindowFn(root, job_id, max_rows, manifest_fn, prepare)
        attach = dict(attach or {}) if fields is not None else {}
        self._writers = {table: WriteShards(root, job_id, table, shards=shards, max_rows=max_rows,
                                            attach=attach.get(table), fields=fields if table in attach else None)
                         for table in TABLES.values()}

    def expand(self, tagged: beam.PCollection[Any]) -> beam.PCollection[Any]:
        split = tagged | "SplitRows" >> beam.ParDo(_SplitRowsFn()).with_outputs(*TABLES.values(), main="commit")
        written = [split[table] | f"Write{table.title()}" >> writer for table, writer in self._writers.items()]
        return ((split.commit, *written)
                | "CommitItems" >> beam.Flatten()
                | "OneKeyPerWindow" >> beam.Map(lambda item: ("window", item))
                | "GroupWindow" >> beam.GroupByKey()
                | "CommitWindow" >> beam.ParDo(self._fn))
