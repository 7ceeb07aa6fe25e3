"""``newsbeam watch``: ticks against a local feed server (127.0.0.1), failures, backoff, signals, SIGKILL."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pyarrow.dataset as ds

from tests.conftest import ENV, REPO, newsbeam_command
from tests.feedserver import Big, Feed, FeedServer, Hang, Redirect, Slow, Status, page, rss, wait_for
from transforms.fetch.state import load_backoff, load_validators, update_backoff

FAST = ["--fetch-timeout", "0.3s", "--fetch-retries", "0", "--fetch-delay", "0", "--max-fetch-bytes", "1000000", "-q",
        "--skip-nlp"]


def watch_cmd(*args):
    return newsbeam_command("watch", *args)


def run_watch(*args, timeout=120):
    return subprocess.run(watch_cmd(*args), capture_output=True, text=True, timeout=timeout, cwd=REPO, env=ENV)


def table(root, name):
    path = root / name
    if not path.exists():
        return []
    return ds.dataset(str(path), partitioning="hive").to_table().to_pylist()


def manifests(root):
    """Run manifests in start order (run ids of ticks in the same second do not sort by time)."""
    runs = [json.loads(p.read_text()) for p in (root / "_runs").glob("*.json") if ".commit." not in p.name]
    return sorted(runs, key=lambda m: m["started_at"])


def test_watch_ticks_write_new_entries_once_and_each_failure_once(tmp_path):
    root = tmp_path / "root"
    with FeedServer() as srv:
        v1 = rss("A", [("One", "http://example.org/1", "Story one."), ("Two", "http://example.org/2", "Story two.")])
        v2 = rss("A", [("Three", "http://example.org/3", "Story three."),
                       ("Two", "http://example.org/2?utm_source=rss&utm_medium=feed", "Story two."),
                       ("One", "http://example.org/1", "Story one.")])
        srv.routes["/a.xml"] = [Feed(v1, etag='"a1"'), Feed(v2, etag='"a2"')]  # changes between polls
        srv.routes["/b.xml"] = Feed(rss("B", [("Bee", "http://example.org/bee", "Story bee.")]),
                                    last_modified="Tue, 24 Nov 2026 10:00:00 GMT")
        failing = {"/down": Status(500), "/hang": Hang(10), "/loop": Redirect("/loop"),
                   "/big": Big(50 * 1024 * 1024), "/malformed.xml": Feed(b'<rss version="2.0"><channel><<<>>>')}
        srv.routes.update(failing)
        (tmp_path / "feeds.txt").write_text("# test feeds\n" + "".join(
            f"{srv.url(p)}  # {p}\n" for p in ["/a.xml", "/b.xml", *failing]))
        started = time.monotonic()
        result = run_watch(f"@{tmp_path / 'feeds.txt'}", "--output", root, "--interval", "0.5s", "--ticks", "3", *FAST)
        elapsed = time.monotonic() - started
        hits = {p: srv.hits(p) for p in ["/a.xml", "/b.xml", *failing]}
        conditional = [h.get("If-None-Match") for p, h in srv.requests if p == "/a.xml"]
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"newsbeam watch: tick {i + 1} ") for i, line in enumerate(lines))
    assert "5 failed" in lines[0] and "5 backing off" in lines[2] and all("[ok]" in line for line in lines), lines

    articles = table(root, "articles")
    assert sorted(a["title"] for a in articles) == ["Bee", "One", "Three", "Two"]  # each new entry exactly once
    errors = table(root, "errors")
    per_run = {}
    for e in errors:
        per_run.setdefault((e["run_id"], e["input_path"]), []).append(e["error_type"])
    assert all(len(v) == 1 for v in per_run.values()), per_run  # one error row per failure
    assert sorted({url for _, url in per_run}) == sorted(srv.url(p) for p in failing)
    kinds = {url.rsplit("/", 1)[1]: v[0] for (_, url), v in per_run.items()}
    assert kinds == {"down": "http_status", "hang": "timeout", "loop": "redirect_loop", "big": "too_large",
                     "malformed.xml": "malformed_feed"}
    # ticks 1 and 2 tried the failing feeds; tick 3 left them alone (backoff), the others went on
    assert hits == {"/a.xml": 3, "/b.xml": 3, **{p: 2 for p in failing}}, hits
    assert conditional == [None, '"a1"', '"a2"']  # tick 3 got a 304
    runs = manifests(root)
    assert len(runs) == 3 and all(m["counts"]["balanced"] for m in runs)
    assert [m["counts"]["articles"] for m in runs] == [3, 1, 0]
    assert runs[1]["counts"]["duplicates_by_reason"] == {"in_root": 2}  # the tracking-URL copy of "Two" too
    assert set(load_backoff(str(root))) == {srv.url(p) for p in failing}
    assert elapsed < 60


def test_backoff_grows_per_feed_and_resets():
    import datetime as dt

    now = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc)
    state = {}
    waits = []
    for _ in range(4):
        state = update_backoff(state, ["u", "ok"], {"u": "timeout"}, now, base=60, cap=300)
        waits.append((dt.datetime.fromisoformat(state["u"]["retry_at"]) - now).total_seconds())
    assert waits == [0, 60, 180, 300] and "ok" not in state
    assert update_backoff(state, ["u"], {}, now, base=60, cap=300) == {}


def test_sigterm_finishes_the_tick_in_flight(tmp_path):
    root = tmp_path / "root"
    with FeedServer() as srv:
        srv.routes["/slow.xml"] = Slow(1.0, Feed(rss("S", [("Slow", "http://example.org/s", "Slow story.")])))
        proc = subprocess.Popen(watch_cmd(srv.url("/slow.xml"), "--output", root, "--interval", "0.2s", *FAST,
                                          "--fetch-timeout", "3s"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=ENV)
        try:
            assert wait_for(lambda: srv.hits("/slow.xml") >= 1, timeout=60)
            proc.send_signal(signal.SIGTERM)  # mid-tick: the feed is being fetched
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "stopping after the current tick" in err and out.count("newsbeam watch: tick") == 1
    assert [a["title"] for a in table(root, "articles")] == ["Slow"]
    assert len(manifests(root)) == 1 and not any((root / "_staging").glob("*"))


def test_a_tick_waits_for_the_run_holding_the_root_lock(tmp_path):
    """A tick is a run: while another process holds ROOT's run lock, the tick does not start."""
    root = tmp_path / "root"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from transforms.storage.locks import run_lock\n"
        f"with run_lock({str(root)!r}):\n    print('locked', flush=True); time.sleep(3)")],
        stdout=subprocess.PIPE, text=True, cwd=REPO, env=ENV)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with FeedServer() as srv:
            srv.routes["/a.xml"] = Feed(rss("A", [("One", "http://example.org/1", "Story one.")]))
            started = time.monotonic()
            result = run_watch(srv.url("/a.xml"), "--output", root, "--once", *[f for f in FAST if f != "-q"])
            waited = time.monotonic() - started
            hits = srv.hits("/a.xml")
    finally:
        holder.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert "waits for the run holding" in result.stderr and waited >= 2.0
    assert hits == 1 and [a["title"] for a in table(root, "articles")] == ["One"]


def test_sigkill_mid_tick_then_restart_loses_and_doubles_nothing(tmp_path):
    """Killed after the feed's new version (and its validators) arrived, before the commit: the
    restart must not get a 304 for it (validators of an uncommitted run are never used)."""
    root = tmp_path / "root"
    with FeedServer() as srv:
        links = {i: srv.url(f"/p/{i}") for i in range(1, 5)}
        items = [(f"Story {i}", links[i], f"Summary {i}.") for i in range(1, 5)]
        srv.routes["/a.xml"] = [Feed(rss("A", items[:3]), etag='"a1"'), Feed(rss("A", items), etag='"a2"')]
        for i in range(1, 4):
            srv.routes[f"/p/{i}"] = page(f"Story {i}", f"Full text of story number {i} about the harbour wall.")
        srv.routes["/p/4"] = [Hang(30), page("Story 4", "Full text of story number 4 about the harbour wall.")]
        args = [srv.url("/a.xml"), "--output", root, "--fetch-articles", *FAST]
        proc = subprocess.Popen(watch_cmd(*args, "--interval", "0.2s", "--fetch-timeout", "10s"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=REPO, env=ENV)
        try:
            assert wait_for(lambda: srv.hits("/p/4") >= 1, timeout=60), proc.poll()
            # tick 2 is in flight: it holds a2 as pending validators of a run that has not committed
            pending = list((root / "_state" / "http-pending").glob("*/*.json"))
            assert [json.loads(p.read_text())["validators"][srv.url("/a.xml")]["etag"] for p in pending] == ['"a2"']
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert len(manifests(root)) == 1
        assert load_validators(str(root))[srv.url("/a.xml")]["etag"] == '"a1"'

        again = run_watch(*args, "--once")
        assert again.returncode == 0, again.stderr
        once_more = run_watch(*args, "--once")
        assert once_more.returncode == 0, once_more.stderr
        conditional = [h.get("If-None-Match") for p, h in srv.requests if p == "/a.xml"]

    assert conditional == [None, '"a1"', '"a1"', '"a2"'], conditional  # restart: full fetch; then 304
    articles = table(root, "articles")
    assert sorted(a["title"] for a in articles) == [f"Story {i}" for i in range(1, 5)]
    assert len({a["article_id"] for a in articles}) == 4
    assert all(a["text"].startswith("Full text of story number") for a in articles)
    assert all(m["counts"]["balanced"] for m in manifests(root)) and len(manifests(root)) == 3
    assert "0 new articles" in once_more.stdout and "1 not modified" in once_more.stdout
