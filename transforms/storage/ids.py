"""All article ids committed in ROOT, loaded at once: what the stream's dedup checks entries against when
a worker starts (once per job, not per window). Batch runs and the page fetcher look ids up in the id
index instead (:mod:`transforms.storage.idindex`), at the cost of the new records. Loading reads the
``article_id`` column of every committed ``articles`` file, once per worker process and scope
(:func:`shared_article_ids`).
"""
from __future__ import annotations

import posixpath
from typing import FrozenSet, Optional, Set

import pyarrow.parquet as pq
from apache_beam.utils import shared

from transforms.storage.fs import filesystem
from transforms.storage.sink import committed_files

__all__ = ["ArticleIds", "existing_article_ids", "shared_article_ids"]


class ArticleIds:
    """A set of article ids in a weak-referenceable holder, as ``shared.Shared`` requires."""

    def __init__(self, ids: FrozenSet[str]) -> None:
        self.ids = ids

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)


def existing_article_ids(root: str, except_job: Optional[str] = None) -> FrozenSet[str]:
    """article_ids already committed under ``ROOT/articles`` (empty for a new ROOT); with
    ``except_job``, not those of that streaming job's own windows (files named
    ``part-<window start>-<job id>-...``), which its expiring dedup state governs."""
    fs, _ = filesystem(root)
    ids: Set[str] = set()
    own = f"-{except_job}-" if except_job else None
    for path in committed_files(root, "articles"):
        if own and own in posixpath.basename(path):
            continue
        with fs.open(path, "rb") as fh:
            column = pq.read_table(fh, columns=["article_id"]).column("article_id")
        ids.update(column.to_pylist())
    return frozenset(ids)


def shared_article_ids(handle: shared.Shared, root: Optional[str], *, scope: str,
                       except_job: Optional[str] = None) -> ArticleIds:
    """ROOT's article ids through ``handle``: loaded once per worker process for one ``scope``
    (a run id or a job id) and shared by its threads; empty when ``root`` is None. Call from a
    DoFn's ``setup``."""
    def load() -> ArticleIds:
        return ArticleIds(existing_article_ids(root, except_job=except_job) if root else frozenset())

    return handle.acquire(load, tag=f"article-ids|{root}|{scope}|{except_job or ''}")
