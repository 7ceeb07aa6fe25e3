"""The batch ingestion pipeline: inputs to the committed ``articles`` and ``errors`` tables.

Only wiring lives here; every step is a transform from ``transforms``.
"""
from __future__ import annotations

import datetime as _dt
import functools
import secrets
from typing import Any, Dict, List, Optional

import apache_beam as beam

from transforms.storage.dedup import DUPLICATES_TAG, Deduplicate
from transforms.inputs.read import ReadArticles, error_row
from transforms.records import RecordError
from transforms.storage.write import CommitRun, Counted, WriteTable

__all__ = ["build_ingest", "new_run_id", "make_manifest", "RECORD_STAGES"]

RECORD_STAGES = ("read", "parse", "normalise")
"""Error stages that consume an input record (later stages add rows about written articles)."""


def new_run_id(now: _dt.datetime) -> str:
    """``YYYYMMDDTHHMMSSZ-xxxxxx``: sortable by time, unique across concurrent runs."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def make_manifest(*, run_id: str, started_at: str, inputs: List[str], options: Dict[str, Any],
                  files: int, records_read: int, articles: int, duplicates: Dict[str, int],
                  errors_by_stage: Dict[str, int], entities: int = 0, events: int = 0,
                  entities_skipped_language: int = 0, clock=None) -> Dict[str, Any]:
    """The run manifest (``ROOT/_runs/<run_id>.json``) without its file list.

    ``balanced`` states the pipeline's promise: records read = articles + record errors +
    duplicates, where record errors are those of stages :data:`RECORD_STAGES`.
    """
    clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))
    record_errors = sum(n for stage, n in errors_by_stage.items() if stage in RECORD_STAGES)
    n_duplicates = sum(duplicates.values())
    return {
        "run_id": run_id,
        "started_at": started_at,
        "ended_at": clock().isoformat(),
        "inputs": inputs,
        "options": options,
        "counts": {
            "files": files,
            "records_read": records_read,
            "articles": articles,
            "record_errors": record_errors,
            "duplicates": n_duplicates,
            "duplicates_by_reason": dict(sorted(duplicates.items())),
            "errors": sum(errors_by_stage.values()),
            "errors_by_stage": dict(sorted(errors_by_stage.items())),
            "balanced": records_read == articles + record_errors + n_duplicates,
            "entities_skipped_language": entities_skipped_language,
        },
        "tables": {"articles": articles, "entities": entities, "events": events,
                   "errors": sum(errors_by_stage.values())},
    }


def _is_record(element) -> int:
    """1 for an article row or an error of a record stage (a record that was read), else 0."""
    if isinstance(element, RecordError):
        return 1 if element.stage in RECORD_STAGES else 0
    return 1


def _reason(duplicate: Dict[str, Any]) -> str:
    return duplicate["reason"]


def _stage(error: Dict[str, Any]) -> str:
    return error["stage"]


def build_ingest(pipeline: beam.Pipeline, patterns: List[str], *, root: str, run_id: str,
                 ingested_at: _dt.datetime, options: Optional[Dict[str, Any]] = None,
                 max_file_bytes: Optional[int] = None, max_line_bytes: Optional[int] = None,
                 max_rows_per_file: Optional[int] = None, nlp: bool = True, spacy_model: Optional[str] = None,
                 nlp_batch_size: int = 8) -> Dict[str, Any]:
    """Wire the ingestion pipeline onto ``pipeline``; returns its main PCollections (for tests):
    ``articles`` (unique rows), ``errors`` (error rows), ``duplicates``, ``entities``, ``events``
    and ``manifest``. With ``nlp=False`` only articles and errors are produced."""
    read_kwargs = {k: v for k, v in (("max_file_bytes", max_file_bytes), ("max_line_bytes", max_line_bytes)) if v}
    read = pipeline | "ReadArticles" >> ReadArticles(patterns, run_id=run_id, ingested_at=ingested_at, root=root,
                                                     **read_kwargs)
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
    staged = tuple(staged) | "FlattenStaged" >> beam.Flatten()

    records = (read["articles"], read["errors"]) | "FlattenRecords" >> beam.Flatten()
    manifest_fn = functools.partial(make_manifest, run_id=run_id, started_at=ingested_at.isoformat(),
                                    inputs=list(patterns), options=dict(options or {}))
    manifest = staged | "CommitRun" >> CommitRun(
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
