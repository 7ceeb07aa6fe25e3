"""URL canonicalisation, article ids and publication dates."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.normalise.dates import date_from_path, parse_datetime
from transforms.normalise.urls import article_id, canonical_url

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://WWW.Example.COM/News/Story?utm_source=rss&utm_medium=x&id=7#comments",
     "https://www.example.com/News/Story?id=7"),
    ("http://example.com:80", "http://example.com/"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com/a?b=2&a=1&fbclid=zzz&gclid=1", "https://example.com/a?a=1&b=2"),
    ("https://user:pw@example.com/a", "https://example.com/a"),
    ("  https://example.com/a  ", "https://example.com/a"),
])
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "ftp://x/y", "not a url", "mailto:a@b.c", "http://"])
def test_canonical_url_rejects_non_http(url):
    assert canonical_url(url) is None


def test_article_id_ignores_tracking_scheme_and_www():
    a = article_id(canonical_url("https://www.example.com/story?utm_campaign=x"), "T", "text")
    b = article_id(canonical_url("http://example.com/story#top"), "Other title", "other text")
    assert a == b and len(a) == 32


def test_article_id_without_url_uses_title_and_text():
    a = article_id(None, "Title", "Some  text\n\nhere")
    assert a == article_id(None, "title", "some text here")
    assert a != article_id(None, "Title", "Other text")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_canonical_url_never_raises_and_is_idempotent(text):
    for candidate in (text, "https://example.com/" + text, "http://" + text):
        out = canonical_url(candidate)
        if out is not None:
            assert canonical_url(out) == out
            assert "#" not in out and "utm_" not in out.split("?", 1)[-1].split("=")[0]


@pytest.mark.parametrize("value, expected", [
    ("2020-02-07", dt.datetime(2020, 2, 7, tzinfo=UTC)),
    ("2020-02-07T08:15:00-05:00", dt.datetime(2020, 2, 7, 13, 15, tzinfo=UTC)),
    ("2023-04-28T17:40:08+0000", dt.datetime(2023, 4, 28, 17, 40, 8, tzinfo=UTC)),
    ("Thu, 06 Feb 2020 10:00:00 GMT", dt.datetime(2020, 2, 6, 10, tzinfo=UTC)),
    ("Sat, Dec 16 2023 02:02:33 PM", dt.datetime(2023, 12, 16, 14, 2, 33, tzinfo=UTC)),
    ("Seg, 24 Set 2018 13:00:00 -0300", dt.datetime(2018, 9, 24, 16, tzinfo=UTC)),
    ("mer, 16 nov 2022 00:38:15 +0100", dt.datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)),
    ("Tue, 15 Nov 2022 20:15:04 Z", dt.datetime(2022, 11, 15, 20, 15, 4, tzinfo=UTC)),
    (1581033600, dt.datetime(2020, 2, 7, tzinfo=UTC)),
    (1581033600000, dt.datetime(2020, 2, 7, tzinfo=UTC)),
    (time.struct_time((2020, 2, 7, 8, 0, 0, 4, 38, 0)), dt.datetime(2020, 2, 7, 8, tzinfo=UTC)),
    (dt.date(2020, 2, 7), dt.datetime(2020, 2, 7, tzinfo=UTC)),
])
def test_parse_datetime(value, expected):
    assert parse_datetime(value, now=NOW) == expected


@pytest.mark.parametrize("value", [None, "", "garbage", "1900-01-01", "2100-01-01", "1970-01-01T00:00:00Z", 0,
                                   True, "2026-12-25", "99999-99-99", [], {}])
def test_parse_datetime_rejects_implausible(value):
    assert parse_datetime(value, now=NOW) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.integers(), st.floats(allow_nan=True)))
def test_parse_datetime_never_raises_and_is_utc_or_none(value):
    out = parse_datetime(value, now=NOW)
    assert out is None or (out.utcoffset() == dt.timedelta(0) and out.year >= 1970 and out <= NOW + dt.timedelta(days=2))


def test_date_from_path():
    assert date_from_path("/a/b/2020-02-07-bensonhurst.txt") == dt.date(2020, 2, 7)
    assert date_from_path("gs://b/20200207_story.txt") == dt.date(2020, 2, 7)
    assert date_from_path("/a/story-2020-13-45.txt") is None
    assert date_from_path("/2020-02-07/story.txt") is None  # only the file name counts
