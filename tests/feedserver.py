"""A local HTTP server for the fetch, watch and stream tests (127.0.0.1 only, bounded waits).

Routes map a path to a response spec that tests change between polls::

    with FeedServer() as srv:
        srv.routes["/a.xml"] = Feed(rss(...), etag='"v1"')
        srv.url("/a.xml")

Every request is logged in ``srv.requests`` as ``(path, headers)``.
"""
from __future__ import annotations

import dataclasses
import email.utils
import gzip as _gzip
import http.server
import threading
import time
from typing import Dict, List, Optional, Tuple
from xml.sax.saxutils import escape

__all__ = ["FeedServer", "Feed", "Status", "Hang", "Slow", "Redirect", "Big", "Page", "rss", "page", "wait_for"]


def rss(title: str, items: List[Tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 document; items are (title, link, description)."""
    body = "".join(f"<item><title>{escape(t)}</title><link>{escape(link)}</link><description>{escape(d)}</description>"
                   f"<pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>" for t, link, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>http://example.org/</link>{body}</channel></rss>").encode()


def page(title: str, sentence: str, repeat: int = 8) -> "Page":
    """An article page with enough text for the HTML extractor."""
    body = " ".join([sentence] * repeat)
    return Page(f"<html><head><title>{escape(title)} | Example</title></head><body><nav>Home | World</nav>"
                f"<article><h1>{escape(title)}</h1><p>{escape(body)}</p><p>{escape(body)}</p></article>"
                f"<footer>Copyright Example</footer></body></html>")


@dataclasses.dataclass
class Feed:
    body: bytes
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    gzip: bool = False
    content_type: str = "application/rss+xml"


@dataclasses.dataclass
class Page:
    html: str
    status: int = 200


@dataclasses.dataclass
class Status:
    code: int


@dataclasses.dataclass
class Hang:
    seconds: float
    """How long the server stays silent before closing (the client should time out first)."""
    after_headers: bool = False


@dataclasses.dataclass
class Slow:
    seconds: float
    then: object
    """Wait, then answer like ``then``."""


@dataclasses.dataclass
class Redirect:
    to: str
    code: int = 302


@dataclasses.dataclass
class Big:
    """``size`` bytes of body: with Content-Length, chunked, or as a gzip bomb (``size`` spaces
    compressed; built once, here, so a request costs the server no compression work)."""
    size: int
    content_length: bool = True
    gzip_bomb: bool = False
    compressed: bytes = dataclasses.field(default=b"", repr=False)

    def __post_init__(self) -> None:
        if self.gzip_bomb and not self.compressed:
            self.compressed = _gzip.compress(b" " * self.size, compresslevel=9)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        srv: FeedServer = self.server.owner  # type: ignore[attr-defined]
        path = self.path
        with srv.lock:
            srv.requests.append((path, dict(self.headers)))
            srv.times.append(time.monotonic())
            spec = srv.routes.get(path.split("?", 1)[0])
            if isinstance(spec, list):  # answers in turn; the last one repeats
                spec = spec.pop(0) if len(spec) > 1 else spec[0]
        if srv.on_request is not None:
            srv.on_request(path)
        try:
            self._answer(srv, spec)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, code: int, body: bytes, headers: Dict[str, str]):
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _answer(self, srv: "FeedServer", spec):
        if spec is None:
            return self._send(404, b"not found", {"Content-Type": "text/plain"})
        if isinstance(spec, Slow):
            srv.stopping.wait(spec.seconds)
            spec = spec.then
        if isinstance(spec, Feed):
            inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            if (spec.etag and inm == spec.etag) or (not spec.etag and spec.last_modified and ims == spec.last_modified):
                self.send_response(304)
                if spec.etag:
                    self.send_header("ETag", spec.etag)
                self.send_header("Connection", "close")
                self.end_headers()
                return
            headers = {"Content-Type": spec.content_type}
            if spec.etag:
                headers["ETag"] = spec.etag
            if spec.last_modified:
                headers["Last-Modified"] = spec.last_modified
            body = spec.body
            if spec.gzip:
                body = _gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            return self._send(200, body, headers)
        if isinstance(spec, Page):
            return self._send(spec.status, spec.html.encode(), {"Content-Type": "text/html; charset=utf-8"})
        if isinstance(spec, Status):
            return self._send(spec.code, f"status {spec.code}".encode(), {"Content-Type": "text/plain"})
        if isinstance(spec, Redirect):
            return self._send(spec.code, b"", {"Location": spec.to})
        if isinstance(spec, Hang):
            if spec.after_headers:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                self.wfile.write(b"<rss>")
                self.wfile.flush()
            srv.stopping.wait(spec.seconds)
            return
        if isinstance(spec, Big):
            if spec.gzip_bomb:
                return self._send(200, spec.compressed, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            if spec.content_length:
                self.send_header("Content-Length", str(spec.size))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"<!-- " + b"x" * (64 * 1024 - 9) + b" -->"
            sent = 0
            while sent < spec.size and not srv.stopping.is_set():
                part = chunk[: spec.size - sent]
                if spec.content_length:
                    self.wfile.write(part)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                sent += len(part)
                with srv.lock:
                    srv.big_bytes_sent = sent
            if not spec.content_length:
                self.wfile.write(b"0\r\n\r\n")
            return
        raise TypeError(spec)


class FeedServer:
    """``http.server`` in a daemon thread on 127.0.0.1, a free port."""

    def __init__(self):
        self.routes: Dict[str, object] = {}
        self.requests: List[Tuple[str, Dict[str, str]]] = []
        self.times: List[float] = []
        """When each request arrived (time.monotonic), in the order of ``requests``."""
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.on_request = None
        self.big_bytes_sent = 0
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.requests if p.split("?", 1)[0] == path)

    def __enter__(self) -> "FeedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def wait_for(predicate, timeout: float = 30.0, step: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass (a bounded loop)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
