"""The records that flow between stages, as frozen dataclasses, and the ``errors`` row of a
:class:`RecordError`."""
from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any, Optional, Tuple

from schemas.rows import ErrorRow

__all__ = ["RawArticle", "RecordError", "error_row", "EXCERPT_CHARS"]

EXCERPT_CHARS = 500


@dataclasses.dataclass(frozen=True)
class RawArticle:
    """One article as read from an input, before normalisation.

    ``text`` is HTML when ``is_html`` is true. ``published`` holds the candidate publication times
    the input offered (string, number, struct_time, date...), best first; the first one that parses
    to a plausible time wins.
    """
    input_path: str
    record_index: int
    input_format: str
    text: str
    is_html: bool = False
    title: Optional[str] = None
    url: Optional[str] = None
    guid: Optional[str] = None
    published: Tuple[Any, ...] = ()
    authors: Tuple[str, ...] = ()
    source: Optional[str] = None
    language: Optional[str] = None
    discriminator: Optional[str] = None
    """Tells apart entries of one feed that share a canonical URL (``entries.php#1``, ``#2``...): their
    link's fragment, else their guid. Part of the article id, and kept as the URL's fragment."""


@dataclasses.dataclass(frozen=True)
class RecordError:
    """An input record (or whole file) that could not become an article: one ``errors`` row."""
    input_path: str
    record_index: Optional[int]
    stage: str
    error_type: str
    message: str
    excerpt: Optional[str] = None
    article_id: Optional[str] = None

    @staticmethod
    def excerpt_of(value: Any) -> Optional[str]:
        """A bounded, printable excerpt of an offending input."""
        if value is None:
            return None
        if isinstance(value, bytes):
            value = value[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
        text = str(value)[:EXCERPT_CHARS]
        return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)


def error_row(err: RecordError, run_id: str, ingested_at: _dt.datetime) -> ErrorRow:
    """An ``errors`` table row (see ``schemas.ERRORS``); errors are partitioned by ingest date."""
    return {
        "input_path": err.input_path, "record_index": err.record_index, "stage": err.stage,
        "error_type": err.error_type, "message": err.message, "excerpt": err.excerpt,
        "article_id": err.article_id, "ingested_at": ingested_at, "run_id": run_id, "dt": ingested_at.date(),
    }
