"""``newsbeam report``: the numbers it charts, a self-contained page, and a headless Chromium
rendering of it with no JavaScript error and no network."""
from __future__ import annotations

import collections
import datetime as dt
import json
import os
import pathlib
import re
import struct
import subprocess

import pytest

from pipelines.cli import main
from tests.query_dataset import shared_dataset
from transforms.dataset.report import collect, render

CHROMIUM = pathlib.Path("/usr/bin/chromium")
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
CHARTS_WITH_EVENTS = 9  # per day, types over time, actors, places, map, story timeline, tone, sources, errors


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return shared_dataset(tmp_path_factory)


@pytest.fixture(scope="module")
def data(dataset):
    return collect(str(dataset[0]))


def test_the_numbers_charted_are_the_dataset_s(dataset, data):
    _, rows = dataset
    events = rows["events"]
    totals = {r["table"]: r["rows"] for r in data["totals"]}
    assert totals["events"] == len(events) and totals["entities"] == len(rows["entities"])
    assert totals["articles"] == sum(r["articles"] for r in data["per_day"]) == 445
    assert sum(r["events"] for r in data["per_day"]) == len(events)
    assert sum(r["events"] for r in data["types_per_week"]) == len(events)
    actors = collections.Counter(e["actor_canonical"] or e["actor"] for e in events if e["actor_canonical"] or e["actor"])
    assert data["top_actors"][0] == {"actor": "U.S. Immigration and Customs Enforcement", "events": actors.most_common(1)[0][1]}
    assert data["top_places"][0] == {"place": "Bensonhurst (US)", "events": 5}
    assert sum(r["events"] for r in data["geo"]) == sum(1 for e in events if e["latitude"] is not None)
    assert sum(r["rows"] for r in data["errors"]) == totals["errors"] == 4


def test_top_stories_are_the_stories_of_the_last_week_by_sources(dataset, data):
    from transforms.dataset.query import Dataset

    root, _ = dataset
    with Dataset(str(root)) as ds:
        stories = ds.sql("SELECT * FROM stories").to_pylist()
        newest = max(s["last_seen"] for s in stories).date()
        tones = ds.sql("SELECT dt, avg(tone) AS tone FROM articles WHERE tone IS NOT NULL GROUP BY dt").to_pylist()
    week = [s for s in stories if s["last_seen"].date() >= newest - dt.timedelta(days=6)]
    top = data["top_stories"]
    assert top and len(top) == min(15, len(week))
    assert [(r["sources"], r["articles"]) for r in top] == sorted(((r["sources"], r["articles"]) for r in top),
                                                                  reverse=True)
    assert top[0]["sources"] == max(s["num_sources"] for s in week)
    # the timeline counts each top story's articles once
    per_story = collections.Counter()
    for r in data["story_timeline"]:
        per_story[r["story_id"]] += r["articles"]
    assert per_story == {r["story_id"]: r["articles"] for r in top}
    assert {r["dt"]: r["tone"] for r in data["tone_per_day"]} == pytest.approx({t["dt"]: round(t["tone"], 3)
                                                                                for t in tones}, abs=1e-3)
    # a period given on the command line: nothing before it
    early = collect(str(root), until=newest - dt.timedelta(days=3650))
    assert early["top_stories"] == [] and early["story_timeline"] == []


def test_the_page_is_self_contained(data):
    page = render(data, root="ROOT", generated_at=NOW)
    assert page == render(data, root="ROOT", generated_at=NOW)  # pure
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert "Plotly" in page and len(page) > 3_000_000  # plotly.js is inside
    traces = []
    for m in re.finditer(r'Plotly\.newPlot\(\s*"chart-[\w-]+",\s*', page):
        traces += json.JSONDecoder().raw_decode(page, m.end())[0]
    assert {t.get("type", "scatter") for t in traces} == {"bar", "scatter"}  # no geo trace: its basemap is fetched
    assert page.count('class="plotly-graph-div"') == CHARTS_WITH_EVENTS
    assert "Generated 2026-11-27 12:00 UTC" in page


def test_an_empty_dataset_still_makes_a_page(tmp_path):
    (tmp_path / "root").mkdir()
    data = collect(str(tmp_path / "root"))
    page = render(data, root="empty", generated_at=NOW)
    assert "No events yet" in page and "No articles yet" in page and "No error rows" in page
    assert 'class="plotly-graph-div"' not in page


def test_the_command(dataset, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(dataset[0]), "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"newsbeam: wrote {out}")
    assert out.read_text().count('class="plotly-graph-div"') == CHARTS_WITH_EVENTS
    assert main(["report", str(dataset[0])]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["report", str(dataset[0]), "--out", str(tmp_path / "no" / "r.html")]) == 2
    assert main(["report", str(tmp_path / "nope"), "--out", str(out)]) == 2


def _chromium(tmp_path: pathlib.Path, page: pathlib.Path, *mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'chrome-profile'}",
         # no network at all: any fetch (a CDN, map tiles, topojson) would fail and log an error
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,3200", "--virtual-time-budget=10000", *mode, page.as_uri()],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, HOME=str(tmp_path)))


def test_the_report_renders_in_headless_chromium(dataset, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium")
    page = tmp_path / "report.html"
    assert main(["report", str(dataset[0]), "--out", str(page), "-q"]) == 0

    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for log in (dom.stderr,):
        assert "Uncaught" not in log and "Failed to load resource" not in log, log[-3000:]
    assert f'data-charts="{CHARTS_WITH_EVENTS}"' in dom.stdout  # every chart was drawn
    assert dom.stdout.count('class="main-svg"') >= CHARTS_WITH_EVENTS
    assert re.search(r'<pre id="js-errors" hidden=""></pre>', dom.stdout)  # the page's own error trap stayed empty

    shot = tmp_path / "report.png"
    result = _chromium(tmp_path, page, f"--screenshot={shot}")
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    assert "Uncaught" not in result.stderr
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1200, 3200)
    assert len(png) > 100_000  # charts, not a blank page (a blank 1200x3200 PNG is a few KB)
