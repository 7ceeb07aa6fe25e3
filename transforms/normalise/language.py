"""Language identification, offline: :func:`detect_language` with py3langid's model, loaded in
~0.03 s instead of ~0.3 s.

py3langid ships its model as an xz-compressed ``.npz`` (4.6 MB) and decompresses it in every process
that identifies a language: ~0.3 s of a one-article run, paid again by every ``--workers`` process.
:func:`identifier` decompresses it once into newsbeam's cache folder (the same ``.npz``, 68 MB,
uncompressed) and later processes read that. The result is the same identifier: same arrays,
same classes, same answers (a test compares them).

The cache folder is ``$NEWSBEAM_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsbeam``, else
``~/.cache/newsbeam``; ``NEWSBEAM_CACHE_DIR=off`` (or a folder that cannot be written) falls back to
py3langid's own loading. A cache file is named after py3langid's version and the size and time of
its model file, written to a temporary name and renamed (concurrent workers cannot see half a
file), and read back only if it holds the expected arrays; anything else means a fresh
decompression.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
import zipfile
from array import array
from pathlib import Path
from typing import Optional

from transforms.runtime.gcpause import gc_paused

_LOGGER = logging.getLogger(__name__)

__all__ = ["detect_language", "identifier", "load_identifier", "cache_dir", "cache_file", "CACHE_ENV"]

CACHE_ENV = "NEWSBEAM_CACHE_DIR"
_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
_TYPECODE = {2: "H", 4: "I", 8: "L"}
_LOCK = threading.Lock()
_IDENTIFIER = None


def cache_dir() -> Optional[Path]:
    """newsbeam's cache folder (see the module notes); None when caching is off."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return None if configured.strip().lower() in ("off", "0", "none", "false") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newsbeam"


def _model_file() -> Path:
    from py3langid import langid

    return langid.MODEL_DIR / langid.MODEL_FILE


def cache_file(model_file: Optional[Path] = None) -> Optional[Path]:
    """Where the decompressed model of the installed py3langid lives (None: caching is off)."""
    import py3langid

    folder = cache_dir()
    if folder is None:
        return None
    st = (model_file or _model_file()).stat()
    return folder / f"py3langid-{py3langid.__version__}-{st.st_size}-{st.st_mtime_ns}.npz"


def _write_cache(model_file: Path, target: Path) -> None:
    import lzma

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, lzma.open(model_file) as src:
            shutil.copyfileobj(src, out, length=1 << 20)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _to_array(values) -> array:
    """A NumPy unsigned-int array as a stdlib array (what py3langid's DFA walk indexes fastest)."""
    import numpy as np

    out = array(_TYPECODE[values.dtype.itemsize])
    out.frombytes(memoryview(np.ascontiguousarray(values)).cast("B"))  # type: ignore[arg-type]
    return out


def _read(path: Path):
    """The identifier from an uncompressed model ``.npz`` (py3langid's own layout)."""
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    with np.load(path, allow_pickle=False) as data:
        missing = set(_ARRAYS).difference(data.files)
        if missing:
            raise ValueError(f"{path}: not a py3langid model, missing {sorted(missing)}")
        ptc, pc = data["ptc"], data["pc"]
        classes = data["classes"].tolist()
        nextmove, row, out = _to_array(data["nextmove"]), _to_array(data["nextmove_row"]), data["out_feat"].tolist()
    if ptc.ndim != 2 or ptc.shape[1] != len(classes) or pc.shape != (len(classes),) or len(row) != len(out):
        raise ValueError(f"{path}: inconsistent py3langid model arrays")
    return LanguageIdentifier(np.asarray(ptc), np.asarray(pc), classes, nextmove, out, tk_row=row)


@gc_paused()
def load_identifier():
    """A new py3langid ``LanguageIdentifier`` (all languages, raw scores: what
    ``py3langid.classify`` uses), from the cache when it can, filling the cache when it may."""
    model_file = _model_file()
    try:
        target = cache_file(model_file)
    except OSError:
        target = None
    if target is not None:
        try:
            return _read(target)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            if not isinstance(exc, FileNotFoundError):
                _LOGGER.warning("language-id cache %s unusable (%s); rebuilding it", target, exc)
        try:
            _write_cache(model_file, target)
            return _read(target)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            _LOGGER.info("language-id cache not used (%s): loading py3langid's compressed model", exc)
    from py3langid.langid import LanguageIdentifier

    return LanguageIdentifier.from_model_file(model_file)


def identifier():
    """The process's one identifier (thread-safe, loaded on first use)."""
    global _IDENTIFIER
    if _IDENTIFIER is None:
        with _LOCK:
            if _IDENTIFIER is None:
                _IDENTIFIER = load_identifier()
    return _IDENTIFIER


_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def detect_language(text: str, hint: Optional[str] = None) -> Optional[str]:
    """ISO 639-1 code of ``text``, detected offline (py3langid); the ``hint`` (e.g. a feed's
    declared ``en-us``) is used only when the text is too short to judge."""
    hint_code = None
    if hint:
        m = re.match(r"\s*([A-Za-z]{2,3})\b", hint)
        hint_code = m.group(1).lower() if m else None
    sample = text[:_LANGUAGE_SAMPLE_CHARS]
    if len(_LETTERS.findall(sample)) < 25:
        return hint_code
    code, _ = identifier().classify(sample)  # the model loads once per process, from newsbeam's cache
    return code


_LANGUAGE_SAMPLE_CHARS = 1500  # ~250 words: plenty for the classifier, a third of the cost of 3000
