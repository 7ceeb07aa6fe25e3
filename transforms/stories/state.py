"""ROOT's story state: what the story clustering carries from one run to the next.

Layout (readers of the tables never look here: ``_`` names are hidden)::

    ROOT/_stories/<sequence>-<base>-<run_id>/state.json.gz       stories, word and name document counts
    ROOT/_stories/<sequence>-<base>-<run_id>/signatures.parquet  copy signatures (article, story, original, day)

A run stages its state under ``_staging/<run_id>/`` beside its table files, and
:func:`transforms.storage.sink.commit_run` moves all of them in one commit: a run that dies leaves the
previous state current; a committed run's state is its tables' state. The current state is the one
with the highest sequence whose run has a manifest.

**A run writes what it changed.** A state is a *snapshot* (every open story, every signature of the
horizon, the document counts) or a *delta* on the snapshot before it (the stories the run touched, its
new signatures, the counts after it). Loading reads the newest snapshot and the deltas after it; every
:data:`SNAPSHOT_EVERY` runs a snapshot is written again, and :func:`prune_states` removes what is
older than the chain before the current one. So a run writes O(its articles), and every
:data:`SNAPSHOT_EVERY`-th run O(horizon).

**A process remembers the state it committed.** After staging, the clusterer is kept in memory under
its (sequence, run id): when the next run in the same process (``watch`` ticks, ``stream`` windows,
a worker that stays up) finds that state current, it uses the clusterer instead of reading the files.
A run that failed to commit leaves another state current, and the files are read.

**Bounded by horizons** counted back from the newest article day seen (not the wall clock, so the
result does not depend on when runs happen): copy signatures for :data:`HORIZON_DAYS` (30) days,
open stories for two gaps of :attr:`transforms.stories.assign.Settings.gap_days` (a story takes no article
more than a gap after its last one). Closed stories keep their rows in the ``stories`` table. So the
state is that of the last 30 days of articles, whatever the dataset's size. The word counts grow with
the vocabulary (Heaps' law, far slower than the articles); past :data:`MAX_SEEN_TERMS` a snapshot drops
the words seen once.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import json
import posixpath
import re
import threading
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.storage.fs import filesystem, url_of
from transforms.storage.sink import StagedFile
from transforms.stories.assign import Settings, Story, StoryClusterer
from transforms.stories.copies import NUM_PERM, to_bytes

__all__ = ["StoryState", "StateDir", "load_state", "stage_state", "prune_states", "state_dirs", "HORIZON_DAYS",
           "MAX_SEEN_TERMS", "STATE_DIR", "FORMAT", "SNAPSHOT_EVERY", "forget_cached"]

HORIZON_DAYS = 30
SNAPSHOT_EVERY = 24
MAX_SEEN_TERMS = 500_000
STATE_DIR = "_stories"
FORMAT = 2
_NAME = re.compile(r"^(\d{10})-(\d{10})-(.+)$")
_SIGNATURES = pa.schema([
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("story_id", pa.string(), nullable=False),
    pa.field("original", pa.string()),
    pa.field("day", pa.date32(), nullable=False),
    pa.field("signature", pa.binary(), nullable=False),
])


class StateDir(NamedTuple):
    """A committed state folder: its sequence, run id, path and the sequence of its snapshot."""
    sequence: int
    run_id: str
    path: str
    base: int


@dataclasses.dataclass
class StoryState:
    """The clustering state of ROOT: its ``sequence`` (0 for a new ROOT), the ``run_id`` that wrote it,
    the sequence of the snapshot it builds on (``base``, 0: none) and the clusterer holding its stories
    and signatures."""
    sequence: int
    run_id: Optional[str]
    clusterer: StoryClusterer
    base: int = 0


_CACHE: Dict[str, StoryState] = {}
_CACHE_LOCK = threading.Lock()


def forget_cached(root: Optional[str] = None) -> None:
    """Drop the remembered state of ``root`` (of every ROOT when None)."""
    with _CACHE_LOCK:
        if root is None:
            _CACHE.clear()
        else:
            _CACHE.pop(_key(root), None)


def _key(root: str) -> str:
    fs, base = filesystem(root)
    return url_of(fs, base)


def state_dirs(root: str) -> List[StateDir]:
    """Every committed state, newest first."""
    fs, base = filesystem(root)
    folder = posixpath.join(base, STATE_DIR)
    if not fs.exists(folder):
        return []
    runs = posixpath.join(base, "_runs")
    found = []
    for path in fs.ls(folder, detail=False):
        m = _NAME.match(posixpath.basename(path.rstrip("/")))
        if m and fs.exists(posixpath.join(runs, f"{m.group(3)}.json")):
            found.append(StateDir(int(m.group(1)), m.group(3), path.rstrip("/"), int(m.group(2))))
    return sorted(found, reverse=True)


def _read_dir(fs: Any, path: str) -> Tuple[Dict[str, Any], List[Dict[str, Any]], np.ndarray]:
    with fs.open(posixpath.join(path, "state.json.gz"), "rb") as fh:
        data = json.loads(gzip.decompress(fh.read()).decode("utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"story state {path} has format {data.get('format')}, this version reads {FORMAT}; "
                         f"run 'newsbeam stories ROOT --rebuild'")
    with fs.open(posixpath.join(path, "signatures.parquet"), "rb") as fh:
        table = pq.read_table(fh)
    sigs = table.column("signature").combine_chunks()
    matrix = (np.frombuffer(sigs.buffers()[2], dtype="<u4")[:len(sigs) * NUM_PERM].reshape(len(sigs), NUM_PERM)
              if len(sigs) else np.zeros((0, NUM_PERM), dtype="<u4"))
    return data, table.drop(["signature"]).to_pylist(), matrix.astype(np.uint32)


def load_state(root: str, settings: Optional[Settings] = None) -> StoryState:
    """The current state of ROOT (an empty one for a ROOT without stories): the clusterer this process
    committed last when that is still current, else read from the newest snapshot and its deltas."""
    dirs = state_dirs(root)
    if not dirs:
        return StoryState(0, None, StoryClusterer(settings))
    sequence, run_id, _, base = dirs[0]
    with _CACHE_LOCK:
        cached = _CACHE.pop(_key(root), None)
    if (cached is not None and (cached.sequence, cached.run_id) == (sequence, run_id)
            and cached.clusterer.settings == (settings or Settings())):
        return cached
    fs, _ = filesystem(root)
    by_seq = {d.sequence: d.path for d in dirs}
    chain = list(range(base, sequence + 1))
    missing = [seq for seq in chain if seq not in by_seq]
    if missing:
        raise ValueError(f"story state {sequence} builds on states {missing} that are gone; run "
                         f"'newsbeam stories ROOT --rebuild'")
    clusterer = StoryClusterer(settings)
    stories: Dict[str, Dict[str, Any]] = {}
    horizon = HORIZON_DAYS
    for seq in chain:
        data, rows, matrix = _read_dir(fs, by_seq[seq])
        horizon = int(data["horizon_days"])
        for story in data["stories"]:
            stories[story["story_id"]] = story
        for row, sig in zip(rows, matrix):
            clusterer.copies.add(row["article_id"], sig, row["original"])
            clusterer.article_story[row["article_id"]] = row["story_id"]
            clusterer.article_day[row["article_id"]] = row["day"]
        if data["kind"] == "snapshot":
            clusterer.seen = dict(data["seen"])
        else:
            for k, v in data["seen"].items():
                clusterer.seen[k] = clusterer.seen.get(k, 0) + v
        clusterer.seen_docs = int(data["seen_docs"])
    for story in stories.values():
        clusterer.add_story(Story.from_json(story))
    state = StoryState(sequence, run_id, clusterer, base)
    _apply_horizon(state, horizon)
    clusterer.settle()
    return state


def _newest_day(clusterer: StoryClusterer) -> Optional[_dt.date]:
    days = list(clusterer.article_day.values()) + [s.last_day for s in clusterer.stories.values()]
    return max(days) if days else None


def _apply_horizon(state: StoryState, horizon_days: int) -> None:
    """Close the stories and drop the signatures beyond the horizons (see the module notes)."""
    c = state.clusterer
    newest = _newest_day(c)
    if newest is None:
        return
    c.close_before(newest - _dt.timedelta(days=2 * c.settings.gap_days))
    cutoff = newest - _dt.timedelta(days=horizon_days)
    old = [a for a, day in c.article_day.items() if day < cutoff]
    if old:
        for a in old:
            del c.article_day[a]
            c.article_story.pop(a, None)
        c.copies.keep(c.article_day)


def stage_state(root: str, run_id: str, state: StoryState, horizon_days: int = HORIZON_DAYS) -> List[StagedFile]:
    """Write the state after this run under ``_staging/<run_id>`` for
    :func:`transforms.storage.sink.commit_run` (its files go to ``ROOT/_stories/<sequence + 1>-<run_id>``): a
    delta of what the run changed, or a snapshot every :data:`SNAPSHOT_EVERY` runs. The clusterer is cut to
    the horizons, settled and remembered under its new sequence (see the module notes)."""
    c = state.clusterer
    sequence = state.sequence + 1
    snapshot = state.base == 0 or sequence - state.base >= SNAPSHOT_EVERY
    touched, added, seen_added = set(c.touched), list(c.added), dict(c.seen_added)
    _apply_horizon(state, horizon_days)
    if snapshot:
        if len(c.seen) > MAX_SEEN_TERMS:
            c.seen = {k: v for k, v in c.seen.items() if v > 1}
        stories = [c.stories[s].to_json() for s in sorted(c.stories)]
        ids = [a for a, _, _ in c.copies.entries()]
        seen = c.seen
    else:
        stories = [c.stories[s].to_json() for s in sorted(touched) if s in c.stories]
        ids = [a for a in added if a in c.copies]
        seen = seen_added
    rows = [{"article_id": a, "story_id": c.article_story[a], "original": c.copies.original_id(a),
             "day": c.article_day[a], "signature": to_bytes(c.copies.signature_of(a))} for a in ids]
    newest = _newest_day(c)
    base_seq = sequence if snapshot else state.base
    data = {"format": FORMAT, "kind": "snapshot" if snapshot else "delta", "sequence": sequence, "run_id": run_id,
            "base": base_seq, "horizon_days": horizon_days,
            "newest_day": newest.isoformat() if newest else None, "stories": stories, "seen": seen,
            "seen_docs": c.seen_docs}
    fs, base = filesystem(root)
    name = f"{sequence:010d}-{base_seq:010d}-{run_id}"
    staged_dir = posixpath.join(base, "_staging", run_id, STATE_DIR, name)
    final_dir = posixpath.join(base, STATE_DIR, name)
    fs.makedirs(staged_dir, exist_ok=True)
    with fs.open(posixpath.join(staged_dir, "state.json.gz"), "wb") as fh:
        fh.write(gzip.compress(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"), 6))
    with fs.open(posixpath.join(staged_dir, "signatures.parquet"), "wb") as fh:
        pq.write_table(pa.Table.from_pylist(rows, schema=_SIGNATURES), fh, compression="zstd")
    c.settle()
    remembered = StoryState(sequence, run_id, c, base_seq)
    with _CACHE_LOCK:
        _CACHE[_key(root)] = remembered
    return [StagedFile(STATE_DIR, "", url_of(fs, posixpath.join(staged_dir, f)), url_of(fs, posixpath.join(final_dir, f)),
                       n) for f, n in (("state.json.gz", len(stories)), ("signatures.parquet", len(rows)))]


def prune_states(root: str) -> List[str]:
    """Delete the states no load needs: those before the snapshot the newest state's snapshot follows (the
    chain before the current one is kept, one snapshot longer). Returns the folders removed."""
    dirs = state_dirs(root)
    bases = sorted({d.base for d in dirs}, reverse=True)
    if len(bases) < 2:
        return []
    fs, _ = filesystem(root)
    removed = []
    for d in dirs:
        if d.sequence < bases[1]:
            fs.rm(d.path, recursive=True)
            removed.append(d.path)
    return removed
