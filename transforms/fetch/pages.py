"""Article pages (``--fetch-articles``): feed entries to the same entries with the full text of the
page their link points to (``transforms.inputs.readers.parse_html``, as for HTML files). When the
page cannot be fetched or holds no article, the entry keeps its summary and an error record with
stage ``fetch`` is added (an extra row: the entry itself is not lost). Entries whose article is
already in ROOT are not fetched (they are duplicates anyway).

A failed article page is one error record with the feed URL, the entry's ``record_index`` and its
``article_id``. Publishers' robots.txt is honoured (:mod:`transforms.fetch.robots`): a disallowed page is
not fetched (``robots_disallowed``) and a ``Crawl-delay`` longer than ``--fetch-delay`` slows the host.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.fetch.client import Fetcher, FetchError, FetchSettings, gunzip_bounded, host_of
from transforms.fetch.robots import RobotsRules
from transforms.inputs.readers import parse_html
from transforms.normalise.articles import entry_article_id
from transforms.normalise.urls import is_url
from transforms.records import RawArticle, RecordError

__all__ = ["FetchArticlePages", "with_page", "fetch_page", "page_link", "ERRORS_TAG"]

ERRORS_TAG = "errors"
_NS = "newsbeam"


def with_page(entry: RawArticle, page: RawArticle) -> RawArticle:
    """The feed entry with the page's text. The entry keeps its link (so its article_id does not
    depend on whether the page could be fetched), input and position; the page fills in what the
    entry lacks (title, dates, authors)."""
    return dataclasses.replace(
        entry, text=page.text, is_html=False, title=entry.title or page.title,
        published=tuple(entry.published) + tuple(page.published), authors=entry.authors or page.authors,
        source=entry.source or page.source, language=entry.language or page.language)


def page_link(entry: RawArticle) -> Optional[str]:
    """The http(s) page a feed entry links to (its link, else a URL guid), or None."""
    if entry.input_format != "feed":
        return None
    link = entry.url if entry.url and is_url(entry.url) else entry.guid
    return link if link and is_url(link) else None


def fetch_page(fetcher: Fetcher, entry: RawArticle, max_bytes: int,
               robots: Optional[RobotsRules] = None) -> Tuple[RawArticle, Optional[RecordError]]:
    """Fetch the page of ``entry`` (:func:`page_link`) and return the entry with its full text, or
    the entry unchanged and a ``fetch`` error record. With ``robots``, a page its site's robots.txt
    disallows is not fetched (error ``robots_disallowed``), and a longer ``Crawl-delay`` slows the host."""
    link = page_link(entry)

    def failed(kind: str, message: str) -> Tuple[RawArticle, RecordError]:
        return entry, RecordError(entry.input_path, entry.record_index, "fetch", kind,
                                  f"article page {link}: {message}; the feed's summary is kept",
                                  None, entry_article_id(entry))
    if link is None:
        return failed("bad_url", "the entry links to no http(s) page")
    if robots is not None:
        allowed, reason = robots.allowed(link)
        if not allowed:
            return failed("robots_disallowed", reason or "the site's robots.txt disallows it")
        delay = robots.crawl_delay(link)
        if delay is not None and delay > fetcher.throttle.delay:
            fetcher.throttle.set_delay(host_of(link), delay)
    try:
        response = fetcher.get(link)
        body = gunzip_bounded(response.body, max_bytes)
    except FetchError as exc:
        return failed(exc.kind, str(exc))
    ctype = (response.content_type or "").lower()
    if ctype and "html" not in ctype and "xml" not in ctype and "text/plain" not in ctype:
        return failed("not_html", f"the page is {response.content_type}, not HTML")
    pages = [r for r in parse_html(body, link)]
    page = pages[0] if pages else None
    if not isinstance(page, RawArticle):
        return failed(page.error_type if page else "no_main_text", page.message if page else "nothing extracted")
    if len(page.text) < len(entry.text or "") // 2:
        return failed("page_shorter_than_summary", "the page's text is shorter than the feed's summary")
    return with_page(entry, page), None


# ------------------------------------------------------------------ DoFns and transforms

class _SkipKnownFn(beam.DoFn):
    """Entries whose article is already in ROOT go on unfetched (they are duplicates anyway): a batch of
    entries is looked up in ROOT's id index at once (:func:`transforms.storage.idindex.known`)."""

    def __init__(self, root: Optional[str]):
        self._root = root

    def setup(self) -> None:
        from transforms.storage.idindex import FileIds

        self._files = FileIds()

    def process(self, batch: List[RawArticle]) -> Iterator[Any]:
        from transforms.storage.idindex import known

        ids = {id(raw): entry_article_id(raw) for raw in batch}
        present = known(self._root, [i for i in ids.values() if i], self._files) if self._root else set()
        for raw in batch:
            link = page_link(raw)
            if link is not None and ids[id(raw)] not in present:
                yield beam.pvalue.TaggedOutput("fetch", (host_of(link), raw))
            else:
                yield raw


class _FetchPagesFn(beam.DoFn):
    """(host, entries) to entries with full text, and ``fetch`` error records; or, without
    grouping (``grouped=False``), one entry at a time (per-process politeness only)."""

    def __init__(self, settings: FetchSettings, grouped: bool = True):
        self._settings = settings
        self._grouped = grouped
        self._pages = Metrics.counter(_NS, "article_pages_fetched")
        self._failed = Metrics.counter(_NS, "article_pages_failed")

    def setup(self) -> None:
        self._fetcher = Fetcher(self._settings)
        self._robots = RobotsRules(self._fetcher)  # each host's robots.txt once per worker and run

    def process(self, element: Any) -> Iterator[Any]:
        entries = element[1] if self._grouped else [element]
        for entry in entries:
            article, error = fetch_page(self._fetcher, entry, self._settings.max_decompressed_bytes, self._robots)
            if error is not None:
                self._failed.inc()
                yield beam.pvalue.TaggedOutput(ERRORS_TAG, error)
            else:
                self._pages.inc()
            yield article


@beam.typehints.with_input_types(RawArticle)
class FetchArticlePages(beam.PTransform[beam.PCollection[Any], Dict[str, beam.PCollection[Any]]]):
    """Raw articles to raw articles (``raw``; feed entries with a link get their page's full text)
    and ``fetch`` error records (``errors``) for the pages that failed; entries already in ``root``
    are not fetched (``run_id`` scopes the cache of ROOT's ids). Every input element comes out
    exactly once on ``raw``.

    ``grouped`` (batch): entries are grouped by host so that one host's pages are fetched one after
    the other. Streaming pipelines pass ``grouped=False`` (per-process politeness).
    """

    def __init__(self, settings: FetchSettings, *, root: Optional[str], run_id: str = "", grouped: bool = True):
        super().__init__()
        self._settings = settings
        self._root = root
        self._run_id = run_id
        self._grouped = grouped

    def expand(self, raw: beam.PCollection[Any]) -> Dict[str, beam.PCollection[Any]]:
        split = (raw
                 | "BatchForLookup" >> beam.BatchElements(min_batch_size=1, max_batch_size=500)
                 | "SkipKnownArticles" >> beam.ParDo(_SkipKnownFn(self._root)).with_outputs("fetch", main="keep"))
        todo = split.fetch
        if self._grouped:
            todo = todo | "GroupPagesByHost" >> beam.GroupByKey()
        else:
            todo = todo | "DropHost" >> beam.Values()
        pages = todo | "FetchPages" >> beam.ParDo(_FetchPagesFn(self._settings, self._grouped)).with_outputs(
            ERRORS_TAG, main="raw")
        merged = (split.keep, pages.raw) | "FlattenPages" >> beam.Flatten()
        return {"raw": merged, "errors": pages[ERRORS_TAG]}
