"""Publication dates: any common representation to an aware UTC datetime, or None."""
from __future__ import annotations

import datetime as _dt
import email.utils
import re
import time
from typing import Any, Optional

__all__ = ["parse_datetime", "plausible", "EARLIEST", "date_from_path"]

UTC = _dt.timezone.utc
EARLIEST = _dt.datetime(1970, 1, 2, tzinfo=UTC)
"""Earlier dates are placeholders (epoch 0, 1900-01-01) in practice, not publication dates."""
_FUTURE_SLACK = _dt.timedelta(days=2)


def _aware(value: _dt.datetime) -> _dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def plausible(value: Optional[_dt.datetime], now: _dt.datetime) -> Optional[_dt.datetime]:
    """``value`` when it can be a publication time seen at ``now``, else None."""
    if value is None:
        return None
    if value < EARLIEST or value > now + _FUTURE_SLACK:
        return None
    return value


def _parse_string(text: str) -> Optional[_dt.datetime]:
    text = text.strip()
    if not text or len(text) > 100:
        return None
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _parse_number(float(text))
    iso = text.replace("Z", "+00:00").replace("z", "+00:00")
    if re.match(r"^\d{4}-\d{2}-\d{2}", iso):
        try:
            return _aware(_dt.datetime.fromisoformat(iso.replace(" ", "T", 1) if "T" not in iso else iso))
        except ValueError:
            pass
    if not re.search(r"(?i)\b[ap]\.?m\b", text):  # the RFC 822 parser ignores AM/PM
        try:
            parsed = email.utils.parsedate_to_datetime(text)
            if parsed is not None:
                return _aware(parsed)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    try:
        from dateutil import parser as du

        return _aware(du.parse(text))
    except (ValueError, OverflowError, TypeError, du.ParserError):
        pass
    try:
        import dateparser

        parsed = dateparser.parse(text, settings={"RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": "UTC",
                                                  "PREFER_DAY_OF_MONTH": "first",
                                                  "STRICT_PARSING": False, "REQUIRE_PARTS": ["year", "month", "day"]})
        if parsed is not None:
            return _aware(parsed)
    except Exception:  # dateparser raises assorted errors on garbage
        pass
    return None


def _parse_number(value: float) -> Optional[_dt.datetime]:
    if value > 1e11:  # milliseconds since the epoch
        value /= 1000.0
    try:
        return _dt.datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_datetime(value: Any, now: Optional[_dt.datetime] = None) -> Optional[_dt.datetime]:
    """Parse a publication time to an aware UTC datetime.

    Accepts datetime/date, ``time.struct_time`` (feedparser's ``*_parsed``, in UTC), epoch seconds or
    milliseconds, ISO 8601, RFC 822 and free-form strings in many languages. A value without a time
    zone is taken as UTC. Returns None for anything unparseable or implausible (before 1970-01-02
    or more than two days after ``now``).
    """
    now = now or _dt.datetime.now(UTC)
    result: Optional[_dt.datetime] = None
    try:
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, _dt.datetime):
            result = _aware(value)
        elif isinstance(value, _dt.date):
            result = _dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif isinstance(value, time.struct_time):
            result = _dt.datetime(*value[:6], tzinfo=UTC)
        elif isinstance(value, (int, float)):
            result = _parse_number(float(value))
        elif isinstance(value, str):
            result = _parse_string(value)
    except (ValueError, OverflowError, TypeError):
        return None
    return plausible(result, now)


_PATH_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})[-_/]?(0[1-9]|1[0-2])[-_/]?(0[1-9]|[12]\d|3[01])(?!\d)")


def date_from_path(path: str) -> Optional[_dt.date]:
    """A date written in a file name such as ``2020-02-07-bensonhurst.txt``."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    m = _PATH_DATE.search(name)
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
