"""Event dates: temporal expressions resolved against the publication date.

``resolve_date("on Thursday", published=date(2020, 2, 7))`` is 2020-02-06: news reports the past,
so a weekday means the latest such day on or before publication (the next one when the verb is
in the future). Vague expressions ("earlier this week", "last month") and expressions that name
no day ("in March 2019", "in 1517", "since 1996") resolve to None; callers keep their text.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import re
from typing import List, Optional, Tuple

__all__ = ["resolve_date", "find_date_expressions", "DateExpression"]

_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAYS.update({name.lower(): i for i, name in enumerate(calendar.day_abbr)})
_WEEKDAYS.update({"tues": 1, "wed": 2, "thur": 3, "thurs": 3})
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_MONTH_RE = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted((re.escape(d) for d in _WEEKDAYS), key=len, reverse=True))
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "a": 1, "an": 1}

_PATTERNS = [
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    # a range is dated by its first day: "between 16 and 18 April 2024", "the night of 4-5 May", "May 4-5, 2021"
    ("day_range", re.compile(rf"\b(?:between\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|\u2013|and|to)\s*\d{{1,2}}"
                             rf"(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", re.I)),
    ("month_day_range", re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:-|\u2013|to)\s*\d{{1,2}}"
                                   rf"(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)),
    ("month_day_year", re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)),
    ("day_month_year", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", re.I)),
    ("relative_day", re.compile(r"\b(yesterday|today|tonight|tomorrow|this (?:morning|afternoon|evening))\b", re.I)),
    ("ago", re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an) (day|week)s? ago\b", re.I)),
    ("weekday", re.compile(rf"\b(?:(last|this|next|on|past|late|early)\s+)?({_WEEKDAY_RE})\.?\b"
                           r"(?:\s+(morning|afternoon|evening|night))?", re.I)),
    ("vague", re.compile(r"\b(?:earlier|later) (?:this|that|in the|last) (?:week|month|year)|\b(?:last|this|past|next) "
                         r"(?:week|weekend|month|year)\b|\bin recent (?:days|weeks|months)\b|\brecently\b", re.I)),
    # a month or a year names no day ("in March 2019", "in 1517", "since 1996"): the event's date stays
    # empty and the words are kept; a year after a preposition only, and not a count ("in 1500 homes")
    ("month_year", re.compile(rf"\b({_MONTH_RE})\.?,?\s+(1[0-9]{{3}}|20[0-9]{{2}})\b", re.I)),
    ("year", re.compile(r"\b(?:in|since|during|until|till|before|after)\s+(?:the\s+(?:year|spring|summer|autumn|fall|winter)"
                        r"\s+(?:of\s+)?)?(1[0-9]{3}|20[0-9]{2})\b(?![.,]?\d)(?!\s*(?:%|per\s?cent))(?!\s+[a-z]+s\b)", re.I)),
]


class DateExpression(Tuple[int, int, str, Optional[_dt.date]]):
    """(start, end, text, date) of one temporal expression in a text; date None when vague."""

    __slots__ = ()

    def __new__(cls, start: int, end: int, text: str, date: Optional[_dt.date]):
        return super().__new__(cls, (start, end, text, date))

    start = property(lambda self: self[0])
    end = property(lambda self: self[1])
    text = property(lambda self: self[2])
    date = property(lambda self: self[3])


def _safe_date(year: int, month: int, day: int) -> Optional[_dt.date]:
    try:
        return _dt.date(year, month, day)
    except ValueError:
        return None


def _resolve(kind: str, m: re.Match, published: _dt.date, future: bool) -> Optional[_dt.date]:
    if kind == "iso":
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if kind in ("month_day_year", "day_month_year", "day_range", "month_day_range"):
        if kind in ("month_day_year", "month_day_range"):
            month, day, year = _MONTHS[m.group(1).lower()], int(m.group(2)), m.group(3)
        else:
            day, month, year = int(m.group(1)), _MONTHS[m.group(2).lower()], m.group(3)
        if year:
            return _safe_date(int(year), month, day)
        candidate = _safe_date(published.year, month, day)
        if candidate is None:
            return None
        # Without a year, news means the nearest such date: last December in a January article.
        if not future and candidate > published + _dt.timedelta(days=31):
            candidate = _safe_date(published.year - 1, month, day)
        elif future and candidate < published - _dt.timedelta(days=31):
            candidate = _safe_date(published.year + 1, month, day)
        return candidate
    if kind == "relative_day":
        word = m.group(1).lower()
        offset = {"yesterday": -1, "tomorrow": 1}.get(word, 0)
        return published + _dt.timedelta(days=offset)
    if kind == "ago":
        n = m.group(1).lower()
        count = int(n) if n.isdigit() else _NUMBER_WORDS[n]
        days = count * (7 if m.group(2).lower() == "week" else 1)
        return published - _dt.timedelta(days=days)
    if kind == "weekday":
        modifier = (m.group(1) or "").lower()
        target = _WEEKDAYS[m.group(2).lower().rstrip(".")]
        back = (published.weekday() - target) % 7
        if modifier == "next" or (future and modifier != "last"):
            ahead = (target - published.weekday()) % 7 or 7
            return published + _dt.timedelta(days=ahead)
        if modifier == "last" and back == 0:
            back = 7
        return published - _dt.timedelta(days=back)
    return None  # vague


_ABSOLUTE = ("iso", "month_day_year", "day_month_year", "day_range", "month_day_range")


def find_date_expressions(text: str, published: Optional[_dt.date], future: bool = False) -> List[DateExpression]:
    """Temporal expressions in ``text`` with their resolved dates (None when vague or when the
    publication date is unknown and the expression is relative). Overlaps keep the first pattern."""
    found: List[DateExpression] = []
    taken: List[Tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if kind == "weekday" and m.group(2).lower() in ("may", "sun", "sat", "wed", "mon", "fri", "thu", "tue") \
                    and not m.group(2)[0].isupper():
                continue  # "may" and short names in lower case are ordinary words
            if kind in ("month_day_year", "day_month_year") and m.group(2 if kind == "day_month_year" else 1).lower() == "may" \
                    and not m.group(0)[0].isupper() and kind == "month_day_year":
                continue
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            absolute = kind != "iso" and kind in _ABSOLUTE and m.group(3) or kind == "iso"
            if published is None and not absolute:
                date = None
            else:
                date = _resolve(kind, m, published or _dt.date.today(), future)
            found.append(DateExpression(m.start(), m.end(), m.group(0), date))
            taken.append((m.start(), m.end()))
    return sorted(found)


def resolve_date(text: str, published: Optional[_dt.date], future: bool = False) -> Optional[_dt.date]:
    """The date of the first temporal expression in ``text``, or None."""
    found = find_date_expressions(text, published, future)
    return found[0].date if found else None
