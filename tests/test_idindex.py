"""The article-id index (transforms.storage.idindex): dedup against ROOT reads the buckets of the new ids,
every committed run is in it or it is rebuilt, and a hit the tables do not confirm never drops an article."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import EXAMPLES, newsbeam
from transforms.storage import idindex
from transforms.storage.idindex import (
    INDEX_DIR,
    bucket_of,
    ensure_index,
    indexed_ids,
    known,
    merge_buckets,
    rebuild_index,
    stage_ids,
    stage_marker,
    uncovered_runs,
)
from transforms.storage.sink import commit_run, write_part


def _article(article_id: str, dt: str = "2024-03-05"):
    import datetime as _dt

    return {"article_id": article_id, "text": "t", "word_count": 1, "content_hash": "h", "input_path": "x",
            "input_format": "text", "record_index": 0, "dt_is_ingest_date": False,
            "ingested_at": _dt.datetime(2024, 3, 5, tzinfo=_dt.timezone.utc), "run_id": "r", "dt": dt}


def _commit(root, run_id, ids, *, index=True, dt="2024-03-05"):
    staged = [write_part(str(root), "articles", run_id, dt, [_article(i, dt) for i in ids], "w")] if ids else []
    if index:
        staged += stage_ids(str(root), run_id, {i: dt for i in ids}) + [stage_marker(str(root), run_id)]
    commit_run(str(root), run_id, staged, {"run_id": run_id})


def _id(n: int) -> str:
    return f"{n:032x}"[::-1]  # spread over the buckets by the first hex digits


def test_lookups_read_only_the_buckets_of_the_ids_asked_about(tmp_path, monkeypatch):
    ids = [_id(n) for n in range(400)]
    _commit(tmp_path, "r1", ids[:200])
    _commit(tmp_path, "r2", ids[200:300])
    assert not uncovered_runs(str(tmp_path))
    read = []
    original = idindex._read_bucket
    monkeypatch.setattr(idindex, "_read_bucket", lambda fs, base, bb: read.append(bb) or original(fs, base, bb))
    asked = [ids[5], ids[250], ids[350]]
    assert known(str(tmp_path), asked) == {ids[5], ids[250]}
    assert sorted(read) == sorted({bucket_of(i) for i in asked})
    assert len(indexed_ids(str(tmp_path))) == 300


def test_a_run_missing_from_the_index_makes_it_rebuilt(tmp_path):
    _commit(tmp_path, "r1", [_id(1), _id(2)])
    _commit(tmp_path, "old", [_id(3)], index=False)  # as an older version wrote it
    assert uncovered_runs(str(tmp_path)) == {"old"}
    assert _id(3) not in known(str(tmp_path), [_id(3)])
    assert ensure_index(str(tmp_path)) == (True, 1)
    assert known(str(tmp_path), [_id(1), _id(3), _id(9)]) == {_id(1), _id(3)}
    assert ensure_index(str(tmp_path)) == (False, 0) and not uncovered_runs(str(tmp_path))
    assert rebuild_index(str(tmp_path)) == 3  # idempotent: one file per bucket, no id twice
    assert len(indexed_ids(str(tmp_path))) == 3


def test_an_index_hit_the_tables_do_not_confirm_drops_nothing(tmp_path, capsys):
    from pipelines.cli import main

    _commit(tmp_path, "r1", [_id(1)], dt="2024-03-05")
    _commit(tmp_path, "r2", [_id(2)], dt="2024-03-06")
    shutil.rmtree(tmp_path / "articles" / "dt=2024-03-05")  # the article's files removed by hand
    assert _id(1) in indexed_ids(str(tmp_path))
    assert known(str(tmp_path), [_id(1), _id(2)]) == {_id(2)}
    assert main(["compact", str(tmp_path), "--index"]) == 0  # the index rebuilt from the tables
    assert "rebuilt the article-id index" in capsys.readouterr().out
    assert set(indexed_ids(str(tmp_path))) == {_id(2)}


def test_buckets_with_many_files_are_merged_without_losing_an_id(tmp_path):
    ids = [f"ab{n:030x}" for n in range(40)]
    for n, article_id in enumerate(ids):
        _commit(tmp_path, f"r{n:02d}", [article_id])
    folder = tmp_path / INDEX_DIR / "ab"
    assert len(list(folder.iterdir())) == 40
    assert merge_buckets(str(tmp_path), ["ab"], max_files=32) == 1
    assert len(list(folder.iterdir())) == 1
    assert known(str(tmp_path), ids) == set(ids)
    assert merge_buckets(str(tmp_path), ["ab"], max_files=32) == 0


def test_a_root_written_without_the_index_still_deduplicates(tmp_path):
    """A ROOT from before the index: the next run rebuilds it and counts the repeats as in ROOT."""
    root = tmp_path / "root"
    first = newsbeam("run", EXAMPLES, "--output", root, "--skip-nlp", "-q")
    assert first.returncode == 0, first.stderr
    shutil.rmtree(root / INDEX_DIR)
    again = newsbeam("run", EXAMPLES, "--output", root, "--skip-nlp", "-q")
    assert again.returncode == 0, again.stderr
    (second,) = [json.loads(p.read_text()) for p in sorted((root / "_runs").glob("*.json"))][1:]
    assert second["counts"]["articles"] == 0 and second["counts"]["duplicates_by_reason"]["in_root"] == 14
    assert "rebuilding it" in again.stderr


@pytest.mark.parametrize("n", [0, 1])
def test_every_committed_run_is_marked_even_with_no_new_article(tmp_path, n):
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.testing.test_pipeline import TestPipeline

    from pipelines.batch import build_batch
    from tests.conftest import NOW

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"title": f"T{i}", "text": f"Text {i}."}) + "\n" for i in range(n)))
    root = tmp_path / "root"
    with TestPipeline(runner=FnApiRunner()) as p:
        build_batch(p, [str(src)], root=str(root), run_id="r1", ingested_at=NOW, nlp=False)
    assert not uncovered_runs(str(root)) and (root / INDEX_DIR / "_runs" / "r1").exists()
    assert len(indexed_ids(str(root))) == n


def test_a_hit_is_confirmed_in_its_run_s_files_only_until_a_compaction_merges_them(tmp_path, monkeypatch):
    from transforms.storage.compact import compact

    for n in range(5):
        _commit(tmp_path, f"r{n}", [_id(100 + n)])  # five runs, one partition
    opened = []
    original = idindex.pq.read_table
    monkeypatch.setattr(idindex.pq, "read_table", lambda fh, **kw: opened.append(fh.path) or original(fh, **kw))
    assert known(str(tmp_path), [_id(102)]) == {_id(102)}
    assert len(opened) == 1 and "part-r2-" in opened[0]
    monkeypatch.undo()
    compact(str(tmp_path), ["articles"])  # the five files merged into one named after the compaction
    assert known(str(tmp_path), [_id(102), _id(104)]) == {_id(102), _id(104)}
