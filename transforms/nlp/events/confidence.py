"""An event's ``confidence``: the probability that it is right, from a logistic model over what the
extractor knows when it codes the event (the rule's prior weight, verb or noun, which arguments it
found and whether they are named entities, the flags, the story's domain, a violence cue in the
sentence, the quad class and the PLOVER type, a date or a place in the sentence itself, a sentence
that looks like page junk).

The coefficients are data (``confidence.yaml``), fitted by ``eval/audit/fit_confidence.py`` on the
audit set's tune half (an event is right when the labels have its type: among the asserted types for
an unflagged event, among asserted or not-asserted ones for a flagged one) and checked on the
held-out half by ``eval/eval_audit.py`` (of the events with confidence >= 0.8, the share that are right).
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

__all__ = ["FEATURES", "features", "score", "coefficients", "load_coefficients", "DATA_FILE"]

DATA_FILE = Path(__file__).resolve().parent / "confidence.yaml"
_TYPES = ("AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE", "REJECT",
          "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT")
FEATURES = ("bias", "weight", "verb", "actor", "recipient", "actor_entity", "recipient_entity", "flagged",
            "everyday_story", "violence_cue", "material_conflict", "verbal_conflict", "material_cooperation",
            "junk_sentence", "dated_in_sentence", "placed_in_sentence") + tuple(f"type_{t}" for t in _TYPES)
"""The model's inputs, in order (``verbal_cooperation`` is the quad class all others are against; the
``type_*`` indicators let each PLOVER type have its own prior)."""


def features(*, weight: float, verb: bool, actor: Optional[str], recipient: Optional[str],
             actor_entity: Optional[str], recipient_entity: Optional[str], flagged: bool, domain: Optional[str],
             violence_cue: bool, quad_class: str, sentence: str, event_type: str = "",
             dated_in_sentence: bool = False, placed_in_sentence: bool = False) -> Dict[str, float]:
    """The model's inputs for one event (see the module notes)."""
    text = sentence.strip()
    junk = not text.endswith((".", "!", "?", '"', "”", "’", "'", ")")) or len(text) < 25
    return {
        "bias": 1.0, "weight": float(weight), "verb": float(verb), "actor": float(bool(actor)),
        "recipient": float(bool(recipient)), "actor_entity": float(bool(actor_entity)),
        "recipient_entity": float(bool(recipient_entity)), "flagged": float(flagged),
        "everyday_story": float(domain is not None), "violence_cue": float(violence_cue),
        "material_conflict": float(quad_class == "material_conflict"),
        "verbal_conflict": float(quad_class == "verbal_conflict"),
        "material_cooperation": float(quad_class == "material_cooperation"),
        "junk_sentence": float(junk),
        "dated_in_sentence": float(dated_in_sentence), "placed_in_sentence": float(placed_in_sentence),
        **{f"type_{t}": float(event_type == t) for t in _TYPES},
    }


def load_coefficients(path: Path = DATA_FILE) -> Dict[str, float]:
    """Read ``confidence.yaml``; raises ``ValueError`` unless it has a coefficient for every feature."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    coef = {k: float(v) for k, v in data["coefficients"].items()}
    missing = [f for f in FEATURES if f not in coef]
    extra = [k for k in coef if k not in FEATURES]
    if missing or extra:
        raise ValueError(f"{path.name}: coefficients missing {missing}, unknown {extra}")
    return coef


@functools.lru_cache(maxsize=None)
def coefficients() -> Mapping[str, float]:
    """The shipped coefficients, loaded once per process."""
    return load_coefficients()


def score(values: Mapping[str, float], coef: Optional[Mapping[str, Any]] = None) -> float:
    """The logistic model's probability for ``values`` (rounded to 3 places, within [0.01, 0.99])."""
    coef = coef if coef is not None else coefficients()
    z = sum(float(coef[name]) * values[name] for name in FEATURES)
    p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
    return round(min(0.99, max(0.01, p)), 3)
