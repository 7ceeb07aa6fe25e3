"""The article-id index: deduplication against ROOT at the cost of the new records, not of the dataset.

Layout (hidden from readers of the tables)::

    ROOT/_ids/<bb>/<run_id>.ids      "<article_id> <dt> <run_id>" of the articles a run committed, bb = the id's
                                     first 2 hex digits
    ROOT/_ids/<bb>/merged-<...>.ids  a bucket's files merged into one
    ROOT/_ids/_runs/<run_id>         one marker per run whose ids are in the index

A run stages the ids of its new articles, one file per bucket, and its marker beside its table files;
:func:`transforms.storage.sink.commit_run` moves them in the same commit, so the index holds exactly the
committed runs' ids. A lookup (:func:`known`) reads only the buckets of the ids asked about: with 256
buckets, 1M articles are 4k ids per bucket.

Never trusted into losing an article:

* **coverage** (:func:`ensure_index`, at every run start): a committed run without a marker (written by an
  older version, or the index was deleted) makes the whole index be rebuilt from the tables;
* **exact check on hits** (:func:`known`): each line holds the id's ``dt`` and run; an id the index
  knows is confirmed in that run's ``articles`` files of that partition (all of the partition's files once
  a compaction has merged them) before it is counted a duplicate, so an index that holds an id the tables
  lack (files removed by hand) cannot drop a new article, and a hit costs a file or two, not a partition;
* a bucket with more than :data:`MAX_FILES` files is merged (:func:`merge_buckets`, after a commit, under
  the run lock); a merge killed half way leaves ids twice, which a set does not mind.
"""
from __future__ import annotations

import collections
import logging
import posixpath
import secrets
from typing import Dict, Iterable, List, Mapping, Optional, Set, Tuple

import fsspec
import pyarrow.parquet as pq

from transforms.storage.fs import filesystem, url_of
from transforms.storage.sink import StagedFile, committed_files

_LOGGER = logging.getLogger(__name__)

__all__ = ["INDEX_DIR", "MAX_FILES", "FileIds", "bucket_of", "of_job", "stage_ids", "stage_marker", "known", "ensure_index",
           "rebuild_index", "merge_buckets", "indexed_ids", "uncovered_runs"]

INDEX_DIR = "_ids"
MAX_FILES = 32


def bucket_of(article_id: str) -> str:
    return article_id[:2].lower()


def _write(fs: fsspec.AbstractFileSystem, path: str, lines: Iterable[str]) -> None:
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    with fs.open(path, "wb") as fh:
        fh.write("".join(f"{line}\n" for line in lines).encode("ascii"))


def stage_ids(root: str, run_id: str, ids: Mapping[str, str]) -> List[StagedFile]:
    """Stage ``ids`` (article_id -> its ``dt``, ISO) for the run's commit: one sorted file per bucket."""
    fs, base = filesystem(root)
    by_bucket: Dict[str, List[str]] = collections.defaultdict(list)
    for article_id, dt in ids.items():
        by_bucket[bucket_of(article_id)].append(f"{article_id} {dt} {run_id}")
    out = []
    for bb, lines in sorted(by_bucket.items()):
        rel = posixpath.join(INDEX_DIR, bb, f"{run_id}.ids")
        staged = posixpath.join(base, "_staging", run_id, rel)
        _write(fs, staged, sorted(lines))
        out.append(StagedFile(INDEX_DIR, bb, url_of(fs, staged), url_of(fs, posixpath.join(base, rel)), len(lines)))
    return out


def stage_marker(root: str, run_id: str) -> StagedFile:
    """The run's marker (its ids are in the index), for the run's commit."""
    fs, base = filesystem(root)
    rel = posixpath.join(INDEX_DIR, "_runs", run_id)
    staged = posixpath.join(base, "_staging", run_id, rel)
    _write(fs, staged, [])
    return StagedFile(INDEX_DIR, "", url_of(fs, staged), url_of(fs, posixpath.join(base, rel)), 0)


def _bucket_files(fs: fsspec.AbstractFileSystem, base: str, bb: str) -> List[str]:
    folder = posixpath.join(base, INDEX_DIR, bb)
    if not fs.exists(folder):
        return []
    return sorted(p for p in fs.ls(folder, detail=False) if not posixpath.basename(p).startswith((".", "_")))


def _read_bucket(fs: fsspec.AbstractFileSystem, base: str, bb: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for path in _bucket_files(fs, base, bb):
        with fs.open(path, "rb") as fh:
            for line in fh.read().decode("ascii").splitlines():
                if line:
                    article_id, _, where = line.partition(" ")
                    out[article_id] = where
    return out


def indexed_ids(root: str, buckets: Optional[Iterable[str]] = None) -> Dict[str, str]:
    """Every id of the index (of ``buckets`` only, when given) with where it is: ``"<dt> <run_id>"``."""
    fs, base = filesystem(root)
    if buckets is None:
        folder = posixpath.join(base, INDEX_DIR)
        buckets = [posixpath.basename(p) for p in (fs.ls(folder, detail=False) if fs.exists(folder) else [])
                   if not posixpath.basename(p).startswith("_")]
    out: Dict[str, str] = {}
    for bb in buckets:
        out.update(_read_bucket(fs, base, bb))
    return out


class FileIds:
    """The ``article_id`` column of committed ``articles`` files and the file lists of partitions, read
    once: the lookups of one run (one per index bucket) confirm their hits in the same few files."""

    def __init__(self) -> None:
        self.partitions: Dict[str, List[str]] = {}
        self.files: Dict[str, Set[str]] = {}

    def partition(self, root: str, dt: str) -> List[str]:
        if dt not in self.partitions:
            self.partitions[dt] = committed_files(root, "articles", dt=dt)
        return self.partitions[dt]

    def ids(self, fs: fsspec.AbstractFileSystem, path: str) -> Set[str]:
        if path not in self.files:
            with fs.open(path, "rb") as fh:
                self.files[path] = set(pq.read_table(fh, columns=["article_id"]).column("article_id").to_pylist())
        return self.files[path]


def of_job(run_id: str, job_id: str) -> bool:
    """Whether ``run_id`` is a window of the streaming job ``job_id`` (``<window start>-<job id>[-p<n>]``)."""
    rest = run_id.partition("-")[2]
    return rest == job_id or rest.startswith(f"{job_id}-p")


def known(root: str, ids: Iterable[str], cache: Optional[FileIds] = None, *,
          except_job: Optional[str] = None) -> Set[str]:
    """Those of ``ids`` that ROOT's ``articles`` already hold: looked up in their buckets, each hit
    confirmed in its partition's files (see the module notes). ``cache`` keeps the files read for the
    next lookup of the same run (committed files never change; a run's lock keeps others from adding).
    ``except_job``: not the articles of that streaming job's own windows (:func:`of_job`)."""
    fs, base = filesystem(root)
    cache = cache if cache is not None else FileIds()
    wanted = set(ids)
    hits: Dict[Tuple[str, str], Set[str]] = collections.defaultdict(set)  # (dt, run_id) -> ids
    for bb in sorted({bucket_of(i) for i in wanted}):
        for article_id, where in _read_bucket(fs, base, bb).items():
            if article_id in wanted:
                dt, _, run_id = where.partition(" ")
                if except_job and of_job(run_id, except_job):
                    continue
                hits[(dt, run_id)].add(article_id)
    confirmed: Set[str] = set()
    for (dt, run_id), candidates in hits.items():
        files = cache.partition(root, dt)
        own = [f for f in files if run_id and posixpath.basename(f).startswith(f"part-{run_id}-")]
        for path in own or files:  # the run's own files, else (merged by a compaction) the partition's
            confirmed |= candidates & cache.ids(fs, path)
    lost = set().union(*hits.values()) - confirmed if hits else set()
    if lost:
        _LOGGER.warning("the id index names %d article(s) that the articles table does not hold; they are "
                        "treated as new (newsbeam compact ROOT --index rebuilds the index)", len(lost))
    return confirmed


def _committed_runs(fs: fsspec.AbstractFileSystem, base: str) -> Set[str]:
    runs = posixpath.join(base, "_runs")
    if not fs.exists(runs):
        return set()
    names = [posixpath.basename(p) for p in fs.ls(runs, detail=False)]
    return {n[:-5] for n in names if n.endswith(".json") and not n.endswith(".commit.json") and ".tmp-" not in n}


def _markers(fs: fsspec.AbstractFileSystem, base: str) -> Set[str]:
    folder = posixpath.join(base, INDEX_DIR, "_runs")
    if not fs.exists(folder):
        return set()
    return {posixpath.basename(p) for p in fs.ls(folder, detail=False)}


def uncovered_runs(root: str) -> Set[str]:
    """Committed runs whose ids the index does not hold (no marker)."""
    fs, base = filesystem(root)
    return _committed_runs(fs, base) - _markers(fs, base)


def rebuild_index(root: str) -> int:
    """Rebuild the index from every committed ``articles`` file and mark every committed run; returns
    the number of ids. The caller holds the run lock."""
    fs, base = filesystem(root)
    runs = _committed_runs(fs, base)
    by_bucket: Dict[str, List[str]] = collections.defaultdict(list)
    n = 0
    for path in committed_files(root, "articles"):
        dt = posixpath.basename(posixpath.dirname(path)).partition("=")[2]
        with fs.open(path, "rb") as fh:
            table = pq.read_table(fh, columns=["article_id", "run_id"])
        for article_id, run_id in zip(table.column("article_id").to_pylist(), table.column("run_id").to_pylist()):
            by_bucket[bucket_of(article_id)].append(f"{article_id} {dt} {run_id}")
            n += 1
    folder = posixpath.join(base, INDEX_DIR)
    name = f"rebuilt-{secrets.token_hex(4)}.ids"
    old = {bb: _bucket_files(fs, base, bb) for bb in (
        posixpath.basename(p) for p in (fs.ls(folder, detail=False) if fs.exists(folder) else []))
        if not bb.startswith("_")}
    for bb, lines in by_bucket.items():  # written first: a rebuild killed half way leaves extra files only
        tmp = posixpath.join(folder, bb, f".tmp-{name}")
        _write(fs, tmp, sorted(set(lines)))
        fs.mv(tmp, posixpath.join(folder, bb, name))
    for files in old.values():
        for path in files:
            fs.rm(path)
    for run_id in sorted(runs):
        _write(fs, posixpath.join(folder, "_runs", run_id), [])
    _LOGGER.warning("rebuilt the id index of %s: %d ids of %d runs", root, n, len(runs))
    return n


def ensure_index(root: str) -> Tuple[bool, int]:
    """Rebuild the index when a committed run is not in it; returns (rebuilt, runs that were not)."""
    missing = uncovered_runs(root)
    if missing:
        _LOGGER.warning("%d committed run(s) are not in the id index (e.g. %s): rebuilding it", len(missing),
                        sorted(missing)[0])
        rebuild_index(root)
    return bool(missing), len(missing)


def merge_buckets(root: str, buckets: Iterable[str], max_files: int = MAX_FILES) -> int:
    """Merge each of ``buckets`` holding more than ``max_files`` files into one; returns how many were
    merged. The caller holds the run lock (no commit adds files meanwhile)."""
    fs, base = filesystem(root)
    merged = 0
    for bb in sorted(set(buckets)):
        files = _bucket_files(fs, base, bb)
        if len(files) <= max_files:
            continue
        lines = sorted(f"{i} {where}" for i, where in _read_bucket(fs, base, bb).items())
        name = f"merged-{secrets.token_hex(4)}.ids"
        tmp = posixpath.join(base, INDEX_DIR, bb, f".tmp-{name}")
        _write(fs, tmp, lines)
        fs.mv(tmp, posixpath.join(base, INDEX_DIR, bb, name))
        for path in files:
            fs.rm(path)
        merged += 1
    return merged
