"""Arrow schemas of every newsbeam table: the single source of truth.

Writers (``transforms.storage.sink``), readers, tests and the README's schema section are all built
from :data:`TABLES`. Each table is hive-partitioned by ``dt`` (a DATE, ``YYYY-MM-DD``); ``dt``
is part of the logical schema below but lives in the folder name (``dt=2020-02-07``), not inside
the Parquet files (see :func:`file_schema`).

Bump :data:`SCHEMA_VERSION` whenever a table gains a column; old partitions stay readable
because readers select columns by name.
"""
from __future__ import annotations

from typing import Dict, List

import pyarrow as pa

__all__ = [
    "SCHEMA_VERSION", "TABLES", "ARTICLES", "ERRORS", "ENTITIES", "EVENTS", "STORIES",
    "PARTITION_COLUMN", "file_schema", "schema_markdown", "empty_table",
]

SCHEMA_VERSION = 3
"""1: the first tables. 2: events gain ``admin1``, ``location_precision``, ``actor_country``, ``actor_sector``,
``recipient_country`` and ``recipient_sector``. 3: articles gain ``near_duplicate_of``, ``story_id`` and ``tone``,
events gain ``story_id``, and the ``stories`` table."""
PARTITION_COLUMN = "dt"
_TS = pa.timestamp("us", tz="UTC")


def _f(name: str, typ: pa.DataType, doc: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, typ, nullable=nullable, metadata={"doc": doc})


_RUN = _f("run_id", pa.string(), "Id of the run that wrote the row (also in the file name).", False)
_DT = _f("dt", pa.date32(), "Partition date (UTC), stored in the folder name `dt=YYYY-MM-DD`.", False)

ARTICLES = pa.schema([
    _f("article_id", pa.string(), "Stable id: hash of `url`, else of normalised title and text.", False),
    _f("url", pa.string(), "Canonical URL (lower-case host, no fragment, no tracking parameters; relative feed links "
       "resolved). The fragment (else the guid) stays when it tells entries of one feed apart: `entries.php#2`."),
    _f("source", pa.string(), "Publisher or feed title (or source domain)."),
    _f("title", pa.string(), "Headline."),
    _f("authors", pa.list_(pa.string()), "Authors, one per item."),
    _f("text", pa.string(), "Normalised article text; paragraphs separated by a blank line.", False),
    _f("published_at", _TS, "Publication time in UTC; null when unknown or implausible."),
    _f("language", pa.string(), "ISO 639-1 code detected offline from the text."),
    _f("word_count", pa.int32(), "Number of words in `text`.", False),
    _f("content_hash", pa.string(), "SHA-256 of `text`.", False),
    _f("input_path", pa.string(), "File or URL the record came from.", False),
    _f("input_format", pa.string(), "text | json | html | feed.", False),
    _f("record_index", pa.int32(), "Position of the record inside its input (0 for single-article files).", False),
    _f("dt_is_ingest_date", pa.bool_(), "True when `dt` is the ingest date because the publication date is unknown.", False),
    _f("ingested_at", _TS, "When the run started (UTC).", False),
    _f("near_duplicate_of", pa.string(),
       "article_id of the first-seen article this one's text copies (a syndicated or republished copy); null for "
       "an original (README: Stories)."),
    _f("story_id", pa.string(), "The story (incident) the article reports: `stories.story_id`; null without NLP "
       "(`--skip-nlp`, not English)."),
    _f("tone", pa.float32(), "Average VADER compound score of its sentences in [-1, 1] (a lexicon measure, weak on "
       "irony and negation); null without NLP."),
    _RUN,
    _DT,
])

ERRORS = pa.schema([
    _f("input_path", pa.string(), "File or URL the failing record came from.", False),
    _f("record_index", pa.int32(), "Position of the record in its input; null for file-level errors."),
    _f("stage", pa.string(), "read | parse | normalise | entities | events | fetch.", False),
    _f("error_type", pa.string(), "Short machine-readable kind, e.g. `invalid_json`, `empty_text`.", False),
    _f("message", pa.string(), "What went wrong, for a person.", False),
    _f("excerpt", pa.string(), "The start of the offending input (at most 500 characters)."),
    _f("article_id", pa.string(), "Article concerned, when known."),
    _f("ingested_at", _TS, "When the run started (UTC).", False),
    _RUN,
    _DT,
])

ENTITIES = pa.schema([
    _f("article_id", pa.string(), "Article the mention is in.", False),
    _f("entity_id", pa.string(), "Stable id from label and canonical name; equal across articles.", False),
    _f("text", pa.string(), "Surface form: `articles.text[start_char:end_char]`.", False),
    _f("canonical", pa.string(), "Resolved canonical name.", False),
    _f("label", pa.string(), "OntoNotes label: PERSON, ORG, GPE, LOC, NORP, FAC, DATE, ...", False),
    _f("start_char", pa.int32(), "Start offset into `articles.text`.", False),
    _f("end_char", pa.int32(), "End offset (exclusive) into `articles.text`.", False),
    _f("sentence_index", pa.int32(), "Index of the sentence holding the mention."),
    _RUN,
    _DT,
])

EVENTS = pa.schema([
    _f("event_id", pa.string(), "Stable id of the event.", False),
    _f("article_id", pa.string(), "Article the event is reported in.", False),
    _f("event_type", pa.string(), "PLOVER event type (ASSAULT, COERCE, PROTEST, ...).", False),
    _f("mode", pa.string(), "PLOVER mode where the text says (firearms, arrest, ...)."),
    _f("quad_class", pa.string(), "Verbal/material cooperation/conflict."),
    _f("trigger", pa.string(), "Trigger words.", False),
    _f("trigger_start", pa.int32(), "Start offset of the trigger in `articles.text`.", False),
    _f("trigger_end", pa.int32(), "End offset of the trigger in `articles.text`.", False),
    _f("actor", pa.string(), "Actor surface text."),
    _f("actor_canonical", pa.string(), "Actor canonical name from the entities table."),
    _f("actor_entity_id", pa.string(), "Actor entity_id from the entities table."),
    _f("actor_country", pa.string(),
       "ISO 3166-1 alpha-3 country of the actor: its entity's, its nationality word's (\"Iraqi troops\"), else the "
       "country where the event happened (not for IGOs and NGOs)."),
    _f("actor_sector", pa.string(), "Actor sector: government | military | police | judiciary | legislature | party | "
       "rebels | opposition | protesters | labour | business | media | education | health | religious | civilians | "
       "criminals | igo | ngo (README: Actor sectors)."),
    _f("recipient", pa.string(), "Recipient (target) surface text."),
    _f("recipient_canonical", pa.string(), "Recipient canonical name."),
    _f("recipient_entity_id", pa.string(), "Recipient entity_id."),
    _f("recipient_country", pa.string(), "ISO 3166-1 alpha-3 country of the recipient (as `actor_country`)."),
    _f("recipient_sector", pa.string(), "Recipient sector (as `actor_sector`)."),
    _f("location", pa.string(), "Place name as the article gives it (its entity's canonical name)."),
    _f("country_code", pa.string(), "ISO 3166-1 alpha-2 code of the place."),
    _f("admin1", pa.string(), "First-level division (province, state, region) of the place, GeoNames' English name."),
    _f("latitude", pa.float64(), "Latitude from the offline gazetteer (see `location_precision`)."),
    _f("longitude", pa.float64(), "Longitude from the offline gazetteer."),
    _f("location_precision", pa.string(),
       "What the coordinates stand for: city (the town itself) | admin1 (a province or state, at its namesake or "
       "largest town) | country (at its capital) | point (reserved for coordinates the source gives; not produced yet); "
       "null without coordinates."),
    _f("location_source", pa.string(), "sentence | article: where the place was found."),
    _f("event_date", pa.date32(), "Date of the event resolved against the publication date."),
    _f("date_text", pa.string(), "The words that gave the date."),
    _f("sentence", pa.string(), "Evidence sentence.", False),
    _f("sentence_start", pa.int32(), "Start offset of the sentence.", False),
    _f("sentence_end", pa.int32(), "End offset of the sentence.", False),
    _f("negated", pa.bool_(), "The text says it did not happen.", False),
    _f("hypothetical", pa.bool_(), "Threatened, possible or conditional.", False),
    _f("future", pa.bool_(), "Announced for the future.", False),
    _f("confidence", pa.float32(), "Confidence in [0, 1].", False),
    _f("story_id", pa.string(), "The story of the event's article (`stories.story_id`)."),
    _RUN,
    _DT,
])

_ACTOR = pa.struct([pa.field("name", pa.string(), nullable=False), pa.field("country", pa.string()),
                    pa.field("sector", pa.string()), pa.field("events", pa.int32(), nullable=False)])

STORIES = pa.schema([
    _f("story_id", pa.string(), "Stable id of the story (from its first article's id).", False),
    _f("version", pa.int32(), "Grows by one with every run that adds articles to the story; the `stories` view of "
       "`newsbeam query` shows the latest version, `story_versions` all of them.", False),
    _f("first_seen", _TS, "Publication (else ingest) time of the story's first article.", False),
    _f("last_seen", _TS, "Publication (else ingest) time of its latest article.", False),
    _f("num_articles", pa.int32(), "Articles in the story, near-duplicates included.", False),
    _f("num_near_duplicates", pa.int32(), "Of those, copies of another article of the story.", False),
    _f("num_sources", pa.int32(), "Distinct sources of its original (not near-duplicate) articles.", False),
    _f("num_events", pa.int32(), "Asserted events (not negated, hypothetical or future) in its articles.", False),
    _f("event_type", pa.string(), "The most reported PLOVER event type."),
    _f("event_types", pa.list_(pa.string()), "Event types, most reported first (at most 3)."),
    _f("actors", pa.list_(_ACTOR), "Main actors (canonical name, ISO alpha-3 country, sector, events), most first "
       "(at most 3)."),
    _f("recipients", pa.list_(_ACTOR), "Main recipients, as `actors`."),
    _f("location", pa.string(), "The most reported event place."),
    _f("admin1", pa.string(), "Its first-level division."),
    _f("country_code", pa.string(), "Its ISO 3166-1 alpha-2 country."),
    _f("latitude", pa.float64(), "Its latitude."),
    _f("longitude", pa.float64(), "Its longitude."),
    _f("event_date_start", pa.date32(), "Earliest date of its asserted events."),
    _f("event_date_end", pa.date32(), "Latest date of its asserted events."),
    _f("headline", pa.string(), "Headline of the representative (first) article."),
    _f("article_id", pa.string(), "The representative (first) article.", False),
    _f("url", pa.string(), "Its URL."),
    _f("tone", pa.float32(), "Average `articles.tone` of its articles."),
    _RUN,
    _f("dt", pa.date32(), "Partition date: the day of `first_seen`, so every version of a story is in one partition.",
       False),
])

TABLES: Dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "entities": ENTITIES,
    "events": EVENTS,
    "errors": ERRORS,
    "stories": STORIES,
}


def file_schema(table: str) -> pa.Schema:
    """Schema of the Parquet files of ``table``: the logical schema without the partition column,
    with the table name and schema version in the file metadata."""
    schema = TABLES[table]
    schema = schema.remove(schema.get_field_index(PARTITION_COLUMN))
    return schema.with_metadata({
        b"newsbeam.table": table.encode(),
        b"newsbeam.schema_version": str(SCHEMA_VERSION).encode(),
    })


def empty_table(table: str) -> pa.Table:
    """An empty table with the file schema of ``table``."""
    return file_schema(table).empty_table()


def _type_name(typ: pa.DataType) -> str:
    if pa.types.is_timestamp(typ):
        return f"timestamp[{typ.unit}, {typ.tz}]"
    return str(typ)


def schema_markdown() -> str:
    """The README's table reference, generated from :data:`TABLES`."""
    out: List[str] = []
    for name, schema in TABLES.items():
        out.append(f"### `{name}`\n")
        out.append("| column | type | null | meaning |")
        out.append("|---|---|---|---|")
        for field in schema:
            doc = (field.metadata or {}).get(b"doc", b"").decode()
            out.append(f"| `{field.name}` | {_type_name(field.type)} | {'yes' if field.nullable else 'no'} | {doc} |")
        out.append("")
    return "\n".join(out)
