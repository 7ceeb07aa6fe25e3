"""Content words of an article and how much each says about *which* story it is.

``terms`` are the lower-cased words (and numbers: "6.1", "33" tell two earthquakes or two rehab stays
apart) of the headline and the text, without stop words. A word's weight is ``(1 + log tf) * idf``,
with ``idf = log((N + 1) / (df + 1)) + 1`` from a fixed document-frequency table
(``data/term_df.json``, built by ``python -m transforms.stories.build_terms`` from the English news
texts in ``shared/corpora``: VOA, the fundus pages, the real feeds, PETRARCH2 and PLOVER records and
WikiEvents, 387 documents; ECB+ is left out, it is the story evaluation's). The table is fixed so
that two articles' similarity never depends on what else a run or ROOT holds: the same articles give
the same stories however the input is split into runs. Words the table lacks (most names) weigh most.
"""
from __future__ import annotations

import collections
import functools
import json
import math
import re
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional

__all__ = ["TERM_DF_FILE", "words", "term_counts", "term_vector", "weigh", "cosine", "normalise", "top",
           "document_frequencies", "idf"]

TERM_DF_FILE = Path(__file__).resolve().parent / "data" / "term_df.json"
_WORD = re.compile(r"[^\W\d_][\w'’\-]*[^\W_]|\d+(?:[.,]\d+)?", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {"said", "says", "told", "according", "reported", "news", "reuters", "ap"}


def words(text: str) -> Iterable[str]:
    """The content words of ``text``, lower-cased, in order (stop words and 1-2 letter words out)."""
    stop = _stop_words()
    for w in _WORD.findall(text or ""):
        lw = w.lower().replace("’", "'")
        if lw.endswith("'s"):
            lw = lw[:-2]
        if (len(lw) > 2 or lw[:1].isdigit()) and lw not in stop:
            yield lw


@functools.lru_cache(maxsize=1)
def document_frequencies() -> Dict[str, int]:
    """The shipped table: ``{"documents": N, "df": {word: documents}}`` as one dict with key ``""``
    holding N."""
    data = json.loads(TERM_DF_FILE.read_text(encoding="utf-8"))
    df = {k: int(v) for k, v in data["df"].items()}
    df[""] = int(data["documents"])
    return df


def idf(word: str, df: Mapping[str, int], seen: Optional[Mapping[str, int]] = None, seen_docs: int = 0) -> float:
    """``log((N + 1) / (df + 1)) + 1`` over the shipped table plus, when given, the documents seen so far
    (``seen``: word -> documents, ``seen_docs`` of them): words common in the data itself (the
    "earthquake" of a dataset of earthquakes) weigh less than the table alone would say."""
    n = df[""] + seen_docs
    count = df.get(word, 0) + (seen.get(word, 0) if seen else 0)
    return math.log((n + 1) / (count + 1)) + 1.0


def term_counts(text: str, keep: int = 300) -> Dict[str, int]:
    """Counts of the content words of ``text`` (the ``keep`` most frequent, ties by word)."""
    counts = collections.Counter(words(text))
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])


def weigh(counts: Mapping[str, int], *, keep: int = 80, seen: Optional[Mapping[str, int]] = None,
          seen_docs: int = 0) -> Dict[str, float]:
    """Unit-length tf-idf vector of the ``keep`` heaviest words of ``counts`` (see :func:`idf`)."""
    df = document_frequencies()
    weights = {w: (1.0 + math.log(c)) * idf(w, df, seen, seen_docs) for w, c in counts.items()}
    return normalise(top(weights, keep))


def normalise(vector: Mapping[str, float]) -> Dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def top(vector: Mapping[str, float], n: int) -> Dict[str, float]:
    """The ``n`` heaviest entries (ties by key, so the choice is deterministic)."""
    return dict(sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


def term_vector(text: str, *, keep: int = 80) -> Dict[str, float]:
    """Unit-length tf-idf vector of the ``keep`` heaviest content words of ``text``."""
    return weigh(term_counts(text), keep=keep)


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())
