"""Fetching over HTTP: a polite, bounded client (``client``), the conditional-GET and backoff
state kept in ROOT (``state``), feeds polled into raw records (``feeds``) and article pages
(``pages``)."""
