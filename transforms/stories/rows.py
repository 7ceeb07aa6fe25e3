"""The story columns of the tables: a ``stories`` row per version of a story, and the story fields of
``articles`` and ``events`` rows (pure functions over :class:`transforms.stories.assign.Story`)."""
from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List, Mapping, Optional, Tuple

from schemas.rows import StoryActor, StoryRow
from transforms.stories.assign import Story

__all__ = ["story_row", "with_story", "MAIN_PARTIES", "MAIN_TYPES"]

MAIN_TYPES = 3
MAIN_PARTIES = 3


def _ranked(counts: Mapping[Any, int], n: int) -> List[Tuple[Any, int]]:
    """The ``n`` most counted keys, ties by key (the same order in every run)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]


def _parties(counts: Mapping[Tuple[Any, ...], int]) -> List[StoryActor]:
    return [StoryActor(name=k[0], country=k[1], sector=k[2], events=int(v)) for k, v in _ranked(counts, MAIN_PARTIES)]


def _midnight(day: _dt.date) -> _dt.datetime:
    return _dt.datetime.combine(day, _dt.time(0), tzinfo=_dt.timezone.utc)


def story_row(story: Story, run_id: str) -> StoryRow:
    """The ``stories`` row of ``story`` as it stands (its ``version`` as set by the caller)."""
    types = [t for t, _ in _ranked(story.event_types, MAIN_TYPES)]
    place = _ranked(story.locations, 1)
    location: Tuple[Any, ...] = tuple(place[0][0]) if place else (None,) * 5
    days = sorted(story.event_days)
    return StoryRow(
        story_id=story.story_id, version=story.version,
        first_seen=story.first_seen or _midnight(story.first_day), last_seen=story.last_seen or _midnight(story.last_day),
        num_articles=story.num_articles, num_near_duplicates=story.num_copies, num_sources=story.num_sources,
        num_events=story.num_events, event_type=types[0] if types else None, event_types=types or None,
        actors=_parties(story.actors) or None, recipients=_parties(story.recipients) or None,
        location=location[0], admin1=location[1], country_code=location[2], latitude=location[3],
        longitude=location[4], event_date_start=days[0] if days else None, event_date_end=days[-1] if days else None,
        headline=story.headline, article_id=story.article_id, url=story.url,
        tone=story.tone_sum / story.tone_n if story.tone_n else None, run_id=run_id,
        dt=story.opened_day or story.first_day,
    )


def with_story(row: Dict[str, Any], assignment: Optional[Mapping[str, Any]], *, article: bool) -> Dict[str, Any]:
    """``row`` (an ``articles`` row when ``article``, else an ``events`` row) with its story fields
    from ``assignment`` (the dict :func:`transforms.stories.stage.assignment_fields` makes; None: no story)."""
    out = dict(row)
    a = assignment or {}
    out["story_id"] = a.get("story_id")
    if article:
        out["near_duplicate_of"] = a.get("near_duplicate_of")
        out["tone"] = a.get("tone")
    return out
