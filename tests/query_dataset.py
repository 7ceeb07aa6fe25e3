"""The dataset the query, compaction and report tests share: the seed, examples/ and the real feeds
ingested by the real pipeline, plus hand-made `entities` and `events` rows (those tables are filled
by later stages) whose offsets, sentences and article ids are taken from the ingested articles.

Built once per test session (:func:`shared_dataset`); tests that change a dataset copy it first.
"""
from __future__ import annotations

import hashlib
import math
import pathlib
import re
import shutil
from typing import Any, Dict, List, Optional

import pyarrow.parquet as pq

from tests.conftest import CORPORA, EXAMPLES, SEED

ENTITY_PATTERNS = [  # (regex, canonical, label)
    (r"\bDonald Trump\b|\bTrump\b", "Donald Trump", "PERSON"),
    (r"\bImmigration and Customs (?:Service|Enforcement)\b|\bIce\b|\bICE\b", "U.S. Immigration and Customs Enforcement", "ORG"),
    (r"\bBensonhurst\b", "Bensonhurst", "GPE"),
    (r"\bNYPD\b", "New York City Police Department", "ORG"),
    (r"\bErick Diaz\b", "Erick Diaz", "PERSON"),
    (r"\bGasper Avendano-Hernandez\b|\bAvendano-Hernandez\b", "Gasper Avendano-Hernandez", "PERSON"),
    (r"\bBill de Blasio\b", "Bill de Blasio", "PERSON"),
    (r"\bRussia\b", "Russia", "GPE"),
    (r"\bUkraine\b", "Ukraine", "GPE"),
]

BENSONHURST = ("Bensonhurst", "US", 40.6018, -73.9962)
ICE = "U.S. Immigration and Customs Enforcement"
GASPER = "Gasper Avendano-Hernandez"

# (title prefix or None for the seed, trigger regex, event_type, mode, actor, actor_canonical, recipient,
#  recipient_canonical, (location, country, lat, lon) or None, event_date, date_text, hypothetical)
EVENT_SPECS = [
    (None, r"shot a man", "ASSAULT", "firearms", "immigration officials", ICE, "a man", "Erick Diaz",
     BENSONHURST, "2020-02-06", "on Thursday", False),
    (None, r"ice officers attacked", "ASSAULT", None, "ice officers", ICE, "Avendano-Hernandez", GASPER,
     BENSONHURST, None, None, False),
    (None, r"weapon went off and shot", "ASSAULT", "firearms", "an officer", ICE, "Diaz", "Erick Diaz",
     BENSONHURST, None, None, False),
    (None, r"started to fight back", "ASSAULT", None, "He", GASPER, "officers", ICE, BENSONHURST, None, None, False),
    (None, r"physically assaulted", "ASSAULT", None, None, None, "two of his officers", ICE,
     BENSONHURST, None, None, False),
    (None, r"the police arrested", "COERCE", "arrest", "the police", "New York City Police Department",
     "Avendano-Hernandez", GASPER, ("New York", "US", 40.7128, -74.0060), None, "Earlier this week", False),
    ("Moments of protest", r"to protest", "PROTEST", None, "Democrats", "Democratic Party", None, None,
     ("Washington", "US", 38.8951, -77.0364), None, None, False),
    ("The Women's March", r"marched", "PROTEST", "demonstrate", "people", "Women's March", None, None,
     ("United States", "US", 39.7600, -98.5000), "2018-01-20", "On 20 and 21 January 2018", False),
    ("UN urges end", r"pro-democracy protests", "PROTEST", None, None, None, "al-Assad", "Bashar al-Assad",
     ("Syria", "SY", 34.8021, 38.9968), None, None, False),
    ("UN urges end", r"renewed violence", "ASSAULT", None, None, None, None, None,
     ("Syria", "SY", 34.8021, 38.9968), None, None, False),
    ("Iraq says key", r"killed Thursday in an airstrike", "ASSAULT", "airstrike", "Iraqi special forces",
     "Iraqi Special Operations Forces", "al-Rufay'i", "Abdallah Makki Muslih al-Rufay'i",
     ("Anbar", "IQ", 33.4000, 42.0000), "2025-03-13", "Thursday", False),
    ("G7 urges Russia", r"urged Russia", "COERCE", "sanctions", "Top diplomats", "Group of Seven", "Russia",
     "Russia", ("Canada", "CA", 56.1304, -106.3468), None, None, True),
    ("Trump-Russia investigation", r"inquiry", "INVESTIGATE", None, None, None, "Donald Trump", "Donald Trump",
     None, None, None, False),
]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\n")


def entity_id(label: str, canonical: str) -> str:
    return hashlib.sha1(f"{label}|{canonical}".encode()).hexdigest()[:16]


def _sentence(text: str, start: int):
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    index = max(i for i, b in enumerate(bounds[:-1]) if b <= start)
    end = next((b for b in bounds if b > start), len(text))
    return index, bounds[index], end


def _load_articles(root: pathlib.Path) -> List[Dict[str, Any]]:
    rows = []
    for path in sorted(root.glob("articles/dt=*/*.parquet")):
        dt = path.parent.name.split("=", 1)[1]
        for row in pq.read_table(path, columns=["article_id", "title", "text", "input_path"]).to_pylist():
            rows.append(dict(row, dt=dt))
    return rows


def make_entities(articles: List[Dict[str, Any]], run_id: str) -> List[Dict[str, Any]]:
    out = []
    for article in articles:
        for pattern, canonical, label in ENTITY_PATTERNS:
            for m in re.finditer(pattern, article["text"]):
                out.append({"article_id": article["article_id"], "entity_id": entity_id(label, canonical),
                            "text": m.group(0), "canonical": canonical, "label": label,
                            "start_char": m.start(), "end_char": m.end(),
                            "sentence_index": _sentence(article["text"], m.start())[0],
                            "run_id": run_id, "dt": article["dt"]})
    return out


def _entity_for(canonical: Optional[str]) -> Optional[str]:
    for _, name, label in ENTITY_PATTERNS:
        if name == canonical:
            return entity_id(label, name)
    return entity_id("ORG", canonical) if canonical else None


def make_events(articles: List[Dict[str, Any]], run_id: str) -> List[Dict[str, Any]]:
    import datetime as dt

    out = []
    for n, (title, trigger, etype, mode, actor, actor_c, recip, recip_c, place, day, date_text, hypo) in enumerate(EVENT_SPECS):
        if title is None:
            article = next(a for a in articles if a["input_path"].endswith("2020-02-07-bensonhurst.txt"))
        else:
            article = next(a for a in articles if (a["title"] or "").startswith(title))
        m = re.search(trigger, article["text"])
        assert m, f"trigger {trigger!r} is not in {article['title']!r}"
        _, s_start, s_end = _sentence(article["text"], m.start())
        location, country, lat, lon = place or (None, None, None, None)
        out.append({
            "event_id": hashlib.sha1(f"{article['article_id']}|{m.start()}|{etype}".encode()).hexdigest()[:16],
            "article_id": article["article_id"], "event_type": etype, "mode": mode,
            "quad_class": "material conflict" if etype in ("ASSAULT", "COERCE") else "verbal conflict",
            "trigger": m.group(0), "trigger_start": m.start(), "trigger_end": m.end(),
            "actor": actor, "actor_canonical": actor_c, "actor_entity_id": _entity_for(actor_c),
            "recipient": recip, "recipient_canonical": recip_c, "recipient_entity_id": _entity_for(recip_c),
            "location": location, "country_code": country, "latitude": lat, "longitude": lon,
            "location_source": "sentence" if place else None,
            "event_date": dt.date.fromisoformat(day) if day else None, "date_text": date_text,
            "sentence": article["text"][s_start:s_end].strip(), "sentence_start": s_start, "sentence_end": s_end,
            "negated": False, "hypothetical": hypo, "future": False, "confidence": 0.5 + 0.03 * n,
            "run_id": run_id, "dt": article["dt"],
        })
    return out


def add_hand_made(root: pathlib.Path, run_id: str = "20261127T120000Z-events") -> Dict[str, List[Dict[str, Any]]]:
    """Write entities and events for the ingested articles as one committed run, in several files per
    partition (one per article), like frequent small runs would. Returns the rows written."""
    from transforms.storage.sink import commit_run, write_part

    articles = _load_articles(root)
    tables = {"entities": make_entities(articles, run_id), "events": make_events(articles, run_id)}
    staged = []
    for table, rows in tables.items():
        by_file: Dict[tuple, List[Dict[str, Any]]] = {}
        for row in rows:
            by_file.setdefault((row["dt"], row["article_id"]), []).append(row)
        for i, ((day, _), part) in enumerate(sorted(by_file.items())):
            staged.append(write_part(str(root), table, run_id, day, part, f"hand-{i:04d}"))
    commit_run(str(root), run_id, staged, {"run_id": run_id, "note": "hand-made entities and events for tests"})
    return tables


def build(root: pathlib.Path, inputs: pathlib.Path) -> Dict[str, List[Dict[str, Any]]]:
    """Two runs of the real pipeline (the seed and examples/, then the real feeds written in files of
    at most 3 rows, as frequent small runs leave them), without entity and event extraction, then
    the hand-made entities and events."""
    from pipelines.cli import main

    first = inputs / "first"
    first.mkdir(parents=True)
    shutil.copy(SEED, first / SEED.name)
    shutil.copytree(EXAMPLES, first / "examples")
    feeds = inputs / "feeds"
    shutil.copytree(CORPORA / "feeds-real", feeds)
    skip_nlp = ["--skip-nlp"] if _run_knows("--skip-nlp") else []
    assert main(["run", str(first), "--output", str(root), "-q", *skip_nlp]) == 0
    assert main(["run", str(feeds), "--output", str(root), "--max-rows-per-file", "3", "-q", *skip_nlp]) == 0
    for table in ("entities", "events"):  # the tests know exactly which rows these tables hold
        shutil.rmtree(root / table, ignore_errors=True)
    rows = add_hand_made(root)
    if "stories" in build_parser_commands():  # stories from the hand-made rows: what a run with NLP gives
        assert main(["stories", str(root), "--rebuild", "-q"]) == 0
    return rows


def build_parser_commands():
    from pipelines.cli import COMMANDS

    return COMMANDS


def _run_knows(flag: str) -> bool:
    """Whether ``newsbeam run`` has ``flag`` (entity and event extraction are being wired in)."""
    import argparse

    from pipelines.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return flag in action.choices["run"]._option_string_actions
    return False


_BUILT: Dict[str, Any] = {}


def shared_dataset(tmp_path_factory):
    """(root, hand-made rows): built on first use in this session, then reused. Do not modify it."""
    if "root" not in _BUILT:
        for path in (SEED, EXAMPLES, CORPORA / "feeds-real"):
            if not path.exists():
                import pytest

                pytest.skip(f"{path} is not available")
        base = tmp_path_factory.mktemp("newsbeam-dataset")
        _BUILT["rows"] = build(base / "root", base / "inputs")
        _BUILT["root"] = base / "root"
    return _BUILT["root"], _BUILT["rows"]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))
