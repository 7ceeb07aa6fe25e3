"""SQL over a newsbeam dataset with DuckDB (embedded, no server).

:class:`Dataset` opens a DuckDB connection with one view per table of :data:`schemas.TABLES`
(``articles``, ``entities``, ``events``, ``errors``, ``stories``), ``dt`` typed as DATE from the hive folder
names. ``stories`` holds a row per version of a story: its view shows the latest version of each, and
``story_versions`` all of them. Each view reads an explicit list of committed files
(:func:`transforms.storage.compact.snapshot_files`: never ``_staging``, never a row twice while a
compaction swaps files), preceded by an empty file holding the table's full current schema. So:

* a table without files yet is an empty view with every column, and queries over it work;
* the schema comes from ``schemas``, not from whichever file is first: columns are read by name;
* a ``dt`` filter prunes files by their folder name before any is opened (the file list is not
  read with ``union_by_name``, which would open every file's footer while binding).

Files written before a table gained a column lack it; DuckDB then reports a schema mismatch, and
the views are rebuilt with ``union_by_name`` (every footer is read, missing columns are null).
``newsbeam compact`` rewrites old files in the current schema, which restores the fast path.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

import schemas
from transforms.storage.compact import snapshot_files
from transforms.storage.fs import filesystem

_LOGGER = logging.getLogger(__name__)

__all__ = ["Dataset", "QueryError", "VERSIONED", "run_query", "render_table", "write_result", "explain_files_read", "FORMATS"]

FORMATS = ("table", "csv", "json", "jsonl", "ndjson", "parquet")
"""As DuckDB's CLI: ``json`` is one JSON array, ``jsonl`` and ``ndjson`` one object per line."""
VERSIONED = {"stories": "story_versions"}
"""Tables written as versioned rows -> the view of every version; the table's own view shows the latest
version of each story (a run adds a version; readers never see a story half updated)."""
_SCHEMA_DT = "1970-01-01"


class QueryError(Exception):
    """The SQL failed; ``str()`` is one line."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= 500 else first[:497] + "..."


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Dataset:
    """A DuckDB connection with the dataset's views; use as a context manager.

    ``root`` is a local folder or any fsspec URL (the file system is registered with DuckDB).
    DuckDB never installs or loads extensions here, so nothing goes to the network.
    """

    def __init__(self, root: str, *, tables: Sequence[str] = tuple(schemas.TABLES), retries: int = 20):
        self.root = root.rstrip("/") or root
        self._tables = tuple(tables)
        self._retries = retries
        self._tmp = tempfile.TemporaryDirectory(prefix="newsbeam-query-")
        self.con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                          "autoload_known_extensions": False})
        fs, _ = filesystem(self.root)
        if not isinstance(fs, fsspec.implementations.local.LocalFileSystem):
            self.con.register_filesystem(fs)
        self._schema_files = {t: self._write_schema_file(t) for t in self._tables}
        self.union_by_name = False
        self.files: Dict[str, List[str]] = {}
        self.refresh()

    def _write_schema_file(self, table: str) -> str:
        folder = os.path.join(self._tmp.name, table, f"dt={_SCHEMA_DT}")
        os.makedirs(folder)
        path = os.path.join(folder, "_schema.parquet")
        pq.write_table(schemas.empty_table(table), path)
        return path

    def refresh(self) -> None:
        """(Re)create the views over the files committed now."""
        for table in self._tables:
            files = snapshot_files(self.root, table)
            self.files[table] = files
            listing = ", ".join(_sql_string(f) for f in [self._schema_files[table], *files])
            view = VERSIONED.get(table, table)
            self.con.execute(
                f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM read_parquet([{listing}], "
                f"hive_partitioning = true, hive_types = {{'dt': 'DATE'}}, "
                f"union_by_name = {'true' if self.union_by_name else 'false'})")
            if view != table:  # the latest version of each row
                self.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {view} "
                    f"QUALIFY row_number() OVER (PARTITION BY story_id ORDER BY version DESC) = 1")

    def _vanished(self) -> bool:
        fs, _ = filesystem(self.root)
        return any(not fs.exists(f) for files in self.files.values() for f in files)

    def sql(self, query: str) -> pa.Table:
        """Run ``query`` (one or more statements) and return the last result as an Arrow table.

        Raises :class:`QueryError` with one line for a bad query. A file removed between listing
        and reading (a compaction finishing a swap) makes it list the files again and rerun.
        """
        for attempt in range(self._retries + 1):
            try:
                relation = self.con.sql(query)
                return pa.table({}) if relation is None else relation.to_arrow_table()
            except duckdb.Error as exc:
                message = str(exc)
                if not self.union_by_name and "schema mismatch" in message:
                    _LOGGER.info("files of an older schema version: reading every footer (union_by_name)")
                    self.union_by_name = True
                elif isinstance(exc, duckdb.IOException) and attempt < self._retries and self._vanished():
                    _LOGGER.debug("a file vanished while reading (compaction); listing again")
                    time.sleep(0.01 * (attempt + 1))
                else:
                    raise QueryError(_one_line(exc)) from exc
                self.refresh()
        raise QueryError("the dataset kept changing while it was read; try again")

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()

    def __enter__(self) -> "Dataset":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_query(root: str, query: str) -> pa.Table:
    """``query`` over the dataset at ``root`` (see :class:`Dataset`)."""
    with Dataset(root) as ds:
        return ds.sql(query)


def _cell(value, max_width: int) -> str:
    if value is None:
        text = "NULL"
    elif isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, _dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    text = " ".join(text.split()) if ("\n" in text or "\t" in text or "\r" in text) else text
    return text if len(text) <= max_width else text[:max_width - 1] + "…"


def render_table(table: pa.Table, *, max_width: int = 60, max_rows: Optional[int] = None) -> str:
    """An aligned text table (numbers right-aligned), ``NULL`` for nulls, long cells cut with ``…``,
    and a final ``(N rows)`` line. Pure: the result of a query in, text out."""
    names = table.column_names
    if not names:
        return "(no result)"
    shown = table if max_rows is None else table.slice(0, max_rows)
    rows = shown.to_pylist()
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
               for t in table.schema.types]
    cells = [[_cell(row[n], max_width) for n in names] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]

    def line(values: List[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    more = table.num_rows - len(rows)
    out.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''}"
               + (f", {more} not shown; use --format csv" if more else "") + ")")
    return "\n".join(out)


def write_result(table: pa.Table, fmt: str, path: str) -> None:
    """Write a query result to ``path`` as ``csv`` (header, lists as ``[a, b]``), ``json`` (one JSON
    array of objects, as DuckDB's CLI prints ``json``), ``jsonl`` / ``ndjson`` (JSON Lines: one object per
    row) or ``parquet`` (zstd), with DuckDB's writers."""
    options = {"csv": "FORMAT csv, HEADER true", "json": "FORMAT json, ARRAY true", "jsonl": "FORMAT json",
               "ndjson": "FORMAT json", "parquet": "FORMAT parquet, COMPRESSION zstd"}
    if fmt not in options:
        raise ValueError(f"unknown format {fmt!r}")
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        con.register("newsbeam_result", table)
        con.execute(f"COPY newsbeam_result TO {_sql_string(path)} ({options[fmt]})")
    finally:
        con.close()


def explain_files_read(ds: Dataset, query: str) -> int:
    """How many Parquet files DuckDB opened to answer ``query`` (from EXPLAIN ANALYZE), the empty
    schema file included when it was not pruned."""
    text = "\n".join(str(row[-1]) for row in ds.con.execute("EXPLAIN ANALYZE " + query).fetchall())
    counts = [int(n) for n in re.findall(r"Total Files Read:\s*(\d+)", text)]
    if not counts:
        raise ValueError("EXPLAIN ANALYZE did not report files read:\n" + text)
    return sum(counts)

