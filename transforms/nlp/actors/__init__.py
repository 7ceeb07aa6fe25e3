"""What an event's actors are, as PLOVER/POLECAT code them: their sector (``sectors`` with
``sectors.yaml``) and their country (``countries``, with ``data/demonyms.json``). Which words an
argument is and whom they name: :mod:`transforms.nlp.events.actors`."""

__all__ = ["sectors", "countries"]
