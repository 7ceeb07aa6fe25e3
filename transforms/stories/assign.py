"""Incremental clustering of articles into stories (incidents), in one order whatever the run split.

Articles are taken in :attr:`ArticleProfile.order_key` order (publication time, then article id). Each one:

1. is a **copy** when an earlier article's text is a near-duplicate of it (:mod:`.copies`): it joins that
   article's story, and its source does not count as an independent one;
2. else joins the **best story** whose score is at least :attr:`Settings.threshold`, else opens a new
   story. The score against a story is
   ``(1 - w) * cos(words, story words) + w * cos(names, story names)``, ``w`` = :attr:`Settings.name_weight`,
   minus a penalty for each sign of another incident:

   * *other people*: the article is about people (named twice or more) the story never names, and the
     story is about people the article never names ("Klitschko stopped Thompson" is not "Klitschko
     stopped Rahman");
   * *another place*: the article's events happen in a town more than :attr:`Settings.place_km` from every
     town of the story's events (two shootings on one day in two cities);
   * *another day*: the article's events happened more than :attr:`Settings.event_days` days from every
     event day of the story;

   plus a bonus (:attr:`Settings.same_bonus`) when its events are in a town of the story's *and* on one
   of its event days: a follow-up that names the victims or reports the arrest brings new names and words,
   and is still the incident.

   A story takes no article published more than :attr:`Settings.gap_days` after its last article (or
   before its first): a trial two years later opens a new story (it names the incident, so a query by names
   links them).

A story's words and names are the sums of its articles' vectors (the :attr:`Settings.story_terms`
heaviest kept), so its profile is bounded however many articles join. Candidates come from an
inverted index over the stories' words and names, so an article is scored against the stories that
share a heavy word with it, not against all of them. The same articles in one run or in ten
day-ordered runs give the same stories: state (stories, copy signatures) carries over exactly, and
nothing depends on what else a run holds. An article that arrives in a later run than articles
published after it is placed when it arrives: the one documented way a split can change the result.

The settings were chosen on the ECB+ topics of the tune half (``eval/eval_stories.py``) and not changed
on the held-out half.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as _dt
import hashlib
import math
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from transforms.nlp.places.geocode import distance_km
from transforms.stories.copies import CopyIndex
from transforms.stories.profile import ArticleProfile
from transforms.stories.terms import cosine, normalise, top, weigh

__all__ = ["Settings", "Story", "Assignment", "StoryClusterer", "story_id_of"]


@dataclasses.dataclass(frozen=True)
class Settings:
    threshold: float = 0.225
    name_weight: float = 0.15
    person_penalty: float = 0.0
    place_penalty: Optional[float] = 0.15
    """None would bar an article whose main event town is far from all of the story's towns (on ECB+ tune
    the bar cost B3 recall 0.90 -> 0.79: event places within one incident still vary too much)."""
    place_km: float = 100.0
    day_penalty: float = 0.1
    event_days: int = 3
    same_bonus: float = 0.05
    """Added when the article's events are in a town of the story's and on one of its event days (within
    :attr:`event_days`): a follow-up that names the victims is still the incident."""
    gap_days: int = 7
    story_terms: int = 200
    index_terms: int = 25
    adaptive_idf: bool = True
    article_terms: int = 40


def story_id_of(first_article_id: str) -> str:
    """A story's id: from the id of its first article (so it is the same in every run split)."""
    return "s" + hashlib.sha1(first_article_id.encode("utf-8")).hexdigest()[:16]


def _add_counts(mine: Dict[Any, int], theirs: Mapping[Any, int]) -> None:
    for k, v in theirs.items():
        mine[k] = mine.get(k, 0) + v


@dataclasses.dataclass
class Story:
    """A story's running profile and counts (serialised by :meth:`to_json` into ROOT's story state)."""
    story_id: str
    first_day: _dt.date
    last_day: _dt.date
    headline: Optional[str]
    article_id: str
    """The representative article: the first one."""
    version: int = 0
    num_articles: int = 0
    num_copies: int = 0
    sources: Set[str] = dataclasses.field(default_factory=set)
    term_sum: Dict[str, float] = dataclasses.field(default_factory=dict)
    name_sum: Dict[str, float] = dataclasses.field(default_factory=dict)
    person_counts: Dict[str, int] = dataclasses.field(default_factory=dict)
    persons: Set[str] = dataclasses.field(default_factory=set)
    places: List[Tuple[float, float]] = dataclasses.field(default_factory=list)
    event_days: Set[_dt.date] = dataclasses.field(default_factory=set)
    event_types: Dict[str, int] = dataclasses.field(default_factory=dict)
    actors: Dict[Tuple[Any, ...], int] = dataclasses.field(default_factory=dict)
    recipients: Dict[Tuple[Any, ...], int] = dataclasses.field(default_factory=dict)
    locations: Dict[Tuple[Any, ...], int] = dataclasses.field(default_factory=dict)
    tone_sum: float = 0.0
    tone_n: int = 0
    num_events: int = 0
    first_seen: Optional[_dt.datetime] = None
    last_seen: Optional[_dt.datetime] = None
    url: Optional[str] = None
    opened_day: Optional[_dt.date] = None
    """Day of the first article when the story opened: the ``stories`` partition of every version."""

    # ---- derived views
    @property
    def terms(self) -> Dict[str, float]:
        return normalise(self.term_sum)

    @property
    def names(self) -> Dict[str, float]:
        return normalise(self.name_sum)

    @property
    def salient(self) -> Set[str]:
        need = max(1.0, 0.3 * self.num_articles)
        return {k for k, n in self.person_counts.items() if n >= need}

    def add(self, profile: ArticleProfile, settings: Settings, *, copy: bool,
            terms: Optional[Mapping[str, float]] = None, names: Optional[Mapping[str, float]] = None) -> None:
        self.num_articles += 1
        when = profile.order_key[0]
        if self.first_seen is None or when < self.first_seen:
            self.first_seen = when
        if self.last_seen is None or when > self.last_seen:
            self.last_seen = when
        if self.url is None and profile.article_id == self.article_id:
            self.url = profile.url
        self.first_day = min(self.first_day, profile.day)
        self.last_day = max(self.last_day, profile.day)
        if copy:
            self.num_copies += 1
        elif profile.source:
            self.sources.add(profile.source)
        terms = profile.terms if terms is None else terms
        names = profile.names if names is None else names
        for mine, theirs in ((self.term_sum, terms), (self.name_sum, names)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0.0) + v
        self.term_sum = top(self.term_sum, settings.story_terms)
        self.name_sum = top(self.name_sum, settings.story_terms)
        for person in profile.salient:
            self.person_counts[person] = self.person_counts.get(person, 0) + 1
        self.persons |= profile.persons
        for place in profile.places:
            if place not in self.places and len(self.places) < 20:
                self.places.append(place)
        self.event_days |= profile.event_days
        _add_counts(self.event_types, profile.event_types)
        _add_counts(self.actors, profile.actors)
        _add_counts(self.recipients, profile.recipients)
        _add_counts(self.locations, profile.locations)
        self.num_events += sum(profile.event_types.values())
        if profile.tone is not None:
            self.tone_sum += profile.tone
            self.tone_n += 1

    @property
    def num_sources(self) -> int:
        return len(self.sources)

    # ---- state
    def to_json(self) -> Dict[str, Any]:
        return {
            "story_id": self.story_id, "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
            "headline": self.headline, "article_id": self.article_id, "version": self.version,
            "num_articles": self.num_articles, "num_copies": self.num_copies, "sources": sorted(self.sources),
            "term_sum": self.term_sum, "name_sum": self.name_sum, "person_counts": self.person_counts,
            "persons": sorted(self.persons), "places": [list(p) for p in self.places],
            "event_days": sorted(d.isoformat() for d in self.event_days), "event_types": self.event_types,
            "actors": [[list(k), v] for k, v in self.actors.items()],
            "recipients": [[list(k), v] for k, v in self.recipients.items()],
            "locations": [[list(k), v] for k, v in self.locations.items()],
            "tone_sum": self.tone_sum, "tone_n": self.tone_n, "num_events": self.num_events,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None, "url": self.url,
            "opened_day": (self.opened_day or self.first_day).isoformat(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Story":
        return cls(
            story_id=data["story_id"], first_day=_dt.date.fromisoformat(data["first_day"]),
            last_day=_dt.date.fromisoformat(data["last_day"]), headline=data.get("headline"),
            article_id=data["article_id"], version=int(data["version"]), num_articles=int(data["num_articles"]),
            num_copies=int(data["num_copies"]), sources=set(data["sources"]), term_sum=dict(data["term_sum"]),
            name_sum=dict(data["name_sum"]), person_counts=dict(data["person_counts"]), persons=set(data["persons"]),
            places=[(float(p[0]), float(p[1])) for p in data["places"]],
            event_days={_dt.date.fromisoformat(d) for d in data["event_days"]},
            event_types=dict(data["event_types"]), actors={tuple(k): v for k, v in data["actors"]},
            recipients={tuple(k): v for k, v in data["recipients"]},
            locations={tuple(k): v for k, v in data["locations"]}, tone_sum=float(data["tone_sum"]),
            tone_n=int(data["tone_n"]), num_events=int(data["num_events"]),
            first_seen=_dt.datetime.fromisoformat(data["first_seen"]) if data.get("first_seen") else None,
            last_seen=_dt.datetime.fromisoformat(data["last_seen"]) if data.get("last_seen") else None,
            url=data.get("url"),
            opened_day=_dt.date.fromisoformat(data["opened_day"]) if data.get("opened_day") else None,
        )


@dataclasses.dataclass(frozen=True)
class Assignment:
    article_id: str
    story_id: str
    near_duplicate_of: Optional[str]
    new_story: bool
    score: Optional[float]
    """The winning score (None for a copy or a new story)."""


class StoryClusterer:
    """The clustering state: open stories, their index and the copy signatures. ``add`` one profile at a
    time, in order (:func:`assign_all` sorts)."""

    def __init__(self, settings: Optional[Settings] = None, stories: Iterable[Story] = (),
                 copies: Optional[CopyIndex] = None, article_story: Optional[Mapping[str, str]] = None,
                 seen: Optional[Mapping[str, int]] = None, seen_docs: int = 0) -> None:
        self.settings = settings or Settings()
        self.seen: Dict[str, int] = dict(seen or {})
        """Documents seen per word (:attr:`Settings.adaptive_idf`), and how many documents."""
        self.seen_docs = seen_docs
        self.stories: Dict[str, Story] = {}
        self._index: Dict[str, Set[str]] = collections.defaultdict(set)
        self._indexed: Dict[str, Set[str]] = {}
        self.copies = copies or CopyIndex()
        self.article_story: Dict[str, str] = dict(article_story or {})
        self.article_day: Dict[str, _dt.date] = {}
        """Day of the articles added (or loaded with their signatures), for the horizon."""
        self.touched: Set[str] = set()
        """Stories that took an article since :meth:`settle` (their new versions are due)."""
        self.added: List[str] = []
        """Articles added since :meth:`settle`, in order."""
        self.seen_added: Dict[str, int] = {}
        """Document counts added to :attr:`seen` since :meth:`settle`."""
        for story in stories:
            self.add_story(story)

    def add_story(self, story: Story) -> None:
        """Take ``story`` (from a saved state) as an open story."""
        self.stories[story.story_id] = story
        self._reindex(story)

    def _keys(self, story: Story) -> Set[str]:
        n = self.settings.index_terms
        return set(top(story.term_sum, n)) | {"@" + k for k in top(story.name_sum, n)}

    def _reindex(self, story: Story) -> None:
        old = self._indexed.get(story.story_id, set())
        new = self._keys(story)
        for k in old - new:
            self._index[k].discard(story.story_id)
        for k in new - old:
            self._index[k].add(story.story_id)
        self._indexed[story.story_id] = new

    def terms_of(self, profile: ArticleProfile) -> Mapping[str, float]:
        """The article's word vector as the clusterer weighs it (after :meth:`see`)."""
        if not self.settings.adaptive_idf:
            return profile.terms
        return weigh(profile.counts, keep=self.settings.article_terms, seen=self.seen, seen_docs=self.seen_docs)

    def names_of(self, profile: ArticleProfile) -> Mapping[str, float]:
        """The article's name vector, each name weighted by its rarity among the articles seen."""
        if not self.settings.adaptive_idf:
            return profile.names
        n = self.seen_docs
        return normalise({k: v * (math.log((n + 1) / (self.seen.get("@" + k, 0) + 1)) + 1.0)
                          for k, v in profile.names.items()})

    def see(self, profile: ArticleProfile) -> None:
        for key in [*profile.counts, *("@" + k for k in profile.names)]:
            self.seen[key] = self.seen.get(key, 0) + 1
            self.seen_added[key] = self.seen_added.get(key, 0) + 1
        self.seen_docs += 1

    def settle(self) -> None:
        """Forget what changed (:attr:`touched`, :attr:`added`, :attr:`seen_added`): the state is saved."""
        self.touched = set()
        self.added = []
        self.seen_added = {}

    def candidates(self, profile: ArticleProfile, terms: Optional[Mapping[str, float]] = None) -> Set[str]:
        n = self.settings.index_terms
        keys = set(top(profile.terms if terms is None else terms, n)) | {"@" + k for k in top(profile.names, n)}
        found: Set[str] = set()
        for k in keys:
            found |= self._index.get(k, set())
        return found

    def score(self, profile: ArticleProfile, story: Story, terms: Optional[Mapping[str, float]] = None,
              names: Optional[Mapping[str, float]] = None) -> Optional[float]:
        """The article's score against ``story``; None when the story is closed to it (days apart)."""
        s = self.settings
        gap = _dt.timedelta(days=s.gap_days)
        if profile.day > story.last_day + gap or profile.day < story.first_day - gap:
            return None
        value = (1 - s.name_weight) * cosine(profile.terms if terms is None else terms, story.terms)
        names = profile.names if names is None else names
        if names and story.name_sum:
            value += s.name_weight * cosine(names, story.names)
        salient = story.salient
        if profile.salient and salient and (profile.salient - story.persons) and (salient - profile.persons):
            value -= s.person_penalty
        same_place = same_day = False
        if profile.places and story.places:
            same_place = any(distance_km(*p, *q) <= s.place_km for p in profile.places[:1] for q in story.places)
            if not same_place:
                if s.place_penalty is None:
                    return None  # another town: another incident
                value -= s.place_penalty
        if profile.event_days and story.event_days:
            same_day = any(abs((d - e).days) <= s.event_days for d in profile.event_days for e in story.event_days)
            if not same_day:
                value -= s.day_penalty
        if same_place and same_day:
            value += s.same_bonus
        return value

    def add(self, profile: ArticleProfile) -> Assignment:
        s = self.settings
        if profile.article_id in self.article_story:  # already placed (a re-run of the same input)
            return Assignment(profile.article_id, self.article_story[profile.article_id], None, False, None)
        if s.adaptive_idf:
            self.see(profile)
        terms, names = self.terms_of(profile), self.names_of(profile)
        original = self.copies.original_of(profile.signature)
        story: Optional[Story] = None
        best: Optional[float] = None
        if original is not None and self.article_story.get(original) in self.stories:
            story = self.stories[self.article_story[original]]
        else:  # an original, or a copy of an article whose story has closed: placed by its words
            for sid in sorted(self.candidates(profile, terms)):
                value = self.score(profile, self.stories[sid], terms, names)
                if value is not None and value >= s.threshold and (best is None or value > best):
                    story, best = self.stories[sid], value
        new = story is None
        if story is None:
            story = Story(story_id_of(profile.article_id), profile.day, profile.day, profile.title, profile.article_id,
                          opened_day=profile.day)
            self.stories[story.story_id] = story
        story.add(profile, s, copy=original is not None, terms=terms, names=names)
        self._reindex(story)
        self.copies.add(profile.article_id, profile.signature, original)
        self.article_story[profile.article_id] = story.story_id
        self.article_day[profile.article_id] = profile.day
        self.touched.add(story.story_id)
        self.added.append(profile.article_id)
        return Assignment(profile.article_id, story.story_id, original, new, best)

    def add_all(self, profiles: Iterable[ArticleProfile]) -> List[Assignment]:
        """Assign ``profiles`` in :attr:`ArticleProfile.order_key` order."""
        return [self.add(p) for p in sorted(profiles, key=lambda p: p.order_key)]

    def close_before(self, day: _dt.date) -> List[str]:
        """Drop stories whose last article is before ``day`` (beyond the horizon); returns their ids."""
        gone = [sid for sid, st in self.stories.items() if st.last_day < day]
        for sid in gone:
            for k in self._indexed.pop(sid, set()):
                self._index[k].discard(sid)
            del self.stories[sid]
        return gone
