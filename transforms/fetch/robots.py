"""robots.txt for ``--fetch-articles``: a publisher's rules are honoured before its pages are fetched.

:class:`RobotsRules` fetches ``<scheme>://<host>/robots.txt`` once per host (per worker and run: the
rules live in the page fetcher's DoFn) through the same :class:`transforms.fetch.client.Fetcher` (same
User-Agent, size bound and per-host throttle) and reads it with the standard library's
``urllib.robotparser``. What a fetch of robots.txt can give, after RFC 9309 §2.3.1:

* 200: its rules, for newsbeam's User-Agent token (``newsbeam``, else ``*``);
* 401 or 403: everything disallowed (as ``urllib.robotparser`` reads them);
* any other 4xx (404: no robots.txt): everything allowed;
* 5xx, a network error or a timeout: everything disallowed for this run (the site is in trouble;
  the entries keep their feeds' summaries and are fetched on a later run).

``Crawl-delay`` (whole seconds, as ``urllib.robotparser`` reads it) raises the host's delay between
requests when it is longer than ``--fetch-delay``.
"""
from __future__ import annotations

import threading
import urllib.robotparser
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

from transforms.fetch.client import USER_AGENT, Fetcher, FetchError, gunzip_bounded

__all__ = ["RobotsRules", "robots_url", "AGENT", "MAX_ROBOTS_BYTES"]

AGENT = USER_AGENT.split("/", 1)[0]
"""The product token robots.txt groups are matched against (``newsbeam``)."""
MAX_ROBOTS_BYTES = 512 * 1024
"""RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt."""


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}/robots.txt"


class RobotsRules:
    """The robots.txt rules of every host seen, fetched on first use (thread-safe)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._rules: Dict[str, Tuple[urllib.robotparser.RobotFileParser, Optional[str]]] = {}
        self._lock = threading.Lock()

    def _load(self, url: str) -> Tuple[urllib.robotparser.RobotFileParser, Optional[str]]:
        """The parser for ``url``'s host and, when everything is disallowed because robots.txt could not
        be read, why."""
        key = robots_url(url)
        with self._lock:
            if key in self._rules:
                return self._rules[key]
        parser = urllib.robotparser.RobotFileParser(key)
        reason: Optional[str] = None
        try:
            response = self._fetcher.get(key)
            body = gunzip_bounded(response.body, MAX_ROBOTS_BYTES)[:MAX_ROBOTS_BYTES]
            parser.parse(body.decode("utf-8", "replace").splitlines())
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 403):
                parser.parse([])  # no robots.txt: everything allowed
            else:
                parser.parse(["User-agent: *", "Disallow: /"])
                if exc.status not in (401, 403):
                    reason = f"robots.txt could not be read ({exc.kind}: {exc})"
        with self._lock:
            self._rules.setdefault(key, (parser, reason))
            return self._rules[key]

    def allowed(self, url: str) -> Tuple[bool, Optional[str]]:
        """Whether newsbeam may fetch ``url``, and when not because robots.txt was unreadable, why."""
        parser, reason = self._load(url)
        return parser.can_fetch(AGENT, url), reason

    def crawl_delay(self, url: str) -> Optional[float]:
        """The host's ``Crawl-delay`` for newsbeam in seconds, or None."""
        parser, _ = self._load(url)
        delay = parser.crawl_delay(AGENT)
        try:
            return float(delay) if delay is not None else None
        except (TypeError, ValueError):
            return None
