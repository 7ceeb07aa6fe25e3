"""Shared fixtures: paths to the real corpora, a clock, and a helper to run the CLI in-process."""
from __future__ import annotations

import datetime as dt
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SHARED = (REPO.parent / "shared") if (REPO.parent / "shared").exists() else pathlib.Path("/work/shared")
SEED = SHARED / "seed" / "2020-02-07-bensonhurst.txt"
CORPORA = SHARED / "corpora"
EXAMPLES = REPO / "examples"
DATA = pathlib.Path(__file__).resolve().parent / "data"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)


def need(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture
def now() -> dt.datetime:
    return NOW
