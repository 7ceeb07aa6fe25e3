"""What ``--setup_file`` gives remote workers: the sdist of ``setup.py``, installed into a fresh venv with
only the lock file's dependencies, holds every module and data file. A worker pool from that venv runs
the pipeline that the repository's launcher submits (the portable path Flink and Dataflow use), and the
installed package alone runs ``newsbeam run`` on the seed outside the repository.

Slow (a fresh venv installs the whole lock): ``make test-slow`` and ``.ci/run`` run it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile

import pyarrow.dataset as ds
import pytest

from tests.conftest import REPO, SEED, need
from tests.test_portable import _free_port, _portable_args, _wait_for

pytestmark = pytest.mark.slow


def _run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def worker_venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("sdist")
    _run([sys.executable, "setup.py", "-q", "egg_info", "--egg-base", base, "sdist", "--dist-dir", base], cwd=REPO,
         timeout=300)
    (sdist,) = base.glob("newsbeam-*.tar.gz")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=300)
    py = venv / "bin" / "python"
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes", "--no-deps",
          "-r", REPO / "requirements.lock"], timeout=1800)
    _run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--no-build-isolation",
          sdist], timeout=600)
    return base, sdist, py


def test_the_sdist_holds_every_module_and_data_file(worker_venv):
    _, sdist, _ = worker_venv
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    tracked = subprocess.run(["git", "ls-files", "pipelines", "transforms", "schemas"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    assert tracked and [f for f in tracked if f not in names] == []


def test_a_worker_from_the_sdist_runs_the_pipeline(worker_venv, tmp_path):
    base, _, py = worker_venv
    outside = tmp_path / "outside"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = str(py.parent) + os.pathsep + env.get("PATH", "")
    # the installed package, not the checkout: imported from the venv's site-packages
    where = _run([py, "-c", "import transforms, pipelines, schemas; print(transforms.__file__)"], cwd=outside,
                 env=env, timeout=120).stdout
    assert str(base / "venv") in where and str(REPO) not in where
    # alone: newsbeam run on the seed, every table written (lexicons, gazetteer, aliases, schemas, term table)
    root = tmp_path / "alone"
    _run([py, "-m", "pipelines", "run", need(SEED), "--output", root, "-q"], cwd=outside, env=env, timeout=900)
    events = ds.dataset(str(root / "events"), partitioning="hive").to_table().to_pylist()
    assert any(e["event_type"] == "ASSAULT" and e["story_id"] for e in events)
    # as the workers of a portable job: a worker pool from the venv, the job submitted by the checkout
    job, pool = _free_port(), _free_port()
    procs = [subprocess.Popen([py, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", str(job)],
                              cwd=outside, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
             subprocess.Popen([py, "-m", "apache_beam.runners.worker.worker_pool_main", "--service_port", str(pool)],
                              cwd=outside, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)]
    try:
        _wait_for(job, procs[0])
        _wait_for(pool, procs[1])
        remote = tmp_path / "remote"
        _run([sys.executable, "-m", "pipelines", "run", need(SEED), "--output", remote, "-q", *_portable_args(job, pool)],
             cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=900)
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    counts = [json.loads(next((r / "_runs").glob("*.json")).read_text())["tables"] for r in (root, remote)]
    assert counts[0] == counts[1] and counts[0]["events"] > 0
