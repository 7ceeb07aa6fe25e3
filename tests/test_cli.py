"""The ``newsbeam`` command: one-line errors, exit codes, summary, local workers."""
from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from tests.conftest import ENV, EXAMPLES, REPO, newsbeam


@pytest.mark.parametrize("args, fragment", [
    ((), "usage"),
    (("run",), "the following arguments are required: INPUT"),
    (("run", "examples"), "--output ROOT is required"),
    (("run", "no/such/dir", "--output", "x"), "no such file or directory: no/such/dir"),
    (("run", "examples", "--output", "x", "--workers", "0"), "expected a number >= 1"),
    (("run", "examples", "--output", "x", "--outptu", "y"), "unknown option '--outptu'"),
    (("run", "examples", "--output", "/proc/newsbeam-cannot-write"), "cannot write to /proc/newsbeam-cannot-write"),
    (("frobnicate",), "invalid choice"),
    (("compact", "nosuch://x"), "cannot read nosuch://x"),
    (("report", "no/such/root", "--out", "r.html"), "no dataset at no/such/root: not a folder"),
    (("query", "examples", "SELECT 1", "extra"), "unrecognized arguments: extra"),
])
def test_bad_command_lines_fail_with_one_line(args, fragment):
    result = newsbeam(*args)
    assert result.returncode == 2, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    if fragment != "usage":
        assert len(lines) == 1 and fragment in lines[0], result.stderr
    else:
        assert "usage" in result.stderr.lower()


def test_run_prints_summary_and_writes_manifest(tmp_path):
    result = newsbeam("run", EXAMPLES, "--output", tmp_path / "out", "--run-id", "cli1", "-q")
    assert result.returncode == 0, result.stderr
    assert "14 articles" in result.stdout and "17 records read = 14 articles + 2 errors + 1 duplicates" in result.stdout
    assert "[ok]" in result.stdout and "Traceback" not in result.stderr
    manifest = json.loads((tmp_path / "out" / "_runs" / "cli1.json").read_text())
    assert manifest["counts"]["balanced"] and manifest["inputs"] == [str(EXAMPLES)]
    assert manifest["options"]["runner"] == "FnApiRunner" and manifest["files"]
    assert "apitools" not in result.stderr


def test_two_local_workers_give_the_same_dataset(tmp_path):
    result = newsbeam("run", EXAMPLES, "--output", tmp_path / "out", "--workers", "2", "--run-id", "w2", "-q")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "out" / "_runs" / "w2.json").read_text())
    assert manifest["counts"]["articles"] == 14 and manifest["counts"]["balanced"]
    assert manifest["options"]["workers"] == 2
    # the worker processes share the terminal: no Beam INFO chatter from them (was ~30 lines),
    # not even the harness's start-up notice or Beam's import-time apitools warning
    assert "sdk_worker" not in result.stderr and "BatchElements" not in result.stderr
    assert "INFO" not in result.stderr and "apitools" not in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) <= 6, result.stderr


def test_local_workers_run_the_fast_exit_harness():
    """Beam picks ``python -m apache_beam.runners.worker.sdk_worker_main`` for multi-processing;
    newsbeam's local runner swaps in ``python -m pipelines.worker`` (same harness, no tear-down)."""
    from apache_beam.transforms import environments

    from pipelines.local_runner import make_runner as _make_runner

    runner = _make_runner(True)
    runner._default_environment = environments.SubprocessSDKEnvironment.from_command_string(
        "python -m apache_beam.runners.worker.sdk_worker_main")
    assert runner._default_environment.command_string == f"{shlex.quote(sys.executable)} -m pipelines.worker"
    embedded = environments.EmbeddedPythonEnvironment.default()
    runner._default_environment = embedded  # the one-worker mode keeps Beam's choice
    assert runner._default_environment is embedded
    assert _make_runner(False) is None


@pytest.mark.parametrize("code, status", [(None, 0), (0, 0), (3, 3), ("bad thing", 1)])
def test_exit_now_flushes_and_skips_teardown(code, status):
    script = ("import atexit, sys\n"
              "from pipelines.fastexit import exit_now\n"
              "atexit.register(print, 'atexit ran')\n"
              "print('out', end='')\n"
              "print('err', end='', file=sys.stderr)\n"
              f"exit_now({code!r})\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO, env=ENV)
    assert result.returncode == status
    assert result.stdout == "out"  # flushed, and no atexit handler ran
    assert result.stderr.startswith("err") and "atexit" not in result.stderr
    if isinstance(code, str):
        assert code in result.stderr


_ENTRY = ("import atexit, sys\n"
          "import transforms.runtime.malloc as malloc\n"
          "malloc.tune_malloc = lambda: print('TUNED', flush=True) or True\n"
          "atexit.register(print, 'ATEXIT RAN')\n"
          "sys.argv = ['newsbeam'] + sys.argv[1:]\n"
          "from pipelines.cli import entry\n"
          "entry()\n")


def test_only_run_skips_the_interpreter_teardown_and_only_pipeline_commands_tune_malloc(tmp_path):
    """``run`` ends with the fast exit (no atexit handlers); ``query`` (fsspec, tempfile and DuckDB
    rely on them) ends normally; the allocator is tuned by the entry point of pipeline commands only."""
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-c", _ENTRY, "run", str(EXAMPLES / "voa-feed.rss"), "--output", str(out),
                          "--skip-nlp", "-q"], capture_output=True, text=True, timeout=300, cwd=REPO, env=ENV)
    assert run.returncode == 0, run.stderr
    assert "TUNED" in run.stdout and "ATEXIT RAN" not in run.stdout
    query = subprocess.run([sys.executable, "-c", _ENTRY, "query", str(out), "SELECT count(*) AS n FROM articles"],
                           capture_output=True, text=True, timeout=300, cwd=REPO, env=ENV)
    assert query.returncode == 0, query.stderr
    assert "TUNED" not in query.stdout and "ATEXIT RAN" in query.stdout


def test_the_worker_swap_can_be_switched_off(monkeypatch):
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.transforms import environments

    from pipelines.local_runner import WORKER_SWITCH, make_runner

    monkeypatch.setenv(WORKER_SWITCH, "beam")
    runner = make_runner(True)
    assert type(runner) is FnApiRunner
    beams_own = environments.SubprocessSDKEnvironment.from_command_string(
        "python -m apache_beam.runners.worker.sdk_worker_main")
    runner._default_environment = beams_own
    assert runner._default_environment is beams_own
