"""The streaming pipeline: TestStream (dedup across windows, expiry) and a bounded PeriodicImpulse."""
from __future__ import annotations

import json

import apache_beam as beam
import pyarrow.dataset as ds
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.periodicsequence import PeriodicImpulse
from apache_beam.transforms.window import TimestampedValue

from pipelines.streaming import build_from_entries, build_stream, periodic_ticks
from tests.conftest import newsbeam
from tests.feedserver import Feed, FeedServer, Status, rss
from transforms.fetch.client import FetchSettings
from transforms.records import RawArticle

T0 = 1_790_000_100  # 2026-09-21T14:15:00Z, a window boundary
WINDOW = 15 * 60
FAST = FetchSettings(connect_timeout=0.5, read_timeout=0.5, total_timeout=1.0, retries=0, host_delay=0.0)


def entry(n: int, url_suffix: str = "") -> RawArticle:
    return RawArticle(input_path="http://feeds.example/a.xml", record_index=n, input_format="feed",
                      text=f"Story number {n} text.", title=f"Story {n}", url=f"https://news.example/{n}{url_suffix}",
                      published=("2026-09-21T14:00:00Z",))


def streaming_pipeline():
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return beam.Pipeline(runner=BundleBasedDirectRunner(), options=options)


def committed(root):
    runs = [json.loads(p.read_text()) for p in sorted((root / "_runs").glob("*.json"))]
    articles = ds.dataset(str(root / "articles"), partitioning="hive").to_table().to_pylist()
    return runs, articles


def window_rows(manifest):
    return manifest["window"]["start"][11:16], manifest["counts"]["articles"], manifest["counts"]["duplicates"]


@pytest.mark.slow
def test_a_duplicate_in_a_later_window_is_dropped(tmp_path):
    root = tmp_path / "root"
    events = (TestStream()
              .advance_watermark_to(T0)
              .add_elements([TimestampedValue(entry(1), T0 + 10), TimestampedValue(entry(2), T0 + 20)])
              .advance_watermark_to(T0 + WINDOW + 1)  # the first window closes and commits
              .add_elements([TimestampedValue(entry(2, "?utm_source=rss"), T0 + WINDOW + 30),  # same story again
                             TimestampedValue(entry(3), T0 + WINDOW + 40)])
              .advance_watermark_to(T0 + 2 * WINDOW + 1)
              .add_elements([TimestampedValue(entry(1), T0 + 2 * WINDOW + 50)])  # only a duplicate
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        manifests = build_from_entries(p | events, ["http://feeds.example/a.xml"], root=str(root), job_id="t1")
        assert_that(manifests | beam.Map(window_rows),
                    equal_to([("14:15", 2, 0), ("14:30", 1, 1), ("14:45", 0, 1)]), label="CheckWindows")
    runs, articles = committed(root)
    assert sorted(a["title"] for a in articles) == ["Story 1", "Story 2", "Story 3"]
    assert [r["run_id"] for r in runs] == ["20260921T141500Z-t1", "20260921T143000Z-t1", "20260921T144500Z-t1"]
    assert all(r["counts"]["balanced"] for r in runs)
    # the files of a window are committed together under its run id
    assert {a["run_id"] for a in articles if a["title"] == "Story 3"} == {"20260921T143000Z-t1"}
    # a restarted worker of job t1 leaves t1's own articles to its expiring state; another job drops them
    from transforms.storage.idindex import known

    ids = [a["article_id"] for a in articles]
    assert known(str(root), ids, except_job="t1") == set()
    assert known(str(root), ids, except_job="other") == known(str(root), ids) == set(ids)
    assert len(ids) == 3


def test_entries_another_run_committed_are_dropped_through_the_id_index(tmp_path, monkeypatch):
    """A stream job drops the entries another job (or a batch run) committed, looked up in the id index
    (the buckets of the new entries, not every articles file), a bundle's sightings at a time."""
    from transforms.storage import idindex

    root = tmp_path / "root"
    first = (TestStream().advance_watermark_to(T0)
             .add_elements([TimestampedValue(entry(1), T0 + 1), TimestampedValue(entry(2), T0 + 2)])
             .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        build_from_entries(p | first, ["x"], root=str(root), job_id="old", nlp=False)
    lookups = []
    real_known = idindex.known
    monkeypatch.setattr("transforms.storage.dedup.known",
                        lambda root, ids, cache=None, **kw: lookups.append(sorted(ids)) or real_known(root, ids, cache,
                                                                                                      **kw))
    second = (TestStream().advance_watermark_to(T0 + WINDOW)
              .add_elements([TimestampedValue(entry(1, "?utm_source=rss"), T0 + WINDOW + 1),
                             TimestampedValue(entry(3), T0 + WINDOW + 2)])
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        manifests = build_from_entries(p | second, ["x"], root=str(root), job_id="new", nlp=False)
        assert_that(manifests | beam.Map(window_rows), equal_to([("14:30", 1, 1)]))
    runs, articles = committed(root)
    assert sorted(a["title"] for a in articles) == ["Story 1", "Story 2", "Story 3"]
    assert runs[-1]["counts"]["duplicates_by_reason"] == {"in_root": 1} and runs[-1]["counts"]["balanced"]
    assert sum(len(ids) for ids in lookups) == 2  # the two new sightings, nothing else


@pytest.mark.slow
def test_dedup_state_expires_after_the_ttl_since_last_seen(tmp_path):
    root = tmp_path / "root"
    ttl = 3600
    events = (TestStream()
              .advance_watermark_to(T0)
              .add_elements([TimestampedValue(entry(1), T0)])
              .advance_watermark_to(T0 + 1800)
              .add_elements([TimestampedValue(entry(1), T0 + 1800)])  # seen again: kept for another hour
              .advance_watermark_to(T0 + 1800 + ttl - 60)
              .add_elements([TimestampedValue(entry(1), T0 + 1800 + ttl - 60)])  # still remembered
              .advance_watermark_to(T0 + 1800 + 3 * ttl)  # absent for longer than the ttl: forgotten
              .add_elements([TimestampedValue(entry(1), T0 + 1800 + 3 * ttl)])
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        manifests = build_from_entries(p | events, ["x"], root=str(root), job_id="t2", dedup_ttl=ttl)
        assert_that(manifests | beam.Map(lambda m: (m["counts"]["articles"], m["counts"]["duplicates"])),
                    equal_to([(1, 0), (0, 1), (0, 1), (1, 0)]), label="CheckExpiry")


def test_bounded_periodic_impulse_polls_feeds_and_writes_windows(tmp_path):
    root = tmp_path / "root"
    with FeedServer() as srv:
        srv.routes["/a.xml"] = [Feed(rss("A", [("One", "http://example.org/1", "Story one.")]), etag='"1"'),
                                Feed(rss("A", [("One", "http://example.org/1", "Story one."),
                                               ("Two", "http://example.org/2", "Story two.")]), etag='"2"')]
        srv.routes["/down.xml"] = Status(500)
        feeds = [srv.url("/a.xml"), srv.url("/down.xml")]
        p = beam.Pipeline(runner=FnApiRunner())
        ticks = periodic_ticks(p, start=T0, interval=60, stop=T0 + 4 * 60)  # 4 polls, explicit timestamps
        build_stream(ticks, feeds, root=str(root), job_id="pi", fetch=FAST, window=120)
        p.run().wait_until_finish()
        hits = (srv.hits("/a.xml"), srv.hits("/down.xml"))
    runs, articles = committed(root)
    assert hits == (4, 4)
    assert sorted(a["title"] for a in articles) == ["One", "Two"]  # each exactly once over 4 polls
    assert [r["window"]["start"][11:16] for r in runs] == ["14:14", "14:16", "14:18"]  # 2-minute windows
    assert sum(r["counts"]["files"] for r in runs) == 8 and all(r["counts"]["balanced"] for r in runs)
    assert sum(r["counts"]["errors_by_stage"].get("fetch", 0) for r in runs) == 4  # one row per failed poll
    errors = ds.dataset(str(root / "errors"), partitioning="hive").to_table().to_pylist()
    assert {e["input_path"] for e in errors} == {feeds[1]} and len(errors) == 4


def test_stream_command_needs_a_streaming_runner_or_ticks(tmp_path):
    result = newsbeam("stream", "http://127.0.0.1:9/feed.xml", "--output", tmp_path / "root", timeout=120)
    assert result.returncode == 2 and "cannot run an unbounded pipeline" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_windows_get_entities_and_events_of_their_articles(tmp_path):
    """The seed story in one window and a short note in the next: each window commits its own
    entities and events (run id of the window), counted in its manifest."""
    from tests.conftest import SEED, need

    root = tmp_path / "root"
    seed = RawArticle(input_path="http://feeds.example/a.xml", record_index=0, input_format="feed",
                      text=need(SEED).read_text(encoding="utf-8"), title="Man shot by ICE officer in Brooklyn",
                      url="https://news.example/bensonhurst", published=("2020-02-07T12:00:00Z",))
    events = (TestStream()
              .advance_watermark_to(T0)
              .add_elements([TimestampedValue(seed, T0 + 10)])
              .advance_watermark_to(T0 + WINDOW + 1)
              .add_elements([TimestampedValue(entry(7), T0 + WINDOW + 5)])  # too short to have a language
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        manifests = build_from_entries(p | events, ["http://feeds.example/a.xml"], root=str(root), job_id="nlp")
        assert_that(manifests | beam.Map(lambda m: (m["window"]["start"][11:16], m["counts"]["articles"],
                                                    m["tables"]["entities"] > 20, m["tables"]["events"] > 3,
                                                    m["counts"]["entities_skipped_language"])),
                    equal_to([("14:15", 1, True, True, 0), ("14:30", 1, False, False, 1)]), label="CheckNlp")
    runs = {r["run_id"]: r for r in (json.loads(p.read_text()) for p in (root / "_runs").glob("*.json"))}
    entities = ds.dataset(str(root / "entities"), partitioning="hive").to_table().to_pylist()
    events_rows = ds.dataset(str(root / "events"), partitioning="hive").to_table().to_pylist()
    first = "20260921T141500Z-nlp"
    assert {e["run_id"] for e in entities} == {first} == {e["run_id"] for e in events_rows}
    assert len(entities) == runs[first]["tables"]["entities"] and len(events_rows) == runs[first]["tables"]["events"]
    texts = {e["text"] for e in entities}
    assert {"Bensonhurst", "Brooklyn"} <= texts
    assert any(e["event_type"] == "ASSAULT" for e in events_rows)
    assert all(r["counts"]["balanced"] for r in runs.values())
    # the window's files are in its manifest, entities and events included
    tables = {f["table"] for f in runs[first]["files"]}
    assert {"articles", "entities", "events"} <= tables


def test_skip_nlp_streams_articles_only(tmp_path):
    root = tmp_path / "root"
    events = (TestStream().advance_watermark_to(T0).add_elements([TimestampedValue(entry(1), T0 + 1)])
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        build_from_entries(p | events, ["x"], root=str(root), job_id="s", nlp=False)
    assert not (root / "entities").exists() and (root / "articles").exists()


@pytest.mark.slow
def test_stream_command_writes_entities_and_events_and_checks_the_model(tmp_path):
    from tests.conftest import SEED, need

    story = need(SEED).read_text(encoding="utf-8")
    with FeedServer() as srv:
        srv.routes["/a.xml"] = [Feed(rss("A", [("Man shot by ICE officer", "http://example.org/1", story)]))]
        base = ["stream", srv.url("/a.xml"), "--output", tmp_path / "root", "--ticks", "1", "--interval", "2s",
                "--window", "1h", "-q"]
        bad = newsbeam(*base, "--spacy-model", "no_such_model", timeout=120)
        result = newsbeam(*base)
    assert bad.returncode == 2 and "no_such_model" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert result.returncode == 0, result.stderr
    (manifest,) = [json.loads(p.read_text()) for p in (tmp_path / "root" / "_runs").glob("*.json")]
    assert manifest["counts"]["articles"] == 1 and manifest["tables"]["entities"] > 20
    assert manifest["tables"]["events"] > 3 and manifest["options"]["nlp"] is True
    entities = ds.dataset(str(tmp_path / "root" / "entities"), partitioning="hive").to_table().to_pylist()
    assert len(entities) == manifest["tables"]["entities"] and {e["run_id"] for e in entities} == {manifest["run_id"]}


def test_the_stream_normalises_with_the_batch_length_guard(tmp_path):
    """The stream's normalise step is the batch one: a 2.5 million character entry is one
    ``text_too_long`` error row, not a normalised article (the stream's own copy lacked the guard)."""
    from transforms.normalise.stage import MAX_TEXT_CHARS

    root = tmp_path / "root"
    huge = RawArticle(input_path="http://feeds.example/a.xml", record_index=9, input_format="feed",
                      text="word " * (MAX_TEXT_CHARS // 5 + 100_000), title="Huge", url="https://news.example/huge")
    events = (TestStream()
              .advance_watermark_to(T0)
              .add_elements([TimestampedValue(entry(1), T0 + 10), TimestampedValue(huge, T0 + 20)])
              .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        manifests = build_from_entries(p | events, ["x"], root=str(root), job_id="g", nlp=False)
        assert_that(manifests | beam.Map(lambda m: (m["counts"]["records_read"], m["counts"]["articles"],
                                                    m["counts"]["errors_by_stage"], m["counts"]["balanced"])),
                    equal_to([(2, 1, {"normalise": 1}, True)]))
    errors = ds.dataset(str(root / "errors"), partitioning="hive").to_table().to_pylist()
    assert [(e["error_type"], e["record_index"]) for e in errors] == [("text_too_long", 9)]


def test_a_window_that_lost_a_record_is_not_balanced(tmp_path):
    """records_read is counted from the records that entered (the ``read`` items), not from the
    rows it is checked against: a window whose record vanished says so."""
    import datetime as dt

    from transforms.normalise.stage import normalise_record
    from transforms.storage.manifest import make_manifest
    from transforms.storage.windows import WriteWindows, tally_window

    start = dt.datetime(2026, 9, 21, 14, 15, tzinfo=dt.timezone.utc)
    row = normalise_record(entry(1), run_id="", ingested_at=start)
    ok = tally_window([("read", 1), ("rows", ("articles", 1)), ("read", 1), ("duplicate", "in_stream")], "r")
    lost = tally_window([("read", 1), ("rows", ("articles", 1)), ("read", 1)], "r")
    common = dict(run_id="r", started_at=start.isoformat(), inputs=[], options={})
    assert make_manifest(**common, **ok.counts)["counts"]["balanced"] is True
    assert make_manifest(**common, **lost.counts)["counts"]["balanced"] is False
    # and end to end through the window commit
    root = tmp_path / "root"
    items = (TestStream()
             .advance_watermark_to(T0)
             .add_elements([TimestampedValue(("read", 1), T0 + 1), TimestampedValue(("read", 1), T0 + 2),
                            TimestampedValue(("article", row), T0 + 3)])
             .advance_watermark_to_infinity())
    with streaming_pipeline() as p:
        manifests = (p | items | beam.WindowInto(beam.window.FixedWindows(WINDOW))
                     | WriteWindows(str(root), "lost", max_rows=100, inputs=[], options={}))
        assert_that(manifests | beam.Map(lambda m: (m["counts"]["records_read"], m["counts"]["balanced"])),
                    equal_to([(2, False)]))


def test_a_bounded_local_run_drops_an_entry_seen_by_an_earlier_poll():
    """The local runners move the watermark to the end between two polls of a bounded PeriodicImpulse,
    which fired every dedup expiry at once: each poll's entries came through again (found by the portable
    runner test). A bounded run shorter than the ttl keeps its dedup state for the whole run."""
    import time as _time

    from transforms.storage.dedup import DUPLICATES_TAG, DedupEntries

    start = _time.time()
    with beam.Pipeline(runner=FnApiRunner()) as p:
        ticks = p | PeriodicImpulse(start_timestamp=start, stop_timestamp=start + 1.5, fire_interval=1.0)
        out = (ticks | beam.Map(lambda _: entry(1))
               | DedupEntries(3 * 86400.0, None, "bounded", expire=False))
        assert_that(out["raw"] | beam.Map(lambda r: r.url), equal_to(["https://news.example/1"]), label="Kept")
        assert_that(out[DUPLICATES_TAG], equal_to(["in_stream"]), label="Dropped")


def test_a_window_s_rows_are_written_in_shards_and_committed_with_it(tmp_path):
    """Every table's rows are written on many workers, one file per table, partition and shard (a hash of
    the article id), and committed together with the window; the files add up to the manifest's counts,
    the articles and events carry their stories, and the window's ids are in the id index."""
    import re

    from tests.conftest import CORPORA, need
    from transforms.storage.idindex import indexed_ids

    stories = [json.loads(line) for line in need(CORPORA / "voa" / "voa_stories.jsonl").read_text().splitlines()[:6]]
    raws = [RawArticle(input_path="http://feeds.example/a.xml", record_index=i, input_format="feed", text=s["text"],
                       title=s["title"], url=f"https://news.example/voa-{i}", published=("2026-09-21T14:00:00Z",))
            for i, s in enumerate(stories)]
    raws.append(RawArticle(input_path="http://feeds.example/a.xml", record_index=6, input_format="feed", text="  ",
                           title="", url="https://news.example/empty", published=("2026-09-21T14:00:00Z",)))
    events = (TestStream().advance_watermark_to(T0)
              .add_elements([TimestampedValue(r, T0 + 10 + i) for i, r in enumerate(raws)])
              .advance_watermark_to_infinity())
    root = tmp_path / "root"
    with streaming_pipeline() as p:
        build_from_entries(p | events, ["http://feeds.example/a.xml"], root=str(root), job_id="sh")
    (manifest,) = [json.loads(f.read_text()) for f in (root / "_runs").glob("*.json")]
    rows = {t: ds.dataset(str(root / t), partitioning="hive").to_table().to_pylist()
            for t in ("articles", "entities", "events", "errors")}
    for table, table_rows in rows.items():
        files = [f for f in manifest["files"] if f["table"] == table]
        assert files and all(re.search(r"-s\d{3}-\d{4}\.parquet$", f["path"]) for f in files), table
        assert sum(f["rows"] for f in files) == len(table_rows) == manifest["tables"][table], table
        assert {r["run_id"] for r in table_rows} == {manifest["run_id"]}
    assert len([f for f in manifest["files"] if f["table"] == "entities"]) >= 2
    assert manifest["tables"]["entities"] > 100 and manifest["tables"]["articles"] == 6
    assert manifest["counts"]["errors_by_stage"] == {"normalise": 1} and manifest["counts"]["balanced"]
    assert len({e["article_id"] for e in rows["entities"]}) == 6
    stories_of = {a["article_id"]: a["story_id"] for a in rows["articles"]}
    assert all(stories_of.values()) and manifest["tables"]["stories"] == len(set(stories_of.values()))
    assert all(e["story_id"] == stories_of[e["article_id"]] for e in rows["events"])
    assert set(indexed_ids(str(root))) == set(stories_of)
    assert not (root / "_staging").exists() or not any((root / "_staging").iterdir())
