"""The story step of a run: profiles in, story assignments out, ROOT's story state and ``stories`` rows
staged for the run's commit. One implementation for ``run``, ``watch`` ticks and ``stream`` windows.

* :data:`PROFILE_EXTRACTOR` computes each article's :class:`transforms.stories.profile.ArticleProfile` in
  the NLP stage, beside its entity and event rows (no second pass over the text).
* :func:`assign_stories` (pure but for ROOT's state): the run's profiles, in publication order, through
  the clusterer loaded from ROOT; returns the assignments, the new ``stories`` rows (one new version per
  story that took an article) and the staged state files.
* :class:`AssignStories` (batch): all profiles of the run meet on one worker, since the clustering is
  sequential; :class:`AttachStories` puts the assignments on the article and event rows before they are
  written. The stream calls :func:`assign_stories` in its window commit
  (:mod:`transforms.storage.windows`).

Runs take turns on ROOT (the run lock), so each run's clustering starts from the state the previous
run committed; a run that dies commits neither its rows nor its state.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.nlp.analyse import ENTITIES_TAG, EVENTS_TAG, DocExtractor
from transforms.storage.sink import StagedFile
from transforms.storage.windows import WindowRows
from transforms.stories.assign import Assignment, Settings
from transforms.stories.profile import ArticleProfile, article_profile
from transforms.stories.rows import story_row, with_story
from transforms.stories.state import HORIZON_DAYS, load_state, prune_states, stage_state

__all__ = ["PROFILE_EXTRACTOR", "PROFILES_TAG", "StoryRun", "assign_stories", "assignment_fields",
           "AssignStories", "AttachStories", "STAGED_TAG", "STORIES_TAG", "window_stories"]

PROFILES_TAG = "profiles"
STAGED_TAG = "staged"
STORIES_TAG = "stories"


def _profiles_batch(nlp: Any, docs: List[Any], articles: List[Dict[str, Any]],
                    results: List[Dict[str, List[Dict[str, Any]]]]) -> List[List[ArticleProfile]]:
    return [[article_profile(a, r.get(ENTITIES_TAG, []), r.get(EVENTS_TAG, []))] for a, r in zip(articles, results)]


PROFILE_EXTRACTOR = DocExtractor(tag=PROFILES_TAG, stage="stories", fn=_profiles_batch)
"""Runs after the entity and event extractors: one profile per article (its words, names, event places
and days, tone and copy signature)."""


@dataclasses.dataclass
class StoryRun:
    """What the story step of one run decided."""
    assignments: Dict[str, Dict[str, Any]]
    """article_id -> :func:`assignment_fields`."""
    stories: List[Dict[str, Any]]
    """New ``stories`` rows: one per story that took an article in this run."""
    staged: List[StagedFile]
    """The new state's files, for the run's commit."""

    @property
    def near_duplicates(self) -> int:
        return sum(1 for a in self.assignments.values() if a["near_duplicate_of"])

    @property
    def new_stories(self) -> int:
        return sum(1 for r in self.stories if r["version"] == 1)


def assignment_fields(assignment: Assignment, profile: ArticleProfile) -> Dict[str, Any]:
    """The story fields an article row gets."""
    return {"story_id": assignment.story_id, "near_duplicate_of": assignment.near_duplicate_of,
            "tone": profile.tone}


def assign_stories(root: str, run_id: str, profiles: Iterable[ArticleProfile], *,
                   settings: Optional[Settings] = None, horizon_days: int = HORIZON_DAYS) -> StoryRun:
    """Cluster one run's ``profiles`` into ROOT's stories (see the module notes). The caller holds
    ROOT's run lock and commits ``staged`` with the run."""
    state = load_state(root, settings)
    clusterer = state.clusterer
    by_id = {p.article_id: p for p in profiles}
    assignments = clusterer.add_all(by_id.values())
    rows = []
    for sid in sorted(clusterer.touched):
        story = clusterer.stories[sid]
        story.version += 1
        rows.append(dict(story_row(story, run_id)))
    staged = stage_state(root, run_id, state, horizon_days)
    return StoryRun({a.article_id: assignment_fields(a, by_id[a.article_id]) for a in assignments}, rows, staged)


def window_stories(root: str, run_id: str, rows: WindowRows) -> List[StagedFile]:
    """The stream's story step (the ``prepare`` of :class:`transforms.storage.windows.WriteWindows`,
    called under ROOT's run lock): the window's profiles through :func:`assign_stories`, their fields
    set on the window's article and event rows, its ``stories`` rows added and its counts updated;
    returns the staged state files. Older states are pruned first (the newest two stay)."""
    prune_states(root)
    if not rows.profiles:
        rows.counts.update(near_duplicates=0, stories=0, stories_new=0)
        return []
    run = assign_stories(root, run_id, rows.profiles)
    rows.tables["articles"] = [with_story(r, run.assignments.get(r["article_id"]), article=True)
                               for r in rows.tables["articles"]]
    rows.tables["events"] = [with_story(r, run.assignments.get(r["article_id"]), article=False)
                             for r in rows.tables["events"]]
    rows.tables["stories"] = [dict(r, run_id=run_id) for r in run.stories]
    rows.counts.update(near_duplicates=run.near_duplicates, stories=len(run.stories), stories_new=run.new_stories)
    return run.staged


class _AssignFn(beam.DoFn):
    def __init__(self, root: str, run_id: str, settings: Optional[Settings], horizon_days: int) -> None:
        self._root = root
        self._run_id = run_id
        self._settings = settings
        self._horizon = horizon_days
        self._copies = Metrics.counter("newsbeam", "near_duplicates")
        self._new = Metrics.counter("newsbeam", "stories_new")

    def process(self, element: Tuple[Any, Iterable[ArticleProfile]]) -> Iterator[Any]:
        _, profiles = element
        run = assign_stories(self._root, self._run_id, profiles, settings=self._settings, horizon_days=self._horizon)
        self._copies.inc(run.near_duplicates)
        self._new.inc(run.new_stories)
        for article_id, fields in sorted(run.assignments.items()):
            yield article_id, fields
        for row in run.stories:
            yield beam.pvalue.TaggedOutput(STORIES_TAG, row)
        for staged in run.staged:
            yield beam.pvalue.TaggedOutput(STAGED_TAG, staged)


@beam.typehints.with_input_types(ArticleProfile)
class AssignStories(beam.PTransform):
    """Profiles to ``assignments`` (``(article_id, fields)``), ``stories`` rows and ``staged`` state files.

    Cost: the run's profiles meet on one worker and are clustered in order, O(articles x candidate
    stories); a profile is a few KB (its top words, names and a 512-byte signature)."""

    def __init__(self, root: str, run_id: str, *, settings: Optional[Settings] = None,
                 horizon_days: int = HORIZON_DAYS) -> None:
        super().__init__()
        self._fn = _AssignFn(root, run_id, settings, horizon_days)

    def expand(self, profiles: beam.PCollection[Any]) -> Dict[str, beam.PCollection[Any]]:
        out = (profiles
               | "OneKey" >> beam.Map(lambda p: (None, p))
               | "AllProfiles" >> beam.GroupByKey()
               | "Cluster" >> beam.ParDo(self._fn).with_outputs(STORIES_TAG, STAGED_TAG, main="assignments"))
        return {"assignments": out.assignments, STORIES_TAG: out[STORIES_TAG], STAGED_TAG: out[STAGED_TAG]}


def _attach(element: Tuple[str, Dict[str, List[Any]]], article: bool) -> Iterator[Dict[str, Any]]:
    _, grouped = element
    fields = grouped["story"][0] if grouped["story"] else None
    for row in grouped["rows"]:
        yield with_story(row, fields, article=article)


@beam.typehints.with_input_types(Dict[str, Any])
@beam.typehints.with_output_types(Dict[str, Any])
class AttachStories(beam.PTransform):
    """``articles`` or ``events`` rows (``article=False``) with their article's story fields."""

    def __init__(self, assignments: beam.PCollection[Any], *, article: bool) -> None:
        super().__init__()
        self._assignments = assignments
        self._article = article

    def expand(self, rows: beam.PCollection[Any]) -> beam.PCollection[Any]:
        keyed = rows | "KeyByArticle" >> beam.Map(lambda r: (r["article_id"], r))
        return ({"rows": keyed, "story": self._assignments}
                | "JoinStory" >> beam.CoGroupByKey()
                | "SetStory" >> beam.FlatMap(_attach, self._article))
