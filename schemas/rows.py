"""Row types of the tables: one ``TypedDict`` per schema of :mod:`schemas`, for the code that builds
rows (the writers check every row against the Arrow schema; ``tests/test_schemas_rows.py`` checks these
types against it, field by field)."""
from __future__ import annotations

import datetime as _dt
from typing import List, Optional, TypedDict

__all__ = ["ArticleRow", "EntityRow", "EventRow", "ErrorRow", "StoryRow", "StoryActor", "ROW_TYPES"]


class ArticleRow(TypedDict):
    """A row of ``articles`` (``schemas.ARTICLES``)."""
    article_id: str
    url: Optional[str]
    source: Optional[str]
    title: Optional[str]
    authors: Optional[List[str]]
    text: str
    published_at: Optional[_dt.datetime]
    language: Optional[str]
    word_count: int
    content_hash: str
    input_path: str
    input_format: str
    record_index: int
    dt_is_ingest_date: bool
    ingested_at: _dt.datetime
    near_duplicate_of: Optional[str]
    story_id: Optional[str]
    tone: Optional[float]
    run_id: str
    dt: _dt.date


class EntityRow(TypedDict):
    """A row of ``entities`` (``schemas.ENTITIES``)."""
    article_id: str
    entity_id: str
    text: str
    canonical: str
    label: str
    start_char: int
    end_char: int
    sentence_index: Optional[int]
    run_id: str
    dt: _dt.date


class EventRow(TypedDict):
    """A row of ``events`` (``schemas.EVENTS``)."""
    event_id: str
    article_id: str
    event_type: str
    mode: Optional[str]
    quad_class: Optional[str]
    trigger: str
    trigger_start: int
    trigger_end: int
    actor: Optional[str]
    actor_canonical: Optional[str]
    actor_entity_id: Optional[str]
    actor_country: Optional[str]
    actor_sector: Optional[str]
    recipient: Optional[str]
    recipient_canonical: Optional[str]
    recipient_entity_id: Optional[str]
    recipient_country: Optional[str]
    recipient_sector: Optional[str]
    location: Optional[str]
    country_code: Optional[str]
    admin1: Optional[str]
    latitude: Optional[float]
    longitude: Optional[float]
    location_precision: Optional[str]
    location_source: Optional[str]
    event_date: Optional[_dt.date]
    date_text: Optional[str]
    sentence: str
    sentence_start: int
    sentence_end: int
    negated: bool
    hypothetical: bool
    future: bool
    confidence: float
    story_id: Optional[str]
    run_id: str
    dt: _dt.date


class ErrorRow(TypedDict):
    """A row of ``errors`` (``schemas.ERRORS``)."""
    input_path: str
    record_index: Optional[int]
    stage: str
    error_type: str
    message: str
    excerpt: Optional[str]
    article_id: Optional[str]
    ingested_at: _dt.datetime
    run_id: str
    dt: _dt.date


class StoryActor(TypedDict):
    """One of a story's main actors or recipients."""
    name: str
    country: Optional[str]
    sector: Optional[str]
    events: int


class StoryRow(TypedDict):
    """A row (one version of a story) of ``stories`` (``schemas.STORIES``)."""
    story_id: str
    version: int
    first_seen: _dt.datetime
    last_seen: _dt.datetime
    num_articles: int
    num_near_duplicates: int
    num_sources: int
    num_events: int
    event_type: Optional[str]
    event_types: Optional[List[str]]
    actors: Optional[List[StoryActor]]
    recipients: Optional[List[StoryActor]]
    location: Optional[str]
    admin1: Optional[str]
    country_code: Optional[str]
    latitude: Optional[float]
    longitude: Optional[float]
    event_date_start: Optional[_dt.date]
    event_date_end: Optional[_dt.date]
    headline: Optional[str]
    article_id: str
    url: Optional[str]
    tone: Optional[float]
    run_id: str
    dt: _dt.date


ROW_TYPES = {"articles": ArticleRow, "entities": EntityRow, "events": EventRow, "errors": ErrorRow,
             "stories": StoryRow}
"""Table name -> its row type."""
