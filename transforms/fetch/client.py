"""A small, polite HTTP client for feeds and article pages (standard library only).

:class:`Fetcher` ``.get(url, validators)`` returns a :class:`Response` (status 200 with the decoded
body, or 304 when the validators still hold) or raises :class:`FetchError` with a short ``kind``
(``timeout``, ``http_status``, ``too_large``, ``too_many_redirects`` ...). What it guarantees:

* connect and read timeouts, plus a deadline for the whole response (a server that trickles
  bytes cannot hold a worker);
* retries with exponential backoff on timeouts, dropped connections, 429 and 5xx (``Retry-After``
  is honoured up to ``max_backoff``); other 4xx fail at once;
* bounded bodies: ``max_bytes`` on the wire (a ``Content-Length`` above it is refused before any
  body byte is read) and ``max_decompressed_bytes`` after gzip/deflate, decoded incrementally so a
  decompression bomb never sits in memory;
* at most ``max_redirects`` redirects, http(s) only, a loop is reported as such;
* the ``User-Agent`` :data:`USER_AGENT`; conditional GET with ``If-None-Match`` /
  ``If-Modified-Since`` from the validators of the previous 200;
* at most one request at a time per host (per :class:`HostThrottle`, one per process by default)
  and ``host_delay`` seconds between the end of one request and the start of the next.
"""
from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import http.client
import logging
import socket
import ssl
import threading
import time
import zlib
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urljoin, urlsplit

from transforms.normalise.urls import is_url

_LOGGER = logging.getLogger(__name__)

__all__ = ["USER_AGENT", "FetchSettings", "FetchError", "Response", "HostThrottle", "Fetcher",
           "host_of", "gunzip_bounded"]

USER_AGENT = "newsbeam/0.1 (+https://github.com/newsbeam)"
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024


def host_of(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased: the unit of politeness."""
    return (urlsplit(url).netloc.rsplit("@", 1)[-1] or "").lower()


@dataclasses.dataclass(frozen=True)
class FetchSettings:
    """How to fetch. Times are seconds, sizes bytes."""
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    """Deadline for one attempt, headers and body together."""
    retries: int = 2
    """Attempts after the first, on timeouts, dropped connections, 429 and 5xx."""
    backoff: float = 1.0
    """Wait before the first retry; doubles for each further one."""
    max_backoff: float = 30.0
    max_bytes: int = 16 * 1024 * 1024
    """Largest body on the wire (compressed)."""
    max_decompressed_bytes: int = 64 * 1024 * 1024
    max_redirects: int = 5
    host_delay: float = 1.0
    """Pause between two requests to the same host."""
    user_agent: str = USER_AGENT


class FetchError(Exception):
    """A fetch that failed for good (after the retries). ``kind`` is the errors table's error_type."""

    def __init__(self, kind: str, message: str, *, status: Optional[int] = None, retryable: bool = False,
                 retry_after: Optional[float] = None, bytes_read: int = 0):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.bytes_read = bytes_read
        self.attempts = 1


@dataclasses.dataclass(frozen=True)
class Response:
    """A successful fetch: 200 with the decoded body, or 304 (``body`` empty)."""
    url: str
    final_url: str
    status: int
    body: bytes = b""
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    content_type: Optional[str] = None
    attempts: int = 1
    wire_bytes: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def validators(self) -> Dict[str, str]:
        """What to send next time (empty when the server gave neither header)."""
        return {k: v for k, v in (("etag", self.etag), ("last_modified", self.last_modified)) if v}


class HostThrottle:
    """One request at a time per host, ``delay`` seconds apart. Thread-safe; :meth:`shared` gives the
    process-wide instance so that every DoFn of a worker process respects the same limit."""

    _instances: Dict[float, "HostThrottle"] = {}
    _instances_lock = threading.Lock()

    def __init__(self, delay: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.delay = delay
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._host_locks: Dict[str, threading.Lock] = {}
        self._next_start: Dict[str, float] = {}
        self._host_delay: Dict[str, float] = {}

    def set_delay(self, host: str, delay: float) -> None:
        """Wait at least ``delay`` seconds between two requests to ``host`` (a robots.txt Crawl-delay);
        never less than the throttle's own delay."""
        with self._lock:
            self._host_delay[host] = max(self.delay, delay)

    @classmethod
    def shared(cls, delay: float) -> "HostThrottle":
        with cls._instances_lock:
            if delay not in cls._instances:
                cls._instances[delay] = cls(delay)
            return cls._instances[delay]

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._lock:
            lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:
            wait = self._next_start.get(host, 0.0) - self._clock()
            if wait > 0:
                self._sleep(wait)
            try:
                yield
            finally:
                self._next_start[host] = self._clock() + self._host_delay.get(host, self.delay)


class _Decoder:
    """Content-Encoding decoding with a bound on the output, fed chunk by chunk."""

    def __init__(self, encoding: str, limit: int):
        encoding = (encoding or "identity").strip().lower()
        self._z: Optional[Any] = None
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = None
            self._deflate_pending = True
        elif encoding in ("identity", ""):
            self._z = None
            self._deflate_pending = False
        else:
            raise FetchError("unsupported_encoding", f"unsupported Content-Encoding {encoding!r}")
        self._limit = limit
        self._parts: List[bytes] = []
        self._size = 0

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise FetchError("too_large", f"the body is larger than {self._limit} bytes after decompression")
        self._parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._z is None and getattr(self, "_deflate_pending", False):
            # "deflate" is zlib-wrapped by the standard, raw deflate by some servers.
            self._z = zlib.decompressobj(zlib.MAX_WBITS if (chunk[:1] == b"\x78") else -zlib.MAX_WBITS)
        if self._z is None:
            self._add(chunk)
            return
        try:
            data = self._z.decompress(chunk, self._limit - self._size + 1)
            self._add(data)
            if self._z.unconsumed_tail:
                raise FetchError("too_large", f"the body is larger than {self._limit} bytes after decompression")
        except zlib.error as exc:
            raise FetchError("bad_encoding", f"cannot decode the compressed body: {exc}") from exc

    def finish(self) -> bytes:
        if self._z is not None:
            try:
                self._add(self._z.flush())
            except zlib.error as exc:
                raise FetchError("bad_encoding", f"cannot decode the compressed body: {exc}") from exc
        return b"".join(self._parts)


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """``data`` itself when it is not gzip (by magic number), else its bounded decompression
    (a ``.xml.gz`` served without Content-Encoding)."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    decoder = _Decoder("gzip", limit)
    decoder.feed(data)
    return decoder.finish()


class Fetcher:
    """An HTTP(S) GET client with the guarantees listed in the module docstring.

    ``throttle`` defaults to the process-wide :meth:`HostThrottle.shared`; ``sleep`` and ``clock``
    are injectable for tests.
    """

    def __init__(self, settings: FetchSettings = FetchSettings(), *, throttle: Optional[HostThrottle] = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.throttle = throttle if throttle is not None else HostThrottle.shared(settings.host_delay)
        self._sleep = sleep
        self._clock = clock

    def get(self, url: str, validators: Optional[Dict[str, str]] = None) -> Response:
        """GET ``url``; 200 or 304 as a :class:`Response`, anything else as :class:`FetchError`."""
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._follow(url, validators or {})
                return dataclasses.replace(response, attempts=attempt)
            except FetchError as exc:
                exc.attempts = attempt
                if not exc.retryable or attempt > s.retries:
                    if attempt > 1:
                        exc.args = (f"{exc.args[0]} (after {attempt} attempts)",)
                    raise
                wait = min(s.max_backoff, s.backoff * 2 ** (attempt - 1))
                if exc.retry_after is not None:
                    wait = min(s.max_backoff, max(wait, exc.retry_after))
                _LOGGER.debug("retrying %s in %.1fs: %s", url, wait, exc)
                self._sleep(wait)

    def _follow(self, url: str, validators: Dict[str, str]) -> Response:
        seen = [url]
        current = url
        while True:
            status, location, response = self._request(current, validators)
            if status not in _REDIRECTS:
                assert response is not None  # _request answers every non-redirect with a response
                return dataclasses.replace(response, url=url)
            if not location:
                raise FetchError("bad_redirect", f"HTTP {status} without a Location header", status=status)
            target = urljoin(current, location.strip())
            if not is_url(target):
                raise FetchError("bad_redirect", f"redirect to a non-http URL: {target[:200]}", status=status)
            if target in seen:
                raise FetchError("redirect_loop", f"redirect loop: {' -> '.join(seen + [target])[:400]}",
                                 status=status)
            if len(seen) > self.settings.max_redirects:
                raise FetchError("too_many_redirects", f"more than {self.settings.max_redirects} redirects",
                                 status=status)
            seen.append(target)
            current = target

    def _headers(self, validators: Dict[str, str]) -> Dict[str, str]:
        headers = {"User-Agent": self.settings.user_agent, "Accept-Encoding": "gzip, deflate",
                   "Accept": "application/rss+xml, application/atom+xml, application/feed+json, "
                             "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5",
                   "Connection": "close"}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        return headers

    def _request(self, url: str, validators: Dict[str, str]) -> Tuple[int, Optional[str], Optional[Response]]:
        """One request, no redirects followed: (status, location, response)."""
        s = self.settings
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError("bad_url", f"not an http(s) URL: {url[:200]}")
        try:
            port = parts.port
        except ValueError:
            raise FetchError("bad_url", f"bad port in URL: {url[:200]}") from None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        with self.throttle.slot(host_of(url)):
            deadline = self._clock() + s.total_timeout
            conn: http.client.HTTPConnection
            if parts.scheme.lower() == "https":
                conn = http.client.HTTPSConnection(parts.hostname, port, timeout=s.connect_timeout,
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(parts.hostname, port, timeout=s.connect_timeout)
            wire = 0
            try:
                conn.connect()
                conn.sock.settimeout(s.read_timeout)
                conn.request("GET", target, headers=self._headers(validators))
                resp = conn.getresponse()
                status = resp.status
                if status in _REDIRECTS:
                    return status, resp.getheader("Location"), None
                if status == 304:
                    return status, None, Response(url, url, 304, etag=resp.getheader("ETag") or validators.get("etag"),
                                                  last_modified=resp.getheader("Last-Modified")
                                                  or validators.get("last_modified"))
                if status == 429 or status >= 500:
                    raise FetchError("http_status", f"HTTP {status} {resp.reason}".strip(), status=status,
                                     retryable=True, retry_after=_retry_after(resp.getheader("Retry-After")))
                if status != 200:
                    raise FetchError("http_status", f"HTTP {status} {resp.reason}".strip(), status=status)
                length = resp.getheader("Content-Length")
                if length and length.strip().isdigit() and int(length) > s.max_bytes:
                    raise FetchError("too_large", f"Content-Length {int(length)} is over the limit of {s.max_bytes} bytes",
                                     status=status)
                decoder = _Decoder(resp.getheader("Content-Encoding") or "identity", s.max_decompressed_bytes)
                while True:
                    if self._clock() > deadline:
                        raise FetchError("timeout", f"the response took longer than {s.total_timeout:g}s",
                                         retryable=True, bytes_read=wire)
                    chunk = resp.read1(_CHUNK) if hasattr(resp, "read1") else resp.read(_CHUNK)
                    if not chunk:
                        break
                    wire += len(chunk)
                    if wire > s.max_bytes:
                        raise FetchError("too_large", f"the body is larger than {s.max_bytes} bytes",
                                         status=status, bytes_read=wire)
                    decoder.feed(chunk)
                body = decoder.finish()
                return status, None, Response(url, url, 200, body, etag=resp.getheader("ETag"),
                                              last_modified=resp.getheader("Last-Modified"),
                                              content_type=resp.getheader("Content-Type"), wire_bytes=wire)
            except FetchError as exc:
                exc.bytes_read = exc.bytes_read or wire
                raise
            except (socket.timeout, TimeoutError) as exc:
                raise FetchError("timeout", f"timed out ({exc or 'no answer'})", retryable=True, bytes_read=wire) from exc
            except ssl.SSLCertVerificationError as exc:
                raise FetchError("tls_error", f"TLS certificate error: {exc}") from exc
            except (http.client.HTTPException, ConnectionError, OSError) as exc:
                kind = "incomplete_body" if isinstance(exc, http.client.IncompleteRead) else "connection_failed"
                raise FetchError(kind, f"{type(exc).__name__}: {exc}", retryable=True, bytes_read=wire) from exc
            finally:
                conn.close()


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
