"""Language analysis: the spaCy model (``model``), entities and their canonical names
(``entities``, ``gazetteer``, ``geo``), dates in text (``temporal``), PLOVER events (``events``)
and the Beam stage that runs them over batches of articles (``analyse``)."""
