"""``newsbeam query ROOT "SQL"``: DuckDB over the dataset's views (see :mod:`transforms.dataset.query`)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from typing import List

_LOGGER = logging.getLogger("newsbeam")

__all__ = ["register", "main"]


def register(subparsers) -> None:
    from pipelines.common import add_logging_flags

    parser = subparsers.add_parser(
        "query", help="Run SQL over ROOT (views articles, entities, events, errors, stories).",
        description="Run SQL with DuckDB over the dataset at ROOT. The views articles, entities, events, "
                    "errors and stories (the latest version of each story; story_versions: all) have every "
                    "column of their schema and dt typed as DATE; a table without files yet is an empty view. "
                    "A filter on dt reads only the files of the matching days.")
    parser.add_argument("root", metavar="ROOT", help="Dataset root (local folder or fsspec URL).")
    parser.add_argument("sql", metavar="SQL", help="The query; several statements may be separated by ';', "
                                                     "the last one's result is printed.")
    # transforms.dataset.query.FORMATS (not imported here: it loads DuckDB, and every command builds this parser)
    parser.add_argument("--format", choices=("table", "csv", "json", "jsonl", "ndjson", "parquet"), default="table",
                        help="table: aligned text (default); csv: with a header; json: one JSON array; jsonl or "
                             "ndjson: JSON Lines, one object per row (as DuckDB's CLI); parquet: needs --out.")
    parser.add_argument("--out", metavar="FILE", help="Write the result to FILE instead of standard output.")
    parser.add_argument("--max-rows", type=int, default=1000, metavar="N",
                        help="Most rows printed by --format table (default 1000; 0 for all).")
    parser.add_argument("--max-width", type=int, default=60, metavar="N",
                        help="Longest cell printed by --format table, longer ones are cut (default 60).")
    add_logging_flags(parser, quiet_help="Only warnings.")


def main(args: argparse.Namespace, extra_args: List[str]) -> int:
    from pipelines.common import UsageError, check_dataset_command
    from transforms.dataset.query import Dataset, QueryError, render_table, write_result

    if args.format == "parquet" and not args.out:
        raise UsageError("--format parquet needs --out FILE")
    if args.max_rows < 0 or args.max_width < 5:
        raise UsageError("--max-rows must be >= 0 and --max-width >= 5")
    check_dataset_command(args.root, extra_args, args.out)

    try:
        with Dataset(args.root) as ds:
            result = ds.sql(args.sql)
    except QueryError as exc:
        print(f"newsbeam: query failed: {exc}", file=sys.stderr)
        return 1
    if args.format == "table":
        text = render_table(result, max_width=args.max_width, max_rows=args.max_rows or None) + "\n"
        if args.out:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
        return 0
    if args.out:
        write_result(result, args.format, args.out)
        _LOGGER.info("wrote %d rows to %s", result.num_rows, args.out)
        return 0
    with tempfile.TemporaryDirectory(prefix="newsbeam-query-") as tmp:
        path = os.path.join(tmp, f"result.{args.format}")
        write_result(result, args.format, path)
        with open(path, encoding="utf-8") as fh:
            sys.stdout.write(fh.read())
    return 0
