"""Compaction: merge a partition's many small Parquet files into a few of a sensible size.

Frequent runs leave many small files per ``dt`` partition; readers pay per file. Compaction
rewrites them, one partition at a time, without changing a row and without a reader ever seeing a
row twice or missing one. The protocol (all paths under ROOT):

``_locks/compact.lock``
    Held for the whole compaction, so two compactions never interleave. Runs do not need it:
    compaction only ever deletes files it has merged, and runs only add files with new names, so a
    file committed by a concurrent run is never touched (it is merged by the next compaction).

``_compactions/state.json``
    ``{"epoch": N, "active": null | {...}}``, replaced atomically (write, then move). ``active``
    describes the partition being swapped: its ``sources`` (files being replaced), its ``targets``
    (``[staged, final]`` pairs of merged files) and its ``phase``. Every change of state increments
    ``epoch`` and is written *before* the file changes it announces:

    1. merged files are written under ``_staging/<compaction_id>/`` and checked (row counts);
    2. state ``publishing``; the merged files are moved into the partition one by one;
    3. state ``published``; the source files are deleted one by one;
    4. state ``active: null``; the staging folder is removed.

:func:`snapshot_files` is the reader's half: read the state, list the files, read the state
again; if the epoch moved, list again. Within one epoch only one kind of change can be under way,
so the listing is resolved exactly: while ``publishing`` the (maybe partly moved) merged files are
ignored and the sources are all still there; while ``published`` the sources (maybe partly
deleted) are ignored and the merged files are all there. A reader that then finds a listed file
gone (deleted after the listing) lists again (see :mod:`transforms.dataset.query`).

A plain glob (``read_parquet('ROOT/articles/*/*.parquet')``) does not follow the protocol: between
steps 2 and 3 of one partition it can count that partition's rows twice. ``newsbeam query``,
``newsbeam report`` and :func:`snapshot_files` users never do.

A compaction killed half way is rolled forward by the next one (the merged files are complete
before step 2 starts); until then readers keep resolving the left-over state correctly.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import posixpath
import secrets
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

import schemas
from transforms.storage.fs import filesystem, read_json, url_of, write_json_atomic
from transforms.storage.locks import ExclusiveLock
from transforms.storage.sink import DEFAULT_MAX_BYTES_PER_FILE, DEFAULT_MAX_ROWS_PER_FILE, committed_files

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "SourceFile", "PartitionResult", "SchemaMismatch", "plan_groups", "conform", "snapshot_files",
    "read_state", "compact", "compaction_lock", "new_compaction_id", "iter_summary", "Rewrite",
]

Rewrite = Callable[[str, str, pa.Table], pa.Table]
"""``(table, dt, rows of the partition) -> its new rows`` (see :func:`compact`)."""

STATE = "_compactions/state.json"
LOCK = "_locks/compact.lock"


class SchemaMismatch(ValueError):
    """A file's columns cannot be expressed in this version's schema (written by newer code)."""


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One committed Parquet file and what its footer says."""
    path: str
    rows: int
    size: int
    schema_version: int


@dataclasses.dataclass(frozen=True)
class PartitionResult:
    """What compaction did to one partition."""
    table: str
    dt: str
    files_before: int
    files_after: int
    rows: int
    merged: Tuple[str, ...]
    skipped: str = ""


# --- planning and merging: pure functions -------------------------------------------------------

def plan_groups(files: Sequence[SourceFile], target_rows: int = DEFAULT_MAX_ROWS_PER_FILE,
                target_bytes: int = DEFAULT_MAX_BYTES_PER_FILE) -> List[List[SourceFile]]:
    """Groups of small files to merge into one file each, in file-name order.

    A file is small below half the target (rows and bytes); large files are left alone. Groups are
    filled greedily up to the target; a group of one file is dropped (nothing to merge).
    """
    small = [f for f in sorted(files, key=lambda f: f.path)
             if f.rows < target_rows // 2 and f.size < target_bytes // 2]
    groups: List[List[SourceFile]] = []
    current: List[SourceFile] = []
    rows = size = 0
    for f in small:
        if current and (rows + f.rows > target_rows or size + f.size > target_bytes):
            groups.append(current)
            current, rows, size = [], 0, 0
        current.append(f)
        rows += f.rows
        size += f.size
    if current:
        groups.append(current)
    return [g for g in groups if len(g) > 1]


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``: columns taken by name and cast; a column the file lacks (written
    before the table gained it) becomes nulls. Raises :class:`SchemaMismatch` for a column the
    schema does not know or a missing non-nullable one, rather than dropping data."""
    extra = [n for n in table.column_names if schemas.PARTITION_COLUMN != n and n not in schema.names]
    if extra:
        raise SchemaMismatch(f"columns {extra} are not in schema version {schemas.SCHEMA_VERSION}")
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        elif field.nullable or table.num_rows == 0:
            columns.append(pa.nulls(table.num_rows, field.type))
        else:
            raise SchemaMismatch(f"required column {field.name!r} is missing")
    return pa.Table.from_arrays(columns, schema=schema)


# --- the reader's half ---------------------------------------------------------------------------

def read_state(root: str) -> Dict[str, Any]:
    """The compaction state (``{"epoch": 0, "active": None}`` when no compaction ever ran)."""
    fs, base = filesystem(root)
    state: Dict[str, Any] = read_json(fs, posixpath.join(base, STATE), {"epoch": 0, "active": None})
    return state


def _resolve(files: List[str], table: str, active: Optional[Dict[str, Any]]) -> List[str]:
    if not active or active["table"] != table:
        return files
    if active["phase"] == "publishing":
        hidden = {final for _, final in active["targets"]}
    else:
        hidden = set(active["sources"])
    return [f for f in files if f not in hidden]


def snapshot_files(root: str, table: str, *, attempts: int = 200, as_urls: bool = True) -> List[str]:
    """Committed files of ``table`` that hold every row exactly once, even while a compaction is
    swapping files (see the module doc). URLs for remote file systems when ``as_urls``."""
    fs, _ = filesystem(root)
    for attempt in range(attempts):
        before = read_state(root)
        files = committed_files(root, table)
        after = read_state(root)
        if before.get("epoch") == after.get("epoch"):
            files = _resolve(files, table, before.get("active"))
            return [url_of(fs, f) for f in files] if as_urls else files
        time.sleep(min(0.001 * (attempt + 1), 0.05))
    raise RuntimeError(f"the files of {root}/{table} kept changing; try again")


# --- the writer's half ---------------------------------------------------------------------------

def new_compaction_id(now: Optional[_dt.datetime] = None) -> str:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return f"compact-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _write_state(fs: fsspec.AbstractFileSystem, base: str, epoch: int, active: Optional[Dict[str, Any]]) -> int:
    write_json_atomic(fs, posixpath.join(base, STATE), {"epoch": epoch, "active": active})
    return epoch


def compaction_lock(root: str) -> ExclusiveLock:
    """``ROOT/_locks/compact.lock``: two compactions never interleave (raises
    :class:`transforms.storage.locks.LockBusy` at once when another one holds it)."""
    return ExclusiveLock(root, "compact", purpose="another compaction")


def _footer(fs: fsspec.AbstractFileSystem, path: str) -> SourceFile:
    with fs.open(path, "rb") as fh:
        meta = pq.ParquetFile(fh).metadata
    version = int((meta.metadata or {}).get(b"newsbeam.schema_version", b"1"))
    return SourceFile(path, meta.num_rows, fs.size(path), version)


def _roll_forward(fs: fsspec.AbstractFileSystem, base: str, state: Dict[str, Any]) -> None:
    """Finish the swap that a killed compaction left in ``state['active']``."""
    active = state["active"]
    epoch = state["epoch"]
    if active["phase"] == "publishing":
        for staged, final in active["targets"]:
            if fs.exists(staged):
                fs.mv(staged, final)
            elif not fs.exists(final):
                raise RuntimeError(f"merged file {staged} is missing; {STATE} needs a look by hand")
        epoch = _write_state(fs, base, epoch + 1, dict(active, phase="published"))
    for source in active["sources"]:
        if fs.exists(source):
            fs.rm(source)
    _write_state(fs, base, epoch + 1, None)
    _LOGGER.warning("completed the interrupted compaction of %s dt=%s", active["table"], active["dt"])


def _merge_group(fs: fsspec.AbstractFileSystem, group: List[SourceFile], table: str) -> pa.Table:
    parts = []
    schema = schemas.file_schema(table)
    for source in group:
        with fs.open(source.path, "rb") as fh:
            parts.append(conform(pq.read_table(fh), schema))
    return pa.concat_tables(parts)


def _compact_partition(fs: fsspec.AbstractFileSystem, base: str, table: str, dt: str, files: List[str], compaction_id: str,
                       target_rows: int, target_bytes: int, epoch: int, dry_run: bool,
                       on_step: Callable[[str], None], rewrite: Optional[Rewrite] = None,
                       whole: bool = False) -> Tuple[PartitionResult, int]:
    sources = [_footer(fs, f) for f in files]
    total = sum(s.rows for s in sources)
    newer = [s.path for s in sources if s.schema_version > schemas.SCHEMA_VERSION]
    if newer:
        return PartitionResult(table, dt, len(files), len(files), total, (),
                               f"{len(newer)} file(s) have a newer schema version"), epoch
    ordered = sorted(sources, key=lambda f: f.path)
    if rewrite is None:
        groups = plan_groups(sources, target_rows, target_bytes)
    else:
        groups = [ordered] if whole else [[f] for f in ordered]
    merged_count = sum(len(g) for g in groups)
    result = PartitionResult(table, dt, len(files), len(files) - merged_count + len(groups), total, ())
    if not groups or dry_run:
        return result, epoch
    staging = posixpath.join(base, "_staging", compaction_id, table, f"dt={dt}")
    fs.makedirs(staging, exist_ok=True)
    targets: List[Tuple[str, str]] = []
    metadata = dict(schemas.file_schema(table).metadata)
    for n, group in enumerate(groups):
        try:
            data = _merge_group(fs, group, table)
        except SchemaMismatch as exc:
            return dataclasses.replace(result, files_after=len(files), skipped=str(exc)), epoch
        expected = data.num_rows
        if rewrite is not None:
            data = conform(rewrite(table, dt, data), schemas.file_schema(table))
            expected = data.num_rows
        name = f"part-{compaction_id}-{n:04d}.parquet"
        staged = posixpath.join(staging, name)
        meta = dict(metadata)
        meta[b"newsbeam.compacted_from"] = json.dumps([posixpath.basename(s.path) for s in group]).encode()
        with fs.open(staged, "wb") as fh:
            pq.write_table(data.replace_schema_metadata(meta), fh, compression="zstd")
        written = _footer(fs, staged)
        if written.rows != expected:
            raise RuntimeError(f"merged file {staged} has {written.rows} rows, expected {expected}; "
                               f"nothing was published")
        targets.append((staged, posixpath.join(base, table, f"dt={dt}", name)))
    replaced = [s.path for g in groups for s in g]
    active = {"table": table, "dt": dt, "compaction_id": compaction_id, "phase": "publishing",
              "sources": replaced, "targets": [list(t) for t in targets]}
    epoch = _write_state(fs, base, epoch + 1, active)
    on_step("publishing")
    for staged, final in targets:
        fs.mv(staged, final)
        on_step("moved")
    epoch = _write_state(fs, base, epoch + 1, dict(active, phase="published"))
    on_step("published")
    for path in replaced:
        fs.rm(path)
        on_step("deleted")
    epoch = _write_state(fs, base, epoch + 1, None)
    on_step("done")
    return dataclasses.replace(result, merged=tuple(f for _, f in targets)), epoch


def _partitions(root: str, table: str, since: Optional[_dt.date]) -> Dict[str, List[str]]:
    by_dt: Dict[str, List[str]] = {}
    for path in committed_files(root, table):
        dt = posixpath.basename(posixpath.dirname(path)).partition("=")[2]
        if since is None or _dt.date.fromisoformat(dt) >= since:
            by_dt.setdefault(dt, []).append(path)
    return dict(sorted(by_dt.items()))


def compact(root: str, tables: Sequence[str] = tuple(schemas.TABLES), *, since: Optional[_dt.date] = None,
            target_rows: int = DEFAULT_MAX_ROWS_PER_FILE, target_bytes: int = DEFAULT_MAX_BYTES_PER_FILE,
            dry_run: bool = False, compaction_id: Optional[str] = None,
            on_step: Optional[Callable[[str], None]] = None, rewrite: Optional[Rewrite] = None,
            whole: Sequence[str] = ()) -> List[PartitionResult]:
    """Compact every partition of ``tables`` (from ``since`` on) under the compaction lock.

    Returns one :class:`PartitionResult` per partition looked at. ``on_step`` is called with the
    protocol step names (``publishing``, ``moved``, ``published``, ``deleted``, ``done``); tests
    use it to run readers and writers between steps. Raises :class:`transforms.storage.locks.LockBusy`
    when another compaction holds the lock.

    ``rewrite(table, dt, data)``: every file is rewritten, whatever its size, with the rows ``rewrite``
    returns for its rows (the layout of files stays as it was); for the ``whole`` tables, every partition
    as one file with the rows returned for the whole partition. ``newsbeam stories --rebuild`` sets the
    story columns this way; the same swap protocol keeps readers exact.
    """
    fs, base = filesystem(root)
    compaction_id = compaction_id or new_compaction_id()
    step = on_step or (lambda _name: None)
    results: List[PartitionResult] = []
    with compaction_lock(root):
        state = read_state(root)
        if state.get("active"):
            _roll_forward(fs, base, state)
            state = read_state(root)
        epoch = int(state.get("epoch", 0))
        # staging left by a compaction killed before it published anything: only compactions write there
        for leftover in fs.glob(posixpath.join(base, "_staging", "compact-*")):
            fs.rm(leftover, recursive=True)
        try:
            for table in tables:
                for dt, files in _partitions(root, table, since).items():
                    result, epoch = _compact_partition(fs, base, table, dt, files, compaction_id, target_rows,
                                                       target_bytes, epoch, dry_run, step, rewrite,
                                                       table in whole)
                    if result.skipped:
                        _LOGGER.warning("left %s dt=%s as it is: %s", table, dt, result.skipped)
                    results.append(result)
        finally:
            staging = posixpath.join(base, "_staging", compaction_id)
            if fs.exists(staging) and not read_state(root).get("active"):
                fs.rm(staging, recursive=True)
    return results


def iter_summary(results: Sequence[PartitionResult]) -> Iterator[str]:
    """Lines for people: one per table, then the partitions left alone."""
    for table in dict.fromkeys(r.table for r in results):
        rs = [r for r in results if r.table == table]
        changed = [r for r in rs if r.files_after != r.files_before]
        yield (f"  {table}: {len(changed)} of {len(rs)} partitions compacted, "
               f"{sum(r.files_before for r in rs)} files -> {sum(r.files_after for r in rs)} files, "
               f"{sum(r.rows for r in rs)} rows")
    for r in results:
        if r.skipped:
            yield f"  left {r.table} dt={r.dt} as it is: {r.skipped}"
