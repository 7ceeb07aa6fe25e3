"""Atomic, hive-partitioned Parquet output on any fsspec file system.

Layout::

    ROOT/<table>/dt=YYYY-MM-DD/part-<run_id>-<writer>-<n>.parquet   committed data
    ROOT/_staging/<run_id>/...                                        files being written
    ROOT/_runs/<run_id>.commit.json                                   commit journal (while moving)
    ROOT/_runs/<run_id>.json                                          run manifest (run committed)

A run writes every file under ``_staging`` (readers skip ``_`` names), then commits: it writes a
journal that lists every move and the manifest, moves the files into place, writes the manifest
and removes the journal. A run that dies before the journal leaves nothing visible; one that dies
while moving is rolled forward by :func:`recover` at the start of the next run, so a run is
either entirely visible or not at all once recovery has run.

Runs of ``newsbeam run`` on one ROOT take turns: :class:`transforms.storage.locks.run_lock` (``ROOT/_locks/run.lock``) is held
from recovery to the commit, so a run's deduplication always sees every article committed before
it, and two runs started together write each article once (the second counts them ``in_root``).
:func:`remove_orphans` clears what killed runs left under ``_staging`` and ``_runs``.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import posixpath
import secrets
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

import schemas
from transforms.storage.fs import filesystem, url_of, write_json_atomic

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "StagedFile", "write_part", "rewrite_part", "commit_run", "recover", "committed_files", "new_writer_name",
    "staging_dir", "runs_dir", "ensure_writable", "load_manifest", "DEFAULT_MAX_ROWS_PER_FILE",
    "DEFAULT_MAX_BYTES_PER_FILE", "remove_orphans", "ORPHAN_AGE_SECONDS",
]

DEFAULT_MAX_ROWS_PER_FILE = 50_000
DEFAULT_MAX_BYTES_PER_FILE = 128 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class StagedFile:
    """A Parquet file written under ``_staging`` and where it goes on commit."""
    table: str
    dt: str
    staged: str
    final: str
    rows: int


def staging_dir(root: str, run_id: str) -> str:
    return posixpath.join(root.rstrip("/"), "_staging", run_id)


def runs_dir(root: str) -> str:
    return posixpath.join(root.rstrip("/"), "_runs")


def _partition_value(dt: Any) -> str:
    """``dt`` as a partition folder value; only ``YYYY-MM-DD`` is ever produced, so a value can
    never name another folder (no ``/`` or ``..``)."""
    import datetime as _dt

    if isinstance(dt, _dt.datetime):
        dt = dt.date()
    if not isinstance(dt, _dt.date):
        dt = _dt.date.fromisoformat(str(dt))
    return dt.isoformat()


def write_part(root: str, table: str, run_id: str, dt: Any, rows: List[Dict[str, Any]], name: str) -> StagedFile:
    """Write ``rows`` of ``table`` for partition ``dt`` to one staged Parquet file.

    ``name`` makes the file name unique within the run (``part-<run_id>-<name>.parquet``). Rows are
    checked against ``schemas``: a row that does not fit raises, since that is a bug, not bad input.
    """
    fs, base = filesystem(root)
    value = _partition_value(dt)
    schema = schemas.file_schema(table)
    data = pa.Table.from_pylist([{k: row.get(k) for k in schema.names} for row in rows], schema=schema)
    file_name = f"part-{run_id}-{name}.parquet"
    rel = posixpath.join(table, f"dt={value}", file_name)
    staged = posixpath.join(base, "_staging", run_id, rel)
    fs.makedirs(posixpath.dirname(staged), exist_ok=True)
    with fs.open(staged, "wb") as fh:
        pq.write_table(data, fh, compression="zstd")
    return StagedFile(table, value, url_of(fs, staged), url_of(fs, posixpath.join(base, rel)), len(rows))


def rewrite_part(staged: StagedFile, fn: Callable[[Dict[str, Any]], Dict[str, Any]]) -> StagedFile:
    """Rewrite a staged file (not yet committed) in place with ``fn`` applied to each row: a commit that
    finds some rows were written with fields it has since changed (the stream's story fields)."""
    fs, path = fsspec.core.url_to_fs(staged.staged)
    with fs.open(path, "rb") as fh:
        table = pq.read_table(fh)
    rows = [fn(row) for row in table.to_pylist()]
    data = pa.Table.from_pylist([{k: row.get(k) for k in table.schema.names} for row in rows], schema=table.schema)
    with fs.open(path, "wb") as fh:
        pq.write_table(data, fh, compression="zstd")
    return dataclasses.replace(staged, rows=len(rows))


def new_writer_name() -> str:
    """A short random token naming one writer (bundle) within a run."""
    return secrets.token_hex(4)


def _apply_moves(fs: fsspec.AbstractFileSystem, moves: Iterable[Tuple[str, str]]) -> None:
    for staged, final in moves:
        s_path = fsspec.core.url_to_fs(staged)[1]
        f_path = fsspec.core.url_to_fs(final)[1]
        if fs.exists(s_path):
            fs.makedirs(posixpath.dirname(f_path), exist_ok=True)
            fs.mv(s_path, f_path)
        elif not fs.exists(f_path):
            raise FileNotFoundError(f"staged file {staged} is missing and was never committed")


def commit_run(root: str, run_id: str, staged: Iterable[StagedFile], manifest: Dict[str, Any]) -> Dict[str, Any]:
    """Make a run's staged files visible and write its manifest (see the module doc)."""
    fs, base = filesystem(root)
    files = sorted(staged, key=lambda s: s.final)
    manifest = dict(manifest)
    manifest["files"] = [{"table": s.table, "dt": s.dt, "path": s.final, "rows": s.rows} for s in files]
    runs = posixpath.join(base, "_runs")
    fs.makedirs(runs, exist_ok=True)
    journal = posixpath.join(runs, f"{run_id}.commit.json")
    write_json_atomic(fs, journal, {"run_id": run_id, "moves": [[s.staged, s.final] for s in files], "manifest": manifest})
    _finish_commit(fs, base, run_id, [(s.staged, s.final) for s in files], manifest, journal)
    return manifest


def _finish_commit(fs: fsspec.AbstractFileSystem, base: str, run_id: str, moves: List[Tuple[str, str]],
                   manifest: Dict[str, Any], journal: str) -> None:
    _apply_moves(fs, moves)
    write_json_atomic(fs, posixpath.join(base, "_runs", f"{run_id}.json"), manifest)
    fs.rm(journal)
    staging = posixpath.join(base, "_staging", run_id)
    if fs.exists(staging):
        fs.rm(staging, recursive=True)


def recover(root: str) -> List[str]:
    """Roll forward every commit that a killed run left half done; returns their run ids."""
    fs, base = filesystem(root)
    runs = posixpath.join(base, "_runs")
    done: List[str] = []
    if not fs.exists(runs):
        return done
    for journal in sorted(fs.glob(posixpath.join(runs, "*.commit.json"))):
        with fs.open(journal, "r") as fh:
            state = json.load(fh)
        _finish_commit(fs, base, state["run_id"], [tuple(m) for m in state["moves"]], state["manifest"], journal)
        _LOGGER.warning("completed the interrupted commit of run %s", state["run_id"])
        done.append(state["run_id"])
    return done


def committed_files(root: str, table: str, dt: Optional[str] = None) -> List[str]:
    """Committed Parquet files of ``table`` (never staged or hidden ones); of partition ``dt`` only, when given."""
    fs, base = filesystem(root)
    pattern = posixpath.join(base, table, f"dt={_partition_value(dt)}" if dt else "dt=*", "*.parquet")
    return sorted(p for p in fs.glob(pattern) if not posixpath.basename(p).startswith(("_", ".")))


def ensure_writable(root: str) -> None:
    """Create ROOT if needed and prove it is writable; raises OSError with the reason."""
    fs, base = filesystem(root)
    runs = posixpath.join(base, "_runs")
    fs.makedirs(runs, exist_ok=True)
    probe = posixpath.join(runs, f".probe-{secrets.token_hex(4)}")
    with fs.open(probe, "wb") as fh:
        fh.write(b"ok")
    fs.rm(probe)


def load_manifest(root: str, run_id: str) -> Optional[Dict[str, Any]]:
    """The manifest of a committed run, or None."""
    fs, base = filesystem(root)
    path = posixpath.join(base, "_runs", f"{run_id}.json")
    if not fs.exists(path):
        return None
    with fs.open(path, "r") as fh:
        return json.load(fh)


ORPHAN_AGE_SECONDS = 6 * 3600
"""Staging of a run whose newest file is older than this, with no commit journal, is a killed run's."""


def _newest_mtime(fs: fsspec.AbstractFileSystem, path: str) -> Optional[float]:
    newest = None
    for info in fs.find(path, withdirs=True, detail=True).values():
        mtime = info.get("mtime") or info.get("updated") or info.get("LastModified") or info.get("created")
        if hasattr(mtime, "timestamp"):
            mtime = mtime.timestamp()
        if isinstance(mtime, (int, float)):
            newest = mtime if newest is None else max(newest, mtime)
    return newest


def remove_orphans(root: str, *, older_than: float = ORPHAN_AGE_SECONDS, now: Optional[float] = None) -> List[str]:
    """Delete what killed runs left behind and nobody reads: ``_staging/<run_id>`` folders without a
    commit journal (never committed, so never visible) and ``_runs/*.tmp-*`` half-written JSON,
    when their newest file is older than ``older_than`` seconds (a run still writing is younger;
    ``newsbeam compact``'s own staging is left to it). Call after :func:`recover`; returns the paths
    removed."""
    fs, base = filesystem(root)
    now = time.time() if now is None else now
    removed: List[str] = []
    runs = posixpath.join(base, "_runs")
    staging_root = posixpath.join(base, "_staging")
    candidates: List[str] = []
    if fs.exists(staging_root):
        for path in fs.ls(staging_root, detail=False):
            run_id = posixpath.basename(path.rstrip("/"))
            if run_id.startswith("compact-") or fs.exists(posixpath.join(runs, f"{run_id}.commit.json")):
                continue
            candidates.append(path)
    if fs.exists(runs):
        candidates += [p for p in fs.glob(posixpath.join(runs, "*.tmp-*"))]
    for path in candidates:
        try:
            newest = _newest_mtime(fs, path)
            if newest is not None and now - newest < older_than:
                continue
            fs.rm(path, recursive=True)
        except OSError as exc:  # gone meanwhile, or not ours to delete: never fail a run for it
            _LOGGER.debug("left %s: %s", path, exc)
            continue
        removed.append(path)
        _LOGGER.warning("removed %s left by a killed run", path)
    return removed
