"""Faster equivalents of spaCy's ``attribute_ruler`` and rule ``lemmatizer`` for the event parse.

Profiling the event stage showed the two cheapest-looking components of ``en_core_web_sm`` costing
more than the dependency parser on news text: the attribute ruler runs spaCy's ``Matcher`` with
its ~180 rules (one pattern per fine-grained tag, word exceptions, a few two-token rules) over
every token, and the lemmatizer makes several Python calls per token even when its cache hits.

:class:`FastAttributeRuler` applies the *same* rules, read from the loaded component, with an
index on each pattern's first token (its ``LOWER`` or ``TAG`` value) so a token is only checked
against the rules that can match it, and writes POS / MORPH / LEMMA back with one
``Doc.from_array`` call. :func:`fast_lemmatize` looks lemmas up in the spaCy lemmatizer's own
cache (keyed by word and POS, as spaCy does) and only calls it on a miss. Both give exactly
spaCy's output (a test compares every token of real news text); a model whose rules use anything
else than the predicates below gets spaCy's own components (:func:`compile_attribute_ruler`
returns None).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy

__all__ = ["FastAttributeRuler", "compile_attribute_ruler", "fast_lemmatize", "index_as_sets"]

_FIELDS = ("LOWER", "TAG", "DEP", "IS_SPACE")
_FIELD_INDEX = {name: i for i, name in enumerate(_FIELDS)}

# A token, for the predicates: (lower hash, tag hash, dep hash, is_space) plus the string store.
Predicate = Callable[[Tuple[int, int, int, int]], bool]


class _Unsupported(Exception):
    pass


def _predicate(field: str, value: Any, strings, regex_cache: Dict[Tuple[str, int], bool]) -> Tuple[Predicate, Any]:
    """A predicate for one ``{field: value}`` of a pattern token, and the values that can
    satisfy it (hashes; None when they cannot be listed, e.g. NOT_IN and REGEX)."""
    if field not in _FIELD_INDEX:
        raise _Unsupported(field)
    i = _FIELD_INDEX[field]
    if field == "IS_SPACE":
        if not isinstance(value, bool):
            raise _Unsupported(f"{field}={value!r}")
        flag = int(value)
        return (lambda t: t[i] == flag), (flag,)

    def h(s: str) -> int:
        return strings[s] if s else 0  # a missing annotation reads as 0, as the empty string

    if isinstance(value, str):
        want = h(value)
        return (lambda t: t[i] == want), (want,)
    if isinstance(value, dict) and len(value) == 1:
        (op, arg), = value.items()
        if op == "IN" and isinstance(arg, list):
            allowed = frozenset(h(v) for v in arg)
            return (lambda t: t[i] in allowed), tuple(allowed)
        if op == "NOT_IN" and isinstance(arg, list):
            banned = frozenset(h(v) for v in arg)
            return (lambda t: t[i] not in banned), None
        if op == "REGEX" and isinstance(arg, str):
            pattern = re.compile(arg)

            def regex(t, _p=pattern, _key=arg):
                key = (_key, t[i])
                hit = regex_cache.get(key)
                if hit is None:
                    hit = regex_cache[key] = bool(_p.search(strings[t[i]] if t[i] else ""))
                return hit
            return regex, None
    raise _Unsupported(f"{field}={value!r}")


class FastAttributeRuler:
    """The rules of a loaded spaCy ``AttributeRuler``, applied with a first-token index."""

    def __init__(self, ruler) -> None:
        from spacy.attrs import LEMMA, MORPH, POS

        strings = ruler.vocab.strings
        self._vocab = ruler.vocab
        self._regex_cache: Dict[Tuple[str, int], bool] = {}
        self._array_attrs = (POS, MORPH, LEMMA)
        # First-token index: field position -> value -> rules. Each pattern is filed under the
        # first of LOWER, TAG, DEP, IS_SPACE whose possible values can be listed; the others
        # (a REGEX or NOT_IN on every field of the first token) are checked at every token.
        self._index: List[Dict[int, List[Tuple[int, List[List[Predicate]], int]]]] = [{} for _ in _FIELDS]
        self._rest: List[Tuple[int, List[List[Predicate]], int]] = []
        self._attrs = list(ruler.attrs)
        patterns = ruler.patterns
        if len(patterns) != len(self._attrs):
            raise _Unsupported("pattern and attribute lists differ")
        for rule, entry in enumerate(patterns):
            for pattern in entry["patterns"]:
                if not pattern or any(not isinstance(tok, dict) or tok.get("OP") for tok in pattern):
                    raise _Unsupported(f"pattern {pattern!r}")
                checks: List[List[Predicate]] = []
                first_keys: Dict[str, Tuple[int, ...]] = {}
                for k, tok in enumerate(pattern):
                    preds = []
                    for field, value in tok.items():
                        pred, values = _predicate(field, value, strings, self._regex_cache)
                        preds.append(pred)
                        if k == 0 and values is not None:
                            first_keys[field] = values
                    checks.append(preds)
                item = (rule, checks, ruler.indices[rule])
                field = next((f for f in _FIELDS if f in first_keys), None)
                if field is None:
                    self._rest.append(item)
                else:
                    for value in first_keys[field]:
                        self._index[_FIELD_INDEX[field]].setdefault(value, []).append(item)

    def __call__(self, doc):
        from spacy.attrs import DEP, IS_SPACE, LOWER, TAG
        from spacy.pipeline.attributeruler import set_token_attrs

        n = len(doc)
        if not n:
            return doc
        tokens = [tuple(row) for row in doc.to_array([LOWER, TAG, DEP, IS_SPACE]).tolist()]
        matches: List[Tuple[int, int, int]] = []  # (rule, start, index into the match)
        index, rest = self._index, self._rest
        for start, tok in enumerate(tokens):
            for f in range(4):
                bucket = index[f].get(tok[f])
                if bucket:
                    self._match(bucket, tokens, start, n, matches)
            if rest:
                self._match(rest, tokens, start, n, matches)
        if not matches:
            return doc
        matches.sort()  # later rules take precedence, as in spaCy
        values = doc.to_array(list(self._array_attrs))
        columns = {attr: j for j, attr in enumerate(self._array_attrs)}
        others = []
        for rule, start, offset in matches:
            attrs = self._attrs[rule]
            position = start + offset
            for attr, value in attrs.items():
                j = columns.get(attr)
                if j is None:
                    others.append((position, {attr: value}))
                else:
                    values[position, j] = value
        doc.from_array(list(self._array_attrs), values)
        for position, attrs in others:  # rare (DEP/TAG rewrites): spaCy's own setter, after the arrays
            set_token_attrs(doc[position], attrs)
        return doc


    @staticmethod
    def _match(bucket, tokens, start: int, n: int, matches: List[Tuple[int, int, int]]) -> None:
        for rule, checks, index in bucket:
            size = len(checks)
            if start + size > n:
                continue
            ok = True
            for k in range(size):
                tok = tokens[start + k]
                for pred in checks[k]:
                    if not pred(tok):
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                matches.append((rule, start, index if index >= 0 else size + index))


def compile_attribute_ruler(ruler) -> Optional[FastAttributeRuler]:
    """:class:`FastAttributeRuler` for ``ruler``, or None when its rules use something else than
    single-value / IN / NOT_IN / REGEX predicates on LOWER, TAG, DEP and IS_SPACE."""
    try:
        return FastAttributeRuler(ruler)
    except _Unsupported:
        return None


def index_as_sets(lemmatizer) -> int:
    """Turn the word lists of the lemmatizer's ``lemma_index`` table into sets, in place.

    ``rule_lemmatize`` asks ``form in index`` for every candidate form of every new word, and the
    tables ship as lists of thousands of words: a linear scan each time (about 80 us per new
    word). Membership is all the table is used for, so a set gives the same lemmas. Returns the
    number of lists converted."""
    try:
        table = lemmatizer.lookups.get_table("lemma_index")
    except (KeyError, AttributeError, ValueError):
        return 0
    converted = 0
    for pos in list(table.keys()):
        value = table[pos]
        if isinstance(value, list):
            table[pos] = frozenset(value)
            converted += 1
    return converted


def fast_lemmatize(lemmatizer, doc, cache: Dict[Tuple[int, int, int], int], verb_fixes: Optional[Dict[str, str]] = None):
    """Set the lemma of every token of ``doc`` without one, as spaCy's rule ``lemmatizer`` does
    (only for ``lemmatizer.mode == "rule"``): ``cache`` maps (word, POS, morphology) to a lemma
    hash, the key of spaCy's own cache; misses go through ``lemmatizer.rule_lemmatize``, except
    verb forms in ``verb_fixes`` that it gets wrong ("staged" -> "stag": its rules find "stag" and
    "stage" in the word list and take the first)."""
    from spacy.attrs import LEMMA, MORPH, ORTH, POS

    if not len(doc):
        return doc
    array = doc.to_array([ORTH, POS, MORPH, LEMMA])
    strings = doc.vocab.strings
    lemmas = array[:, 3].copy()
    overwrite = bool(getattr(lemmatizer, "overwrite", False))
    for i, (orth, pos, morph, lemma) in enumerate(array.tolist()):
        if lemma and not overwrite:
            continue
        key = (orth, pos, morph)
        value = cache.get(key)
        if value is None:
            token = doc[i]
            fixed = verb_fixes.get(token.lower_) if verb_fixes and token.pos_ in ("VERB", "AUX") else None
            value = cache[key] = strings.add(fixed or lemmatizer.rule_lemmatize(token)[0])
        lemmas[i] = value
    doc.from_array([LEMMA], lemmas.reshape(-1, 1).astype(numpy.uint64))
    return doc
