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
"""
from __future__ import annotations

import dataclasses
import json
import logging
import posixpath
import secrets
from typing import Any, Dict, Iterable, List, Optional, Tuple

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

import schemas

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "StagedFile", "write_part", "commit_run", "recover", "committed_files", "existing_article_ids",
    "staging_dir", "runs_dir", "ensure_writable", "load_manifest", "DEFAULT_MAX_ROWS_PER_FILE",
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


def _fs(root: str) -> Tuple[fsspec.AbstractFileSystem, str]:
    fs, path = fsspec.core.url_to_fs(root)
    return fs, path.rstrip("/") or "/"


def _url(fs: fsspec.AbstractFileSystem, path: str) -> str:
    return fs.unstrip_protocol(path) if not isinstance(fs, fsspec.implementations.local.LocalFileSystem) else path


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
    fs, base = _fs(root)
    value = _partition_value(dt)
    schema = schemas.file_schema(table)
    data = pa.Table.from_pylist([{k: row.get(k) for k in schema.names} for row in rows], schema=schema)
    file_name = f"part-{run_id}-{name}.parquet"
    rel = posixpath.join(table, f"dt={value}", file_name)
    staged = posixpath.join(base, "_staging", run_id, rel)
    fs.makedirs(posixpath.dirname(staged), exist_ok=True)
    with fs.open(staged, "wb") as fh:
        pq.write_table(data, fh, compression="zstd")
    return StagedFile(table, value, _url(fs, staged), _url(fs, posixpath.join(base, rel)), len(rows))


def new_writer_name() -> str:
    """A short random token naming one writer (bundle) within a run."""
    return secrets.token_hex(4)


def _write_json(fs: fsspec.AbstractFileSystem, path: str, obj: Any) -> None:
    """Write JSON atomically: to a temporary name, then move."""
    tmp = path + f".tmp-{secrets.token_hex(4)}"
    with fs.open(tmp, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, default=str)
    fs.mv(tmp, path)


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
    fs, base = _fs(root)
    files = sorted(staged, key=lambda s: s.final)
    manifest = dict(manifest)
    manifest["files"] = [{"table": s.table, "dt": s.dt, "path": s.final, "rows": s.rows} for s in files]
    runs = posixpath.join(base, "_runs")
    fs.makedirs(runs, exist_ok=True)
    journal = posixpath.join(runs, f"{run_id}.commit.json")
    _write_json(fs, journal, {"run_id": run_id, "moves": [[s.staged, s.final] for s in files], "manifest": manifest})
    _finish_commit(fs, base, run_id, [(s.staged, s.final) for s in files], manifest, journal)
    return manifest


def _finish_commit(fs, base: str, run_id: str, moves: List[Tuple[str, str]], manifest: Dict[str, Any], journal: str) -> None:
    _apply_moves(fs, moves)
    _write_json(fs, posixpath.join(base, "_runs", f"{run_id}.json"), manifest)
    fs.rm(journal)
    staging = posixpath.join(base, "_staging", run_id)
    if fs.exists(staging):
        fs.rm(staging, recursive=True)


def recover(root: str) -> List[str]:
    """Roll forward every commit that a killed run left half done; returns their run ids."""
    fs, base = _fs(root)
    runs = posixpath.join(base, "_runs")
    done = []
    if not fs.exists(runs):
        return done
    for journal in sorted(fs.glob(posixpath.join(runs, "*.commit.json"))):
        with fs.open(journal, "r") as fh:
            state = json.load(fh)
        _finish_commit(fs, base, state["run_id"], [tuple(m) for m in state["moves"]], state["manifest"], journal)
        _LOGGER.warning("completed the interrupted commit of run %s", state["run_id"])
        done.append(state["run_id"])
    return done


def committed_files(root: str, table: str) -> List[str]:
    """Committed Parquet files of ``table`` (never staged or hidden ones)."""
    fs, base = _fs(root)
    pattern = posixpath.join(base, table, "dt=*", "*.parquet")
    return sorted(p for p in fs.glob(pattern) if not posixpath.basename(p).startswith(("_", ".")))


def existing_article_ids(root: str) -> frozenset:
    """article_ids already committed under ``ROOT/articles`` (empty for a new ROOT)."""
    fs, _ = _fs(root)
    ids: set = set()
    for path in committed_files(root, "articles"):
        with fs.open(path, "rb") as fh:
            column = pq.read_table(fh, columns=["article_id"]).column("article_id")
        ids.update(column.to_pylist())
    return frozenset(ids)


def ensure_writable(root: str) -> None:
    """Create ROOT if needed and prove it is writable; raises OSError with the reason."""
    fs, base = _fs(root)
    runs = posixpath.join(base, "_runs")
    fs.makedirs(runs, exist_ok=True)
    probe = posixpath.join(runs, f".probe-{secrets.token_hex(4)}")
    with fs.open(probe, "wb") as fh:
        fh.write(b"ok")
    fs.rm(probe)


def load_manifest(root: str, run_id: str) -> Optional[Dict[str, Any]]:
    """The manifest of a committed run, or None."""
    fs, base = _fs(root)
    path = posixpath.join(base, "_runs", f"{run_id}.json")
    if not fs.exists(path):
        return None
    with fs.open(path, "r") as fh:
        return json.load(fh)
