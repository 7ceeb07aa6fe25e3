"""Deduplication by article_id, against what ROOT already holds.

* :class:`Deduplicate` (batch): within the run (one row per article_id, chosen independently of
  the runner's order), then against ROOT through the id index (:mod:`transforms.storage.idindex`): the
  run's articles meet per index bucket, each bucket is read once, and the ids of the new articles are
  staged into the index for the run's commit. Cost: the buckets the run touches, not the dataset.
* :class:`DedupEntries` (stream): stateful dedup in the global window, keyed by the entry's
  article id: the first sighting goes on, later ones are dropped. The state expires ``ttl`` after
  the *last* sighting (an event-time timer that every sighting pushes forward), so memory is
  bounded by the entries seen in the last ``ttl``. A first sighting that another run (a batch run,
  an earlier stream job) has committed to ROOT is dropped too: looked up in the id index when it is
  seen, a bundle's sightings together, so the cost is that of the new entries, not of the dataset,
  and an article a batch run committed while the job runs is known. The job's own windows are left
  to the state, so whether an expired entry comes back does not depend on when a worker restarted.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.coders import BooleanCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Duration
from apache_beam.utils.windowed_value import WindowedValue

from transforms.normalise.articles import entry_article_id
from transforms.normalise.urls import article_id
from transforms.records import RawArticle
from transforms.storage.idindex import FileIds, bucket_of, known, stage_ids

__all__ = ["Deduplicate", "DedupEntries", "pick_first", "entry_key", "DUPLICATES_TAG", "STAGED_TAG"]

DUPLICATES_TAG = "duplicates"
STAGED_TAG = "staged"


def pick_first(rows: Iterable[Dict[str, Any]]) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """The row kept among rows of one article_id (the first by input path, then record index,
    so the choice does not depend on the runner's order) and the others."""
    ordered = sorted(rows, key=lambda r: (r["input_path"], r["record_index"]))
    return ordered[0], ordered[1:]


class _PickFirstFn(beam.DoFn):
    def __init__(self) -> None:
        self._in_run = Metrics.counter("newsbeam", "duplicates_in_run")

    def process(self, element: Tuple[str, Iterable[Dict[str, Any]]]) -> Iterator[Any]:
        _, rows = element
        keep, rest = pick_first(rows)
        for row in rest:
            self._in_run.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, _duplicate(row, "in_run"))
        yield keep


class _AgainstRootFn(beam.DoFn):
    """One index bucket's articles: those ROOT holds become ``in_root`` duplicates, the others go on and
    their ids are staged into the index (``staged``)."""

    def __init__(self, root: str, run_id: str):
        self._root = root
        self._run_id = run_id
        self._in_root = Metrics.counter("newsbeam", "duplicates_in_root")

    def setup(self) -> None:
        self._files = FileIds()  # the buckets' hits confirmed in the same run files: read each once

    def process(self, element: Tuple[str, Iterable[Dict[str, Any]]]) -> Iterator[Any]:
        _, rows = element
        rows = list(rows)
        present = known(self._root, [r["article_id"] for r in rows], self._files)
        new: Dict[str, str] = {}
        for row in rows:
            if row["article_id"] in present:
                self._in_root.inc()
                yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, _duplicate(row, "in_root"))
            else:
                new[row["article_id"]] = row["dt"].isoformat()
                yield row
        for staged in stage_ids(self._root, self._run_id, new):
            yield beam.pvalue.TaggedOutput(STAGED_TAG, staged)


def _duplicate(row: Dict[str, Any], reason: str) -> Dict[str, Any]:
    return {"article_id": row["article_id"], "input_path": row["input_path"],
            "record_index": row["record_index"], "reason": reason}


@beam.typehints.with_input_types(Dict[str, Any])
class Deduplicate(beam.PTransform[beam.PCollection[Any], Dict[str, Any]]):
    """Articles to unique articles (``articles``), ``duplicates`` (article_id, input_path,
    record_index, reason ``in_run`` | ``in_root``) and the ``staged`` id-index files of the new articles
    (for :class:`transforms.storage.write.CommitRun`)."""

    def __init__(self, root: str, run_id: str):
        super().__init__()
        self._root = root
        self._run_id = run_id

    def expand(self, articles: beam.PCollection[Any]) -> Dict[str, Any]:
        first = (articles
                 | "KeyByArticleId" >> beam.Map(lambda row: (row["article_id"], row))
                 | "GroupByArticleId" >> beam.GroupByKey()
                 | "KeepFirst" >> beam.ParDo(_PickFirstFn()).with_outputs(DUPLICATES_TAG, main="articles"))
        checked = (first.articles
                   | "KeyByIndexBucket" >> beam.Map(lambda row: (bucket_of(row["article_id"]), row))
                   | "GroupByIndexBucket" >> beam.GroupByKey()
                   | "AgainstRoot" >> beam.ParDo(_AgainstRootFn(self._root, self._run_id)).with_outputs(
                       DUPLICATES_TAG, STAGED_TAG, main="articles"))
        duplicates = (first[DUPLICATES_TAG], checked[DUPLICATES_TAG]) | "FlattenDuplicates" >> beam.Flatten()
        return {"articles": checked.articles, DUPLICATES_TAG: duplicates, STAGED_TAG: checked[STAGED_TAG]}


# ------------------------------------------------------------------ stream

def entry_key(raw: RawArticle) -> str:
    """The dedup key of a raw entry: its article id when the link decides it (the same id the
    article will get), else a hash of the raw title and text."""
    return entry_article_id(raw) or article_id(None, raw.title, raw.text or "")


class _StreamDedupFn(beam.DoFn):
    SEEN = userstate.ReadModifyWriteStateSpec("seen", BooleanCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, ttl: float, expire: bool = True):
        self._ttl = Duration.of(ttl)
        self._expire = expire
        self._dropped = Metrics.counter("newsbeam", "duplicates_in_stream")

    def process(self, element: Tuple[str, RawArticle], ts: Any = beam.DoFn.TimestampParam,
                seen: Any = beam.DoFn.StateParam(SEEN), expiry: Any = beam.DoFn.TimerParam(EXPIRY)) -> Iterator[Any]:
        key, raw = element
        if self._expire:
            expiry.set(ts + self._ttl)  # every sighting keeps the key for another ttl
        if seen.read():
            self._dropped.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, "in_stream")
            return
        seen.write(True)
        yield key, raw

    @userstate.on_timer(EXPIRY)
    def expire(self, seen: Any = beam.DoFn.StateParam(SEEN)) -> None:
        seen.clear()


class _NotInRootFn(beam.DoFn):
    """First sightings that ROOT does not hold yet (others are ``in_root`` duplicates), looked up in the id
    index a bundle's worth (at most :data:`LOOKUP_BATCH`) at a time, at the lookups' own timestamps."""

    def __init__(self, root: Optional[str], job_id: Optional[str]) -> None:
        self._root = root
        self._job_id = job_id
        self._in_root = Metrics.counter("newsbeam", "duplicates_in_root")

    def start_bundle(self) -> None:
        self._pending: List[Tuple[str, RawArticle, Any, Any]] = []

    def process(self, element: Tuple[str, RawArticle], ts: Any = beam.DoFn.TimestampParam,
                window: Any = beam.DoFn.WindowParam) -> Iterator[Any]:
        if self._root is None:
            yield element[1]
            return
        self._pending.append((element[0], element[1], ts, window))
        if len(self._pending) >= LOOKUP_BATCH:
            yield from self._flush()

    def finish_bundle(self) -> Iterator[Any]:
        yield from self._flush()

    def _flush(self) -> Iterator[Any]:
        pending, self._pending = self._pending, []
        if not pending or self._root is None:
            return
        # a new cache per lookup: during a stream, runs keep committing new files to the partitions
        present = known(self._root, [key for key, _, _, _ in pending], FileIds(), except_job=self._job_id)
        for key, raw, ts, window in pending:
            if key in present:
                self._in_root.inc()
                yield beam.pvalue.TaggedOutput(DUPLICATES_TAG, WindowedValue("in_root", ts, (window,)))
            else:
                yield WindowedValue(raw, ts, (window,))


LOOKUP_BATCH = 500


@beam.typehints.with_input_types(RawArticle)
class DedupEntries(beam.PTransform[beam.PCollection[Any], Dict[str, beam.PCollection[Any]]]):
    """Raw entries (global window) to first sightings (``raw``) and one ``duplicates`` element (the
    reason: ``in_stream`` or ``in_root``) per dropped entry; ``root`` None: no ROOT to check. See the module
    notes for the expiry; ``expire=False`` keeps every key for the whole run (a bounded run shorter than
    ``ttl``: the local runners move the watermark to the end between two polls of a bounded
    ``PeriodicImpulse``, which would fire every expiry at once and let the next poll's entries through
    again)."""

    def __init__(self, ttl: float, root: Optional[str] = None, job_id: Optional[str] = None,
                 expire: bool = True) -> None:
        super().__init__()
        self._ttl = ttl
        self._root = root
        self._job_id = job_id
        self._expire = expire

    def expand(self, raw: beam.PCollection[Any]) -> Dict[str, beam.PCollection[Any]]:
        first = (raw
                 | "KeyByEntry" >> beam.Map(lambda r: (entry_key(r), r)).with_output_types(Tuple[str, Any])
                 | "FirstSighting" >> beam.ParDo(_StreamDedupFn(self._ttl, self._expire)).with_outputs(
                     DUPLICATES_TAG, main="first"))
        checked = first.first | "NotInRoot" >> beam.ParDo(_NotInRootFn(self._root, self._job_id)).with_outputs(
            DUPLICATES_TAG, main="raw")
        duplicates = (first[DUPLICATES_TAG], checked[DUPLICATES_TAG]) | "FlattenDuplicates" >> beam.Flatten()
        return {"raw": checked.raw, DUPLICATES_TAG: duplicates}
