"""Feed lists: a text file of URLs (one per line, ``#`` comments) and OPML (feed reader exports).

A feed list is accepted wherever a feed URL is (``newsbeam run``, ``watch``, ``stream``):

* ``@PATH``: a text list. Each line is one input (normally a feed URL; a file, folder or glob works
  too); blank lines and everything after ``#`` at the start of a line or after whitespace are ignored.
* ``PATH`` without the ``@``, when the file is a text file (``.txt``, ``.list`` or no extension) whose
  lines are all http(s) URLs, blank or comments (:func:`is_url_list`): ``newsbeam watch feeds.txt``
  polls the feeds instead of ingesting the list as one article. A file with anything else on a line is an
  article, as before.
* ``PATH.opml`` (or ``.opml.xml``): every ``<outline xmlUrl="...">``, at any depth.

``PATH`` is local or any fsspec URL. Lists are expanded when the pipeline starts, so editing a list
takes effect at the next ``watch`` tick.
"""
from __future__ import annotations

import re
from typing import List

__all__ = ["is_feed_list", "is_url_list", "only_urls", "parse_text_list", "parse_opml", "read_feed_list",
           "FeedListError"]

MAX_LIST_BYTES = 8 * 1024 * 1024


class FeedListError(ValueError):
    """A feed list that cannot be read or holds nothing."""


_LIST_SUFFIXES = (".txt", ".list")
_URL_LINE = re.compile(r"^https?://\S+$", re.I)


def only_urls(text: str) -> bool:
    """True when every entry of ``text`` (as :func:`parse_text_list` reads it) is an http(s) URL, and
    there is at least one."""
    entries = parse_text_list(text)
    return bool(entries) and all(_URL_LINE.match(e) for e in entries)


def is_url_list(pattern: str) -> bool:
    """True when ``pattern`` is a text file (``.txt``, ``.list`` or no extension, at most
    :data:`MAX_LIST_BYTES`) whose lines are all URLs, blank or comments. False for anything that
    cannot be read (the caller's own checks report it)."""
    import fsspec

    name = pattern.rsplit("/", 1)[-1].lower()
    if "." in name and not name.endswith(_LIST_SUFFIXES):
        return False
    if any(c in pattern for c in "*?["):
        return False
    try:
        fs, path = fsspec.core.url_to_fs(pattern)
        if not fs.isfile(path) or fs.size(path) > MAX_LIST_BYTES:
            return False
        with fs.open(path, "rb") as fh:
            data = fh.read(MAX_LIST_BYTES)
    except (OSError, ValueError, ImportError):
        return False
    from transforms.normalise.text import decode_bytes

    return only_urls(decode_bytes(data))


def is_feed_list(pattern: str) -> bool:
    """True when ``pattern`` names a feed list rather than an input."""
    low = pattern.lower()
    if pattern.startswith("@") or low.endswith((".opml", ".opml.xml")):
        return True
    from transforms.normalise.urls import is_url

    return not is_url(pattern) and is_url_list(pattern)


def parse_text_list(text: str) -> List[str]:
    """Entries of a text list, in order, without duplicates."""
    out: List[str] = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line.strip("\ufeff")).strip()
        if line and line not in out:
            out.append(line)
    return out


def parse_opml(data: bytes) -> List[str]:
    """Feed URLs of an OPML document (``xmlUrl`` of every outline, nested or not), in order."""
    from lxml import etree

    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedListError(f"not an OPML document: {exc}") from exc
    if root is None:
        raise FeedListError("not an OPML document")
    out: List[str] = []
    for outline in root.iter("{*}outline", "outline"):
        url = None
        for key, value in outline.attrib.items():
            if key.lower() == "xmlurl":
                url = (value or "").strip()
        if url and url not in out:
            out.append(url)
    return out


def read_feed_list(pattern: str) -> List[str]:
    """The inputs a feed list names. Raises FileNotFoundError when the list does not exist and
    FeedListError when it is unreadable or empty."""
    import fsspec

    path = pattern[1:] if pattern.startswith("@") else pattern
    fs, fs_path = fsspec.core.url_to_fs(path)
    if not fs.exists(fs_path):
        raise FileNotFoundError(f"no such feed list: {path}")
    with fs.open(fs_path, "rb") as fh:
        data = fh.read(MAX_LIST_BYTES + 1)
    if len(data) > MAX_LIST_BYTES:
        raise FeedListError(f"feed list {path} is larger than {MAX_LIST_BYTES} bytes")
    if path.lower().endswith((".opml", ".opml.xml")) and not pattern.startswith("@"):
        entries = parse_opml(data)
    else:
        from transforms.normalise.text import decode_bytes

        entries = parse_text_list(decode_bytes(data))
    if not entries:
        raise FeedListError(f"feed list {path} names no feeds")
    return entries
