"""Near-duplicate articles: syndicated and republished copies of one text (another URL, another
headline, a trimmed last paragraph, an added "Related:" line, paragraphs reordered or dropped).

An article's *shingles* are its overlapping word 5-grams (lower-cased words of the text, not the
headline); its *signature* is a MinHash of them (datasketch's ``affine32`` scheme, :data:`NUM_PERM`
permutations; see :func:`signature`). An
earlier article is a copy's original when the MinHash estimate of the two shingle sets' Jaccard
similarity is at least :data:`COPY_JACCARD`; :class:`CopyIndex` computes the estimate against every
signature of the horizon at once.

Calibration (``eval/eval_stories.py``, the 89 VOA stories and five variants of each): a copy that keeps
two thirds of the original's paragraphs shares about 0.6 of the union of shingles, one re-headlined with
a line added 0.95 and more; the closest two distinct VOA stories share 0.30 (ECB+ has wire copies at
0.6-0.75 and partly shared wire text at 0.3-0.46). At 0.5, 78 of 89 "a third dropped" copies were found;
at 0.45, 84 of 89 (all variants 0.989), with no false link and 0.15 (about 4 standard errors of a
128-permutation estimate) above the closest distinct pair. Texts of fewer than :data:`MIN_WORDS` words
(a headline-only feed entry) get no signature: their shingles are too few to tell copying from a
shared phrase.
"""
from __future__ import annotations

import functools
import hashlib
import re
import struct
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["shingles", "signature", "similarity", "CopyIndex", "NUM_PERM", "SHINGLE_WORDS",
           "COPY_JACCARD", "MIN_WORDS", "to_bytes", "from_bytes"]

NUM_PERM = 128
SHINGLE_WORDS = 5
COPY_JACCARD = 0.45
MIN_WORDS = 40
_SEED = 1  # seed and scheme fixed: signatures written by one run are compared with those of later runs
_SCHEME = "affine32"

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> List[bytes]:
    """The word :data:`SHINGLE_WORDS`-grams of ``text`` (lower-cased), as UTF-8 bytes; empty when the
    text has fewer than :data:`MIN_WORDS` words."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    if len(words) < MIN_WORDS:
        return []
    k = SHINGLE_WORDS
    return sorted({" ".join(words[i:i + k]).encode("utf-8") for i in range(len(words) - k + 1)})


_MASK32 = np.uint32(0xFFFFFFFF)


@functools.lru_cache(maxsize=1)
def _permutations() -> Tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` of datasketch 2.0's ``MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")``."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix of the affine schemes)."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def signature(text: str) -> Optional[np.ndarray]:
    """The MinHash signature (``NUM_PERM`` uint32 values) of the shingles of ``text``; None for a text
    too short to have shingles.

    Bit for bit what ``datasketch.MinHash(num_perm=128, seed=1, scheme="affine32")`` gives after
    ``update_batch(shingles(text))`` (``tests/test_stories.py`` checks it against the library): SHA-1
    32-bit hashes, the MurmurHash3 finalizer, ``a * h + b`` mod 2^32, the minimum per permutation. The
    few lines are here because importing the ``datasketch`` package costs about 0.9 s per process (its
    LSH classes import ``scipy.integrate``), more than a run's whole story step."""
    grams = shingles(text)
    if not grams:
        return None
    hv = np.fromiter((struct.unpack("<I", hashlib.sha1(g).digest()[:4])[0] for g in grams), dtype=np.uint32,
                     count=len(grams)).reshape(-1, 1)
    a, b = _permutations()
    with np.errstate(over="ignore"):
        phv = _fmix32(hv) * a + b
    return phv.min(axis=0).astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The MinHash estimate of the Jaccard similarity of two signatures' shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


class CopyIndex:
    """Signatures of earlier articles, searchable for copies. ``add`` in arrival order; ``original_of``
    gives the first-seen article a new text copies (the original of the original, when the first
    match is itself a copy), or None.

    A query compares the new signature with every indexed one at once (one numpy comparison of an
    ``n x NUM_PERM`` matrix): the exact MinHash estimate for all of them, with no candidate missed. This
    replaced datasketch's ``MinHashLSH``, whose index must be rebuilt from the signatures at each run:
    inserting 10,000 signatures took 2.7 s, a scan of 10,000 takes about 1 ms (``make bench``: the story
    state rows)."""

    def __init__(self) -> None:
        self._ids: List[str] = []
        self._pos: Dict[str, int] = {}
        self._sigs = np.zeros((0, NUM_PERM), dtype=np.uint32)
        self._n = 0
        self._original: Dict[str, str] = {}

    def __len__(self) -> int:
        return self._n

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._pos

    def matches(self, sig: np.ndarray) -> List[Tuple[str, float]]:
        """Earlier articles whose estimated Jaccard with ``sig`` is at least :data:`COPY_JACCARD`,
        first-seen first, with the estimate."""
        if not self._n:
            return []
        agree = np.count_nonzero(self._sigs[:self._n] == sig, axis=1)
        need = int(np.ceil(COPY_JACCARD * NUM_PERM - 1e-9))
        return [(self._ids[i], float(agree[i]) / NUM_PERM) for i in np.flatnonzero(agree >= need)]

    def original_of(self, sig: Optional[np.ndarray]) -> Optional[str]:
        if sig is None:
            return None
        found = self.matches(sig)
        if not found:
            return None
        first = found[0][0]
        return self._original.get(first, first)

    def add(self, article_id: str, sig: Optional[np.ndarray], original: Optional[str] = None) -> None:
        """Index ``sig`` under ``article_id`` (a second add of one id is ignored); ``original`` is the
        article it copies, if any."""
        if sig is None or article_id in self._pos:
            return
        if self._n == len(self._sigs):
            grown = np.zeros((max(64, 2 * len(self._sigs)), NUM_PERM), dtype=np.uint32)
            grown[:self._n] = self._sigs[:self._n]
            self._sigs = grown
        self._sigs[self._n] = sig
        self._pos[article_id] = self._n
        self._ids.append(article_id)
        self._n += 1
        if original:
            self._original[article_id] = original

    def signature_of(self, article_id: str) -> np.ndarray:
        return self._sigs[self._pos[article_id]]

    def original_id(self, article_id: str) -> Optional[str]:
        """The original an indexed article copies (None for an original)."""
        return self._original.get(article_id)

    def entries(self) -> List[Tuple[str, np.ndarray, Optional[str]]]:
        """Every indexed ``(article_id, signature, original)``, first-seen first (``add_all`` of them
        rebuilds an equal index)."""
        return [(a, self._sigs[i], self._original.get(a)) for i, a in enumerate(self._ids)]

    def add_all(self, items: Iterable[Tuple[str, Optional[np.ndarray], Optional[str]]]) -> None:
        for article_id, sig, original in items:
            self.add(article_id, sig, original)

    def keep(self, article_ids: Iterable[str]) -> None:
        """Drop every signature but those of ``article_ids`` (the horizon), keeping their order."""
        wanted = set(article_ids)
        kept = [(a, self._sigs[i], self._original.get(a)) for i, a in enumerate(self._ids) if a in wanted]
        self.__init__()  # type: ignore[misc]
        self.add_all(kept)


def copies_in(texts: Sequence[Tuple[str, str]]) -> Dict[str, Optional[str]]:
    """For ``(article_id, text)`` pairs in arrival order, each id -> the id of the first-seen article
    it copies (None for an original). A convenience over :class:`CopyIndex` for tests and evals."""
    index = CopyIndex()
    out: Dict[str, Optional[str]] = {}
    for article_id, text in texts:
        sig = signature(text)
        original = index.original_of(sig)
        out[article_id] = original
        index.add(article_id, sig, original)
    return out
