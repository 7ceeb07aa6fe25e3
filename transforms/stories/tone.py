"""An article's tone in [-1, 1], GDELT's AvgTone analogue: VADER's compound score
(vaderSentiment, MIT, ships its lexicon) averaged over the article's sentences.

It is a lexicon measure: words and a few rules about negation, intensifiers and punctuation. It reads
irony, quotes of the other side and negation-heavy news ("not guilty", "no deaths") poorly, and news
about conflict scores negative whatever its stance. Compare tones of many articles, not one."""
from __future__ import annotations

import functools
import re
from typing import Optional

__all__ = ["tone", "MAX_SENTENCES"]

MAX_SENTENCES = 200
"""Sentences scored per article (the first ones): a 100,000-word dump costs what a long article costs."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘(]?[A-Z0-9])|\n+")


@functools.lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def tone(text: Optional[str]) -> Optional[float]:
    """Mean VADER compound score of the sentences of ``text`` (rounded to 3 places), None when the
    text has no words."""
    if not text:
        return None
    sentences = [s for s in _SENTENCE_END.split(text) if any(c.isalpha() for c in s)][:MAX_SENTENCES]
    if not sentences:
        return None
    analyzer = _analyzer()
    total = sum(analyzer.polarity_scores(s)["compound"] for s in sentences)
    return round(total / len(sentences), 3)
