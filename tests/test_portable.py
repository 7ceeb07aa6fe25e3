"""The portable path that Flink and Dataflow use, proven here: Beam's local job service and an external
worker pool as separate processes on 127.0.0.1, in another working directory than the launcher's.
``newsbeam run`` and a bounded ``newsbeam stream`` through them give the default runner's dataset.

Slow (each side loads the model): ``make test-slow`` and ``.ci/run`` run it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pyarrow.dataset as ds
import pytest

from tests.conftest import ENV, REPO, newsbeam
from tests.feedserver import Feed, FeedServer, rss

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, deadline: float = 90.0) -> None:
    """Until ``port`` accepts connections (the service is up), or fail with its output."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"service exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    """(job endpoint port, worker pool port) of a job service and a worker pool started in a folder of
    their own, with the venv's bin first on PATH (the pool starts workers with plain ``python``)."""
    elsewhere = tmp_path_factory.mktemp("workers-cwd")
    env = dict(ENV, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    job, pool = _free_port(), _free_port()
    procs = [
        subprocess.Popen([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                          "--port", str(job)], cwd=elsewhere, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True),
        subprocess.Popen([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                          "--service_port", str(pool)], cwd=elsewhere, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True),
    ]
    try:
        _wait_for(job, procs[0])
        _wait_for(pool, procs[1])
        yield job, pool, env
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _portable_args(job: int, pool: int):
    return ["--runner", "PortableRunner", "--job_endpoint", f"localhost:{job}", "--environment_type", "EXTERNAL",
            "--environment_config", f"localhost:{pool}"]


def _table(root, table, columns):
    path = root / table
    if not path.exists():
        return []
    rows = ds.dataset(str(path), partitioning="hive").to_table(columns=columns).to_pylist()
    return sorted(tuple(str(r[c]) for c in columns) for r in rows)


def _manifest_counts(root):
    import json

    (manifest,) = [json.loads(p.read_text()) for p in (root / "_runs").glob("*.json")]
    return manifest["counts"], manifest["tables"]


def test_run_through_the_portable_runner_gives_the_default_runner_s_dataset(portable, tmp_path):
    """``newsbeam run examples`` with a relative path: the launcher makes it absolute, so workers running
    in another folder find it (they failed with FileNotFoundError: examples before)."""
    job, pool, env = portable
    default, remote = tmp_path / "default", tmp_path / "portable"
    first = newsbeam("run", "examples", "--output", default, "-q", timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    second = subprocess.run([sys.executable, "-m", "pipelines", "run", "examples", "--output", str(remote), "-q",
                             *_portable_args(job, pool)], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _manifest_counts(default) == _manifest_counts(remote)
    for table, columns in (("articles", ["article_id", "url", "story_id", "near_duplicate_of", "word_count"]),
                           ("entities", ["article_id", "entity_id", "start_char", "end_char", "label"]),
                           ("events", ["event_id", "article_id", "event_type", "actor_canonical", "location",
                                       "story_id"]),
                           ("stories", ["story_id", "num_articles", "num_sources", "event_type"]),
                           ("errors", ["input_path", "record_index", "error_type"])):
        mine, theirs = _table(default, table, columns), _table(remote, table, columns)
        assert mine and mine == theirs, table


def test_bounded_stream_through_the_portable_runner_gives_the_default_runner_s_articles(portable, tmp_path):
    job, pool, env = portable
    items = [(f"Council vote {i}", f"http://example.org/story-{i}", f"The council voted on plan {i} on Tuesday.")
             for i in range(6)]
    with FeedServer() as srv:
        srv.routes["/a.xml"] = Feed(rss("Feed A", items))
        url = srv.url("/a.xml")
        runs = {}
        for name, extra in (("default", []), ("portable", _portable_args(job, pool))):
            root = tmp_path / name
            proc = subprocess.run([sys.executable, "-m", "pipelines", "stream", url, "--output", str(root),
                                   "--ticks", "2", "--interval", "1s", "--fetch-delay", "0", "-q", *extra],
                                  cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
            assert proc.returncode == 0, proc.stderr[-3000:]
            runs[name] = root
    columns = ["article_id", "url", "title"]
    assert len(_table(runs["default"], "articles", columns)) == 6
    assert _table(runs["default"], "articles", columns) == _table(runs["portable"], "articles", columns)
