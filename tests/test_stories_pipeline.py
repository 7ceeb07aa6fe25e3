"""Stories in the dataset: near-duplicates, story ids on articles and events, the ``stories`` table,
ROOT's story state across runs (incremental = one shot), atomic updates and a killed run."""
from __future__ import annotations

import datetime as _dt
import json

import apache_beam as beam
import pyarrow.dataset as ds
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from pipelines.batch import build_batch
from tests.conftest import CORPORA, NOW
from transforms.dataset.query import Dataset
from transforms.records import RawArticle
from transforms.storage import sink
from transforms.storage.sink import commit_run, recover
from transforms.stories import state as state_module
from transforms.stories.profile import article_profile
from transforms.stories.rebuild import rebuild_stories
from transforms.stories.stage import assign_stories
from transforms.stories.state import forget_cached, load_state, prune_states, state_dirs

VOA = CORPORA / "voa" / "voa_stories.jsonl"
DAY = _dt.date(2024, 3, 5)


def _voa(n: int):
    if not VOA.exists():
        pytest.skip("shared/corpora/voa not present")
    return [json.loads(line) for line in VOA.read_text(encoding="utf-8").splitlines()[:n]]


def _rows(root, table):
    path = root / table
    return ds.dataset(str(path), partitioning="hive").to_table().to_pylist() if path.exists() else []


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


# ---------------------------------------------------------------- the batch pipeline

def test_a_run_writes_stories_near_duplicates_and_tone(tmp_path):
    """Two VOA stories and a syndicated copy of the first (another URL and headline, a "Related:" line):
    the copy is written with near_duplicate_of, shares its original's story and is no extra source."""
    a, b = _voa(2)
    records = [
        {"url": "https://voa.example/a", "title": a["title"], "text": a["text"], "source": "VOA",
         "published": "2024-03-05T10:00:00Z"},
        {"url": "https://mirror.example/copy", "title": "Another headline", "source": "Mirror",
         "text": a["text"] + "\n\nRelated: more stories from our partners", "published": "2024-03-05T15:00:00Z"},
        {"url": "https://voa.example/b", "title": b["title"], "text": b["text"], "source": "VOA",
         "published": "2024-03-05T11:00:00Z"},
    ]
    _write_jsonl(tmp_path / "in.jsonl", records)
    root = tmp_path / "root"
    with TestPipeline(runner=FnApiRunner()) as p:
        out = build_batch(p, [str(tmp_path / "in.jsonl")], root=str(root), run_id="r1", ingested_at=NOW)
        assert_that(out["manifest"] | beam.Map(lambda m: (m["counts"]["near_duplicates"], m["tables"]["stories"],
                                                          m["counts"]["stories_new"], m["counts"]["balanced"])),
                    equal_to([(1, 2, 2, True)]), label="CheckCounts")
    articles = {r["url"]: r for r in _rows(root, "articles")}
    orig, copy, other = (articles[r["url"]] for r in records)
    assert copy["near_duplicate_of"] == orig["article_id"] and orig["near_duplicate_of"] is None
    assert copy["story_id"] == orig["story_id"] != other["story_id"]
    assert all(-1 <= r["tone"] <= 1 for r in articles.values())
    stories = {r["story_id"]: r for r in _rows(root, "stories")}
    first = stories[orig["story_id"]]
    assert (first["num_articles"], first["num_near_duplicates"], first["num_sources"], first["version"]) == (2, 1, 1, 1)
    assert first["article_id"] == orig["article_id"] and first["headline"] == a["title"]
    assert first["url"] == "https://voa.example/a"
    for event in _rows(root, "events"):
        assert event["story_id"] == next(r["story_id"] for r in articles.values() if r["article_id"] == event["article_id"])
    # the run's state is committed with it, and the manifest lists its files
    manifest = json.loads((root / "_runs" / "r1.json").read_text())
    assert {f["table"] for f in manifest["files"]} >= {"articles", "stories", "_stories"}
    assert [(d.sequence, d.run_id) for d in state_dirs(str(root))] == [(1, "r1")]

    # a rebuild from the tables gives the run's stories again, as one new state and version 1 rows
    def story_columns():
        with Dataset(str(root)) as data:
            return (data.sql("SELECT article_id, story_id, near_duplicate_of, round(tone, 5) AS t FROM articles "
                             "ORDER BY 1").to_pylist(),
                    data.sql("SELECT event_id, story_id FROM events ORDER BY 1").to_pylist(),
                    data.sql("SELECT * EXCLUDE (run_id, version) FROM stories ORDER BY story_id").to_pylist())

    before = story_columns()
    result = rebuild_stories(str(root), run_id="rb1")
    assert (result.articles, result.stories, result.near_duplicates) == (3, 2, 1)
    assert story_columns() == before
    assert [(d.sequence, d.run_id, d.base) for d in state_dirs(str(root))] == [(2, "rb1", 2), (1, "r1", 1)]
    with Dataset(str(root)) as data:
        assert data.sql("SELECT DISTINCT version, run_id FROM story_versions").to_pylist() == [
            {"version": 1, "run_id": "rb1"}]


def test_the_stories_command(tmp_path, capsys):
    from pipelines.cli import main

    root = tmp_path / "root"
    root.mkdir()
    assert main(["stories", str(root)]) == 0
    assert "no story state yet" in capsys.readouterr().out
    assert main(["stories", str(root), "--since", "2024-01-01"]) == 2
    assert "--since goes with --rebuild" in capsys.readouterr().err
    assert main(["stories", str(root), "--rebuild", "--since", "yesterday"]) == 2
    _commit(root, "r1", _profiles(6))
    assert main(["stories", str(root)]) == 0
    assert "state 1 of run r1" in capsys.readouterr().out


def test_three_shootings_two_in_one_city_are_three_stories(tmp_path):
    """From the incidents set (eval/gold/incidents): a Houston nightclub shooting, a Dallas gas-station
    shooting the next day and a Houston house-party shooting four weeks later, each with its follow-ups
    (victims named, arrest, vigil), and a syndicated copy: one story per incident."""
    from tests.conftest import REPO

    gold = [json.loads(line) for line in (REPO / "eval" / "gold" / "incidents" / "incidents.jsonl").read_text(
        encoding="utf-8").splitlines()]
    picked = [g for g in gold if g["incident"] in ("i01", "i02", "i14")]
    records = [{"url": g["url"], "title": g["title"], "text": g["text"], "source": g["source"],
                "published": g["published"], "incident": g["incident"]} for g in picked]
    copy = dict(records[1], url="https://mirror.example/copy", source="Syndicated", title="Houston club shooting",
                published="2024-01-06T20:00:00Z", text=records[1]["text"] + "\n\nRelated: more local news.")
    _write_jsonl(tmp_path / "in.jsonl", records + [copy])
    root = tmp_path / "root"
    with TestPipeline(runner=FnApiRunner()) as p:
        build_batch(p, [str(tmp_path / "in.jsonl")], root=str(root), run_id="r1", ingested_at=NOW)
    by_url = {r["url"]: r for r in _rows(root, "articles")}
    stories = {}
    for rec in records:
        stories.setdefault(rec["incident"], set()).add(by_url[rec["url"]]["story_id"])
    assert all(len(ids) == 1 for ids in stories.values()), stories
    assert len(set.union(*stories.values())) == 3
    copied = by_url["https://mirror.example/copy"]
    assert copied["near_duplicate_of"] == by_url[records[1]["url"]]["article_id"]
    assert copied["story_id"] == by_url[records[1]["url"]]["story_id"]


# ---------------------------------------------------------------- state across runs

def _profiles(n: int):
    out = []
    for i, s in enumerate(_voa(n)):
        day = DAY + _dt.timedelta(days=i // 3)
        row = {"article_id": f"v{i:02d}", "text": s["text"], "title": s["title"], "source": f"src{i % 4}",
               "url": f"https://voa.example/{i}", "dt": day,
               "published_at": _dt.datetime.combine(day, _dt.time(8 + i % 10), tzinfo=_dt.timezone.utc)}
        out.append(article_profile(row))
    # a copy of every fifth story, published later, under another source
    copies = [article_profile({"article_id": f"c{p.article_id}", "text": s["text"] + "\n\nRelated: more.",
                               "title": "Copy", "source": "mirror", "dt": p.day,
                               "published_at": p.published + _dt.timedelta(hours=5)})
              for p, s in zip(out[::5], _voa(n)[::5])]
    return sorted(out + copies, key=lambda p: p.order_key)


def _commit(root, run_id, profiles):
    run = assign_stories(str(root), run_id, profiles)
    commit_run(str(root), run_id, run.staged, {"run_id": run_id})
    prune_states(str(root))
    return run


def _partition(assignments):
    return {a: (f["story_id"], f["near_duplicate_of"]) for a, f in assignments.items()}


@pytest.mark.parametrize("cached", [True, False], ids=["remembered", "read-back"])
def test_ten_date_ordered_runs_give_the_one_run_stories(tmp_path, monkeypatch, cached):
    """With the state remembered by the process (watch, stream) or read back from ROOT each run (separate
    `newsbeam run` processes), snapshot every 4 runs and deltas between."""
    monkeypatch.setattr(state_module, "SNAPSHOT_EVERY", 4)
    profiles = _profiles(30)
    one = _partition(_commit(tmp_path / "one", "r00", profiles).assignments)
    ten = {}
    step = -(-len(profiles) // 10)
    for k in range(10):
        if not cached:
            forget_cached()
        ten.update(_partition(_commit(tmp_path / "ten", f"r{k + 1:02d}", profiles[k * step:(k + 1) * step]).assignments))
    assert ten == one
    assert sum(1 for _, dup in one.values() if dup) == 6
    # snapshots at 1, 5 and 9, deltas between; the chain before the current one is kept, older ones pruned
    dirs = state_dirs(str(tmp_path / "ten"))
    assert [(d.sequence, d.base) for d in dirs] == [(10, 9), (9, 9), (8, 5), (7, 5), (6, 5), (5, 5)]
    forget_cached()
    read = load_state(str(tmp_path / "ten"))
    assert read.sequence == 10
    forget_cached()
    whole = load_state(str(tmp_path / "one")).clusterer
    assert {s: (v.num_articles, v.num_copies, sorted(v.sources)) for s, v in read.clusterer.stories.items()} == {
        s: (v.num_articles, v.num_copies, sorted(v.sources)) for s, v in whole.stories.items()}
    assert read.clusterer.seen == whole.seen and len(read.clusterer.copies) == len(whole.copies) == 36


def test_a_run_that_died_before_its_commit_leaves_the_state_as_it_was(tmp_path):
    profiles = _profiles(12)
    _commit(tmp_path, "r1", profiles[:6])
    before = load_state(str(tmp_path))
    assign_stories(str(tmp_path), "r2", profiles[6:])  # staged, never committed: the run was killed
    after = load_state(str(tmp_path))
    assert (after.sequence, after.run_id) == (before.sequence, before.run_id) == (1, "r1")
    assert sorted(after.clusterer.stories) == sorted(before.clusterer.stories)
    # the next run starts from r1's state and gives what an unbroken sequence gives
    redo = _partition(_commit(tmp_path, "r3", profiles[6:]).assignments)
    clean = _partition(_commit(tmp_path / "clean", "x1", profiles[:6]).assignments)
    clean = _partition(_commit(tmp_path / "clean", "x2", profiles[6:]).assignments)
    assert redo == clean


def test_a_commit_killed_while_moving_is_rolled_forward_with_its_state(tmp_path, monkeypatch):
    profiles = _profiles(9)
    _commit(tmp_path, "r1", profiles[:4])
    run = assign_stories(str(tmp_path), "r2", profiles[4:])
    moved = []

    def die_after_one(fs, moves):
        for staged, final in list(moves)[:1]:
            fs.makedirs(sink.posixpath.dirname(final), exist_ok=True)
            fs.mv(staged, final)
            moved.append(final)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(sink, "_apply_moves", die_after_one)
    with pytest.raises(KeyboardInterrupt):
        commit_run(str(tmp_path), "r2", run.staged, {"run_id": "r2"})
    monkeypatch.undo()
    assert moved and load_state(str(tmp_path)).run_id == "r1"  # no manifest yet: r2's state is not current
    assert recover(str(tmp_path)) == ["r2"]
    assert load_state(str(tmp_path)).run_id == "r2"


def test_stories_view_shows_the_latest_version_of_each_story(tmp_path):
    """A story that grows in a second run gets a second row (version 2); the stories view shows one row
    per story with the latest counts, story_versions every version."""
    from transforms.storage.sink import write_part

    root = tmp_path
    profiles = _profiles(6)
    cut = next(i for i, p in enumerate(profiles) if p.article_id.startswith("c"))  # the first copy: in run 2
    for run_id, part in (("r1", profiles[:cut]), ("r2", profiles[cut:])):
        run = assign_stories(str(root), run_id, part)
        staged = list(run.staged)
        for n, row in enumerate(run.stories):
            staged.append(write_part(str(root), "stories", run_id, row["dt"], [row], f"s{n}"))
        commit_run(str(root), run_id, staged, {"run_id": run_id})
    with Dataset(str(root)) as data:
        versions = data.sql("SELECT story_id, version, num_articles FROM story_versions ORDER BY 1, 2").to_pylist()
        latest = data.sql("SELECT story_id, version, num_articles FROM stories ORDER BY 1").to_pylist()
    grown = [v["story_id"] for v in versions if v["version"] == 2]
    assert grown, "the copy in the second run adds to a story of the first"
    assert len(latest) == len({v["story_id"] for v in versions})
    for row in latest:
        assert row["version"] == max(v["version"] for v in versions if v["story_id"] == row["story_id"])
        assert row["num_articles"] == max(v["num_articles"] for v in versions if v["story_id"] == row["story_id"])


# ---------------------------------------------------------------- the stream

@pytest.mark.slow
def test_stream_windows_share_the_story_state(tmp_path):
    """A wire story in one window and its copy in the next: the copy is linked across windows."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
    from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

    from pipelines.streaming import build_from_entries

    t0, window = 1_790_000_100, 900
    s = _voa(1)[0]

    def raw(n, url, text, title):
        return RawArticle(input_path="http://feeds.example/a.xml", record_index=n, input_format="feed", text=text,
                          title=title, url=url, published=("2026-09-21T14:00:00Z",))

    events = (TestStream()
              .advance_watermark_to(t0)
              .add_elements([TimestampedValue(raw(0, "https://voa.example/a", s["text"], s["title"]), t0 + 10)])
              .advance_watermark_to(t0 + window + 1)
              .add_elements([TimestampedValue(raw(1, "https://mirror.example/a", s["text"] + "\n\nRelated: more.",
                                                  "Another headline"), t0 + window + 5)])
              .advance_watermark_to_infinity())
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    root = tmp_path / "root"
    with beam.Pipeline(runner=BundleBasedDirectRunner(), options=options) as p:
        manifests = build_from_entries(p | events, ["http://feeds.example/a.xml"], root=str(root), job_id="st")
        assert_that(manifests | beam.Map(lambda m: (m["window"]["start"][11:16], m["counts"]["near_duplicates"],
                                                    m["tables"]["stories"], m["counts"]["stories_new"])),
                    equal_to([("14:15", 0, 1, 1), ("14:30", 1, 1, 0)]))
    articles = {r["url"]: r for r in _rows(root, "articles")}
    orig, copy = articles["https://voa.example/a"], articles["https://mirror.example/a"]
    assert copy["near_duplicate_of"] == orig["article_id"] and copy["story_id"] == orig["story_id"]
    with Dataset(str(root)) as data:
        assert data.sql("SELECT version, num_articles, num_sources FROM stories").to_pylist() == [
            {"version": 2, "num_articles": 2, "num_sources": 1}]


def test_a_window_commit_keeps_a_current_plan_and_redoes_a_stale_one(tmp_path, monkeypatch):
    """The stream plans a window's stories before its rows are written. Window W2 is planned while the
    ROOT is empty, then W1 (the original of W2's copy) commits first: W2's commit clusters again and rewrites
    the staged file, so the copy is linked. W3, planned on the newest state, keeps its plan: no rewrite."""
    from transforms.normalise.stage import normalise_record
    from transforms.storage.sink import write_part
    from transforms.storage.windows import WindowRows
    from transforms.stories import stage
    from transforms.stories.stage import STORY_FIELDS, plan_window_stories, window_stories

    s = _voa(1)[0]
    at = _dt.datetime(2026, 9, 21, 14, tzinfo=_dt.timezone.utc)

    def article(n, url, text):
        raw = RawArticle(input_path="http://feeds.example/a.xml", record_index=n, input_format="feed", text=text,
                         title=f"Headline {n}", url=url, published=("2026-09-21T14:00:00Z",))
        return normalise_record(raw, run_id="", ingested_at=at)

    orig = article(0, "https://voa.example/a", s["text"])
    copy = article(1, "https://mirror.example/a", s["text"] + "\n\nRelated: more.")
    again = article(2, "https://other.example/a", s["text"] + "\n\nSee also: other.")
    root = str(tmp_path / "root")
    rewrites = []
    real_rewrite = stage.rewrite_part
    monkeypatch.setattr(stage, "rewrite_part", lambda f, fn: rewrites.append(f.staged) or real_rewrite(f, fn))

    def window(run_id, row, plan):
        fields = plan.run.assignments.get(row["article_id"])
        staged = write_part(root, "articles", run_id, row["dt"], [STORY_FIELDS["articles"](dict(row, run_id=run_id),
                                                                                      fields)], "ar-s000-0000")
        rows = WindowRows({}, {}, profiles=[article_profile(row)], staged=[staged],
                          shard_ids={staged.staged: [row["article_id"]]}, plans=[plan])
        extra = window_stories(root, run_id, rows)
        (committed,) = rows.staged
        sink.commit_run(root, run_id, rows.staged + extra, {"run_id": run_id})
        return plan, rows, extra, committed.final

    plan2 = plan_window_stories(root, "w2", [article_profile(copy)])
    assert plan2.run.assignments[copy["article_id"]]["near_duplicate_of"] is None  # nothing to copy yet
    window("w1", orig, plan_window_stories(root, "w1", [article_profile(orig)]))
    assert rewrites == []  # W1's plan was current
    _, rows2, extra2, path2 = window("w2", copy, plan2)
    assert len(rewrites) == 1 and extra2 != plan2.run.staged
    (written,) = ds.dataset(path2.replace("file://", "")).to_table().to_pylist()
    first = _rows(tmp_path / "root", "articles")
    orig_row = next(r for r in first if r["article_id"] == orig["article_id"])
    assert written["near_duplicate_of"] == orig["article_id"] and written["story_id"] == orig_row["story_id"]
    assert rows2.counts["near_duplicates"] == 1 and rows2.counts["stories_new"] == 0
    plan3 = plan_window_stories(root, "w3", [article_profile(again)])
    _, rows3, extra3, _ = window("w3", again, plan3)
    assert len(rewrites) == 1 and extra3 == plan3.run.staged  # kept: nothing committed since it was made
    third = next(r for r in _rows(tmp_path / "root", "articles") if r["article_id"] == again["article_id"])
    assert third["story_id"] == orig_row["story_id"] and third["near_duplicate_of"] == orig["article_id"]
    assert load_state(root).sequence == 3
