"""``newsbeam compact``: fewer files, the same rows, schema versions kept, and the protocol that keeps
concurrent readers exact and concurrent runs whole (see transforms/compact.py)."""
from __future__ import annotations

import collections
import datetime as dt
import json
import os
import pathlib
import shutil
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import schemas
from pipelines.cli import main
from tests.query_dataset import shared_dataset
from tests.test_query import _articles, add_column
from transforms.dataset.query import run_query
from transforms.storage.compact import SourceFile, compact, compaction_lock, plan_groups, read_state, snapshot_files
from transforms.storage.locks import LockBusy
from transforms.storage.sink import commit_run, committed_files, write_part

COUNTS = ("SELECT (SELECT count(*) FROM articles) AS articles, (SELECT count(DISTINCT article_id) FROM articles) "
          "AS ids, (SELECT count(*) FROM entities) AS entities, (SELECT count(*) FROM events) AS events, "
          "(SELECT count(*) FROM errors) AS errors")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return shared_dataset(tmp_path_factory)


@pytest.fixture
def root(built, tmp_path) -> pathlib.Path:
    """A private copy of the shared dataset, free to change."""
    copy = tmp_path / "root"
    shutil.copytree(built[0], copy)
    return copy


def counts(root) -> dict:
    return run_query(str(root), COUNTS).to_pylist()[0]


def all_rows(root, table):
    """Every row of ``table`` with its partition, as a sorted list: equal lists, equal multisets."""
    rows = []
    for path in committed_files(str(root), table):
        day = pathlib.Path(path).parent.name
        rows += [json.dumps(dict(r, _dt=day), sort_keys=True, default=str) for r in pq.read_table(path).to_pylist()]
    return sorted(rows)


def files_per_table(root):
    return {t: len(committed_files(str(root), t)) for t in schemas.TABLES}


def test_plan_groups_merges_only_small_files_up_to_the_target():
    files = [SourceFile(f"p{i}", rows, rows * 100, 1) for i, rows in enumerate([10, 10, 10, 60, 10, 10, 5])]
    groups = plan_groups(files, target_rows=100, target_bytes=10**9)
    # p3 (60 rows) is not small (>= half of 100) and stays; the rest fill groups of at most 100 rows
    assert [[f.path for f in g] for g in groups] == [["p0", "p1", "p2", "p4", "p5", "p6"]]
    assert [[f.path for f in g] for g in plan_groups(files, target_rows=30, target_bytes=10**9)] == \
        [["p0", "p1", "p2"], ["p4", "p5", "p6"]]
    assert plan_groups(files[:1], 100, 10**9) == []  # one file: nothing to merge


def test_compaction_merges_small_files_and_keeps_every_row(root):
    before_files = files_per_table(root)
    before_rows = {t: all_rows(root, t) for t in schemas.TABLES}
    before_counts = counts(root)
    started = time.monotonic()
    results = compact(str(root))
    seconds = time.monotonic() - started
    after_files = files_per_table(root)
    print(f"compaction: {before_files} -> {after_files} files in {seconds:.2f}s")
    assert after_files["articles"] < before_files["articles"] and after_files["entities"] < before_files["entities"]
    for table in schemas.TABLES:
        assert all_rows(root, table) == before_rows[table], table
        partitions = {pathlib.Path(f).parent for f in committed_files(str(root), table)}
        assert after_files[table] == len(partitions), table  # small data: one file per partition
    assert counts(root) == before_counts
    assert sum(r.rows for r in results if r.table != "stories") == sum(
        before_counts[t] for t in ("articles", "entities", "events", "errors"))
    for path in committed_files(str(root), "articles"):
        meta = pq.read_schema(path).metadata
        assert meta[b"newsbeam.schema_version"] == str(schemas.SCHEMA_VERSION).encode()
        assert meta[b"newsbeam.table"] == b"articles"
    merged = [f for f in committed_files(str(root), "articles") if "compact-" in f]
    assert merged and all(json.loads(pq.read_schema(f).metadata[b"newsbeam.compacted_from"]) for f in merged)
    assert not (root / "_staging").exists() or not any((root / "_staging").iterdir())
    assert read_state(str(root))["active"] is None
    assert not (root / "_locks" / "compact.lock").exists()
    # a second compaction has nothing to do
    again = compact(str(root))
    assert files_per_table(root) == after_files and all(r.files_before == r.files_after for r in again)


@pytest.mark.slow  # 20-30 s of concurrent reads during a compaction: keeps make test under 6 minutes
def test_a_reader_during_compaction_never_sees_a_row_twice_or_misses_one(root):
    expected = counts(root)
    seen, errors, stop = [], [], threading.Event()
    naive_doubles, waits = [], {"left": 16}

    def reader():
        while not stop.is_set():
            try:
                seen.append(counts(root))
            except Exception as exc:  # surfaced below
                errors.append(exc)
                return

    def naive_count() -> int:  # a plain glob, the way the protocol's readers must not read
        return sum(pq.ParquetFile(f).metadata.num_rows for f in committed_files(str(root), "articles"))

    def step(name):
        if name == "published" and len(naive_doubles) < 3:
            naive_doubles.append(naive_count() - expected["articles"])
        if waits["left"] > 0:  # the first steps wait for reads made entirely inside each intermediate state
            waits["left"] -= 1
            target = len(seen) + 2
            deadline = time.monotonic() + 20
            while len(seen) < target and not errors and time.monotonic() < deadline:
                time.sleep(0.002)
        else:  # the others leave the reader a moment, so reads also straddle the transitions
            time.sleep(0.002)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        results = compact(str(root), ["articles", "entities"], on_step=step)
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    assert len(seen) >= 2 * 16, f"only {len(seen)} reads during compaction"
    assert all(s == expected for s in seen), collections.Counter(json.dumps(s) for s in seen)
    assert sum(r.files_before - r.files_after for r in results) > 50
    # the control: a reader that just globs would have counted rows twice
    assert naive_doubles and all(d > 0 for d in naive_doubles)


def test_a_run_committing_during_compaction_loses_nothing(root, built):
    day = "2018-01-31"
    new_rows = [dict(a, article_id=f"concurrent-{i}", run_id="r-concurrent")
                for i, a in enumerate(a for a in _articles(built[0]) if a["dt"].isoformat() == day)][:3]
    expected = counts(root)["articles"] + len(new_rows)
    committed = []

    def step(name):
        if name in ("moved", "deleted") and not committed:  # between the swap's steps, in a partition compacted
            staged = [write_part(str(root), "articles", "r-concurrent", day, new_rows, "w")]
            commit_run(str(root), "r-concurrent", staged, {"run_id": "r-concurrent"})
            committed.append(staged[0].final)

    compact(str(root), ["articles"], on_step=step)
    assert committed and os.path.exists(committed[0])
    assert counts(root)["articles"] == expected
    found = run_query(str(root), "SELECT count(*) AS n FROM articles WHERE run_id = 'r-concurrent'")
    assert found.column("n").to_pylist() == [len(new_rows)]
    compact(str(root), ["articles"])  # the next compaction merges it
    assert counts(root)["articles"] == expected
    assert len([f for f in committed_files(str(root), "articles") if f"/dt={day}/" in f]) == 1


@pytest.mark.parametrize("kill_at", ["publishing", "moved", "published", "deleted"])
def test_a_killed_compaction_is_rolled_forward_and_readers_stay_exact(root, kill_at):
    expected = counts(root)
    rows = all_rows(root, "articles")

    class Killed(Exception):
        pass

    def step(name):
        if name == kill_at:
            raise Killed(name)

    with pytest.raises(Killed):
        compact(str(root), ["articles"], on_step=step)
    assert read_state(str(root))["active"]["phase"] in ("publishing", "published")
    assert counts(root) == expected  # readers resolve the half-done swap
    assert not (root / "_locks" / "compact.lock").exists()
    compact(str(root), ["articles"])  # rolls forward, then compacts the rest
    assert read_state(str(root))["active"] is None
    assert counts(root) == expected and all_rows(root, "articles") == rows
    assert len(snapshot_files(str(root), "articles")) == len(committed_files(str(root), "articles"))


def test_one_compaction_at_a_time(root, capsys):
    with compaction_lock(str(root)):
        with pytest.raises(LockBusy, match="another compaction holds"):
            compact(str(root))
        assert main(["compact", str(root)]) == 1
        assert "compaction not started: another compaction holds" in capsys.readouterr().out
    # a lock left by a process that died is taken over
    (root / "_locks" / "compact.lock").write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": os.uname().nodename}))
    assert compact(str(root), ["errors"])
    assert not (root / "_locks" / "compact.lock").exists()


def test_old_schema_versions_are_upgraded_and_the_version_is_recorded(root, monkeypatch):
    day = "2018-01-31"
    old_rows = run_query(str(root), f"SELECT count(*) AS n FROM articles WHERE dt = DATE '{day}'").column("n")[0].as_py()
    add_column(monkeypatch, "articles", pa.field("sentiment", pa.float32()))
    row = dict(_articles(root)[0], article_id="v2-article", sentiment=-0.5, run_id="r-v2")
    commit_run(str(root), "r-v2", [write_part(str(root), "articles", "r-v2", day, [row], "w")], {"run_id": "r-v2"})
    compact(str(root), ["articles"], since=dt.date.fromisoformat(day))
    files = [f for f in committed_files(str(root), "articles") if f"/dt={day}/" in f]
    assert len(files) == 1
    table = pq.read_table(files[0])
    assert table.schema.metadata[b"newsbeam.schema_version"] == str(schemas.SCHEMA_VERSION).encode()
    assert table.num_rows == old_rows + 1
    assert sorted(table.column("sentiment").to_pylist(), key=lambda v: v is None) == [-0.5] + [None] * old_rows
    # --since: the days before were left alone
    assert len([f for f in committed_files(str(root), "articles") if "/dt=2017-" in f and "compact-" in f]) == 0


def test_files_of_a_newer_schema_version_are_left_alone(root, monkeypatch):
    day = "2018-01-31"
    before = sorted(f for f in committed_files(str(root), "articles") if f"/dt={day}/" in f)
    path = pathlib.Path(before[0])
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    meta[b"newsbeam.schema_version"] = str(schemas.SCHEMA_VERSION + 1).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    results = compact(str(root), ["articles"], since=dt.date.fromisoformat(day))
    skipped = [r for r in results if r.skipped]
    assert [r.dt for r in skipped] == [day] and "newer schema version" in skipped[0].skipped
    assert sorted(f for f in committed_files(str(root), "articles") if f"/dt={day}/" in f) == before


def test_the_command(root, capsys):
    before = files_per_table(root)
    assert main(["compact", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"newsbeam: would compact {root}: {sum(before.values())} files -> ")
    assert files_per_table(root) == before
    assert main(["compact", str(root), "--table", "entities", "--table", "events", "--since", "2020-01-01"]) == 0
    out = capsys.readouterr().out
    assert "rows unchanged" in out and "  entities:" in out and "  events:" in out and "articles" not in out
    after = files_per_table(root)
    assert after["articles"] == before["articles"] and after["entities"] < before["entities"]
    assert main(["compact", str(root), "--since", "2020-02-30"]) == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err
    assert main(["compact", str(root), "extra"]) == 2
    assert main(["compact", str(root / "nope")]) == 2
