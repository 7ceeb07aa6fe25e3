"""File-system helpers for ROOT on any fsspec file system: open it, name its files, write JSON
atomically. Every module that touches ROOT goes through these (one copy of each)."""
from __future__ import annotations

import json
import logging
import posixpath
import secrets
from typing import Any, Tuple

import fsspec
from fsspec.implementations.local import LocalFileSystem

_LOGGER = logging.getLogger(__name__)

__all__ = ["filesystem", "url_of", "is_local", "write_json_atomic", "read_json"]


def filesystem(root: str) -> Tuple[fsspec.AbstractFileSystem, str]:
    """The file system of ``root`` (a local path or any fsspec URL) and ``root``'s path on it,
    without a trailing ``/`` (``/`` itself stays ``/``)."""
    fs, path = fsspec.core.url_to_fs(root)
    return fs, path.rstrip("/") or "/"


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    """True for the local disk (real locks, plain paths)."""
    return isinstance(fs, LocalFileSystem)


def url_of(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """``path`` as other processes must name it: a plain path on the local disk, else a URL with
    the file system's protocol (``gs://...``, ``memory://...``)."""
    return path if is_local(fs) else str(fs.unstrip_protocol(path))


def write_json_atomic(fs: fsspec.AbstractFileSystem, path: str, obj: Any, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON to ``path`` so that readers see the old file or the new one, never a
    part: to a temporary name beside it, then move. Creates the folder; non-JSON values (dates)
    are written as strings; keys are sorted (stable files, readable diffs)."""
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{secrets.token_hex(4)}"
    with fs.open(tmp, "w") as fh:
        json.dump(obj, fh, indent=indent, sort_keys=True, default=str)
    fs.mv(tmp, path)


def read_json(fs: fsspec.AbstractFileSystem, path: str, default: Any, *, damaged_ok: bool = False) -> Any:
    """The JSON at ``path``, or ``default`` when there is none. A file that cannot be parsed
    raises, unless ``damaged_ok`` (state that only saves work, such as HTTP validators: a
    warning, then ``default``)."""
    try:
        with fs.open(path, "r") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default
    except (ValueError, OSError) as exc:
        if not damaged_ok:
            raise
        _LOGGER.warning("ignoring unreadable state file %s: %s", path, exc)
        return default
