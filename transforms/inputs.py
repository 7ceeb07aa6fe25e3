"""Input expansion: files, directories (recursive) and globs, local or any fsspec URL."""
from __future__ import annotations

import posixpath
from typing import List

import fsspec

__all__ = ["expand_input", "is_hidden"]

_GLOB_CHARS = set("*?[")


def is_hidden(path: str) -> bool:
    """True for names starting with ``.`` or ``_`` anywhere below the input root (``.git``,
    newsbeam's own ``_staging``), which are skipped when a directory is walked."""
    return any(part.startswith((".", "_")) for part in path.split("/") if part)


def expand_input(pattern: str) -> List[str]:
    """Every file that ``pattern`` names, sorted: the file itself, every non-hidden file below a
    directory, or every file matching a glob (``**`` recurses). Raises FileNotFoundError when
    nothing matches."""
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
