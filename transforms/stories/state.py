"""ROOT's story state: what the story clustering carries from one run to the next.

Layout (readers of the tables never look here: ``_`` names are hidden)::

    ROOT/_stories/<sequence>-<run_id>/state.json.gz       open stories, word and name document counts
    ROOT/_stories/<sequence>-<run_id>/signatures.parquet  copy signatures of the articles within the horizon

A run stages its new state under ``_staging/<run_id>/`` beside its table files, and
:func:`transforms.storage.sink.commit_run` moves all of them in one commit: a run that dies leaves the
previous state current, a committed run's state is its tables' state. The current state is the one
with the highest sequence whose run has a manifest; :func:`prune_states` keeps the newest
:data:`KEEP`.

Bounded by the *horizon* (:data:`HORIZON_DAYS`, counted back from the newest article day seen, not the
wall clock, so the result does not depend on when runs happen): stories whose last article is older
are closed and dropped from the state (their rows stay in the ``stories`` table), and so are the
copy signatures of older articles. So a run reads and writes the state of the last 30 days of
articles, whatever the dataset's size. The word counts grow with the vocabulary (Heaps' law, far
slower than the articles); past :data:`MAX_SEEN_TERMS` the words seen once are dropped.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import json
import posixpath
import re
from typing import List, Optional, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.storage.fs import filesystem, url_of
from transforms.storage.sink import StagedFile
from transforms.stories.assign import Settings, Story, StoryClusterer
from transforms.stories.copies import CopyIndex, from_bytes, to_bytes

__all__ = ["StoryState", "load_state", "stage_state", "prune_states", "state_dirs", "HORIZON_DAYS", "KEEP",
           "MAX_SEEN_TERMS", "STATE_DIR", "FORMAT"]

HORIZON_DAYS = 30
KEEP = 2
MAX_SEEN_TERMS = 500_000
STATE_DIR = "_stories"
FORMAT = 1
_NAME = re.compile(r"^(\d{10})-(.+)$")
_SIGNATURES = pa.schema([
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("story_id", pa.string(), nullable=False),
    pa.field("original", pa.string()),
    pa.field("day", pa.date32(), nullable=False),
    pa.field("signature", pa.binary(), nullable=False),
])


@dataclasses.dataclass
class StoryState:
    """The clustering state of ROOT: its ``sequence`` (0 for a new ROOT), the ``run_id`` that wrote it
    and the clusterer holding its stories and signatures."""
    sequence: int
    run_id: Optional[str]
    clusterer: StoryClusterer


def state_dirs(root: str) -> List[Tuple[int, str, str]]:
    """``(sequence, run_id, path)`` of every committed state, newest first."""
    fs, base = filesystem(root)
    folder = posixpath.join(base, STATE_DIR)
    if not fs.exists(folder):
        return []
    runs = posixpath.join(base, "_runs")
    found = []
    for path in fs.ls(folder, detail=False):
        m = _NAME.match(posixpath.basename(path.rstrip("/")))
        if m and fs.exists(posixpath.join(runs, f"{m.group(2)}.json")):
            found.append((int(m.group(1)), m.group(2), path.rstrip("/")))
    return sorted(found, reverse=True)


def load_state(root: str, settings: Optional[Settings] = None) -> StoryState:
    """The current state of ROOT (an empty one for a ROOT without stories)."""
    dirs = state_dirs(root)
    if not dirs:
        return StoryState(0, None, StoryClusterer(settings))
    sequence, run_id, path = dirs[0]
    fs, _ = filesystem(root)
    with fs.open(posixpath.join(path, "state.json.gz"), "rb") as fh:
        data = json.loads(gzip.decompress(fh.read()).decode("utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"story state {path} has format {data.get('format')}, this version reads {FORMAT}")
    with fs.open(posixpath.join(path, "signatures.parquet"), "rb") as fh:
        signatures = pq.read_table(fh).to_pylist()
    copies = CopyIndex()
    copies.add_all((r["article_id"], from_bytes(r["signature"]), r["original"]) for r in signatures)
    clusterer = StoryClusterer(settings, [Story.from_json(s) for s in data["stories"]], copies,
                               {r["article_id"]: r["story_id"] for r in signatures},
                               data["seen"], int(data["seen_docs"]))
    clusterer.article_day.update({r["article_id"]: r["day"] for r in signatures})
    return StoryState(sequence, run_id, clusterer)


def _newest_day(clusterer: StoryClusterer) -> Optional[_dt.date]:
    days = list(clusterer.article_day.values()) + [s.last_day for s in clusterer.stories.values()]
    return max(days) if days else None


def stage_state(root: str, run_id: str, state: StoryState, horizon_days: int = HORIZON_DAYS) -> List[StagedFile]:
    """Write the clusterer's state, cut to the horizon, under ``_staging/<run_id>`` for
    :func:`transforms.storage.sink.commit_run`; the files it returns go to ``ROOT/_stories/<sequence + 1>-<run_id>``.
    The clusterer itself is cut too (its closed stories dropped)."""
    clusterer = state.clusterer
    newest = _newest_day(clusterer)
    cutoff = newest - _dt.timedelta(days=horizon_days) if newest else None
    if cutoff is not None:
        clusterer.close_before(cutoff)
    seen = clusterer.seen
    if len(seen) > MAX_SEEN_TERMS:
        seen = {k: v for k, v in seen.items() if v > 1}
    rows = [{"article_id": a, "story_id": clusterer.article_story[a], "original": original,
             "day": clusterer.article_day[a], "signature": to_bytes(sig)}
            for a, sig, original in clusterer.copies.entries()
            if a in clusterer.article_day and (cutoff is None or clusterer.article_day[a] >= cutoff)]
    stories = [clusterer.stories[s].to_json() for s in sorted(clusterer.stories)]
    data = {"format": FORMAT, "sequence": state.sequence + 1, "run_id": run_id, "horizon_days": horizon_days,
            "newest_day": newest.isoformat() if newest else None,
            "stories": stories, "seen": seen, "seen_docs": clusterer.seen_docs}
    fs, base = filesystem(root)
    name = f"{state.sequence + 1:010d}-{run_id}"
    staged_dir = posixpath.join(base, "_staging", run_id, STATE_DIR, name)
    final_dir = posixpath.join(base, STATE_DIR, name)
    fs.makedirs(staged_dir, exist_ok=True)
    with fs.open(posixpath.join(staged_dir, "state.json.gz"), "wb") as fh:
        fh.write(gzip.compress(json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"), 6))
    with fs.open(posixpath.join(staged_dir, "signatures.parquet"), "wb") as fh:
        pq.write_table(pa.Table.from_pylist(rows, schema=_SIGNATURES), fh, compression="zstd")
    return [StagedFile(STATE_DIR, "", url_of(fs, posixpath.join(staged_dir, f)), url_of(fs, posixpath.join(final_dir, f)),
                       n) for f, n in (("state.json.gz", len(stories)), ("signatures.parquet", len(rows)))]


def prune_states(root: str, keep: int = KEEP) -> List[str]:
    """Delete all but the newest ``keep`` committed states; returns the folders removed."""
    fs, _ = filesystem(root)
    removed = []
    for _, _, path in state_dirs(root)[keep:]:
        fs.rm(path, recursive=True)
        removed.append(path)
    return removed
