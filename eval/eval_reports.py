"""Short event reports: type, date and place of one-sentence incident notes (``eval/gold/reports``).

Run from the repository root::

    .venv/bin/python eval/eval_reports.py [--errors N]

The set: ``reports.jsonl`` (and ``batch2.jsonl``, 200 more written later, all for tuning, scored as
the split ``tune, batch 2``), 320 reports written by hand in the style of ACLED event notes and wire
briefs (170 protests, 150 attacks, clashes, arrests and a few political events; 84 countries; places
from capitals to villages, many with the province in brackets or after a comma), labelled blind by the
PLOVER manual's definitions with the incident's main type, every type stated as fact, its date and its
place from GeoNames cities500 (``eval/gold/reports/README.md``). Split by the id's parity into ``tune``
and ``held-out`` (never looked at while tuning). Each report goes through the real pipeline as an
article published on its ``published`` date.

Printed per split, over asserted events (negated, hypothetical and future all false):
- main type recalled: the report's main type is among the system's types (gold FIGHT counts as ASSAULT,
  the PLOVER 0.5 merge newsbeam's lexicon follows); type precision over the system's distinct types;
- coarse type accuracy: protest (PROTEST) / violence (ASSAULT, FIGHT, COERCE) / other, the system's
  coarse class of the first event against the main type's;
- protests typed (main type PROTEST and a PROTEST event), of those dated (event_date equals the gold
  date) and placed within 50 km of the gold point, with the precision level found.
"""
from __future__ import annotations

import argparse
import collections
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from transforms.nlp.places.geocode import distance_km  # noqa: E402

REPORTS = ROOT / "eval" / "gold" / "reports" / "reports.jsonl"
BATCH2 = ROOT / "eval" / "gold" / "reports" / "batch2.jsonl"
SPLITS = ("tune", "tune, batch 2", "held-out")
MERGE = {"FIGHT": "ASSAULT"}
VIOLENCE = {"ASSAULT", "FIGHT", "COERCE"}
PLACE_KM = 50.0


def coarse(event_type: Optional[str]) -> str:
    if event_type is None:
        return "none"
    return "protest" if event_type == "PROTEST" else "violence" if event_type in VIOLENCE else "other"


def load_reports(path: Path = REPORTS, batch2: Optional[Path] = BATCH2) -> List[Dict[str, Any]]:
    """The reports; batch 2 (a second blind batch, all for tuning) is scored as its own split."""
    out = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if batch2 is not None and batch2.exists():
        out += [dict(json.loads(line), split="tune, batch 2")
                for line in batch2.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def article_row(report: Dict[str, Any]) -> Dict[str, Any]:
    from transforms.normalise.articles import build_article
    from transforms.records import RawArticle

    raw = RawArticle(str(REPORTS), int(report["id"][1:]), "json", report["text"], published=(report["published"],))
    ingested = _dt.datetime.fromisoformat(report["published"]).replace(tzinfo=_dt.timezone.utc) + _dt.timedelta(days=1)
    row = build_article(raw, run_id="eval", ingested_at=ingested)
    if not isinstance(row, dict):
        raise ValueError(f"{report['id']}: {row}")
    return row


def score(reports, system) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for split in SPLITS:
        c: collections.Counter = collections.Counter()
        errors: List[str] = []
        precisions = collections.Counter()
        for r, events in zip(reports, system):
            if r["split"] != split:
                continue
            asserted = [e for e in events if not (e["negated"] or e["hypothetical"] or e["future"])]
            types = {MERGE.get(e["event_type"], e["event_type"]) for e in asserted}
            gold_types = {MERGE.get(t, t) for t in r["types"]}
            main = MERGE.get(r["main_type"], r["main_type"])
            c["reports"] += 1
            c["main recalled"] += main in types
            precisions["system types"] += len(types)
            precisions["right types"] += len(types & gold_types)
            ranked = sorted(asserted, key=lambda e: (coarse(e["event_type"]) != coarse(main), e["trigger_start"]))
            c["coarse right"] += bool(ranked) and coarse(ranked[0]["event_type"]) == coarse(main)
            if main not in types:
                errors.append(f"  type {r['id']} gold {main}, got {sorted(types) or '-'}: {r['text'][:200]}")
            if r["main_type"] != "PROTEST":
                continue
            c["protests"] += 1
            protests = [e for e in asserted if e["event_type"] == "PROTEST"]
            if not protests:
                continue
            e = protests[0]
            c["typed"] += 1
            dated = e["event_date"] is not None and e["event_date"].isoformat() == r["date"]
            c["dated"] += dated
            if not dated:
                errors.append(f"  date {r['id']} gold {r['date']}, got {e['event_date']} ({e['date_text']!r}): "
                              f"{r['text'][:200]}")
            gold = r["place"]
            near = e["latitude"] is not None and distance_km(e["latitude"], e["longitude"], gold["latitude"],
                                                     gold["longitude"]) <= PLACE_KM
            c["placed"] += near
            c[("precision", e.get("location_precision"))] += 1
            if not near:
                got = (f"{e['location']} ({e.get('admin1')}, {e['country_code']}, {e.get('location_precision')})"
                       if e["location"] else "nothing")
                errors.append(f"  place {r['id']} gold {gold.get('mention') or gold['name']} ({gold['admin1']}, "
                              f"{gold['country']}), got {got}: {r['text'][:200]}")
        c["system types"], c["right types"] = precisions["system types"], precisions["right types"]
        out[split] = {"counts": c, "errors": errors}
    return out


def ratio(hits: int, total: int) -> str:
    return f"{hits}/{total} = {hits / total:.2f}" if total else "0/0 = n/a"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--errors", type=int, default=25, help="tune-split errors to print (default 25)")
    args = parser.parse_args(argv)
    from eval_events import Pipeline

    reports = load_reports()
    pipe = Pipeline()
    system = pipe.events([article_row(r) for r in reports])
    results = score(reports, system)
    summary = []
    for split in SPLITS:
        c = results[split]["counts"]
        mark = "  [HELD-OUT]" if split == "held-out" else ""
        print(f"\n== short event reports, {split}: {c['reports']} reports, {c['protests']} protests{mark}")
        print(f"  main type among the system's types: {ratio(c['main recalled'], c['reports'])}")
        print(f"  type precision (distinct system types per report): {ratio(c['right types'], c['system types'])}")
        print(f"  coarse type (protest / violence / other) right: {ratio(c['coarse right'], c['reports'])}")
        print(f"  protests typed: {ratio(c['typed'], c['protests'])}; of those dated: {ratio(c['dated'], c['typed'])}; "
              f"placed within {PLACE_KM:.0f} km: {ratio(c['placed'], c['typed'])}")
        levels = {k[1]: v for k, v in c.items() if isinstance(k, tuple) and k[0] == "precision"}
        print(f"  location_precision of typed protests: {dict(sorted(levels.items(), key=lambda kv: str(kv[0])))}")
        if split != "held-out" and args.errors:
            print(f"  errors (first {args.errors}):")
            for line in results[split]["errors"][:args.errors]:
                print(line)
        summary.append(f"{split} coarse {c['coarse right'] / max(c['reports'], 1):.2f}, protests typed "
                       f"{c['typed'] / max(c['protests'], 1):.2f} dated {c['dated'] / max(c['typed'], 1):.2f} "
                       f"placed {c['placed'] / max(c['typed'], 1):.2f}")
    print(f"\nreports     {' | '.join(summary)}  [HELD-OUT]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
