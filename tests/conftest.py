"""Shared fixtures: paths to the real corpora, a clock, the ``newsbeam`` command as a subprocess,
and the spaCy pipeline the NLP stage loads (once per test session)."""
from __future__ import annotations

import datetime as dt
import os
import pathlib
import subprocess
import sys
from typing import Any, List

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SHARED = (REPO.parent / "shared") if (REPO.parent / "shared").exists() else pathlib.Path("/work/shared")
SEED = SHARED / "seed" / "2020-02-07-bensonhurst.txt"
CORPORA = SHARED / "corpora"
EXAMPLES = REPO / "examples"
DATA = pathlib.Path(__file__).resolve().parent / "data"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
ENV = dict(os.environ, PYTHONPATH=str(REPO))
"""The environment of CLI subprocesses: this checkout first on the path."""


def need(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def newsbeam_command(*args: Any) -> List[str]:
    """``python -m pipelines ARGS``: the ``newsbeam`` command as a user runs it."""
    return [sys.executable, "-m", "pipelines", *map(str, args)]


def newsbeam(*args: Any, timeout: float = 300, env: Any = None) -> subprocess.CompletedProcess:
    """Run the ``newsbeam`` command in a subprocess (from the repository, this checkout on the
    path); returns the finished process with its text output."""
    return subprocess.run(newsbeam_command(*args), capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=env or ENV)


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture(scope="session")
def entity_nlp():
    """The spaCy pipeline as the NLP stage loads it (entity pass enabled, the parse components
    loaded and disabled), loaded once for the whole session. Tests must not change it."""
    from transforms.nlp.model import ENTITY_PIPES, load_nlp

    return load_nlp(None, keep=ENTITY_PIPES)


@pytest.fixture(scope="session")
def article_events(entity_nlp):
    """``run(text, published)``: the events rows of one article through the real path (``build_article``,
    the entity pass, the event stage) with the session's model."""
    from transforms.nlp.entities import extract_entities
    from transforms.nlp.events.parse import event_rows
    from transforms.normalise.articles import build_article
    from transforms.records import RawArticle

    def run(text: str, published: str = "2022-07-03") -> List[dict]:
        raw = RawArticle("test.json", 0, "json", text, published=(published,))
        ingested = dt.datetime.fromisoformat(published).replace(tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
        row = build_article(raw, run_id="r", ingested_at=ingested)
        doc = entity_nlp(row["text"])
        return event_rows(doc, row, extract_entities(doc, row["article_id"]), entity_nlp)

    return run
