"""Places, offline: how names are compared (``names``), the shipped table of every country,
province and populated place of 500+ people (``table``, built by ``build``), the province or
country written beside a name (``mentions``), nationality words (``nationalities``) and which
place a name means in its article (``geocode``)."""

__all__ = ["names", "table", "build", "mentions", "nationalities", "geocode"]
