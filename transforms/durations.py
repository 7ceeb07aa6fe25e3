"""Durations on the command line: ``90``, ``90s``, ``15m``, ``1h30m``, ``2d``, ``0.2s``."""
from __future__ import annotations

import argparse
import re

__all__ = ["parse_duration"]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (a bare number is seconds); raises argparse.ArgumentTypeError."""
    value = str(text).strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    while pos < len(value):
        m = _PART.match(value, pos)
        if not m or (m.group(2) is None and m.end() != len(value)):
            raise argparse.ArgumentTypeError(f"expected a duration such as 90s, 15m or 1h, got {text!r}")
        total += float(m.group(1)) * _UNITS[m.group(2) or "s"]
        pos = m.end()
    if not value:
        raise argparse.ArgumentTypeError("expected a duration such as 90s, 15m or 1h, got ''")
    return total
