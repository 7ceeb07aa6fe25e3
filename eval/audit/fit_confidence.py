"""Fit the event confidence model (``transforms/nlp/events/confidence.yaml``) on the audit set's calibration split.

Run from the repository root: ``.venv/bin/python eval/audit/fit_confidence.py [--write] [--split S]``. The
calibration split (round 4 of ``eval/audit/build_candidates.py``) is labelled like the rest and never read
while rules are written, so its errors are those of new text (the tune half's are not: the word-sense rules
were written against them; without a labelled calibration split the tune half is used). Every event the
pipeline codes in one of its sentences is one example: right (1) when the labels have its type (asserted types
for an unflagged event; asserted or not-asserted for a flagged one), else 0. A logistic regression (numpy,
Newton steps) over :data:`transforms.nlp.events.confidence.FEATURES` with an L2 penalty chosen by 5-fold
cross-validation (lowest out-of-fold log loss; ``--l2`` overrides), then its bias lowered until the
out-of-fold events at confidence >= 0.8 are right 92% of the time (fitted and scored on the same events, a
model looks better calibrated than it is; the shift corrects for that). Prints the coefficients and the
calibration; ``--write`` stores them. The held-out half is never read here: ``eval/eval_audit.py`` reports
its calibration.
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


def examples(split: str = "tune"):
    """(feature rows, labels) of the events of one split's sentences."""
    import eval_audit

    from transforms.nlp.events import confidence as calibrated

    captured = []
    real_score = calibrated.score

    def recording(values, coef=None):
        captured.append(dict(values))
        return 0.5 + len(captured) * 1e-9  # a unique value per event, to find its features again

    sentences = [s for s in eval_audit.load_audit() if s["split"] == split]
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


L2_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
CUT = 0.8          # the analysts' filter: confidence >= 0.8 ...
WANTED = 0.92      # ... should be right this often out of fold (the target is 0.90; a margin for new data)


def out_of_fold(X: np.ndarray, y: np.ndarray, l2: float, folds: int = 5, seed: int = 14) -> np.ndarray:
    """Out-of-fold logits: each event scored by a model fitted on the other folds."""
    order = np.random.default_rng(seed).permutation(len(y))
    z = np.zeros(len(y))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        z[test] = X[test] @ fit(X[train], y[train], l2)
    return z


def _at_cut(z: np.ndarray, y: np.ndarray, shift: float = 0.0) -> tuple:
    sel = 1.0 / (1.0 + np.exp(-(z + shift))) >= CUT
    return int(sel.sum()), float(y[sel].mean()) if sel.any() else 0.0


def log_loss(z: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(1.0 / (1.0 + np.exp(-z)), 1e-9, 1 - 1e-9)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose(X: np.ndarray, y: np.ndarray) -> tuple:
    """(L2, bias shift) from the fitting split alone: the penalty with the lowest out-of-fold log loss, then
    the smallest downward shift of the bias that makes the out-of-fold events at >= ``CUT`` right
    ``WANTED`` of the time (in-sample the model looks better calibrated than it is: that is what the
    shift corrects)."""
    losses = {l2: log_loss(out_of_fold(X, y, l2), y) for l2 in L2_GRID}
    l2 = min(losses, key=losses.get)
    z = out_of_fold(X, y, l2)
    shift = 0.0
    while shift > -3.0:
        n, right = _at_cut(z, y, shift)
        if n == 0 or right >= WANTED:
            break
        shift -= 0.05
    return l2, round(shift, 2)


def main(argv=None) -> int:
    from transforms.nlp.events.confidence import DATA_FILE, FEATURES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=None, help="L2 penalty (default: chosen by cross-validation).")
    parser.add_argument("--write", action="store_true", help=f"Write the coefficients to {DATA_FILE.name}.")
    parser.add_argument("--split", default=None, help="Fit on this split: tune, calibration or tune+calibration "
                                                      "(default: tune+calibration when the calibration split is labelled).")
    args = parser.parse_args(argv)
    import eval_audit

    split = args.split or ("tune+calibration" if any(s["split"] == "calibration" for s in eval_audit.load_audit())
                           else "tune")
    if split == "tune+calibration":
        parts = [examples("tune"), examples("calibration")]
        X, y = np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    else:
        X, y = examples(split)
    print(f"5-fold cross-validation on the {split} split (out of fold): L2, events >= 0.8, right, log loss")
    for grid_l2 in L2_GRID:
        z = out_of_fold(X, y, grid_l2)
        n, right = _at_cut(z, y)
        print(f"  L2 {grid_l2:>6}: {n:>4} events, {right:.2f} right, log loss {log_loss(z, y):.3f}")
    l2, shift = choose(X, y)
    if args.l2 is not None:
        l2 = args.l2
    n, right = _at_cut(out_of_fold(X, y, l2), y, shift)
    print(f"chosen: L2 {l2}, bias shift {shift:+.2f} (out of fold at >= {CUT}: {n} events, {right:.2f} right)")
    w = fit(X, y, l2)
    w[0] += shift
    p = 1.0 / (1.0 + np.exp(-X @ w))
    print(f"{len(y)} {split} events, {int(y.sum())} right ({y.mean():.2f})")
    for name, value in zip(FEATURES, w):
        print(f"  {name:<22}{value:+.3f}")
    for cut in (0.5, 0.7, 0.8, 0.9):
        sel = p >= cut
        print(f"  in sample, confidence >= {cut}: {int(sel.sum())} events, {y[sel].mean() if sel.any() else 0:.2f} right")
    if args.write:
        doc = ("# Coefficients of the event confidence model (transforms/nlp/events/confidence.py), written by\n"
               "# eval/audit/fit_confidence.py on the audit set's calibration split; eval/eval_audit.py checks held-out.\n")
        body = {"fitted_on": f"audit {split} split: {len(y)} events, {int(y.sum())} right; L2 {l2} and bias shift {shift} "
                             f"by 5-fold cross-validation (out of fold at >= {CUT}: {n} events, {right:.2f} right)",
                "coefficients": {name: round(float(v), 4) for name, v in zip(FEATURES, w)}}
        DATA_FILE.write_text(doc + yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
        print(f"wrote {DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
