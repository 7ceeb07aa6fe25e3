"""Fit the event confidence model (``transforms/nlp/events/confidence.yaml``) on the audit set's tune half.

Run from the repository root: ``.venv/bin/python eval/audit/fit_confidence.py [--write]``. Every event the
pipeline codes in a tune sentence is one example: right (1) when the labels have its type (asserted types for
an unflagged event; asserted or not-asserted for a flagged one), else 0. A logistic regression with an L2
penalty (``--l2``, default 1.0; numpy, Newton steps) over :data:`transforms.nlp.events.confidence.FEATURES`.
Prints the coefficients and the tune calibration; ``--write`` stores them. The held-out half is never read
here: ``eval/eval_audit.py`` reports its calibration.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))


def examples():
    """(feature rows, labels) of the tune half's events."""
    import eval_audit

    from transforms.nlp.events import confidence as calibrated

    captured = []
    real_score = calibrated.score

    def recording(values, coef=None):
        captured.append(dict(values))
        return 0.5 + len(captured) * 1e-9  # a unique value per event, to find its features again

    sentences = [s for s in eval_audit.load_audit() if s["split"] == "tune"]
    calibrated.score = recording
    try:
        events = eval_audit.system_events(sentences)
    finally:
        calibrated.score = real_score
    X, y = [], []
    for s in sentences:
        for e in events.get(s["id"], ()):
            values = captured[round((e["confidence"] - 0.5) * 1e9) - 1]
            flagged = e["negated"] or e["hypothetical"] or e["future"]
            gold = set(s["asserted"]) | (set(s["not_asserted"]) if flagged else set())
            X.append([values[f] for f in calibrated.FEATURES])
            y.append(1.0 if e["event_type"] in gold else 0.0)
    return np.array(X), np.array(y)


def fit(X: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> np.ndarray:
    w = np.zeros(X.shape[1])
    penalty = np.full(X.shape[1], l2)
    penalty[0] = 0.0  # no penalty on the bias
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-X @ w))
        grad = X.T @ (p - y) + penalty * w
        hess = X.T @ (X * (p * (1 - p))[:, None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main(argv=None) -> int:
    from transforms.nlp.events.confidence import DATA_FILE, FEATURES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--write", action="store_true", help=f"Write the coefficients to {DATA_FILE.name}.")
    args = parser.parse_args(argv)
    X, y = examples()
    w = fit(X, y, args.l2)
    p = 1.0 / (1.0 + np.exp(-X @ w))
    print(f"{len(y)} tune events, {int(y.sum())} right ({y.mean():.2f})")
    for name, value in zip(FEATURES, w):
        print(f"  {name:<22}{value:+.3f}")
    for cut in (0.5, 0.7, 0.8, 0.9):
        sel = p >= cut
        print(f"  confidence >= {cut}: {int(sel.sum())} events, {y[sel].mean() if sel.any() else 0:.2f} right")
    if args.write:
        doc = ("# Coefficients of the event confidence model (transforms/nlp/events/confidence.py), written by\n"
               "# eval/audit/fit_confidence.py on the audit set's tune half; eval/eval_audit.py checks held-out.\n")
        body = {"fitted_on": f"audit tune half: {len(y)} events, {int(y.sum())} right; L2 {args.l2}",
                "coefficients": {name: round(float(v), 4) for name, v in zip(FEATURES, w)}}
        DATA_FILE.write_text(doc + yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
        print(f"wrote {DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
