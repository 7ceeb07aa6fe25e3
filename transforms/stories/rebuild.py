"""``newsbeam stories ROOT --rebuild [--since DATE]``: recompute the stories from the tables.

For when the clustering changed (new settings, a fixed bug) or the state was lost. The articles
(from ``since`` on, else all), with their entity and event rows, are profiled again
(:func:`transforms.stories.profile.article_profile`, as the pipeline does) and clustered from an empty
state in publication order, so the result is what one run over those articles gives. Then:

1. every ``articles`` and ``events`` file from ``since`` on is rewritten with the new
   ``story_id`` / ``near_duplicate_of`` / ``tone`` (:func:`transforms.storage.compact.compact` with a
   ``rewrite``: one file for one, each partition swaps atomically, readers never see a row twice or
   missing);
2. every ``stories`` partition from ``since`` on is replaced by the new rows (version 1 each), and
   new partitions are committed with
3. the new story state, as one run (``rebuild-<time>``) with its manifest.

It holds ROOT's run lock (no run commits meanwhile) and the compaction lock. With ``--since``, older
articles keep their stories: a story that spans the date is split in two, and the rows of stories
opened before the date are left as they were (their counts may include articles now in another
story). A rebuild that is killed leaves some partitions rebuilt and the old state: run it again.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as _dt
from typing import Any, Dict, List, Optional

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.storage.compact import compact, snapshot_files
from transforms.storage.fs import filesystem
from transforms.storage.manifest import new_run_id
from transforms.storage.sink import commit_run, write_part
from transforms.stories.assign import Settings, StoryClusterer
from transforms.stories.profile import ArticleProfile, article_profile
from transforms.stories.rows import story_row
from transforms.stories.state import HORIZON_DAYS, StoryState, load_state, prune_states, stage_state

__all__ = ["RebuildResult", "rebuild_stories"]

_ARTICLE_COLUMNS = ["article_id", "url", "source", "title", "text", "published_at", "language"]
_ENTITY_COLUMNS = ["article_id", "entity_id", "label"]
_EVENT_COLUMNS = ["article_id", "event_type", "actor", "actor_canonical", "actor_country", "actor_sector", "recipient",
                  "recipient_canonical", "recipient_country", "recipient_sector", "location", "admin1", "country_code",
                  "latitude", "longitude", "location_precision", "event_date", "negated", "hypothetical", "future"]


@dataclasses.dataclass(frozen=True)
class RebuildResult:
    run_id: str
    articles: int
    """Articles profiled and clustered (English ones)."""
    stories: int
    near_duplicates: int
    partitions: int
    """Table partitions rewritten."""


def _dt_of(path: str) -> str:
    return path.rsplit("/dt=", 1)[1].split("/", 1)[0]


def _files_by_dt(root: str, table: str, since: Optional[_dt.date]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = collections.defaultdict(list)
    for path in snapshot_files(root, table, as_urls=False):
        dt = _dt_of(path)
        if since is None or _dt.date.fromisoformat(dt) >= since:
            out[dt].append(path)
    return out


def _read(root: str, paths: List[str], columns: List[str], dt: str) -> List[Dict[str, Any]]:
    """The ``columns`` of the rows of ``paths`` (None for a column an older file lacks), with ``dt``."""
    fs, _ = filesystem(root)
    day = _dt.date.fromisoformat(dt)
    rows: List[Dict[str, Any]] = []
    for path in paths:
        with fs.open(path, "rb") as fh:
            names = set(pq.read_schema(fh).names)
            fh.seek(0)
            data = pq.read_table(fh, columns=[c for c in columns if c in names])
        for row in data.to_pylist():
            row.update({c: None for c in columns if c not in names})
            row["dt"] = day
            rows.append(row)
    return rows


def _profiles(root: str, since: Optional[_dt.date]) -> Dict[str, ArticleProfile]:
    """Profiles of the English articles from ``since`` on, one partition at a time (an article's entity
    and event rows are in its own ``dt`` partition): memory holds the profiles, not the texts."""
    entity_files, event_files = _files_by_dt(root, "entities", since), _files_by_dt(root, "events", since)
    out: Dict[str, ArticleProfile] = {}
    for dt, paths in sorted(_files_by_dt(root, "articles", since).items()):
        entities: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
        for e in _read(root, entity_files.get(dt, []), _ENTITY_COLUMNS, dt):
            entities[e["article_id"]].append(e)
        events: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
        for e in _read(root, event_files.get(dt, []), _EVENT_COLUMNS, dt):
            events[e["article_id"]].append(e)
        for a in _read(root, paths, _ARTICLE_COLUMNS, dt):
            if a.get("language") == "en":
                out[a["article_id"]] = article_profile(a, entities.get(a["article_id"], ()),
                                                       events.get(a["article_id"], ()))
    return out


def rebuild_stories(root: str, *, since: Optional[_dt.date] = None, run_id: Optional[str] = None,
                    settings: Optional[Settings] = None, horizon_days: int = HORIZON_DAYS) -> RebuildResult:
    """Recompute the stories of ROOT (see the module notes). The caller holds ROOT's run lock."""
    now = _dt.datetime.now(_dt.timezone.utc)
    run_id = run_id or f"rebuild-{new_run_id(now)}"
    profiles = _profiles(root, since)
    previous = load_state(root, settings)
    state = StoryState(previous.sequence, previous.run_id, StoryClusterer(settings))
    assignments = {a.article_id: a for a in state.clusterer.add_all(profiles.values())}
    stories_by_dt: Dict[str, List[Dict[str, Any]]] = collections.defaultdict(list)
    opened = len(state.clusterer.touched)
    for sid in sorted(state.clusterer.touched):
        story = state.clusterer.stories[sid]
        story.version = 1
        row = story_row(story, run_id)
        stories_by_dt[row["dt"].isoformat()].append(dict(row))

    def fields(article_id: str, name: str) -> Any:
        a = assignments.get(article_id)
        if a is None:
            return None
        return {"story_id": a.story_id, "near_duplicate_of": a.near_duplicate_of,
                "tone": profiles[article_id].tone}[name]

    def rewrite(table: str, dt: str, data: pa.Table) -> pa.Table:
        if table == "stories":
            return pa.Table.from_pylist([{k: r.get(k) for k in data.schema.names} for r in stories_by_dt.pop(dt, [])],
                                        schema=data.schema)
        ids = data.column("article_id").to_pylist()
        names = ("story_id", "near_duplicate_of", "tone") if table == "articles" else ("story_id",)
        for name in names:
            field = data.schema.field(name)
            data = data.set_column(data.schema.get_field_index(name), field,
                                   pa.array([fields(i, name) for i in ids], type=field.type))
        return data

    results = compact(root, ("articles", "events", "stories"), since=since, rewrite=rewrite, whole=("stories",),
                      compaction_id=f"{run_id}-c")
    staged = [write_part(root, "stories", run_id, dt, rows, f"st{n:04d}")
              for n, (dt, rows) in enumerate(sorted(stories_by_dt.items()))]
    staged += stage_state(root, run_id, state, horizon_days)
    copies = sum(1 for a in assignments.values() if a.near_duplicate_of)
    commit_run(root, run_id, staged, {
        "run_id": run_id, "started_at": now.isoformat(), "command": "stories --rebuild",
        "since": since.isoformat() if since else None,
        "counts": {"articles_profiled": len(profiles), "near_duplicates": copies,
                   "stories_new": opened, "partitions_rewritten": len(results)},
        "tables": {"stories": opened},
    })
    prune_states(root)
    return RebuildResult(run_id, len(profiles), opened, copies, len(results))
