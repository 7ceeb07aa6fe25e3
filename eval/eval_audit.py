"""Event precision on everyday news: the hand-labelled audit set (``eval/gold/audit``).

Run from the repository root::

    .venv/bin/python eval/eval_audit.py [--errors N]

The set: ``sentences.jsonl`` (built by ``eval/audit/build_candidates.py`` from the English fundus pages,
real feeds, VOA, PETRARCH2 validation sentences and PLOVER records; at least half from stories that are
not about conflict) and ``labels/*.jsonl``, labelled blind by the PLOVER manual's definitions: per
sentence the story's topic, the types it reports as fact (``asserted``) and the types it only mentions
as negated, hypothetical, future or asked (``not_asserted``). The README's "Measured quality" says how
it was made. Documents go through the real pipeline (``build_article`` with their title and URL, the
entity pass, the event stage) and an event belongs to the audit sentence its evidence sentence overlaps.

Printed per split (``tune``; ``held-out``, never looked at while tuning):
- per-type precision / recall / F1 of asserted events (system rows with negated, hypothetical and
  future all false, against ``asserted``), sentence level: a type counts once per sentence;
- the false-event rate on non-conflict stories (topics other than conflict, crime, politics): of the
  asserted system events there, the share that the labels do not have;
- calibration: of the asserted events with confidence >= 0.8, the share that are right (target 0.90).
Error lists (false and missed events with their sentences) are printed for the tune split only. The
``calibration`` split (round 4) is scored too, without errors: ``eval/audit/fit_confidence.py`` fits the
confidence model on it, and rule-writing does not read it.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))
sys.path.insert(0, str(ROOT / "eval" / "audit"))

AUDIT = ROOT / "eval" / "gold" / "audit"
CONFLICT_TOPICS = {"conflict", "crime", "politics"}
CALIBRATION_AT = 0.8


def load_audit() -> List[Dict[str, Any]]:
    """The labelled sentences (sentences without labels are left out)."""
    labels: Dict[str, Dict[str, Any]] = {}
    for path in sorted((AUDIT / "labels").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                labels[row["id"]] = row
    out = []
    for line in (AUDIT / "sentences.jsonl").read_text(encoding="utf-8").splitlines():
        s = json.loads(line)
        if s["id"] in labels:
            out.append(dict(s, **{k: labels[s["id"]][k] for k in ("topic", "asserted", "not_asserted")}))
    return out


def _asserted(ev: Dict[str, Any]) -> bool:
    return not (ev["negated"] or ev["hypothetical"] or ev["future"])


def system_events(sentences: Sequence[Dict[str, Any]]) -> Dict[str, List[Dict[str, Any]]]:
    """Audit sentence id -> the system's events whose evidence sentence overlaps it. Sentences of
    documents that are not English (a few fundus pages from Tanzania and South Africa mix in Swahili
    or isiZulu) are left out, as the pipeline does not analyse them."""
    import eval_events as ev
    from build_candidates import docs

    from transforms.normalise.articles import build_article
    from transforms.records import RawArticle

    wanted = collections.defaultdict(list)
    for s in sentences:
        wanted[s["doc"]].append(s)
    by_doc = {d["doc"]: d for d in docs(all_voa=True) if d["doc"] in wanted}
    pipe = ev.Pipeline()
    rows, maps, order = [], [], []
    for doc_id, doc in by_doc.items():
        raw = RawArticle(doc_id, 0, "text", doc["text"], title=doc["title"], url=doc["url"])
        row = build_article(raw, run_id="audit", ingested_at=ev._NOW)
        if not isinstance(row, dict) or row["language"] != "en":
            continue
        rows.append(row)
        maps.append(ev.offset_map(doc["text"], row["text"]))
        order.append(doc_id)
    out: Dict[str, List[Dict[str, Any]]] = {s["id"]: [] for d in order for s in wanted[d]}
    for start in range(0, len(rows), 16):
        batch = rows[start:start + 16]
        for k, events in enumerate(pipe.events(batch)):
            doc_id, mapping = order[start + k], maps[start + k]
            for s in wanted[doc_id]:
                a, b = mapping[s["start"]], mapping[s["end"]]
                out[s["id"]].extend(e for e in events if ev.overlaps(e["sentence_start"], e["sentence_end"], a, b)
                                    and e["trigger_start"] < b and e["trigger_end"] > a)
    return out


def score(sentences: Sequence[Dict[str, Any]], events: Dict[str, List[Dict[str, Any]]]):
    """(per-type counts tp/fp/fn, non-conflict (false, system), calibration (right, total), errors)."""
    counts: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    non_conflict = collections.Counter()
    calibration = collections.Counter()
    errors: List[Tuple[str, str, str]] = []
    for s in sentences:
        gold = set(s["asserted"])
        asserted = [e for e in events[s["id"]] if _asserted(e)]
        system = {e["event_type"] for e in asserted}
        for t in system & gold:
            counts[t]["tp"] += 1
        for t in system - gold:
            counts[t]["fp"] += 1
            trig = next(e["trigger"] for e in asserted if e["event_type"] == t)
            errors.append(("false", f"{t}:{trig} [{s['topic']}]", s["sentence"]))
        for t in gold - system:
            counts[t]["fn"] += 1
            errors.append(("missed", f"{t} [{s['topic']}]", s["sentence"]))
        if s["topic"] not in CONFLICT_TOPICS:
            non_conflict["system"] += len(system)
            non_conflict["false"] += len(system - gold)
            non_conflict["sentences"] += 1
        for e in asserted:
            if e["confidence"] >= CALIBRATION_AT:
                calibration["total"] += 1
                calibration["right"] += e["event_type"] in gold
    return counts, non_conflict, calibration, errors


def _prf(c: collections.Counter) -> Tuple[float, float, float]:
    p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def report(split: str, sentences: Sequence[Dict[str, Any]], events: Dict[str, List[Dict[str, Any]]], n_errors: int) -> Dict:
    counts, non_conflict, calibration, errors = score(sentences, events)
    mark = {"held-out": "  [HELD-OUT]", "calibration": "  [CALIBRATION: fits the confidence model]"}.get(split, "")
    topics = collections.Counter("conflict" if s["topic"] in CONFLICT_TOPICS else "non-conflict" for s in sentences)
    print(f"\n== audit set, {split}: {len(sentences)} sentences ({topics['conflict']} conflict/crime/politics, "
          f"{topics['non-conflict']} other stories){mark}")
    print(f"{'type':<12}{'gold':>6}{'sys':>6}    P     R     F1")
    total: collections.Counter = collections.Counter()
    for t in sorted(counts):
        c = counts[t]
        total.update(c)
        p, r, f = _prf(c)
        print(f"{t:<12}{c['tp'] + c['fn']:>6}{c['tp'] + c['fp']:>6}  {p:.2f}  {r:.2f}  {f:.2f}")
    p, r, f = _prf(total)
    print(f"{'ALL (micro)':<12}{total['tp'] + total['fn']:>6}{total['tp'] + total['fp']:>6}  {p:.2f}  {r:.2f}  {f:.2f}{mark}")
    rate = non_conflict["false"] / non_conflict["system"] if non_conflict["system"] else 0.0
    print(f"  false-event rate on non-conflict stories: {non_conflict['false']}/{non_conflict['system']} = {rate:.2f} "
          f"({non_conflict['sentences']} sentences){mark}")
    cal = calibration["right"] / calibration["total"] if calibration["total"] else 0.0
    print(f"  confidence >= {CALIBRATION_AT}: {calibration['right']}/{calibration['total']} right = {cal:.2f} "
          f"(target 0.90){mark}")
    if split == "tune" and n_errors:
        for kind in ("false", "missed"):
            shown = [e for e in errors if e[0] == kind][:n_errors]
            print(f"  {kind} events (first {len(shown)}):")
            for _, what, text in shown:
                print(f"    {what}: {text[:200]}")
    return {"prf": (p, r, f), "false_rate": rate, "calibration": cal}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=15, help="Error examples per kind on the tune split.")
    args = parser.parse_args(argv)
    sentences = load_audit()
    if not sentences:
        print("audit set: no labels yet (eval/gold/audit/labels/*.jsonl)")
        return 0
    events = system_events(sentences)
    skipped = len(sentences) - len(events)
    sentences = [s for s in sentences if s["id"] in events]
    print(f"audit set: {len(sentences)} labelled sentences ({skipped} of non-English documents left out)")
    summary = {}
    for split in ("tune", "held-out", "calibration"):
        part = [s for s in sentences if s["split"] == split]
        if part:  # the calibration split fits the confidence model; like held-out, its errors are not printed
            summary[split] = report(split, part, events, args.errors if split == "tune" else 0)
    t, h = summary["tune"], summary["held-out"]
    print(f"\naudit       tune P {t['prf'][0]:.2f} R {t['prf'][1]:.2f} F1 {t['prf'][2]:.2f}, false-event rate "
          f"{t['false_rate']:.2f} | held-out P {h['prf'][0]:.2f} R {h['prf'][1]:.2f} F1 {h['prf'][2]:.2f}, "
          f"false-event rate {h['false_rate']:.2f}, calibration {h['calibration']:.2f}  [HELD-OUT]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
