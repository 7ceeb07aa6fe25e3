"""Inputs: what the user names (files, folders, globs, fsspec URLs, feed lists) to raw records.

``expand`` turns patterns into files, ``feedlists`` reads ``@list.txt`` and OPML lists, ``readers``
parses each format into :class:`~transforms.records.RawArticle` records, ``xmlguard`` refuses
hostile XML before a parser sees it, and ``read`` is the Beam composite the batch pipeline uses.
"""
