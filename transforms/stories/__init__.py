"""Stories: one row per real-world incident across articles, sources and runs.

* :mod:`.tone` an article's tone (VADER, averaged over sentences);
* :mod:`.copies` near-duplicate articles (MinHash over word shingles, compared with every signature of the horizon);
* :mod:`.terms` content words weighted by rarity (:mod:`.build_terms` makes the shipped table);
* :mod:`.profile` what an article contributes to a story (words, names, dates, places, events);
* :mod:`.assign` the incremental clustering of articles into stories;
* :mod:`.rows` the ``stories`` rows and the story columns of ``articles`` and ``events``;
* :mod:`.state` ROOT's story state between runs (snapshots and deltas, committed with the run);
* :mod:`.stage` the story step of a run (batch, watch, stream) and its Beam transforms;
* :mod:`.rebuild` ``newsbeam stories --rebuild``: the stories recomputed from the tables.
"""
