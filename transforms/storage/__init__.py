"""The dataset on disk: file-system helpers (``fs``), locks (``locks``), staged writes and the
atomic run commit (``sink``, ``write``, ``manifest``, ``windows``), the ids already in ROOT
(``ids``), deduplication (``dedup``) and compaction (``compact``)."""
