"""Stories: one row per real-world incident across articles, sources and runs.

* :mod:`.tone` an article's tone (VADER, averaged over sentences);
* :mod:`.copies` near-duplicate articles (MinHash over word shingles, compared with every signature of the horizon);
* :mod:`.profile` what an article contributes to a story (terms, names, dates, places, events);
* :mod:`.assign` the incremental clustering of articles into stories.
"""
