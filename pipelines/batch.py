"""The batch pipeline (``newsbeam run`` and every ``newsbeam watch`` tick): inputs to one
committed run of the ``articles``, ``entities``, ``events`` and ``errors`` tables.

Only wiring lives here; every step is a transform from ``transforms``.
"""
from __future__ import annotations

import datetime as _dt
import functools
from typing import Any, Dict, List, Optional

import apache_beam as beam

from transforms.fetch.client import FetchSettings
from transforms.inputs.read import ReadArticles
from transforms.records import RecordError, error_row
from transforms.storage.dedup import DUPLICATES_TAG, Deduplicate
from transforms.storage.manifest import RECORD_STAGES, make_manifest
from transforms.storage.write import CommitRun, Counted, WriteTable

__all__ = ["build_batch"]


def _is_record(element: Any) -> int:
    """1 for an article row or an error of a record stage (a record that was read), else 0."""
    if isinstance(element, RecordError):
        return 1 if element.stage in RECORD_STAGES else 0
    return 1


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
    ``articles`` (unique rows), ``errors`` (error rows), ``duplicates``, ``entities``, ``events``
    and ``manifest``. With ``nlp=False`` only articles and errors are produced. ``fetch`` and
    ``fetch_articles`` are the HTTP settings for feed URLs (see :class:`ReadArticles`);
    ``options`` is what the manifest records of the command line."""
    read_kwargs: Dict[str, Any] = {k: v for k, v in (("max_file_bytes", max_file_bytes),
                                                      ("max_line_bytes", max_line_bytes)) if v}
    read = pipeline | "ReadArticles" >> ReadArticles(patterns, run_id=run_id, ingested_at=ingested_at, root=root,
                                                     fetch=fetch, fetch_articles=fetch_articles, **read_kwargs)
    unique = read["articles"] | "Deduplicate" >> Deduplicate(root, run_id)
    articles = unique.articles
    record_errors = read["errors"]
    write_kwargs = {"max_rows": max_rows_per_file} if max_rows_per_file else {}
    staged = [articles | "WriteArticles" >> WriteTable(root, "articles", run_id, **write_kwargs)]
    counts = {}
    if nlp:
        from transforms.nlp.analyse import ENTITY_EXTRACTOR, EVENT_EXTRACTOR, AnalyseArticles

        analysed = articles | "AnalyseArticles" >> AnalyseArticles(
            spacy_model, batch_size=nlp_batch_size, min_batch_size=min(8, nlp_batch_size),
            extractors=(ENTITY_EXTRACTOR, EVENT_EXTRACTOR))
        staged.append(analysed["entities"] | "WriteEntities" >> WriteTable(root, "entities", run_id, **write_kwargs))
        staged.append(analysed["events"] | "WriteEvents" >> WriteTable(root, "events", run_id, **write_kwargs))
        record_errors = (record_errors, analysed["errors"]) | "FlattenAllErrors" >> beam.Flatten()
        counts = {"entities": Counted(analysed["entities"]), "events": Counted(analysed["events"]),
                  "entities_skipped_language": Counted(analysed["skipped"])}
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
        out.update(entities=analysed["entities"], events=analysed["events"])
    return out
