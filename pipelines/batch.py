"""The batch pipeline (``newsbeam run`` and every ``newsbeam watch`` tick): inputs to one
committed run of the ``articles``, ``entities``, ``events``, ``stories`` and ``errors`` tables (and
ROOT's story state).

Only wiring lives here; every step is a transform from ``transforms``.
"""
from __future__ import annotations

import datetime as _dt
import functools
import logging
from typing import Any, Dict, List, Optional

import apache_beam as beam

from transforms.fetch.client import FetchSettings
from transforms.fetch.feeds import FetchFeeds
from transforms.fetch.pages import FetchArticlePages
from transforms.inputs.feedlists import is_feed_list
from transforms.inputs.read import ERRORS_TAG, ExpandInputs, ReadFiles
from transforms.inputs.readers import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_LINE_BYTES
from transforms.normalise.stage import Normalise
from transforms.normalise.urls import is_url
from transforms.records import RecordError, error_row
from transforms.storage.dedup import DUPLICATES_TAG, Deduplicate
from transforms.storage.dedup import STAGED_TAG as INDEX_TAG
from transforms.storage.manifest import RECORD_STAGES, make_manifest
from transforms.storage.write import CommitRun, Counted, WriteTable

_LOGGER = logging.getLogger(__name__)

__all__ = ["build_batch", "ReadArticles"]


def _fetches(patterns: List[str]) -> bool:
    return any(is_url(p) or is_feed_list(p) for p in patterns)


class ReadArticles(beam.PTransform):
    """Input patterns (paths, directories, globs, fsspec URLs, http(s) feed URLs, feed lists) to
    ``articles`` rows.

    Returns a tuple-like result with ``articles`` (dict rows), ``errors`` (:class:`RecordError`)
    and ``files`` (one element per input file or feed URL, for counting). Every record read ends up
    in exactly one of ``articles`` and ``errors``; ``errors`` also holds the ``fetch`` rows (a feed
    that could not be fetched, an article page that could not be fetched), which are not records.

    Fetching (see :mod:`transforms.fetch`): ``root`` is the dataset root whose ``_state`` keeps
    the conditional-GET validators (None: no conditional GET), ``fetch`` the HTTP settings
    (default: :class:`FetchSettings` with ``max_decompressed_bytes = max_file_bytes``) and
    ``fetch_articles`` whether to follow entry links. Nothing is read from the pipeline options:
    the command line's flags arrive here as these arguments.
    """

    def __init__(self, patterns: List[str], *, run_id: str, ingested_at: _dt.datetime,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 root: Optional[str] = None, fetch: Optional[FetchSettings] = None,
                 fetch_articles: bool = False) -> None:
        super().__init__()
        self._patterns = list(patterns)
        self._run_id = run_id
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_line_bytes = max_line_bytes
        self._root = root
        self._fetch = fetch or FetchSettings(max_decompressed_bytes=max_file_bytes)
        self._fetch_articles = fetch_articles

    def expand(self, pbegin: beam.pvalue.PBegin) -> Dict[str, beam.PCollection]:
        fetch, fetch_articles, root = self._fetch, self._fetch_articles, self._root
        files = pbegin | "ExpandInputs" >> ExpandInputs(self._patterns)
        local = files
        fetched = None
        if _fetches(self._patterns):
            if not root:
                _LOGGER.warning("no dataset root known: conditional GET validators are not kept")
            local = files | "LocalFiles" >> beam.Filter(lambda p: not is_url(p))
            fetched = (files
                       | "FeedUrls" >> beam.Filter(is_url)
                       | "FetchFeeds" >> FetchFeeds(fetch, state_root=root, run_id=self._run_id))
        read = local | "ReadFiles" >> ReadFiles(max_file_bytes=self._max_file_bytes, max_line_bytes=self._max_line_bytes)
        raw, errors = read.raw, [read[ERRORS_TAG]]
        if fetched is not None:
            raw = (raw, fetched.raw) | "FlattenRaw" >> beam.Flatten()
            errors.append(fetched[ERRORS_TAG])
        if fetch_articles:
            pages = raw | "FetchArticles" >> FetchArticlePages(fetch, root=root, run_id=self._run_id)
            raw = pages["raw"]
            errors.append(pages["errors"])
        # One file can hold thousands of records (a JSONL dump, a big feed): spread them before the
        # per-record work, so normalising (and what is fused after it) runs on every worker.
        raw = raw | "SpreadRecords" >> beam.Reshuffle()
        normalised = raw | "Normalise" >> Normalise(run_id=self._run_id, ingested_at=self._ingested_at)
        errors = tuple(errors) + (normalised[ERRORS_TAG],) | "FlattenRecordErrors" >> beam.Flatten()
        return {"articles": normalised.articles, "errors": errors, "files": files}


def _is_record(element: Any) -> int:
    """1 for an article row or an error of a record stage (a record that was read), else 0."""
    if isinstance(element, RecordError):
        return 1 if element.stage in RECORD_STAGES else 0
    return 1


def _is_copy(assignment: Any) -> int:
    return 1 if assignment[1]["near_duplicate_of"] else 0


def _is_new_story(row: Dict[str, Any]) -> int:
    return 1 if row["version"] == 1 else 0


def _reason(duplicate: Dict[str, Any]) -> str:
    return str(duplicate["reason"])


def _stage(error: Dict[str, Any]) -> str:
    return str(error["stage"])


def build_batch(pipeline: beam.Pipeline, patterns: List[str], *, root: str, run_id: str,
                ingested_at: _dt.datetime, options: Optional[Dict[str, Any]] = None,
                max_file_bytes: Optional[int] = None, max_line_bytes: Optional[int] = None,
                max_rows_per_file: Optional[int] = None, nlp: bool = True, spacy_model: Optional[str] = None,
                nlp_batch_size: int = 8, fetch: Optional[FetchSettings] = None,
                fetch_articles: bool = False) -> Dict[str, Any]:
    """Wire the batch pipeline onto ``pipeline``; returns its main PCollections (for tests):
    ``articles`` (unique rows), ``errors`` (error rows), ``duplicates``, ``entities``, ``events``,
    ``stories`` and ``manifest``. With ``nlp=False`` only articles and errors are produced (no stories:
    they need the entities and events). ``fetch`` and
    ``fetch_articles`` are the HTTP settings for feed URLs (see :class:`ReadArticles`);
    ``options`` is what the manifest records of the command line."""
    read_kwargs: Dict[str, Any] = {k: v for k, v in (("max_file_bytes", max_file_bytes),
                                                      ("max_line_bytes", max_line_bytes)) if v}
    read = pipeline | "ReadArticles" >> ReadArticles(patterns, run_id=run_id, ingested_at=ingested_at, root=root,
                                                     fetch=fetch, fetch_articles=fetch_articles, **read_kwargs)
    unique = read["articles"] | "Deduplicate" >> Deduplicate(root, run_id)
    articles = unique["articles"]
    record_errors = read["errors"]
    write_kwargs = {"max_rows": max_rows_per_file} if max_rows_per_file else {}
    staged = [unique[INDEX_TAG]]  # the new articles' ids, into the id index with the commit
    counts = {}
    if nlp:
        from transforms.nlp.analyse import ENTITY_EXTRACTOR, EVENT_EXTRACTOR, AnalyseArticles
        from transforms.stories.stage import (
            PROFILE_EXTRACTOR,
            PROFILES_TAG,
            STAGED_TAG,
            STORIES_TAG,
            AssignStories,
            AttachStories,
        )

        analysed = articles | "AnalyseArticles" >> AnalyseArticles(
            spacy_model, batch_size=nlp_batch_size, min_batch_size=min(8, nlp_batch_size),
            extractors=(ENTITY_EXTRACTOR, EVENT_EXTRACTOR, PROFILE_EXTRACTOR))
        stories = analysed[PROFILES_TAG] | "AssignStories" >> AssignStories(root, run_id)
        assignments = stories["assignments"]
        articles = articles | "AttachArticleStories" >> AttachStories(assignments, article=True)
        events = analysed["events"] | "AttachEventStories" >> AttachStories(assignments, article=False)
        staged.append(analysed["entities"] | "WriteEntities" >> WriteTable(root, "entities", run_id, **write_kwargs))
        staged.append(events | "WriteEvents" >> WriteTable(root, "events", run_id, **write_kwargs))
        staged.append(stories[STORIES_TAG] | "WriteStories" >> WriteTable(root, "stories", run_id, **write_kwargs))
        staged.append(stories[STAGED_TAG])
        record_errors = (record_errors, analysed["errors"]) | "FlattenAllErrors" >> beam.Flatten()
        counts = {"entities": Counted(analysed["entities"]), "events": Counted(analysed["events"]),
                  "entities_skipped_language": Counted(analysed["skipped"]),
                  "near_duplicates": Counted(assignments, value=_is_copy),
                  "stories": Counted(stories[STORIES_TAG]),
                  "stories_new": Counted(stories[STORIES_TAG], value=_is_new_story)}
    staged.append(articles | "WriteArticles" >> WriteTable(root, "articles", run_id, **write_kwargs))
    errors = record_errors | "ToErrorRows" >> beam.Map(error_row, run_id, ingested_at)
    staged.append(errors | "WriteErrors" >> WriteTable(root, "errors", run_id, **write_kwargs))
    all_staged = tuple(staged) | "FlattenStaged" >> beam.Flatten()

    # records_read is counted where records enter (read + their record errors), before dedup
    records = (read["articles"], read["errors"]) | "FlattenRecords" >> beam.Flatten()
    manifest_fn = functools.partial(make_manifest, run_id=run_id, started_at=ingested_at.isoformat(),
                                    inputs=list(patterns), options=dict(options or {}))
    manifest = all_staged | "CommitRun" >> CommitRun(
        root, run_id, manifest_fn,
        files=Counted(read["files"]),
        records_read=Counted(records, value=_is_record),
        articles=Counted(articles),
        duplicates=Counted(unique[DUPLICATES_TAG], key=_reason),
        errors_by_stage=Counted(errors, key=_stage),
        **counts,
    )
    out = {"articles": articles, "errors": errors, "duplicates": unique[DUPLICATES_TAG], "manifest": manifest}
    if nlp:
        out.update(entities=analysed["entities"], events=events, stories=stories[STORIES_TAG])
    return out
