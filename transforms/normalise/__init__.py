"""Normalisation: a raw record to an ``articles`` row (text, dates, URLs and ids, language).

Pure functions (``text``, ``dates``, ``urls``, ``language``, ``articles``) and one Beam step
(``stage.Normalise``) that batch, watch and stream all use.
"""
