"""The story step of a run: profiles in, story assignments out, ROOT's story state and ``stories`` rows
staged for the run's commit. One implementation for ``run``, ``watch`` ticks and ``stream`` windows.

* :data:`PROFILE_EXTRACTOR` computes each article's :class:`transforms.stories.profile.ArticleProfile` in
  the NLP stage, beside its entity and event rows (no second pass over the text).
* :func:`assign_stories` (pure but for ROOT's state): the run's profiles, in publication order, through
  the clusterer loaded from ROOT; returns the assignments, the new ``stories`` rows (one new version per
  story that took an article) and the staged state files.
* :class:`AssignStories` (batch): all profiles of the run meet on one worker, since the clustering is
  sequential; :class:`AttachStories` puts the assignments on the article and event rows before they are
  written.
* The stream plans each window's stories before its rows are written (:class:`PlanStories`, one worker
  per window, :func:`assign_stories` on ROOT's newest state), so the rows are written on many workers
  with their story fields (:data:`STORY_FIELDS`); the window's commit (:func:`window_stories`, under the
  run lock) keeps the plan when no other run committed since, else clusters again and rewrites the
  files whose fields changed: optimistic concurrency, so the result is always clustering in commit order.

Runs take turns on ROOT (the run lock), so each run's clustering starts from the state the previous
run committed; a run that dies commits neither its rows nor its state.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.nlp.analyse import ENTITIES_TAG, EVENTS_TAG, DocExtractor
from transforms.storage.sink import StagedFile, load_manifest, rewrite_part
from transforms.storage.windows import JoinFields, WindowRows, window_run_id
from transforms.stories.assign import Assignment, Settings
from transforms.stories.profile import ArticleProfile, article_profile
from transforms.stories.rows import story_row, with_story
from transforms.stories.state import HORIZON_DAYS, load_state, prune_states, stage_state, state_dirs

_LOGGER = logging.getLogger(__name__)

__all__ = ["PROFILE_EXTRACTOR", "PROFILES_TAG", "StoryRun", "assign_stories", "assignment_fields",
           "AssignStories", "AttachStories", "STAGED_TAG", "STORIES_TAG", "PLANS_TAG", "window_stories",
           "STORY_FIELDS", "StoryPlan", "plan_window_stories", "PlanStories"]

PROFILES_TAG = "profiles"
STAGED_TAG = "staged"
STORIES_TAG = "stories"
PLANS_TAG = "plans"


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
    base: Tuple[int, Optional[str]] = (0, None)
    """The state it built on: ``(sequence, run_id)`` (``(0, None)``: none)."""

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
    return StoryRun({a.article_id: assignment_fields(a, by_id[a.article_id]) for a in assignments}, rows, staged,
                    (state.sequence, state.run_id))


STORY_FIELDS = {"articles": functools.partial(with_story, article=True),
                "events": functools.partial(with_story, article=False)}
"""The ``attach`` of the stream's row writers (:class:`transforms.storage.windows.WriteWindows`): the tables
with story fields, and how a row gets its article's."""


@dataclasses.dataclass
class StoryPlan:
    """The story step of one stream window, run before its rows are written (:class:`PlanStories`): valid
    at the commit when ROOT's newest state is still the one it built on (``run.base``)."""
    run_id: str
    run: StoryRun


def plan_window_stories(root: str, run_id: str, profiles: Iterable[ArticleProfile]) -> StoryPlan:
    """The window's stories as they will be if no other run commits first: :func:`assign_stories` on
    ROOT's newest state, its state files staged under the window's run."""
    return StoryPlan(run_id, assign_stories(root, run_id, profiles))


def window_stories(root: str, run_id: str, rows: WindowRows) -> List[StagedFile]:
    """The stream's story step at the commit (the ``prepare`` of
    :class:`transforms.storage.windows.WriteWindows`, under ROOT's run lock). The window's rows were
    written with the fields of its :class:`StoryPlan`. When ROOT's newest state is still the one the plan
    built on, the plan is the step's result (as a run on one worker would have computed it); else (another
    window or run committed in between, or no plan was made) the window's profiles are clustered again on
    the newest state and every staged ``articles`` and ``events`` file holding an article whose fields
    changed is rewritten. Either way the result is what clustering in commit order gives. Then the
    ``stories`` rows are added and the counts set; returns the staged state files. Older states are
    pruned first (the newest two stay)."""
    prune_states(root)
    if not rows.profiles:
        rows.counts.update(near_duplicates=0, stories=0, stories_new=0)
        return []
    plan = next((p for p in rows.plans if p.run_id == run_id), None)
    dirs = state_dirs(root)
    newest = (dirs[0].sequence, dirs[0].run_id) if dirs else (0, None)
    if plan is not None and plan.run.base == newest:
        run = plan.run
    else:
        run = assign_stories(root, run_id, rows.profiles)
        predicted = plan.run.assignments if plan is not None else {}
        changed = {a for a in set(run.assignments) | set(predicted) if run.assignments.get(a) != predicted.get(a)}
        rows.staged = [_restamped(f, run.assignments) if f.table in STORY_FIELDS
                       and changed.intersection(rows.shard_ids.get(f.staged, ())) else f for f in rows.staged]
        _REPLANNED.inc()
    rows.tables["stories"] = [dict(r, run_id=run_id) for r in run.stories]
    rows.counts.update(near_duplicates=run.near_duplicates, stories=len(run.stories), stories_new=run.new_stories)
    return run.staged


_REPLANNED = Metrics.counter("newsbeam", "story_plans_redone")


def _restamped(staged: StagedFile, assignments: Mapping[str, Dict[str, Any]]) -> StagedFile:
    attach = STORY_FIELDS[staged.table]
    return rewrite_part(staged, lambda row: attach(row, assignments.get(row["article_id"])))


class _PlanFn(beam.DoFn):
    def __init__(self, root: str, job_id: str) -> None:
        self._root = root
        self._job_id = job_id

    def process(self, element: Tuple[Any, Iterable[ArticleProfile]], window: Any = beam.DoFn.WindowParam,
                pane: Any = beam.DoFn.PaneInfoParam) -> Iterator[Any]:
        _, profiles = element
        run_id = window_run_id(window.start.to_utc_datetime(has_tz=True), self._job_id, pane.index)
        if load_manifest(self._root, run_id) is not None:  # a retry after the window's commit
            return
        try:
            plan = plan_window_stories(self._root, run_id, list(profiles))
        except Exception:  # noqa: BLE001 - a plan is an optimisation: the commit clusters again without one
            _LOGGER.warning("could not plan the stories of window %s; its commit will", run_id, exc_info=True)
            return
        for article_id, fields in sorted(plan.run.assignments.items()):
            yield article_id, fields
        yield beam.pvalue.TaggedOutput(PLANS_TAG, ("plan", plan))


@beam.typehints.with_input_types(ArticleProfile)
class PlanStories(beam.PTransform):
    """The stream's windowed profiles to ``fields`` (``(article_id, story fields)``, the row writers' side
    input) and ``plans`` (one ``("plan", StoryPlan)`` commit item per window); see
    :func:`window_stories`. Cost: a window's profiles meet on one worker, as in :class:`AssignStories`."""

    def __init__(self, root: str, job_id: str) -> None:
        super().__init__()
        self._fn = _PlanFn(root, job_id)

    def expand(self, profiles: beam.PCollection[Any]) -> Dict[str, beam.PCollection[Any]]:
        out = (profiles
               | "OneKeyPerWindow" >> beam.Map(lambda p: (None, p))
               | "WindowProfiles" >> beam.GroupByKey()
               | "Plan" >> beam.ParDo(self._fn).with_outputs(PLANS_TAG, main="fields"))
        return {"fields": out.fields, PLANS_TAG: out[PLANS_TAG]}


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


@beam.typehints.with_input_types(Dict[str, Any])
@beam.typehints.with_output_types(Dict[str, Any])
class AttachStories(beam.PTransform):
    """``articles`` or ``events`` rows (``article=False``) with their article's story fields."""

    def __init__(self, assignments: beam.PCollection[Any], *, article: bool) -> None:
        super().__init__()
        self._assignments = assignments
        self._article = article

    def expand(self, rows: beam.PCollection[Any]) -> beam.PCollection[Any]:
        attach = STORY_FIELDS["articles" if self._article else "events"]
        return rows | "JoinStory" >> JoinFields(self._assignments, attach)
