"""Input expansion: files, directories (recursive) and globs, local or any fsspec URL; http(s)
feed URLs (fetched later, see ``transforms.fetch.client``) and feed lists (``@list.txt``, ``.opml``, see
``transforms.inputs.feedlists``)."""
from __future__ import annotations

import posixpath
from typing import List

import fsspec

from transforms.normalise.urls import is_url

__all__ = ["expand_input", "is_hidden"]

_GLOB_CHARS = set("*?[")


def is_hidden(path: str) -> bool:
    """True for names starting with ``.`` or ``_`` anywhere below the input root (``.git``,
    newsbeam's own ``_staging``), which are skipped when a directory is walked."""
    return any(part.startswith((".", "_")) for part in path.split("/") if part)


def expand_input(pattern: str) -> List[str]:
    """Every file that ``pattern`` names, sorted: the file itself, every non-hidden file below a
    directory, or every file matching a glob (``**`` recurses). Raises FileNotFoundError when
    nothing matches.

    An http(s) URL is returned as is (nothing is fetched here). A feed list (``@PATH`` or
    ``PATH.opml``) gives what it lists, in its order: URLs as they are, other entries expanded as
    inputs (lists inside lists are not followed); a bad list raises ``FeedListError`` (a ValueError).
    """
    from transforms.inputs.feedlists import is_feed_list, read_feed_list

    if is_url(pattern):
        return [pattern]
    if is_feed_list(pattern):
        out: List[str] = []
        for entry in read_feed_list(pattern):
            if is_feed_list(entry):
                raise ValueError(f"feed list {pattern} names another feed list ({entry}); lists do not nest")
            for item in expand_input(entry):
                if item not in out:
                    out.append(item)
        return out
    fs, path = fsspec.core.url_to_fs(pattern)
    local = isinstance(fs, fsspec.implementations.local.LocalFileSystem)

    def url(p: str) -> str:
        return p if local else fs.unstrip_protocol(p)

    if any(c in _GLOB_CHARS for c in path):
        found = [p for p in fs.glob(path) if fs.isfile(p)]
    elif fs.isdir(path):
        base = path.rstrip("/")
        found = [p for p in fs.find(path) if not is_hidden(posixpath.relpath(p, base) if local else p[len(base):])]
    elif fs.exists(path):
        found = [path]
    else:
        raise FileNotFoundError(f"no such file or directory: {pattern}")
    if not found:
        raise FileNotFoundError(f"nothing matches: {pattern}")
    return sorted(url(p) for p in found)
