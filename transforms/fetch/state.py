"""State kept in ``ROOT/_state`` between runs: conditional-GET validators and feed backoff.

Validators (ETag / Last-Modified) must never be trusted before the articles of the response that
gave them are committed: a run killed after fetching but before its commit would otherwise get
``304 Not Modified`` next time and lose those entries for good. So a run only writes *pending*
validators::

    ROOT/_state/http.json                         validators of committed runs
    ROOT/_state/http-pending/<run_id>/<n>.json    validators seen by run <run_id>

and :func:`load_validators` uses a pending file only once ``ROOT/_runs/<run_id>.json`` (the
manifest, written last by the commit) exists. :func:`compact_validators` folds committed pending
files into ``http.json`` (atomically) and drops those of runs that died; the watch loop calls it
after every tick, and correctness never depends on it being called.

Feed backoff (``ROOT/_state/feeds.json``): consecutive failures per feed URL and the time before
which the feed is skipped, for ``newsbeam watch``.
"""
from __future__ import annotations

import datetime as _dt
import logging
import posixpath
import secrets
from typing import Any, Dict, Iterable, List, Tuple

import fsspec

from transforms.storage.fs import filesystem, read_json, write_json_atomic

_LOGGER = logging.getLogger(__name__)

__all__ = ["load_validators", "write_pending_validators", "compact_validators", "load_backoff",
           "update_backoff", "save_backoff", "due_feeds", "STATE_DIR"]

STATE_DIR = "_state"
ORPHAN_AGE = _dt.timedelta(days=2)
"""Pending validators of a run that never committed are removed after this long."""


def _read_json(fs: fsspec.AbstractFileSystem, path: str, default: Any) -> Any:
    # a damaged state file costs a full fetch, never the run
    return read_json(fs, path, default, damaged_ok=True)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _pending_runs(fs: fsspec.AbstractFileSystem, base: str) -> List[str]:
    pending = posixpath.join(base, STATE_DIR, "http-pending")
    if not fs.exists(pending):
        return []
    return sorted(posixpath.basename(p.rstrip("/")) for p in fs.ls(pending, detail=False))


def _committed(fs: fsspec.AbstractFileSystem, base: str, run_id: str) -> bool:
    return fs.exists(posixpath.join(base, "_runs", f"{run_id}.json"))


def _merge(into: Dict[str, Dict[str, str]], updates: Dict[str, Dict[str, Any]]) -> None:
    for url, entry in updates.items():
        old = into.get(url)
        if old and old.get("fetched_at", "") > entry.get("fetched_at", ""):
            continue
        if entry.get("etag") or entry.get("last_modified"):
            into[url] = entry
        else:
            into.pop(url, None)  # the server stopped sending validators


def _committed_pending(fs: fsspec.AbstractFileSystem, base: str) -> Tuple[Dict[str, Dict[str, Any]], List[str], List[str]]:
    """Validators of committed runs' pending files; committed run ids; orphaned run ids."""
    merged: Dict[str, Dict[str, Any]] = {}
    committed, orphans = [], []
    for run_id in _pending_runs(fs, base):
        folder = posixpath.join(base, STATE_DIR, "http-pending", run_id)
        files = sorted(fs.glob(posixpath.join(folder, "*.json")))
        if _committed(fs, base, run_id):
            committed.append(run_id)
            for path in files:
                _merge(merged, _read_json(fs, path, {}).get("validators", {}))
        else:
            created = [_read_json(fs, p, {}).get("created_at", "") for p in files]
            if not files or all(c and c < (_now() - ORPHAN_AGE).isoformat() for c in created):
                orphans.append(run_id)
    return merged, committed, orphans


def load_validators(root: str) -> Dict[str, Dict[str, str]]:
    """URL -> ``{"etag": ..., "last_modified": ...}`` from committed runs only (read-only)."""
    fs, base = filesystem(root)
    validators = _read_json(fs, posixpath.join(base, STATE_DIR, "http.json"), {}).get("validators", {})
    merged, _, _ = _committed_pending(fs, base)
    _merge(validators, merged)
    return validators


def write_pending_validators(root: str, run_id: str, validators: Dict[str, Dict[str, Any]]) -> str:
    """Record the validators run ``run_id`` received; they count once the run has committed.
    Each entry should carry ``fetched_at`` (ISO time) so that the newest wins on merge."""
    fs, base = filesystem(root)
    path = posixpath.join(base, STATE_DIR, "http-pending", run_id, f"{secrets.token_hex(6)}.json")
    write_json_atomic(fs, path, {"run_id": run_id, "created_at": _now().isoformat(), "validators": validators})
    return path


def compact_validators(root: str) -> int:
    """Fold committed pending validators into ``http.json`` and drop old orphans; returns how many
    pending runs were folded."""
    fs, base = filesystem(root)
    path = posixpath.join(base, STATE_DIR, "http.json")
    state = _read_json(fs, path, {})
    validators = state.get("validators", {})
    merged, committed, orphans = _committed_pending(fs, base)
    if committed:
        _merge(validators, merged)
        write_json_atomic(fs, path, {"version": 1, "validators": validators})
    for run_id in committed + orphans:
        fs.rm(posixpath.join(base, STATE_DIR, "http-pending", run_id), recursive=True)
    return len(committed)


# ------------------------------------------------------------------ feed backoff (watch)

def _backoff_path(base: str) -> str:
    return posixpath.join(base, STATE_DIR, "feeds.json")


def load_backoff(root: str) -> Dict[str, Dict[str, Any]]:
    """URL -> ``{"failures": n, "retry_at": ISO time, "last_error": ...}`` for failing feeds."""
    fs, base = filesystem(root)
    return _read_json(fs, _backoff_path(base), {}).get("feeds", {})


def save_backoff(root: str, feeds: Dict[str, Dict[str, Any]]) -> None:
    fs, base = filesystem(root)
    write_json_atomic(fs, _backoff_path(base), {"version": 1, "feeds": feeds})


def due_feeds(urls: Iterable[str], backoff: Dict[str, Dict[str, Any]], now: _dt.datetime) -> Tuple[List[str], List[str]]:
    """(feeds to fetch now, feeds still backing off)."""
    due: List[str] = []
    waiting: List[str] = []
    for url in urls:
        retry_at = (backoff.get(url) or {}).get("retry_at")
        (waiting if retry_at and retry_at > now.isoformat() else due).append(url)
    return due, waiting


def update_backoff(backoff: Dict[str, Dict[str, Any]], attempted: Iterable[str], failed: Dict[str, str],
                   now: _dt.datetime, *, base: float, cap: float) -> Dict[str, Dict[str, Any]]:
    """New backoff state after a tick: a feed that failed ``n`` times in a row is skipped for
    ``base * (2**(n-1) - 1)`` seconds (at most ``cap``): with ``base`` the watch interval, it is
    tried again at the next tick after one failure, then skips 1, 3, 7... ticks. A feed that
    worked is forgotten."""
    out = dict(backoff)
    for url in attempted:
        if url in failed:
            n = (out.get(url) or {}).get("failures", 0) + 1
            wait = min(cap, base * (2 ** min(n - 1, 30) - 1))
            out[url] = {"failures": n, "retry_at": (now + _dt.timedelta(seconds=wait)).isoformat(),
                        "last_error": failed[url][:300]}
        else:
            out.pop(url, None)
    return out
