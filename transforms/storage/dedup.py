"""Deduplication by article_id: within the run and against what ROOT already holds."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils import shared

from transforms.storage.sink import existing_article_ids

__all__ = ["Deduplicate", "pick_first", "DUPLICATES_TAG"]

DUPLICATES_TAG = "duplicates"


def pick_first(rows: Iterable[Dict[str, Any]]) -> Tuple[Dict[str, Any], list]:
    """The row kept among rows of one article_id (the first by input path, then record index,
    so the choice does not depend on the runner's order) and the others."""
    ordered = sorted(rows, key=lambda r: (r["input_path"], r["record_index"]))
    return ordered[0], ordered[1:]


class _IdSet:
    """A weak-referenceable holder for the id set, as ``shared.Shared`` requires."""

    def __init__(self, ids: frozenset):
        self.ids = ids


class _DedupFn(beam.DoFn):
    def __init__(self, root: str, run_id: str, handle: shared.Shared):
        self._root = root
        self._run_id = run_id
        self._handle = handle
        self._in_run = Metrics.counter("newsbeam", "duplicates_in_run")
        self._in_root = Metrics.counter("newsbeam", "duplicates_in_root")

    def setup(self) -> None:
        # One load of ROOT's ids per worker process, shared by all threads of the process.
        self._existing = self._handle.acquire(lambda: _IdSet(existing_article_ids(self._root)),
                                              tag=f"{self._root}|{self._run_id}")

    def process(self, element: Tuple[str, Iterable[Dict[str, Any]]]):
        article_id, rows = element
        keep, rest = pick_first(rows)
        for row in rest:
            self._in_run.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, _duplicate(row, "in_run"))
        if article_id in self._existing.ids:
            self._in_root.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, _duplicate(keep, "in_root"))
        else:
            yield keep


def _duplicate(row: Dict[str, Any], reason: str) -> Dict[str, Any]:
    return {"article_id": row["article_id"], "input_path": row["input_path"],
            "record_index": row["record_index"], "reason": reason}


class Deduplicate(beam.PTransform):
    """Articles to unique articles (main) and ``duplicates`` (article_id, input_path,
    record_index, reason ``in_run`` | ``in_root``)."""

    def __init__(self, root: str, run_id: str):
        super().__init__()
        self._root = root
        self._run_id = run_id

    def expand(self, articles):
        return (articles
                | "KeyByArticleId" >> beam.Map(lambda row: (row["article_id"], row))
                | "GroupByArticleId" >> beam.GroupByKey()
                | "KeepFirst" >> beam.ParDo(_DedupFn(self._root, self._run_id, shared.Shared())).with_outputs(
                    DUPLICATES_TAG, main="articles"))
