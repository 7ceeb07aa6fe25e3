"""Readers: one input file (local path or any fsspec URL) to raw articles and error records.

Pure functions over bytes plus :func:`read_input`, which opens the file with fsspec, undoes
gzip/bzip2/xz by magic number, bounds memory and dispatches on the format (by extension, then by
content). Nothing here raises on bad input: every problem becomes a :class:`RecordError`.
"""
from __future__ import annotations

import bz2
import gzip
import io
import itertools
import json
import logging
import lzma
import re
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from transforms.normalise.dates import date_from_path
from transforms.normalise.text import (
    decode_bytes,
    html_to_text,
    is_junk_line,
    looks_like_html,
    normalise_line,
    strip_junk_edges,
    utf16_codec,
)
from transforms.records import RawArticle, RecordError

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "Record", "FORMATS", "detect_format", "parse_text", "parse_json_document", "parse_json_lines",
    "parse_html", "parse_feed", "strip_site_suffix", "parse_bytes", "read_input", "article_from_mapping",
    "entry_links", "entry_discriminators",
    "DEFAULT_MAX_FILE_BYTES", "DEFAULT_MAX_LINE_BYTES", "xml_hazard", "MAX_ENTITY_EXPANSION",
]

Record = Union[RawArticle, RecordError]
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
MIN_HTML_WORDS = 5
"""Fewer words extracted from a page means navigation crumbs, not an article."""

_EXTENSIONS = {
    ".txt": "text", ".text": "text",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".jsonlines": "jsonl",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".xml": "feed", ".rss": "feed", ".atom": "feed", ".rdf": "feed", ".feed": "feed",
}
FORMATS = ("text", "json", "jsonl", "html", "feed")
_COMPRESSED = (".gz", ".gzip", ".bz2", ".xz")


def _extension(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1].lower()
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def _is_binary(head: bytes) -> bool:
    if not head:
        return False
    sample = head[:4096]
    if b"\x00" in sample:
        utf16 = utf16_codec(sample) is not None
        if not utf16 and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls > 0.1 * len(sample)


def detect_format(path: str, head: bytes) -> Optional[str]:
    """Format of a file: by extension, then by content. None when it is not a format we read."""
    fmt = _EXTENSIONS.get(_extension(path))
    if fmt:
        return fmt
    if _is_binary(head):
        return None
    start = decode_bytes(head[:4096]).lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<"):
        if re.search(r"<(?:rss|feed|rdf:rdf|channel)\b", start):
            return "feed"
        if re.search(r"<(?:!doctype html|html|head|body)\b", start):
            return "html"
        if start.startswith("<?xml"):
            return "feed"
        return "html"
    if start.startswith(("{", "[")):
        return "json"
    return "text"


# ---------------------------------------------------------------- plain text

_META_KV = re.compile(
    r"^(?P<key>title|headline|date|published|published_at|pubdate|dateline|url|link|source|author|authors|"
    r"by|byline|language|lang)\s*:\s*(?P<val>.+)$", re.IGNORECASE)
_META_DATE = re.compile(
    r"^(?P<key>date|dated|published|posted|updated)\s*:?\s+"
    r"(?P<val>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)(?P<rest>.*)$",
    re.IGNORECASE)
_BYLINE = re.compile(r"^[Bb][Yy]\s+(?P<val>[A-Z][\w.'’-]+(?:(?:\s+|\s*,\s*|\s+and\s+|\s*&\s*)[A-Z][\w.'’-]+){0,8})\s*$")
_SENTENCE_END = re.compile(r"[.!?…:;\"”’»)]$")


def _split_authors(value: Any) -> Tuple[str, ...]:
    """Authors from a string ("A, B and C"; "A; B"), a list, or dicts with a name."""
    if value is None:
        return ()
    items: List[str] = []
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, str):
        value = re.split(r"\s*(?:;|\||\band\b|&|,(?=\s*[A-Z]))\s*", value)
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, dict):
                item = item.get("name") or item.get("full_name") or item.get("email")
            if isinstance(item, str):
                name = normalise_line(re.sub(r"(?i)^\s*by\s+", "", item))
                if name and len(name) <= 200 and name not in items:
                    items.append(name)
    return tuple(items)


def parse_text(data: bytes, path: str) -> Iterator[Record]:
    """A plain-text article like the seed.

    Leading metadata lines become fields (``title: ...``, ``date 2020-02-07``, ``By Jane Doe``);
    junk glued to them (``date 2020-02-07 Advertisement``) is dropped; a short first line without
    a final full stop is the headline; a date in the file name is the fallback publication date.
    """
    text = decode_bytes(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta: Dict[str, Any] = {}
    i = 0
    while i < len(lines) and i < 40:
        line = lines[i].strip().lstrip("\ufeff")
        if not line or is_junk_line(line):
            i += 1
            continue
        m = _META_DATE.match(line)
        if m and "date" not in meta:
            meta["date"] = m.group("val")
            rest = strip_junk_edges(m.group("rest").strip())
            if rest and not is_junk_line(rest):
                lines[i] = rest  # real text glued to the metadata line stays in the body
                break
            i += 1
            continue
        m = _META_KV.match(line)
        if m and len(line) <= 500:
            key = m.group("key").lower()
            key = {"headline": "title", "published": "date", "published_at": "date", "pubdate": "date",
                   "dateline": "date", "link": "url", "authors": "author", "by": "author", "byline": "author",
                   "lang": "language"}.get(key, key)
            meta.setdefault(key, m.group("val").strip())
            i += 1
            continue
        m = _BYLINE.match(line)
        if m and len(line) <= 120 and "author" not in meta:
            meta["author"] = m.group("val")
            i += 1
            continue
        break
    body_lines = lines[i:]
    title = meta.get("title")
    if title is None:
        first = next((j for j, line in enumerate(body_lines) if line.strip()), None)
        if first is not None:
            candidate = body_lines[first].strip()
            has_more = any(line.strip() for line in body_lines[first + 1:])
            if (has_more and len(candidate) <= 150 and len(candidate.split()) <= 25
                    and not _SENTENCE_END.search(candidate) and not is_junk_line(candidate)):
                title = candidate
                body_lines = body_lines[first + 1:]
    body = "\n".join(body_lines)
    if not body.strip():
        yield RecordError(path, 0, "parse", "empty_text", "the file has no article text", RecordError.excerpt_of(text))
        return
    from transforms.inputs.feedlists import only_urls

    if only_urls(text):
        _LOGGER.warning("%s holds nothing but URLs and is read as one article; to poll them as feeds, give "
                        "it as @%s", path, path)
    yield RawArticle(
        input_path=path, record_index=0, input_format="text", text=body, title=title,
        url=meta.get("url"), published=tuple(v for v in (meta.get("date"), date_from_path(path)) if v),
        authors=_split_authors(meta.get("author")), source=meta.get("source"), language=meta.get("language"),
    )


# ---------------------------------------------------------------- JSON

_TEXT_KEYS = ("text", "content", "body", "maintext", "article", "article_text", "full_text", "fulltext",
              "content_text", "content_html", "description", "summary")
_TITLE_KEYS = ("title", "headline", "name")
_URL_KEYS = ("url", "link", "canonical_url", "permalink", "external_url", "href")
_ID_KEYS = ("id", "guid", "uuid", "_id")
_DATE_KEYS = ("published_at", "published", "date_publish", "publish_date", "pubDate", "pubdate", "date_published",
              "publishedAt", "datePublished", "date", "created_at", "timestamp", "updated", "date_modified")
_AUTHOR_KEYS = ("authors", "author", "byline", "creator")
_SOURCE_KEYS = ("source", "source_domain", "source_name", "publisher", "site_name", "sitename", "domain")
_LANG_KEYS = ("language", "lang", "locale")
_CONTAINER_KEYS = ("articles", "items", "data", "results", "entries", "documents", "docs", "stories", "posts")


def _first(obj: Dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = obj.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _as_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _as_text(_first(value, ("text", "value", "html", "content", "name", "title", "url", "href")))
    if isinstance(value, list):
        parts = [t for t in (_as_text(v) for v in value) if t]
        return "\n\n".join(parts) if parts else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def article_from_mapping(obj: Any, path: str, index: int, fmt: str, defaults: Optional[Dict[str, Any]] = None) -> Record:
    """One JSON object to a raw article, accepting the common field names of news datasets,
    NewsAPI-like APIs and JSON Feed items. Unknown fields are ignored."""
    if not isinstance(obj, dict):
        return RecordError(path, index, "parse", "not_an_object",
                           f"expected a JSON object for an article, got {type(obj).__name__}",
                           RecordError.excerpt_of(json.dumps(obj)[:500]))
    defaults = defaults or {}
    keys_lower = {k.lower(): k for k in obj if isinstance(k, str)}
    view = {k: obj[orig] for k, orig in keys_lower.items()}
    view.update({k: v for k, v in obj.items() if isinstance(k, str)})
    text = _as_text(_first(view, _TEXT_KEYS))
    title = _as_text(_first(view, _TITLE_KEYS))
    if not (text and text.strip()):
        if title and title.strip():
            text = title
        else:
            return RecordError(path, index, "parse", "empty_text",
                               "the object has no text field (text, content, body, maintext, article, ...)",
                               RecordError.excerpt_of(json.dumps(obj, ensure_ascii=False, default=str)[:500]))
    url = _as_text(_first(view, _URL_KEYS))
    guid = _as_text(_first(view, _ID_KEYS))
    if not url and guid and guid.startswith(("http://", "https://")):
        url = guid
    published = tuple(view[k] for k in _DATE_KEYS if view.get(k) not in (None, "")) + tuple(defaults.get("published", ()))
    source = _first(view, _SOURCE_KEYS)
    if isinstance(source, dict):
        source = _as_text(_first(source, ("name", "title", "domain", "url", "id")))
    language = _as_text(_first(view, _LANG_KEYS)) or defaults.get("language")
    html_text = bool(view.get("content_html")) and not view.get("content_text") or looks_like_html(text)
    return RawArticle(
        input_path=path, record_index=index, input_format=fmt, text=text, is_html=html_text, title=title,
        url=url, guid=guid, published=published,
        authors=_split_authors(_first(view, _AUTHOR_KEYS)) or defaults.get("authors", ()),
        source=(source if isinstance(source, str) else None) or defaults.get("source"), language=language,
    )


def _is_json_feed(obj: Any) -> bool:
    return isinstance(obj, dict) and "jsonfeed.org" in str(obj.get("version", "")) and isinstance(obj.get("items"), list)


def _json_feed(obj: Dict[str, Any], path: str) -> Iterator[Record]:
    items = obj.get("items") or []
    if not items:
        yield RecordError(path, None, "parse", "no_entries", "the JSON Feed has no items",
                          RecordError.excerpt_of(json.dumps(obj)[:500]))
        return
    defaults = {"source": _as_text(obj.get("title")), "language": obj.get("language"),
                "authors": _split_authors(obj.get("authors") or obj.get("author"))}
    for index, item in enumerate(items):
        yield article_from_mapping(item, path, index, "feed", defaults)


def parse_json_document(data: bytes, path: str) -> Iterator[Record]:
    """A ``.json`` file: one article object, an array of them, a container object (``{"articles":
    [...]}``), a JSON Feed, or JSON Lines under a ``.json`` name."""
    text = decode_bytes(data)
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1 and lines[0].lstrip().startswith("{"):
            yield from _json_lines_from_text(lines, path)
            return
        yield RecordError(path, None, "parse", "invalid_json", f"invalid JSON: {exc}", RecordError.excerpt_of(text))
        return
    if _is_json_feed(obj):
        yield from _json_feed(obj, path)
        return
    if isinstance(obj, dict) and not _first(obj, _TEXT_KEYS):
        container = next((obj[k] for k in _CONTAINER_KEYS if isinstance(obj.get(k), list)), None)
        if container is not None:
            obj = container
    if isinstance(obj, list):
        if not obj:
            yield RecordError(path, None, "parse", "no_entries", "the JSON array is empty", RecordError.excerpt_of(text))
        for index, item in enumerate(obj):
            yield article_from_mapping(item, path, index, "json")
        return
    yield article_from_mapping(obj, path, 0, "json")


def _json_lines_from_text(lines: List[str], path: str) -> Iterator[Record]:
    for index, line in enumerate(lines):
        yield _json_line(line, path, index)


def _json_line(line: str, path: str, index: int) -> Record:
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as exc:
        return RecordError(path, index, "parse", "invalid_json", f"line {index + 1} is not valid JSON: {exc}",
                           RecordError.excerpt_of(line))
    return article_from_mapping(obj, path, index, "jsonl")


def parse_json_lines(stream: io.BufferedIOBase, path: str, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Record]:
    """JSON Lines, streamed line by line: memory is bounded by ``max_line_bytes``, not the file.
    Blank lines are skipped; ``record_index`` counts non-blank lines."""
    index = 0
    while True:
        raw = stream.readline(max_line_bytes + 1)
        if not raw:
            break
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            head = raw[:500]
            while True:  # skip the rest of the over-long line
                chunk = stream.readline(1024 * 1024)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield RecordError(path, index, "parse", "line_too_long",
                              f"line {index + 1} is longer than {max_line_bytes} bytes", RecordError.excerpt_of(head))
            index += 1
            continue
        line = decode_bytes(raw).strip()
        if not line:
            continue
        yield _json_line(line, path, index)
        index += 1
    if index == 0:
        yield RecordError(path, None, "parse", "empty_file", "the JSON Lines file has no records", None)


# ---------------------------------------------------------------- HTML

_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|·|•)\s+")
_DATE_SEGMENT = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _squash(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[\W_]+", "", text)


def strip_site_suffix(title: Optional[str], site_names: Iterable[Optional[str]]) -> Optional[str]:
    """Drop trailing ``| Site Name`` / ``- SITE`` / ``– DW – 13.06.2023`` segments from a page
    title when they name the site (its name or host) or are a date."""
    if not title:
        return title
    names = {_squash(n) for n in site_names if n}
    names |= {n[3:] for n in names if n.startswith("www")}
    names.discard("")
    parts = _TITLE_SEPARATOR.split(title)
    while len(parts) > 1:
        last = parts[-1].strip()
        squashed = _squash(last)
        is_site = bool(squashed) and any(squashed in n or n in squashed for n in names if len(n) >= 2)
        if not (is_site or _DATE_SEGMENT.match(last)):
            break
        parts.pop()
    if len(parts) == len(_TITLE_SEPARATOR.split(title)):
        return title
    # Rebuild from the original string so separators inside the kept part survive.
    rest = title
    for _ in range(len(_TITLE_SEPARATOR.split(title)) - len(parts)):
        matches = list(_TITLE_SEPARATOR.finditer(rest))
        rest = rest[: matches[-1].start()]
    return rest.strip() or title

def parse_html(data: bytes, path: str) -> Iterator[Record]:
    """An article page: main text, title, date, authors and URL with trafilatura."""
    import trafilatura

    doc = None
    for recall in (False, True):
        try:
            doc = trafilatura.bare_extraction(
                data, with_metadata=True, include_comments=False, favor_recall=recall,
                date_extraction_params={"extensive_search": True, "original_date": True,
                                        "outputformat": "%Y-%m-%dT%H:%M:%S%z"})
        except Exception as exc:  # trafilatura raises assorted lxml errors on broken pages
            yield RecordError(path, 0, "parse", "html_extraction_failed", f"HTML extraction failed: {exc}",
                              RecordError.excerpt_of(data))
            return
        if doc is not None and not isinstance(doc, dict) and len((doc.text or "").split()) >= MIN_HTML_WORDS:
            break
    if doc is None or isinstance(doc, dict) or len((doc.text or "").split()) < MIN_HTML_WORDS:
        yield RecordError(path, 0, "parse", "no_main_text", "no article text found in the HTML page",
                          RecordError.excerpt_of(data))
        return
    yield RawArticle(
        input_path=path, record_index=0, input_format="html", text=doc.text or "",
        title=strip_site_suffix(doc.title, (doc.sitename, doc.hostname)), url=doc.url,
        published=tuple(v for v in (doc.date, date_from_path(path)) if v),
        authors=_split_authors(doc.author), source=doc.sitename or doc.hostname, language=doc.language,
    )


# ---------------------------------------------------------------- feeds

def _entry_content(entry: Dict[str, Any]) -> Tuple[str, bool]:
    candidates: List[Tuple[str, bool]] = []
    for content in entry.get("content") or []:
        value = content.get("value") or ""
        candidates.append((value, "html" in (content.get("type") or "html")))
    summary = entry.get("summary") or ""
    if summary:
        candidates.append((summary, "html" in ((entry.get("summary_detail") or {}).get("type") or "html")))
    if not candidates:
        return "", False
    return max(candidates, key=lambda c: len(c[0]))


# Entity declarations are found by a hand-written linear scan: a regex over a hostile document (an
# unterminated declaration, thousands of "<!ENTITY" or "<!--") can take quadratic time.
_XML_SKIPPED = re.compile(rb"<!--|<!\[CDATA\[")
_XML_DECL_STOP = re.compile(rb"[\"'>]")
_XML_DECL = re.compile(rb"""\s+(?P<pe>%\s+)?(?P<name>[^\s"'%>]+)\s+(?P<rest>.*)""", re.DOTALL)
_XML_LITERAL = re.compile(rb""""(?P<dq>[^"]*)"|'(?P<sq>[^']*)'""")
_XML_REFERENCE = re.compile(rb"[&%](?!#)[^\s;&%<>\"']*;")
MAX_ENTITY_DECLARATIONS = 64
MAX_ENTITY_EXPANSION = 1024 * 1024
"""Most bytes that internal entity references may add to a feed; more is a ``hostile_xml`` row."""


def _without_comments(data: bytes) -> bytes:
    """``data`` with comments and CDATA sections blanked; an unterminated one runs to the end."""
    out, pos = [], 0
    while True:
        m = _XML_SKIPPED.search(data, pos)
        if m is None:
            out.append(data[pos:])
            break
        out.append(data[pos:m.start()])
        end = data.find(b"-->" if m.group() == b"<!--" else b"]]>", m.end())
        if end < 0:
            break
        out.append(b" ")
        pos = end + 3
    return b"".join(out)


def _entity_declarations(data: bytes) -> Iterator[Optional[bytes]]:
    """The inside of every ``<!ENTITY ...>`` (quotes respected), in one pass; an unterminated
    declaration gives None and ends the scan."""
    pos = 0
    while True:
        start = data.find(b"<!ENTITY", pos)
        if start < 0:
            return
        i = start + len(b"<!ENTITY")
        while True:
            m = _XML_DECL_STOP.search(data, i)
            if m is None:
                yield None
                return
            if m.group() == b">":
                break
            close = data.find(m.group(), m.end())
            if close < 0:
                yield None
                return
            i = close + 1
        yield data[start + len(b"<!ENTITY"):m.start()]
        pos = m.end()


def _as_feedparser_reads(data: bytes) -> bytes:
    """The UTF-8 bytes feedparser parses (it transcodes UTF-16/32, EBCDIC, declared charsets first)."""
    try:
        from feedparser.encodings import convert_to_utf8

        return convert_to_utf8({}, data, {})
    except Exception:  # feedparser's detection is best effort; so is this
        return decode_bytes(data).encode("utf-8", "replace")


def xml_hazard(data: bytes) -> Optional[str]:
    """Why an XML document is refused, or None when it is safe to hand to feedparser.

    feedparser's strict (expat) pass never resolves external entities, and expat caps entity
    amplification; but when that pass fails, feedparser re-parses with a loose parser that expands
    the document's "safe" entities without any limit (a 1 MB feed with one 50 kB entity referenced
    50,000 times takes 5 GB). So, like defusedxml but allowing plain internal entities, a document is
    refused when it declares an external entity (``SYSTEM``/``PUBLIC``, XXE), a parameter entity, an
    entity whose value refers to other entities (billion laughs), more than
    :data:`MAX_ENTITY_DECLARATIONS` entities, or references that would expand to more than
    :data:`MAX_ENTITY_EXPANSION` bytes, or has an unterminated declaration. An external DTD
    (``<!DOCTYPE rss SYSTEM "...">``) is fine: it is never fetched. The document is scanned as
    feedparser reads it (transcoded to UTF-8), in linear time.
    """
    if b"<!ENTITY" not in data and b"\x00" not in data[:4096] and data.lstrip()[:1] in (b"<", b"\xef"):
        return None
    views = [_as_feedparser_reads(data)]
    if b"\x00" in data[:4096]:  # also as we decode it, should feedparser's detection differ
        views.append(decode_bytes(data).encode("utf-8", "replace"))
    for view in views:
        hazard = _entity_hazard(view) if b"<!ENTITY" in view else None
        if hazard:
            return hazard
    return None


def _entity_hazard(data: bytes) -> Optional[str]:
    """The first reason to refuse a UTF-8 XML document's entity declarations, or None."""
    # What expat sees (declarations outside comments and CDATA) and what feedparser's own prolog
    # regex sees (every declaration before the first element, comments included).
    first_element = re.search(rb"<\w", data)
    head = data[:first_element.start() + 1] if first_element else data
    declarations = itertools.chain(_entity_declarations(_without_comments(data)), _entity_declarations(head))
    sizes: Dict[bytes, int] = {}
    for count, declaration in enumerate(declarations, start=1):
        if count > 2 * MAX_ENTITY_DECLARATIONS:
            return f"more than {MAX_ENTITY_DECLARATIONS} entity declarations"
        if declaration is None:
            return "unterminated entity declaration"
        m = _XML_DECL.fullmatch(declaration)
        if m is None:
            return f"malformed entity declaration {declaration[:80].decode('utf-8', 'replace')!r}"
        name = m.group("name").decode("utf-8", "replace")
        rest = m.group("rest").strip()
        if m.group("pe"):
            return f"parameter entity %{name}; declared"
        if rest.startswith((b"SYSTEM", b"PUBLIC")):
            return f"external entity &{name}; ({rest[:120].decode('utf-8', 'replace')})"
        value = _XML_LITERAL.fullmatch(rest)
        if value is None:
            return f"malformed entity declaration &{name};"
        literal = value.group("dq") if value.group("dq") is not None else value.group("sq")
        if _XML_REFERENCE.search(literal):
            return f"entity &{name}; refers to other entities (nested expansion)"
        sizes[m.group("name")] = max(len(literal), sizes.get(m.group("name"), 0))
    expansion = 0
    for name, size in sizes.items():
        expansion += size * data.count(b"&" + name + b";")
        if expansion > MAX_ENTITY_EXPANSION:
            return f"entity references would expand to more than {MAX_ENTITY_EXPANSION} bytes"
    return None


def parse_feed(data: bytes, path: str) -> Iterator[Record]:
    """An RSS 0.9x/1.0/2.0, Atom or RDF feed: every entry is an article (feedparser, with its HTML
    sanitizer on). A feed that is broken but still yields entries is used; one that yields none is
    an error naming feedparser's complaint. A feed declaring dangerous entities (see
    :func:`xml_hazard`) is one ``hostile_xml`` error row and is not parsed."""
    import feedparser

    if data.lstrip()[:1] in (b"{", b"["):
        yield from parse_json_document(data, path)
        return
    hazard = xml_hazard(data)
    if hazard:
        yield RecordError(path, None, "parse", "hostile_xml", f"refused: {hazard}", RecordError.excerpt_of(data))
        return
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=True, resolve_relative_uris=True)
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            exc = parsed.get("bozo_exception")
            yield RecordError(path, None, "parse", "malformed_feed", f"not a readable feed: {exc}", RecordError.excerpt_of(data))
        else:
            yield RecordError(path, None, "parse", "no_entries", "the feed has no entries", RecordError.excerpt_of(data))
        return
    feed = parsed.get("feed") or {}
    source = normalise_line(html_to_text(feed.get("title") or "")) or None
    language = feed.get("language")
    feed_authors = _split_authors(feed.get("authors") or feed.get("author"))
    links = entry_links(entries, path, feed.get("link"))
    discriminators = entry_discriminators(entries, links)
    for index, entry in enumerate(entries):
        content, is_html = _entry_content(entry)
        title = entry.get("title")
        if title and "html" in ((entry.get("title_detail") or {}).get("type") or ""):
            title = html_to_text(title)
        if not (content and content.strip()):
            content, is_html = (title or ""), False
        if not content.strip():
            yield RecordError(path, index, "parse", "empty_entry", "the feed entry has neither text nor title",
                              RecordError.excerpt_of(json.dumps(dict(entry), default=str)[:500]))
            continue
        published = tuple(v for v in (entry.get("published"), entry.get("updated"), entry.get("created"),
                                      entry.get("published_parsed"), entry.get("updated_parsed")) if v)
        yield RawArticle(
            input_path=path, record_index=index, input_format="feed", text=content, is_html=is_html, title=title,
            url=links[index], guid=entry.get("id"), published=published,
            authors=_split_authors(entry.get("authors") or entry.get("author")) or feed_authors,
            source=source, language=language, discriminator=discriminators[index],
        )


def entry_links(entries: Sequence[Any], path: str, site: Optional[str]) -> List[Optional[str]]:
    """Each entry's link, absolute: a relative one (``/Changelog-11/``) resolved against the feed's own
    URL when it was fetched, else the feed's site link (feedparser resolves ``xml:base``, but cannot know
    where bytes came from)."""
    from urllib.parse import urljoin

    from transforms.normalise.urls import is_url

    base = path if is_url(path) else (site if site and is_url(site) else None)
    out: List[Optional[str]] = []
    for entry in entries:
        link = (entry.get("link") or "").strip() or None
        if link and base and not re.match(r"(?i)^[a-z][a-z0-9+.-]*:", link):
            link = urljoin(base, link)
        out.append(link)
    return out


def entry_discriminators(entries: Sequence[Any], links: Sequence[Optional[str]]) -> List[Optional[str]]:
    """For entries of one feed whose links share a canonical URL (the fragment dropped) but which are
    different entries (another guid or another text): the link's fragment when those differ, else the
    guid; None for every other entry (and for true repeats, which deduplication counts)."""
    from urllib.parse import urlsplit

    from transforms.normalise.urls import canonical_url

    groups: Dict[str, List[int]] = {}
    for i, link in enumerate(links):
        url = canonical_url(link)
        if url:
            groups.setdefault(url, []).append(i)
    out: List[Optional[str]] = [None] * len(entries)
    for members in groups.values():
        if len(members) < 2:
            continue
        fragments = [urlsplit(links[i] or "").fragment for i in members]
        guids = [(entries[i].get("id") or "").strip() for i in members]
        texts = [str(entries[i].get("summary") or entries[i].get("title") or "") for i in members]
        if len(set(guids)) == 1 and len(set(texts)) == 1:
            continue  # the same entry twice
        use = fragments if all(fragments) and len(set(fragments)) == len(fragments) else guids
        if not all(use) or len(set(use)) != len(use):
            use = [f or g for f, g in zip(fragments, guids)]
        for i, value in zip(members, use):
            out[i] = value or None
    return out


# ---------------------------------------------------------------- dispatch

def parse_bytes(data: bytes, path: str, fmt: str) -> Iterator[Record]:
    """Parse a whole, decompressed input of a known format."""
    if fmt == "text":
        return parse_text(data, path)
    if fmt == "json":
        return parse_json_document(data, path)
    if fmt == "jsonl":
        return parse_json_lines(io.BytesIO(data), path)
    if fmt == "html":
        return parse_html(data, path)
    if fmt == "feed":
        return parse_feed(data, path)
    raise ValueError(f"unknown format {fmt!r}")


class _TooLarge(Exception):
    pass


def _decompressing(raw: io.BufferedIOBase) -> io.BufferedIOBase:
    head = raw.peek(6)[:6] if hasattr(raw, "peek") else b""
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw)
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)  # type: ignore[arg-type]
    return raw


def _read_bounded(stream: io.BufferedIOBase, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _TooLarge()
    return data


def _is_blank(data: bytes) -> bool:
    """Nothing but whitespace, NULs and byte-order marks, in any encoding (checked up to 64 kB)."""
    if not data.strip():
        return True
    return len(data) <= 65536 and not decode_bytes(data).strip("\ufeff\x00 \t\r\n\x0b\x0c")


def read_input(path: str, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
               max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Record]:
    """Read one input file (local path or fsspec URL) into raw articles and error records.

    Memory is bounded: JSON Lines stream line by line; other formats are read whole up to
    ``max_file_bytes`` of decompressed data (more is one ``too_large`` error row).
    """
    import fsspec

    records = 0
    try:
        with fsspec.open(path, "rb") as fh:
            stream = _decompressing(io.BufferedReader(fh) if not hasattr(fh, "peek") else fh)
            head = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
            fmt = detect_format(path, head)
            if fmt is None:
                yield RecordError(path, None, "read", "unknown_format",
                                  "binary or unknown file type (expected text, JSON, JSON Lines, HTML or a feed)",
                                  RecordError.excerpt_of(head[:200]))
                return
            if fmt == "jsonl":
                for record in parse_json_lines(stream, path, max_line_bytes):
                    records += 1
                    yield record
                return
            data = _read_bounded(stream, max_file_bytes)
        if _is_blank(data):
            yield RecordError(path, None, "read", "empty_file", "the file is empty", None)
            return
        for record in parse_bytes(data, path, fmt):
            records += 1
            yield record
    except _TooLarge:
        yield RecordError(path, None, "read", "too_large",
                          f"the file is larger than {max_file_bytes} bytes after decompression", None)
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        if records:
            yield RecordError(path, None, "read", "read_failed",
                              f"reading stopped after {records} records: {type(exc).__name__}: {exc}", None)
        else:
            yield RecordError(path, None, "read", "unreadable", f"cannot read the file: {type(exc).__name__}: {exc}", None)
