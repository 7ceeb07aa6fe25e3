"""The normalise step of every pipeline (batch runs, watch ticks, stream windows): raw records to
``articles`` rows, with a dead-letter output. One implementation, so the guards cannot drift."""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterator, Optional, Union

import apache_beam as beam
from apache_beam.metrics import Metrics

from schemas.rows import ArticleRow
from transforms.normalise.articles import build_article
from transforms.records import RawArticle, RecordError

__all__ = ["Normalise", "normalise_record", "MAX_TEXT_CHARS", "ERRORS_TAG"]

ERRORS_TAG = "errors"
MAX_TEXT_CHARS = 2_000_000
"""Longest raw article text (characters, markup included) that is normalised; longer is one
``text_too_long`` error row. The longest real news articles are ~200,000 characters; normalising
a 50 MB "article" would take over 1 GB of memory for nothing anyone reads."""


def normalise_record(raw: RawArticle, *, run_id: str, ingested_at: _dt.datetime) -> Union[ArticleRow, RecordError]:
    """An ``articles`` row, or the ``normalise`` error record that replaces it: a text longer than
    :data:`MAX_TEXT_CHARS` (``text_too_long``), no text left (``empty_text``), or any exception
    (``normalise_failed``: a bug or a pathological input is one error row, never a crashed run)."""
    if len(raw.text) > MAX_TEXT_CHARS:
        return RecordError(raw.input_path, raw.record_index, "normalise", "text_too_long",
                           f"the article text has {len(raw.text)} characters (at most {MAX_TEXT_CHARS})",
                           RecordError.excerpt_of(raw.text[:500]))
    try:
        return build_article(raw, run_id=run_id, ingested_at=ingested_at)
    except Exception as exc:
        return RecordError(raw.input_path, raw.record_index, "normalise", "normalise_failed",
                           f"{type(exc).__name__}: {exc}", RecordError.excerpt_of(raw.text))


class _NormaliseFn(beam.DoFn):
    """A raw record to an ``articles`` row (main) or an error record (``errors``)."""

    def __init__(self, run_id: str, ingested_at: Optional[_dt.datetime]) -> None:
        self._run_id = run_id
        self._ingested_at = ingested_at
        self._errors = Metrics.counter("newsbeam", "normalise_errors")

    def process(self, raw: RawArticle, ts: Any = beam.DoFn.TimestampParam) -> Iterator[Any]:
        ingested_at = self._ingested_at or ts.to_utc_datetime(has_tz=True)
        result = normalise_record(raw, run_id=self._run_id, ingested_at=ingested_at)
        if isinstance(result, RecordError):
            self._errors.inc()
            yield beam.pvalue.TaggedOutput(ERRORS_TAG, result)
        else:
            yield result


@beam.typehints.with_input_types(RawArticle)
class Normalise(beam.PTransform):
    """Raw records to ``articles`` rows (``articles``) and :class:`RecordError` (``errors``).

    ``ingested_at`` is the run's start (batch); None takes each element's timestamp (stream: the
    tick that fetched it). ``run_id`` goes into the rows ("" when the window's commit sets it).
    """

    def __init__(self, *, run_id: str, ingested_at: Optional[_dt.datetime]) -> None:
        super().__init__()
        self._run_id = run_id
        self._ingested_at = ingested_at

    def expand(self, raw: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return (raw
                | "NormaliseRecords" >> beam.ParDo(_NormaliseFn(self._run_id, self._ingested_at))
                .with_input_types(RawArticle).with_outputs(ERRORS_TAG, main="articles"))
