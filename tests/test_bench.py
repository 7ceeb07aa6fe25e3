"""The benchmark's pure helpers (bench/bench.py): no timing, no pipeline runs, no model."""
from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

import pytest

from transforms.normalise.urls import article_id, canonical_url

_PATH = pathlib.Path(__file__).resolve().parent.parent / "bench" / "bench.py"
_spec = importlib.util.spec_from_file_location("newsbeam_bench", _PATH)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up while the class is built
_spec.loader.exec_module(bench)

MACHINE = {"hostname": "box", "platform": "Linux-6.1-x86_64", "cpu_model": "Test CPU", "cores": 2, "cores_usable": 2,
           "memory_gb": 8.0, "python": "3.11.9", "spacy": "3.8.0", "spacy_model": "en_core_web_sm",
           "spacy_model_version": "3.8.0", "beam": "2.77.0", "pyarrow": "25.0.1", "commit": "abc1234",
           "loadavg_start": [0.1, 0.1, 0.1], "loadavg_end": [0.2, 0.1, 0.1]}


def _run(label, workers, repeat, wall, *, scale=1, articles=100, rss=500.0, nlp=True, peaks=None):
    return bench.RunRecord(
        label=label, scale=scale, workers=workers, repeat=repeat, nlp=nlp, wall_s=wall, cpu_s=wall * 0.9,
        peak_rss_mb=rss, process_peaks_mb=peaks or [rss], articles=articles, english_articles=articles,
        words=articles * 700, english_words=articles * 700, entities=articles * 80, events=articles * 10,
        skipped_language=0, languages={"en": articles})


def _measurements():
    runs = []
    for repeat, jitter in ((1, 0.0), (2, 1.0), (3, -1.0)):
        runs += [
            _run("tiny", 1, repeat, 5.0 + jitter / 10, articles=1, rss=450.0),
            _run("tiny", 2, repeat, 6.0, articles=1, rss=450.0, peaks=[150.0, 450.0, 440.0]),
            _run("tiny", 1, repeat, 3.0, articles=1, rss=200.0, nlp=False),
            _run("voa1", 1, repeat, 15.0 + jitter, articles=89, rss=600.0),  # net 10 s
            _run("voa2", 1, repeat, 25.0 + jitter, scale=2, articles=178, rss=610.0),  # net 20 s
            _run("voa4", 1, repeat, 45.0 + jitter, scale=4, articles=356, rss=620.0),  # net 40 s
            _run("voa2", 2, repeat, 12.5 + jitter, scale=2, articles=178, rss=640.0, peaks=[150.0, 640.0, 630.0]),
        ]
    runs.append(_run("corpus", 1, 1, 55.0, articles=775, rss=950.0))
    baselines = [bench.BaselineRecord(repeat=r, wall_s=1.0 + 10.0 + 20.0, import_s=0.4, load_s=0.3,
                                      pipe_s={"voa1": 10.0, "voa2": 20.0}, texts={"voa1": 89, "voa2": 178},
                                      words={"voa1": 62300, "voa2": 124600}, peak_rss_mb=590.0,
                                      pipe_names=["tok2vec", "ner"]) for r in (1, 2, 3)]
    return runs, baselines


def test_median_ignores_missing_values():
    assert bench.median([3.0, 1.0, 2.0]) == 2.0
    assert bench.median([4, 1, 3, 2]) == 2.5
    assert bench.median([None, 7.0]) == 7.0
    assert bench.median([]) is None
    assert bench.median([None]) is None


def test_format_table_aligns_text_left_and_numbers_right():
    table = bench.format_table(["input", "n", "wall s"], [["VOA 1x", 3, 15.234], ["all real corpora", 1, None],
                                                           ["big", 1200, 1234.6]])
    lines = table.splitlines()
    assert lines[0].split() == ["input", "n", "wall", "s"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].startswith("VOA 1x ")
    assert lines[2].endswith("15.2")
    assert lines[3].endswith(" -")
    assert "1,200" in lines[4] and lines[4].endswith("1,235")
    widths = {len(line) for line in lines[:2]}
    assert len(widths) == 1  # header and rule are as wide as the table
    assert bench.format_table(["a"], []) .splitlines()[0] == "a"


@pytest.mark.parametrize("value,text", [(0.123456, "0.12"), (12.345, "12.3"), (123.4, "123"), (True, "yes")])
def test_format_table_number_formats(value, text):
    assert bench.format_table(["x"], [[value]]).splitlines()[2].strip() == text


def test_copies_have_distinct_canonical_urls():
    url = "https://www.voanews.com/a/iraq-says-key-islamic-state-leader-is-dead/8011115.html"
    assert bench.with_copy_param(url, 1) == url
    copies = {canonical_url(bench.with_copy_param(url, n)) for n in (1, 2, 3, 4)}
    assert len(copies) == 4
    assert "copy=3" in canonical_url(bench.with_copy_param(url, 3))
    assert bench.with_copy_param("https://x.com/a?b=1#top", 2) == "https://x.com/a?b=1&copy=2#top"
    assert bench.with_copy_param(None, 2) is None


def test_replicate_jsonl_makes_distinct_articles(tmp_path):
    src = tmp_path / "src.jsonl"
    stories = [{"id": "1", "url": "https://www.voanews.com/a/one/1.html", "title": "One", "text": "First story."},
               {"id": "2", "url": "https://www.voanews.com/a/two/2.html", "title": "Two", "text": "Second story."}]
    src.write_text("".join(json.dumps(s) + "\n" for s in stories) + "\n")
    dst = tmp_path / "out" / "x3.jsonl"
    assert bench.replicate_jsonl(src, dst, 3) == 6
    rows = [json.loads(line) for line in dst.read_text().splitlines()]
    assert rows[:2] == stories  # copy 1 is the original
    assert len({r["id"] for r in rows}) == 6
    assert len({article_id(canonical_url(r["url"]), r["title"], r["text"]) for r in rows}) == 6
    assert [r["text"] for r in rows] == [s["text"] for s in stories] * 3
    assert bench.replicate_jsonl(src, tmp_path / "one.jsonl", 1, limit=1) == 1


def test_parse_cpu_model():
    assert bench.parse_cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: x") == "AMD EPYC 7B13"
    assert bench.parse_cpu_model("processor : 0\nBogoMIPS : 50\nModel : Raspberry Pi 4 Model B") == \
        "Raspberry Pi 4 Model B"
    assert bench.parse_cpu_model("") is None


def test_baseline_total_counts_only_its_own_pipe():
    b = bench.BaselineRecord(repeat=1, wall_s=32.0, import_s=0.5, load_s=0.5, pipe_s={"voa1": 10.0, "voa2": 20.0},
                             texts={}, words={}, peak_rss_mb=1.0)
    assert b.total_s("voa1") == pytest.approx(12.0)
    assert b.total_s("voa2") == pytest.approx(22.0)
    assert b.total_s("voa4") is None


def test_summary_medians_ratios_and_scaling():
    runs, baselines = _measurements()
    s = bench.summarise(runs, baselines)
    assert s["startup_s"] == pytest.approx(5.0)
    assert s["startup_skip_nlp_s"] == pytest.approx(3.0)
    rows = {(r["label"], r["workers"], r["nlp"]): r for r in s["rows"]}
    voa2 = rows[("voa2", 1, True)]
    assert voa2["n"] == 3 and voa2["wall_s"] == pytest.approx(25.0) and voa2["net_s"] == pytest.approx(20.0)
    assert voa2["articles_per_s"] == pytest.approx(178 / 25.0)
    assert voa2["words_per_s"] == pytest.approx(178 * 700 / 25.0)
    assert rows[("voa2", 2, True)]["worker_peak_rss_mb"] == 640.0
    assert rows[("corpus", 1, True)]["n"] == 1
    assert rows[("tiny", 1, False)]["net_s"] is None
    assert s["baseline"]["voa2"]["pipe_s"] == pytest.approx(20.0)
    assert s["baseline"]["voa2"]["total_s"] == pytest.approx(21.0)
    assert s["ratios"]["voa2"]["end_to_end"] == pytest.approx(25.0 / 21.0)
    assert s["ratios"]["voa2"]["steady_state"] == pytest.approx(1.0)
    assert s["speedup"]["wall"] == pytest.approx(2.0)
    assert s["startup_by_workers_s"] == {"1": pytest.approx(5.0), "2": pytest.approx(6.0)}
    assert rows[("voa2", 2, True)]["net_s"] == pytest.approx(6.5)  # 12.5 - its own start-up
    assert s["speedup"]["net"] == pytest.approx(20.0 / 6.5)
    fit = s["scaling_fit"]  # through (89, 15), (178, 25), (356, 45)
    assert fit["marginal_ms_per_article"] == pytest.approx(112.4, abs=0.1)
    assert fit["fixed_s"] == pytest.approx(5.0, abs=0.1)
    assert fit["max_relative_residual"] < 0.01
    at4 = s["scaling"][-1]
    assert at4["scale"] == 4
    assert at4["net_cost_vs_1x"] == pytest.approx((40.0 / 356) / (10.0 / 89))
    assert at4["rss_vs_1x"] == pytest.approx(620.0 / 600.0)


def test_targets_pass_and_miss():
    runs, baselines = _measurements()
    targets = {t["name"].split(",")[0]: t for t in bench.evaluate_targets(bench.summarise(runs, baselines))}
    assert len(targets) == 5  # the two ratios share their first words
    statuses = [t["status"] for t in bench.evaluate_targets(bench.summarise(runs, baselines))]
    assert statuses == ["MISS", "PASS", "PASS", "PASS", "PASS", "PASS"]
    slow = [r if not (r.label == "voa4") else _run("voa4", 1, r.repeat, 60.0, scale=4, articles=356, rss=900.0)
            for r in runs]
    statuses = [t["status"] for t in bench.evaluate_targets(bench.summarise(slow, baselines))]
    assert statuses[4:] == ["MISS", "MISS"]  # RSS not flat, per-article cost grew
    fast = [bench.BaselineRecord(**{**b.__dict__, "pipe_s": {"voa2": 27.0}, "wall_s": 28.0}) for b in baselines]
    statuses = [t["status"] for t in bench.evaluate_targets(bench.summarise(runs, fast))]
    assert statuses[:2] == ["PASS", "PASS (stretch)"]  # 25 / 28 and 20 / 27
    assert [t["status"] for t in bench.evaluate_targets(bench.summarise([], []))] == ["n/a"] * 6


def test_result_follows_the_schema_and_renders(tmp_path):
    runs, baselines = _measurements()
    profile = {"input": "voa2", "articles": 178, "english_articles": 178, "words": 124600,
               "stages": {"read (read_input)": 0.1, "entities: spaCy senter+ner": 5.0}, "notes": ["a note"]}
    result = bench.build_result(machine=MACHINE, started_at="2026-11-27T19:00:00+00:00",
                                finished_at="2026-11-27T19:10:00+00:00", elapsed_s=600.0,
                                inputs={"voa1": {"paths": ["x"], "records": 89}}, runs=runs, baselines=baselines,
                                profile=profile, notes=["noisy"])
    assert bench.validate_result(result) == []
    assert result["schema"] == bench.SCHEMA
    again = json.loads(json.dumps(result))
    assert bench.validate_result(again) == []
    assert set(again["runs"][0]) == {f for f in bench.RunRecord.__dataclass_fields__}

    report = bench.render_report(result)
    for expected in ("Test CPU", "End to end", "6.00 s with 2 workers", "least-squares line", "Bare spaCy", "steady state", "Scaling", "Per-stage profile",
                     "Targets", "MISS", "note: noisy", "VOA 2x"):
        assert expected in report

    broken = dict(result)
    del broken["machine"]
    broken["targets"] = [{"name": "x", "target": "y", "measured": 1.0, "status": "maybe"}]
    problems = bench.validate_result(broken)
    assert "missing machine" in problems
    assert any("status" in p for p in problems)


def test_bad_repeats_is_a_usage_error():
    with pytest.raises(SystemExit) as exc:
        bench.main(["--repeats", "0"])
    assert exc.value.code == 2
