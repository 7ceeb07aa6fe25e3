"""The run manifest (``ROOT/_runs/<run_id>.json``): what a run read and wrote, and whether the
counts add up. One implementation for batch runs, watch ticks and stream windows.

The promise every run keeps: records read = articles + record errors + duplicates, where record
errors are the error rows of the stages in :data:`RECORD_STAGES` (the stages that consume an input
record; ``fetch`` and NLP errors are rows about feeds and written articles). ``records_read`` must
be counted where records enter the pipeline, independently of the three numbers it is checked
against, or ``balanced`` could never be false.
"""
from __future__ import annotations

import datetime as _dt
import secrets
from typing import Any, Callable, Dict, List, Mapping, Optional

__all__ = ["make_manifest", "new_run_id", "record_errors", "RECORD_STAGES"]

RECORD_STAGES = ("read", "parse", "normalise")
"""Error stages that consume an input record (later stages add rows about written articles)."""


def new_run_id(now: _dt.datetime) -> str:
    """``YYYYMMDDTHHMMSSZ-xxxxxx``: sortable by time, unique across concurrent runs."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def record_errors(errors_by_stage: Mapping[str, int]) -> int:
    """How many error rows stand for an input record (stages :data:`RECORD_STAGES`)."""
    return sum(n for stage, n in errors_by_stage.items() if stage in RECORD_STAGES)


def make_manifest(*, run_id: str, started_at: str, inputs: List[str], options: Dict[str, Any],
                  files: int, records_read: int, articles: int, duplicates: Dict[str, int],
                  errors_by_stage: Dict[str, int], entities: int = 0, events: int = 0,
                  entities_skipped_language: int = 0, near_duplicates: int = 0, stories: int = 0,
                  stories_new: int = 0, clock: Optional[Callable[[], _dt.datetime]] = None) -> Dict[str, Any]:
    """The run manifest without its file list (:func:`transforms.storage.sink.commit_run` adds it).
    ``balanced`` states the pipeline's promise (see the module notes). ``near_duplicates`` are articles
    written with ``near_duplicate_of`` (not dropped: they are in ``articles``); ``stories`` the ``stories``
    rows written (one per story that took an article), ``stories_new`` those that opened in this run."""
    clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))
    n_record_errors = record_errors(errors_by_stage)
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
            "record_errors": n_record_errors,
            "duplicates": n_duplicates,
            "duplicates_by_reason": dict(sorted(duplicates.items())),
            "errors": sum(errors_by_stage.values()),
            "errors_by_stage": dict(sorted(errors_by_stage.items())),
            "balanced": records_read == articles + n_record_errors + n_duplicates,
            "entities_skipped_language": entities_skipped_language,
            "near_duplicates": near_duplicates,
            "stories_updated": stories - stories_new,
            "stories_new": stories_new,
        },
        "tables": {"articles": articles, "entities": entities, "events": events,
                   "errors": sum(errors_by_stage.values()), "stories": stories},
    }
