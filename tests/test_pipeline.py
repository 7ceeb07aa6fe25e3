"""The Beam transforms and the whole ingestion pipeline, end to end."""
from __future__ import annotations

import json
import os
import shutil

import apache_beam as beam
import duckdb
import fsspec
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

import schemas
from pipelines.batch import ReadArticles, build_batch
from tests.conftest import EXAMPLES, NOW, SEED, need
from transforms.storage.dedup import Deduplicate
from transforms.storage.idindex import known
from transforms.storage.sink import commit_run, committed_files, recover, write_part


def make_pipeline():
    return TestPipeline(runner=FnApiRunner())


# ------------------------------------------------------------------ transforms

def test_read_articles_transform_main_and_dead_letter(tmp_path):
    (tmp_path / "good.jsonl").write_text('{"title": "A", "text": "Alpha story."}\n{"bad json\n')
    (tmp_path / "seed.txt").write_bytes(need(SEED).read_bytes())
    (tmp_path / "empty.txt").write_text("")
    with make_pipeline() as p:
        out = p | ReadArticles([str(tmp_path)], run_id="r1", ingested_at=NOW)
        assert_that(out["articles"] | beam.Map(lambda a: (a["title"], a["text"][:12], a["run_id"])),
                    equal_to([("A", "Alpha story.", "r1"), (None, "US immigrati", "r1")]), label="CheckArticles")
        assert_that(out["errors"] | beam.Map(lambda e: (os.path.basename(e.input_path), e.record_index, e.error_type)),
                    equal_to([("good.jsonl", 1, "invalid_json"), ("empty.txt", None, "empty_file")]),
                    label="CheckErrors")
        assert_that(out["files"] | beam.Map(os.path.basename),
                    equal_to(["good.jsonl", "seed.txt", "empty.txt"]), label="CheckFiles")


def test_deduplicate_within_run_and_against_root(tmp_path):
    root = str(tmp_path / "root")
    old = {"article_id": "old", "input_path": "x", "record_index": 0}
    staged = write_part(root, "articles", "r0", "2020-01-01", [_article_row("old")], "w")
    commit_run(root, "r0", [staged], {"run_id": "r0"})
    from transforms.storage.idindex import ensure_index

    assert ensure_index(root) == (True, 1)  # r0 wrote no ids into the index: rebuilt, as a run's start does
    rows = [dict(_article_row("a"), input_path="b", record_index=0), dict(_article_row("a"), input_path="a", record_index=5),
            _article_row("old"), _article_row("new")]
    with make_pipeline() as p:
        out = p | beam.Create(rows) | Deduplicate(root, "r1")
        assert_that(out["articles"] | beam.Map(lambda a: (a["article_id"], a["input_path"], a["record_index"])),
                    equal_to([("a", "a", 5), ("new", "in", 0)]), label="CheckKept")
        assert_that(out["duplicates"] | beam.Map(lambda d: (d["article_id"], d["reason"])),
                    equal_to([("a", "in_run"), ("old", "in_root")]), label="CheckDuplicates")
    assert known(root, [old["article_id"], "new"]) == {old["article_id"]}


def _article_row(article_id: str):
    import datetime as dt

    return {"article_id": article_id, "url": None, "source": None, "title": "t", "authors": [], "text": "x",
            "published_at": None, "language": "en", "word_count": 1, "content_hash": "h", "input_path": "in",
            "input_format": "text", "record_index": 0, "dt_is_ingest_date": True, "ingested_at": NOW,
            "run_id": "r", "dt": dt.date(2020, 1, 1)}


def test_table_writer_bounds_its_buffers_by_writing_the_largest_partition(tmp_path):
    """One long bundle (the in-process runner has one) must not hold every row until it ends."""
    import datetime as dt

    import pyarrow.parquet as pq

    from transforms.storage.write import _WritePartsFn

    fn = _WritePartsFn(str(tmp_path), "articles", "r", max_rows=10_000, max_bytes=1 << 30,
                       max_buffered_bytes=20 * (600 + 1000))
    fn.start_bundle()
    rows = [dict(_article_row(f"a{i}"), text="y" * 1000, dt=dt.date(2020, 1, 1 + (i % 3 == 0))) for i in range(100)]
    staged = [f for row in rows for f in fn.process(row)]
    assert staged and max(fn._buffered, 0) <= 20 * 1600  # written while the bundle was still running
    assert staged[0].dt == "2020-01-01" and staged[0].rows > 10  # the largest partition goes first  # the largest partition goes first
    staged += [w.value for w in fn.finish_bundle()]
    written = sorted(r for f in staged for r in pq.read_table(f.staged).column("article_id").to_pylist())
    assert written == sorted(r["article_id"] for r in rows)  # every row once


# ------------------------------------------------------------------ the whole pipeline

def run_ingest(inputs, root, run_id="run1", nlp=False, **kwargs):
    """The whole pipeline; NLP (entities, events) only where a test is about it, to stay fast."""
    kwargs["nlp"] = nlp
    with make_pipeline() as p:
        out = build_batch(p, [str(i) for i in inputs], root=str(root), run_id=run_id, ingested_at=NOW, **kwargs)
    return out


def read_manifest(root, run_id):
    with fsspec.open(f"{root}/_runs/{run_id}.json", "r") as fh:
        return json.load(fh)


def test_examples_end_to_end_and_counts_add_up(tmp_path):
    root = tmp_path / "out"
    run_ingest([EXAMPLES], root, nlp=True)
    manifest = read_manifest(root, "run1")
    m = manifest["counts"]
    assert m == {"files": 5, "records_read": 17, "articles": 14, "record_errors": 2, "duplicates": 1,
                 "duplicates_by_reason": {"in_run": 1}, "errors": 2, "errors_by_stage": {"parse": 2},
                 "balanced": True, "entities_skipped_language": 0, "near_duplicates": 0, "stories_new": 11,
                 "stories_updated": 0}
    tables = manifest["tables"]
    assert tables["entities"] > 500 and tables["events"] > 50
    # every entity and event offset points into its article's text
    texts = {r["article_id"]: r["text"] for r in ds.dataset(str(root / "articles"), partitioning="hive").to_table().to_pylist()}
    entities = ds.dataset(str(root / "entities"), partitioning="hive").to_table().to_pylist()
    events = ds.dataset(str(root / "events"), partitioning="hive").to_table().to_pylist()
    assert len(entities) == tables["entities"] and len(events) == tables["events"]
    for e in entities:
        assert texts[e["article_id"]][e["start_char"]:e["end_char"]] == e["text"]
    for e in events:
        text = texts[e["article_id"]]
        assert text[e["trigger_start"]:e["trigger_end"]] == e["trigger"]
        assert text[e["sentence_start"]:e["sentence_end"]] == e["sentence"]
    seed_events = [e for e in events if e["dt"] == "2020-02-07"]
    assert any(e["event_type"] == "ASSAULT" and e["mode"] == "firearms" and str(e["event_date"]) == "2020-02-06"
               for e in seed_events)
    articles = ds.dataset(str(root / "articles"), partitioning="hive").to_table()
    assert articles.num_rows == 14 and len(set(articles.column("article_id").to_pylist())) == 14
    errors = ds.dataset(str(root / "errors"), partitioning="hive").to_table().to_pylist()
    assert sorted(os.path.basename(e["input_path"]) for e in errors) == ["broken-feed.xml", "voa-stories.jsonl"]
    # nothing staged or temporary is left, every data file is committed under a dt= folder
    assert not (root / "_staging").exists() or not any((root / "_staging").iterdir())
    for path in root.rglob("*.parquet"):
        rel = path.relative_to(root).parts
        if rel[0] == "_stories":  # the story state of the run (transforms.stories.state)
            assert rel[1] == "0000000001-0000000001-run1" and rel[2] == "signatures.parquet"
            continue
        assert rel[0] in ("articles", "errors", "entities", "events", "stories") and rel[1].startswith("dt=")
        assert rel[2].startswith("part-run1-")


def test_dataset_reads_back_with_pyarrow_and_duckdb(tmp_path):
    root = tmp_path / "out"
    run_ingest([EXAMPLES], root)
    table = ds.dataset(str(root / "articles"), partitioning="hive").to_table()
    assert set(table.column_names) == set(schemas.ARTICLES.names)
    rows = duckdb.sql(f"select dt, count(*) from read_parquet('{root}/articles/**/*.parquet', hive_partitioning=true) "
                      f"group by dt order by dt").fetchall()
    assert sum(n for _, n in rows) == 14
    import datetime as dt
    assert (dt.date(2020, 2, 7), 1) in rows
    seed = duckdb.sql(f"select text, published_at from read_parquet('{root}/articles/**/*.parquet', "
                      f"hive_partitioning=true) where dt = DATE '2020-02-07'").fetchall()
    assert seed[0][0].startswith("US immigration officials")


def test_files_carry_the_schema_and_its_version(tmp_path):
    root = tmp_path / "out"
    run_ingest([EXAMPLES], root)
    for table in ("articles", "errors"):
        for path in committed_files(str(root), table):
            schema = pq.read_schema(path)
            assert schema.metadata[b"newsbeam.schema_version"] == str(schemas.SCHEMA_VERSION).encode()
            assert schema.remove_metadata().equals(schemas.file_schema(table).remove_metadata())


def test_rerun_is_idempotent(tmp_path):
    root = tmp_path / "out"
    run_ingest([EXAMPLES], root, run_id="first")
    run_ingest([EXAMPLES], root, run_id="second")
    second = read_manifest(root, "second")["counts"]
    assert second["articles"] == 0 and second["duplicates_by_reason"] == {"in_root": 14, "in_run": 1}
    assert second["balanced"]
    assert ds.dataset(str(root / "articles"), partitioning="hive").count_rows() == 14


def test_new_article_in_second_run_is_added(tmp_path):
    root = tmp_path / "out"
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jsonl").write_text('{"url": "https://ex.com/a", "text": "First story."}\n')
    run_ingest([src], root, run_id="first")
    (src / "a.jsonl").write_text('{"url": "https://ex.com/a?utm_source=x", "text": "First story, edited."}\n'
                                 '{"url": "https://ex.com/b", "text": "Second story."}\n')
    run_ingest([src], root, run_id="second")
    counts = read_manifest(root, "second")["counts"]
    assert counts["articles"] == 1 and counts["duplicates_by_reason"] == {"in_root": 1}


def test_memory_filesystem_round_trip():
    fs = fsspec.filesystem("memory")
    fs.pipe("/nb-in/seed.txt", need(SEED).read_bytes())
    fs.pipe("/nb-in/more/a.jsonl", b'{"title": "T", "text": "Memory story."}\n')
    try:
        run_ingest(["memory://nb-in"], "memory://nb-out")
        m = read_manifest("memory://nb-out", "run1")["counts"]
        assert m["articles"] == 2 and m["balanced"]
        files = committed_files("memory://nb-out", "articles")
        assert len(files) == 2 and all("/articles/dt=" in f for f in files)
        titles = set()
        for f in files:
            with fs.open(f, "rb") as fh:
                titles |= set(pq.read_table(fh).column("title").to_pylist())
        assert titles == {None, "T"}
    finally:
        fs.rm("/nb-in", recursive=True)
        fs.rm("/nb-out", recursive=True)


def test_folder_of_bad_inputs_all_land_in_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "spaces.txt").write_bytes(b"  \n\t\n")
    (bad / "binary.dat").write_bytes(bytes(range(256)) * 8)
    (bad / "broken.json").write_text('{"title": "x", ')
    (bad / "broken.xml").write_text("<rss><channel><item><title>cut")
    (bad / "array.json").write_text("[]")
    (bad / "nulls.jsonl").write_text("null\n42\n")
    (bad / "page.html").write_text("<html><body></body></html>")
    (bad / "trunc.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    root = tmp_path / "out"
    run_ingest([bad], root)
    m = read_manifest(root, "run1")["counts"]
    assert m["articles"] == 0 and m["balanced"] and m["files"] == 9
    errors = ds.dataset(str(root / "errors"), partitioning="hive").to_table().to_pylist()
    by_file = {}
    for e in errors:
        by_file.setdefault(os.path.basename(e["input_path"]), []).append(e["error_type"])
        assert e["message"] and e["run_id"] == "run1"
    assert set(by_file) == {p.name for p in bad.iterdir()}
    assert by_file["nulls.jsonl"] == ["not_an_object", "not_an_object"]


def test_many_rows_split_into_bounded_files(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"Story number {i}.", "published": "2021-01-01"}) + "\n"
                           for i in range(250)))
    root = tmp_path / "out"
    run_ingest([src], root, max_rows_per_file=100)
    files = committed_files(str(root), "articles")
    assert len(files) == 3 and sorted(pq.read_metadata(f).num_rows for f in files) == [50, 100, 100]


def test_recover_rolls_an_interrupted_commit_forward(tmp_path):
    root = str(tmp_path / "out")
    staged = [write_part(root, "articles", "r9", "2020-01-01", [_article_row(f"id{i}")], f"w{i}") for i in range(3)]
    # A run killed mid-commit: the journal is written and one of three files has moved.
    journal = {"run_id": "r9", "moves": [[s.staged, s.final] for s in staged], "manifest": {"run_id": "r9"}}
    os.makedirs(f"{root}/_runs", exist_ok=True)
    with open(f"{root}/_runs/r9.commit.json", "w") as fh:
        json.dump(journal, fh)
    os.makedirs(os.path.dirname(staged[0].final), exist_ok=True)
    shutil.move(staged[0].staged, staged[0].final)
    assert len(committed_files(root, "articles")) == 1
    assert recover(root) == ["r9"]
    assert len(committed_files(root, "articles")) == 3
    assert os.path.exists(f"{root}/_runs/r9.json") and not os.path.exists(f"{root}/_runs/r9.commit.json")
    assert not os.path.exists(f"{root}/_staging/r9")
    assert recover(root) == []


def test_uncommitted_staging_is_invisible(tmp_path):
    root = str(tmp_path / "out")
    row = _article_row("x")
    write_part(root, "articles", "r8", "2020-01-01", [row], "w")
    assert committed_files(root, "articles") == []
    assert known(root, [row["article_id"]]) == set()
    assert not os.path.exists(f"{root}/articles")
