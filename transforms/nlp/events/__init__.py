"""PLOVER event extraction, one module per seam: the ontology and trigger lexicon as data
(``lexicon`` with ``plover.yaml`` and ``lexicon.yaml``), the syntax of a trigger (``syntax``), the
article and discourse context (``context``), who the actor and recipient are (``actors``), the
extraction itself (``extract``) and the event
parse of a batch of articles with the loaded spaCy pipeline (``parse``)."""

__all__ = ["lexicon", "syntax", "context", "actors", "extract", "parse"]
