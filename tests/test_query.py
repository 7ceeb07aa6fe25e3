"""``newsbeam query``: views, empty tables, dt pruning, output formats, one-line errors, schema
versions, and every example query of README.md against a dataset built by the real pipeline."""
from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import io
import json
import pathlib
import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import schemas
from pipelines.cli import main
from tests.conftest import REPO
from tests.query_dataset import haversine_km, shared_dataset
from transforms.dataset.query import Dataset, explain_files_read, render_table, run_query
from transforms.storage.sink import commit_run, committed_files, write_part

QUERIES_DOC = REPO / "README.md"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return shared_dataset(tmp_path_factory)


def _articles(root: pathlib.Path):
    rows = []
    for path in committed_files(str(root), "articles"):
        day = dt.date.fromisoformat(pathlib.Path(path).parent.name.split("=")[1])
        rows += [dict(r, dt=day) for r in pq.read_table(path).to_pylist()]
    return rows


def newsbeam(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# --- views ---------------------------------------------------------------------------------------

def test_views_have_every_column_of_the_schema_and_dt_is_a_date(dataset):
    root, _ = dataset
    with Dataset(str(root)) as ds:
        for table, schema in schemas.TABLES.items():
            described = ds.sql(f"DESCRIBE {table}").to_pylist()
            assert [d["column_name"] for d in described] == schema.names
            assert {d["column_name"]: d["column_type"] for d in described}["dt"] == "DATE"
            assert ds.sql(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py() > 0


def test_a_table_without_files_is_an_empty_view_with_its_schema(tmp_path):
    root = tmp_path / "root"
    staged = [write_part(str(root), "errors", "r1", "2024-01-02",
                         [{"input_path": "x", "stage": "read", "error_type": "empty_file", "message": "m",
                           "ingested_at": dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), "run_id": "r1"}], "w")]
    commit_run(str(root), "r1", staged, {"run_id": "r1"})
    with Dataset(str(root)) as ds:
        assert ds.sql("SELECT count(*) AS n FROM errors").column("n").to_pylist() == [1]
        for table in ("articles", "entities", "events"):
            result = ds.sql(f"SELECT * FROM {table}")
            assert result.num_rows == 0 and result.column_names == schemas.TABLES[table].names
        # typed: the example queries work on an empty events table
        near = ds.sql("SELECT count(*) AS n FROM events WHERE latitude > 1.5 AND event_date >= DATE '2020-01-01' "
                      "AND dt = DATE '2020-01-01' AND confidence > 0.5 AND NOT negated")
        assert near.column("n").to_pylist() == [0]


def test_a_dt_filter_opens_only_the_files_of_that_day(dataset, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(dataset[0], root)
    day = "2018-01-31"
    wanted = [f for f in committed_files(str(root), "articles") if f"/dt={day}/" in f]
    others = [f for f in committed_files(str(root), "articles") if f"/dt={day}/" not in f]
    expected = sum(pq.ParquetFile(f).metadata.num_rows for f in wanted)
    assert len(wanted) >= 1 and len(others) > 50
    # Every file of the other days stops being Parquet: opening any of them would fail the query.
    for path in others:
        pathlib.Path(path).write_bytes(b"not parquet")
    sql = f"SELECT count(*) AS n FROM articles WHERE dt = DATE '{day}'"
    with Dataset(str(root)) as ds:
        assert ds.sql(sql).column("n").to_pylist() == [expected]
        assert explain_files_read(ds, sql) == len(wanted)
        assert ds.sql(f"SELECT count(*) AS n FROM articles WHERE dt BETWEEN '{day}' AND '{day}'"
                      ).column("n").to_pylist() == [expected]
    with pytest.raises(Exception, match="Parquet file|magic bytes"):  # the control: no filter, no luck
        run_query(str(root), "SELECT count(*) FROM articles")


def test_the_staging_folder_is_never_read(dataset, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(dataset[0], root)
    before = run_query(str(root), "SELECT count(*) AS n FROM articles").column("n")[0].as_py()
    write_part(str(root), "articles", "r-staged", "2018-01-31", _articles(dataset[0])[:5], "w")  # never committed
    assert (root / "_staging" / "r-staged").exists()
    assert run_query(str(root), "SELECT count(*) AS n FROM articles").column("n")[0].as_py() == before


# --- the command ---------------------------------------------------------------------------------

def test_table_output_is_aligned(dataset, capsys):
    code, out, err = newsbeam(capsys, "query", dataset[0],
                              "SELECT dt, count(*) AS n FROM articles WHERE dt >= '2025-03-10' GROUP BY dt ORDER BY dt")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["dt", "n"] and set(lines[1]) == {"-", " "}
    assert re.fullmatch(r"\(\d+ rows?\)", lines[-1])
    body = lines[2:-1]
    assert body and len({len(line) for line in body}) == 1  # right-aligned counts: equal widths
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} +\d+", line) for line in body)


def test_render_table_cuts_long_cells_and_shows_nulls():
    table = pa.table({"text": ["a" * 100, None], "n": [1, 22]})
    text = render_table(table, max_width=10)
    assert "aaaaaaaaa…" in text and "NULL" in text and text.endswith("(2 rows)")
    assert render_table(table, max_rows=1).endswith("(2 rows, 1 not shown; use --format csv)")


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "ndjson", "parquet"])
def test_csv_json_and_parquet_output(dataset, tmp_path, capsys, fmt):
    root, _ = dataset
    sql = "SELECT dt, title, authors, word_count FROM articles WHERE dt = DATE '2025-03-14' ORDER BY title"
    expected = run_query(str(root), sql).to_pylist()
    assert expected
    out_file = tmp_path / f"result.{fmt}"
    code, out, err = newsbeam(capsys, "query", root, sql, "--format", fmt, "--out", out_file)
    assert code == 0, err
    if fmt == "parquet":
        assert pq.read_table(out_file).to_pylist() == expected
        return
    text = out_file.read_text()
    code, out, _ = newsbeam(capsys, "query", root, sql, "--format", fmt)  # the same on standard output
    assert code == 0 and out == text
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["title"] for r in rows] == [e["title"] for e in expected]
        assert [int(r["word_count"]) for r in rows] == [e["word_count"] for e in expected]
        assert rows[0]["dt"] == "2025-03-14"
    else:  # json: one array, as DuckDB's CLI prints it; jsonl and ndjson: one object per line
        rows = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        assert isinstance(rows, list) and (fmt == "json") == text.lstrip().startswith("[")
        assert [(r["dt"], r["title"], r["authors"]) for r in rows] == \
            [(e["dt"].isoformat(), e["title"], e["authors"]) for e in expected]


def test_the_command_offers_every_format():
    from pipelines.cli import build_parser
    from transforms.dataset.query import FORMATS

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    fmt = next(a for a in sub.choices["query"]._actions if a.dest == "format")
    assert tuple(fmt.choices) == FORMATS


def test_a_sql_error_is_one_line_and_a_nonzero_exit(dataset, capsys):
    for sql in ("SELEC 1", "SELECT no_such_column FROM articles", "SELECT * FROM no_such_table"):
        code, out, err = newsbeam(capsys, "query", dataset[0], sql)
        assert code == 1 and out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("newsbeam: query failed: ") and "Traceback" not in err


@pytest.mark.parametrize("args, fragment", [
    (("query",), "the following arguments are required: ROOT, SQL"),
    (("query", "{root}", "SELECT 1", "--format", "parquet"), "--format parquet needs --out FILE"),
    (("query", "{root}", "SELECT 1", "--format", "xml"), "invalid choice: 'xml'"),
    (("query", "{root}", "SELECT 1", "--frobnicate"), "unrecognized arguments: --frobnicate"),
    (("query", "{root}", "SELECT 1", "extra"), "unrecognized arguments: extra"),
    (("query", "/no/such/root", "SELECT 1"), "no dataset at /no/such/root"),
    (("query", "{root}", "SELECT 1", "--out", "/no/such/dir/x.csv", "--format", "csv"), "its folder does not exist"),
])
def test_bad_command_lines_exit_2_with_one_line(dataset, capsys, args, fragment):
    code, out, err = newsbeam(capsys, *[a.format(root=dataset[0]) for a in args])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and fragment in lines[0], err


# --- schema versions -----------------------------------------------------------------------------

def test_every_file_carries_its_table_and_schema_version(dataset):
    root, _ = dataset
    for table in schemas.TABLES:
        files = committed_files(str(root), table)
        assert files, table
        for path in files:
            meta = pq.read_schema(path).metadata
            assert meta[b"newsbeam.table"] == table.encode()
            assert meta[b"newsbeam.schema_version"] == str(schemas.SCHEMA_VERSION).encode()


def add_column(monkeypatch, table: str, field: pa.Field) -> None:
    """What a later version does: the table gains a column and SCHEMA_VERSION goes up."""
    schema = schemas.TABLES[table]
    position = schema.get_field_index(schemas.PARTITION_COLUMN)
    monkeypatch.setitem(schemas.TABLES, table, schema.insert(position, field))
    monkeypatch.setattr(schemas, "SCHEMA_VERSION", schemas.SCHEMA_VERSION + 1)


def test_a_column_added_later_is_null_in_old_partitions(dataset, tmp_path, monkeypatch):
    root = tmp_path / "root"
    shutil.copytree(dataset[0], root)
    old_total = run_query(str(root), "SELECT count(*) AS n FROM articles").column("n")[0].as_py()
    old_version = schemas.SCHEMA_VERSION
    add_column(monkeypatch, "articles", pa.field("sentiment", pa.float32(), metadata={"doc": "Tone in [-1, 1]."}))
    row = dict(_articles(dataset[0])[0], article_id="new-article", sentiment=0.25, run_id="r-v2")
    staged = [write_part(str(root), "articles", "r-v2", "2018-01-31", [row], "w")]
    commit_run(str(root), "r-v2", staged, {"run_id": "r-v2"})
    assert pq.read_schema(staged[0].final).metadata[b"newsbeam.schema_version"] == str(old_version + 1).encode()

    with Dataset(str(root)) as ds:
        by_value = ds.sql("SELECT sentiment, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1 NULLS LAST").to_pylist()
        assert by_value == [{"sentiment": 0.25, "n": 1}, {"sentiment": None, "n": old_total}]
        # a partition holding only old files, queried by name, old and new columns alike
        old_day = ds.sql("SELECT title, sentiment FROM articles WHERE dt = DATE '2025-03-14'").to_pylist()
        assert old_day and all(r["sentiment"] is None and r["title"] for r in old_day)
        assert ds.sql("DESCRIBE articles").column("column_name").to_pylist() == schemas.TABLES["articles"].names


# --- the README examples -------------------------------------------------------------------------

def doc_queries():
    text = QUERIES_DOC.read_text()
    return dict(re.findall(r"<!-- query: ([\w-]+) -->\s*```sql\n(.*?)```", text, flags=re.S))


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _events(rows):
    return [dict(e, dt=dt.date.fromisoformat(e["dt"])) for e in rows["events"]]


def expect_sources(root, rows):
    counts = collections.Counter((a["source"], a["language"]) for a in _articles(root))
    return lambda result: (
        len(result) == 10
        and all(counts[(r["source"], r["language"])] == r["articles"] for r in result)
        and result[0]["articles"] == max(counts.values())
        and [r["articles"] for r in result] == sorted((r["articles"] for r in result), reverse=True))


def expect_events_per_week(root, rows):
    weeks = collections.Counter(_monday(e["event_date"] or e["dt"]) for e in _events(rows)
                                if e["event_type"] == "PROTEST" and not e["negated"] and not e["hypothetical"])
    expected = [{"week": w.isoformat(), "protests": n} for w, n in sorted(weeks.items())]
    assert len(expected) == 3
    return lambda result: result == expected


def expect_top_actors(root, rows):
    counts = collections.Counter(e["actor_canonical"] or e["actor"] for e in _events(rows)
                                 if e["event_type"] == "ASSAULT" and e["country_code"] == "US"
                                 and (e["actor_canonical"] or e["actor"]))
    expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert expected[0] == ("U.S. Immigration and Customs Enforcement", 3) and len(expected) == 2
    return lambda result: [(r["actor"], r["events"]) for r in result] == expected and result[0]["articles"] == 1


def expect_articles_mentioning(root, rows):
    # independent of the entities table: the articles whose text names him
    expected = sorted((a["dt"].isoformat(), a["title"], len(re.findall(r"\bTrump\b", a["text"])))
                      for a in _articles(root) if re.search(r"\bTrump\b", a["text"]))
    assert len(expected) >= 10
    return lambda result: sorted((r["dt"], r["title"], r["mentions"]) for r in result) == expected


def expect_events_near(root, rows):
    near = [(haversine_km(40.7580, -73.9855, e["latitude"], e["longitude"]), e) for e in _events(rows)
            if e["latitude"] is not None]
    expected = [(e["event_type"], e["location"], round(km, 1), e["trigger"])
                for km, e in sorted(near, key=lambda p: (p[0], p[1]["dt"], p[1]["trigger_start"])) if km <= 50]
    assert len(expected) == 6 and not any(loc == "Washington" for _, loc, _, _ in expected)
    return lambda result: [(r["event_type"], r["location"], r["km"], r["trigger"]) for r in result] == expected


def expect_recent_errors(root, rows):
    week_ago = dt.date.today() - dt.timedelta(days=7)
    errors = [e for f in committed_files(str(root), "errors") for e in pq.read_table(f).to_pylist()
              if dt.date.fromisoformat(pathlib.Path(f).parent.name.split("=")[1]) >= week_ago]
    expected = collections.Counter((e["stage"], e["error_type"]) for e in errors)
    assert sum(expected.values()) == 4
    return lambda result: collections.Counter({(r["stage"], r["error_type"]): r["rows"] for r in result}) == expected


def _latest_stories(root):
    latest = {}
    for f in committed_files(str(root), "stories"):
        for r in pq.read_table(f).to_pylist():
            if r["story_id"] not in latest or r["version"] > latest[r["story_id"]]["version"]:
                latest[r["story_id"]] = r
    return list(latest.values())


def expect_incidents_per_day(root, rows):
    groups = collections.defaultdict(lambda: [0, 0, 0])
    for s in _latest_stories(root):
        if s["event_type"] is None:
            continue
        day = s["event_date_start"] or s["first_seen"].date()
        g = groups[(day.isoformat(), s["country_code"], s["event_type"])]
        g[0] += 1
        g[1] += s["num_articles"]
        g[2] += s["num_sources"]
    expected = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "\uffff", kv[0][2]))
    assert expected and sum(v[0] for _, v in expected) >= 3
    return lambda result: [((r["day"], r["country_code"], r["event_type"]), [r["incidents"], r["articles"], r["sources"]])
                           for r in result] == [(k, v) for k, v in expected]


def expect_story_articles(root, rows):
    # from the articles alone: the story with the most distinct sources of originals, then articles
    articles = _articles(root)
    by_story = collections.defaultdict(list)
    for a in articles:
        if a["story_id"]:
            by_story[a["story_id"]].append(a)
    def rank(item):
        sid, arts = item
        return (-len({a["source"] for a in arts if not a["near_duplicate_of"] and a["source"]}), -len(arts), sid)
    sid, arts = sorted(by_story.items(), key=rank)[0]
    expected = sorted((a["dt"].isoformat(), a["source"], a["title"], a["near_duplicate_of"] is not None) for a in arts)
    assert len(expected) >= 2
    return lambda result: [(r["dt"], r["source"], r["title"], r["copy"]) for r in result] == expected


EXPECTATIONS = {
    "incidents-per-day": expect_incidents_per_day,
    "story-articles": expect_story_articles,
    "sources": expect_sources,
    "events-per-week": expect_events_per_week,
    "top-actors": expect_top_actors,
    "articles-mentioning": expect_articles_mentioning,
    "events-near": expect_events_near,
    "recent-errors": expect_recent_errors,
}


def test_every_example_query_has_a_test():
    assert set(doc_queries()) == set(EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_example_query(dataset, tmp_path, capsys, name):
    root, rows = dataset
    check = EXPECTATIONS[name](root, rows)
    out_file = tmp_path / "result.json"
    code, _, err = newsbeam(capsys, "query", root, doc_queries()[name], "--format", "jsonl", "--out", out_file)
    assert code == 0, err
    result = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert result and check(result), json.dumps(result, indent=1)[:3000]
    code, out, err = newsbeam(capsys, "query", root, doc_queries()[name])  # and as a table, for people
    assert code == 0 and out.splitlines()[-1] == f"({len(result)} row{'s' if len(result) != 1 else ''})"


def test_story_rows_count_their_articles(dataset):
    """Every article with a story is in one story, and the latest row of each story counts them: articles,
    near-duplicates, distinct sources of the originals (computed from the articles table alone)."""
    root, _ = dataset
    articles = [a for a in _articles(root) if a["language"] == "en"]
    stories = {s["story_id"]: s for s in _latest_stories(root)}
    assert articles and all(a["story_id"] in stories for a in articles)
    by_story = collections.defaultdict(list)
    for a in articles:
        by_story[a["story_id"]].append(a)
    assert set(by_story) == set(stories)
    for sid, arts in by_story.items():
        s = stories[sid]
        assert s["num_articles"] == len(arts)
        assert s["num_near_duplicates"] == sum(1 for a in arts if a["near_duplicate_of"])
        assert s["num_sources"] == len({a["source"] for a in arts if not a["near_duplicate_of"] and a["source"]})
        assert s["article_id"] in {a["article_id"] for a in arts}
        originals = {a["article_id"] for a in articles}
        assert all(a["near_duplicate_of"] in originals for a in arts if a["near_duplicate_of"])


V2_EVENT_COLUMNS = ("admin1", "location_precision", "actor_country", "actor_sector", "recipient_country",
                    "recipient_sector")


def test_events_written_by_schema_version_1_read_with_the_new_columns_null(dataset, tmp_path):
    """Issue 14 bumped the schema to 2 (events gained six columns): an events file of version 1, as
    earlier runs wrote them, still reads, its new columns null, beside version-2 files."""
    root = tmp_path / "root"
    shutil.copytree(dataset[0], root)
    assert schemas.SCHEMA_VERSION >= 2 and set(V2_EVENT_COLUMNS) <= set(schemas.TABLES["events"].names)
    path = committed_files(str(root), "events")[0]
    table = pq.read_table(path)
    old = table.drop_columns(list(V2_EVENT_COLUMNS)).replace_schema_metadata(
        {b"newsbeam.table": b"events", b"newsbeam.schema_version": b"1"})
    pq.write_table(old, path)  # the same committed file, as version 1 wrote it
    with Dataset(str(root)) as ds:
        rows = ds.sql(f"SELECT event_id, {', '.join(V2_EVENT_COLUMNS)} FROM events "
                      f"WHERE event_id IN ({', '.join(repr(e) for e in old.column('event_id').to_pylist())})").to_pylist()
        assert len(rows) == old.num_rows > 0
        assert all(r[c] is None for r in rows for c in V2_EVENT_COLUMNS)
        assert ds.sql("DESCRIBE events").column("column_name").to_pylist() == schemas.TABLES["events"].names
