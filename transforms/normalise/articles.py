"""Normalisation: a raw article to an ``articles`` row (or an error record)."""
from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Optional, Union
from urllib.parse import quote, urlsplit

from schemas.rows import ArticleRow
from transforms.normalise.dates import parse_datetime
from transforms.normalise.language import detect_language
from transforms.normalise.text import count_words, html_to_text, looks_like_html, normalise_line, normalise_text
from transforms.normalise.urls import article_id, canonical_url
from transforms.records import RawArticle, RecordError

__all__ = ["build_article", "entry_article_id", "entry_url", "MIN_WORDS"]

MIN_WORDS = 1
_MAX_TITLE = 1000


def _clean_title(title: Optional[str]) -> Optional[str]:
    if not title:
        return None
    if looks_like_html(title):
        title = html_to_text(title)
    title = normalise_line(title)
    return title[:_MAX_TITLE] or None


def build_article(raw: RawArticle, *, run_id: str, ingested_at: _dt.datetime) -> Union[ArticleRow, RecordError]:
    """Normalise ``raw`` into a row of the ``articles`` table (see ``schemas.ARTICLES``).

    Returns a :class:`RecordError` (stage ``normalise``) when nothing usable is left, e.g. the text
    is empty after boilerplate removal. ``ingested_at`` is the run's clock: it bounds plausible
    publication times and gives ``dt`` when the publication date is unknown.
    """
    body = html_to_text(raw.text) if (raw.is_html or looks_like_html(raw.text)) else raw.text
    text = normalise_text(body)
    title = _clean_title(raw.title)
    if count_words(text) < MIN_WORDS and title:
        text = title  # a feed entry with only a headline (and perhaps a tracking pixel) is still news
    if count_words(text) < MIN_WORDS:
        return RecordError(raw.input_path, raw.record_index, "normalise", "empty_text",
                           "no article text left after removing markup and boilerplate",
                           RecordError.excerpt_of(raw.text))
    if title and text.startswith(title + "\n\n"):
        text = text[len(title) + 2:]  # extractors often repeat the headline as the first paragraph
    url = entry_url(raw)
    published_at = None
    for candidate in raw.published:
        published_at = parse_datetime(candidate, now=ingested_at)
        if published_at is not None:
            break
    source = normalise_line(raw.source or "") or None
    if source is None and url:
        host = urlsplit(url).hostname or ""
        source = host[4:] if host.startswith("www.") else (host or None)
    dt = (published_at or ingested_at).date()
    return {
        "article_id": article_id(url, title, text),
        "url": url,
        "source": source,
        "title": title,
        "authors": list(raw.authors),
        "text": text,
        "published_at": published_at,
        "language": detect_language(text, raw.language),
        "word_count": count_words(text),
        "content_hash": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        "input_path": raw.input_path,
        "input_format": raw.input_format,
        "record_index": raw.record_index,
        "dt_is_ingest_date": published_at is None,
        "ingested_at": ingested_at,
        "near_duplicate_of": None,  # set by the story step (transforms.stories.stage)
        "story_id": None,
        "tone": None,
        "run_id": run_id,
        "dt": dt,
    }


def entry_article_id(raw: RawArticle) -> Optional[str]:
    """The article_id ``raw`` will get when its link decides it (None without a link): known
    before the entry is normalised, so the stream's dedup and the page fetcher's skip of known
    articles can key on it."""
    url = entry_url(raw)
    return article_id(url, None, "") if url else None


def entry_url(raw: RawArticle) -> Optional[str]:
    """The canonical URL of ``raw`` (its link, else its guid), with its :attr:`RawArticle.discriminator`
    as the fragment when it has one."""
    url = canonical_url(raw.url) or canonical_url(raw.guid)
    if url and raw.discriminator:
        url = f"{url}#{quote(raw.discriminator, safe='')}"
    return url
