"""What one article tells the story clustering (:mod:`transforms.stories.assign`): its words, the
names it gives, its day, where and when its events happened, and its copy signature.

Built from the article row and its entity and event rows (``entities`` and ``events`` may be empty:
a ``--skip-nlp`` run clusters on words alone)."""
from __future__ import annotations

import collections
import dataclasses
import datetime as _dt
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

from transforms.stories.copies import signature
from transforms.stories.terms import normalise, term_counts, top, weigh
from transforms.stories.tone import tone

__all__ = ["ArticleProfile", "article_profile", "NAME_LABELS", "PLACE_PRECISIONS"]

NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"})
"""Entity labels whose names identify a story (dates, numbers and money are in the words already)."""
PLACE_PRECISIONS = frozenset({"point", "city"})
"""Event places precise enough to tell two incidents apart (a country or a province is not)."""


@dataclasses.dataclass(frozen=True)
class ArticleProfile:
    article_id: str
    day: _dt.date
    """Publication day, else the partition day (the ingest day)."""
    source: Optional[str]
    title: Optional[str]
    terms: Mapping[str, float]
    """Unit tf-idf vector over the shipped table alone (the clusterer reweighs ``counts``)."""
    counts: Mapping[str, int]
    names: Mapping[str, float]
    salient: FrozenSet[str]
    """People named at least twice (at most 3): who the article is about."""
    persons: FrozenSet[str]
    places: Tuple[Tuple[float, float], ...]
    """City-level places of its asserted events, most reported first (at most 3)."""
    event_days: FrozenSet[_dt.date]
    event_types: Mapping[str, int]
    actors: Mapping[Tuple[str, Optional[str], Optional[str]], int]
    """Asserted events per actor (canonical name, country, sector)."""
    recipients: Mapping[Tuple[str, Optional[str], Optional[str]], int]
    locations: Mapping[Tuple[Optional[str], Optional[str], Optional[str], Optional[float], Optional[float]], int]
    tone: Optional[float]
    signature: Optional[np.ndarray] = dataclasses.field(default=None, compare=False)
    published: Optional[_dt.datetime] = None
    url: Optional[str] = None

    @property
    def order_key(self) -> Tuple[_dt.datetime, str]:
        """Arrival order of the clustering: publication time (else the start of ``day``), then id; stable
        whatever the run split."""
        when = self.published or _dt.datetime.combine(self.day, _dt.time(0), tzinfo=_dt.timezone.utc)
        return when, self.article_id


def _day(article: Mapping[str, Any]) -> _dt.date:
    published = article.get("published_at")
    if isinstance(published, _dt.datetime):
        return published.astimezone(_dt.timezone.utc).date()
    dt = article["dt"]
    return dt if isinstance(dt, _dt.date) else _dt.date.fromisoformat(str(dt))


def _parties(events: Iterable[Mapping[str, Any]], role: str) -> Dict[Tuple[str, Optional[str], Optional[str]], int]:
    """Events per party of ``role`` (``actor`` or ``recipient``): (canonical name, country, sector)."""
    return dict(collections.Counter(
        (e.get(f"{role}_canonical") or e[role], e.get(f"{role}_country"), e.get(f"{role}_sector"))
        for e in events if e.get(f"{role}_canonical") or e.get(role)))


def _asserted(event: Mapping[str, Any]) -> bool:
    return not (event.get("negated") or event.get("hypothetical") or event.get("future"))


def article_profile(article: Mapping[str, Any], entities: Sequence[Mapping[str, Any]] = (),
                    events: Sequence[Mapping[str, Any]] = (), *, article_tone: Optional[float] = None) -> ArticleProfile:
    """The profile of one article (``article_tone`` when already computed, else computed here)."""
    text = article.get("text") or ""
    title = article.get("title")
    names = collections.Counter(e["entity_id"] for e in entities if e.get("label") in NAME_LABELS)
    persons = collections.Counter(e["entity_id"] for e in entities if e.get("label") == "PERSON")
    salient = frozenset(k for k, n in sorted(persons.items(), key=lambda kv: (-kv[1], kv[0]))[:3] if n >= 2)
    asserted = [e for e in events if _asserted(e)]
    counts = term_counts(f"{title or ''}\n{text}")
    places = collections.Counter(
        (round(float(e["latitude"]), 3), round(float(e["longitude"]), 3)) for e in asserted
        if e.get("latitude") is not None and e.get("location_precision") in PLACE_PRECISIONS)
    locations = collections.Counter(
        (e.get("location"), e.get("admin1"), e.get("country_code"), e.get("latitude"), e.get("longitude"))
        for e in asserted if e.get("location"))
    return ArticleProfile(
        article_id=article["article_id"], day=_day(article), source=article.get("source"), title=title,
        terms=weigh(counts), counts=counts,
        names=normalise(top({k: 1.0 + float(np.log(n)) for k, n in names.items()}, 40)),
        salient=salient, persons=frozenset(persons),
        places=tuple(p for p, _ in sorted(places.items(), key=lambda kv: (-kv[1], kv[0]))[:3]),
        event_days=frozenset(e["event_date"] for e in asserted if e.get("event_date")),
        event_types=dict(collections.Counter(e["event_type"] for e in asserted)),
        actors=_parties(asserted, "actor"),
        recipients=_parties(asserted, "recipient"),
        locations=dict(locations),
        tone=article_tone if article_tone is not None else tone(text),
        signature=signature(text),
        published=(article["published_at"].astimezone(_dt.timezone.utc)
                   if isinstance(article.get("published_at"), _dt.datetime) else None),
        url=article.get("url"),
    )
