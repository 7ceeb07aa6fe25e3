"""``newsbeam compact ROOT [--table T] [--since DATE]``: merge small files per partition, atomically
(see :mod:`transforms.storage.compact` for the protocol that keeps concurrent readers exact)."""
from __future__ import annotations

import argparse
import time
from typing import List

from pipelines.common import iso_date, positive_int

__all__ = ["register", "main"]


def register(subparsers) -> None:
    import schemas
    from pipelines.common import add_logging_flags
    from transforms.storage.sink import DEFAULT_MAX_BYTES_PER_FILE, DEFAULT_MAX_ROWS_PER_FILE

    parser = subparsers.add_parser(
        "compact", help="Merge the small files of each partition of ROOT into files of a sensible size.",
        description="Merge each partition's small Parquet files (below half the target) into files of up to "
                    "the target size. Row counts do not change; a reader using newsbeam query or report during "
                    "compaction never sees a row twice or misses one; runs may commit meanwhile.")
    parser.add_argument("root", metavar="ROOT", help="Dataset root (local folder or fsspec URL).")
    parser.add_argument("--table", action="append", choices=list(schemas.TABLES), metavar="T",
                        help=f"Table to compact ({', '.join(schemas.TABLES)}); repeatable; default all.")
    parser.add_argument("--since", type=iso_date, metavar="DATE",
                        help="Only partitions with dt on or after DATE (YYYY-MM-DD).")
    parser.add_argument("--target-rows", type=positive_int, default=DEFAULT_MAX_ROWS_PER_FILE, metavar="N",
                        help=f"Most rows in a merged file (default {DEFAULT_MAX_ROWS_PER_FILE:,}).")
    parser.add_argument("--target-bytes", type=positive_int, default=DEFAULT_MAX_BYTES_PER_FILE, metavar="N",
                        help=f"Most bytes of input merged into one file (default {DEFAULT_MAX_BYTES_PER_FILE:,}).")
    parser.add_argument("--dry-run", action="store_true", help="Only print what would be merged.")
    parser.add_argument("--index", action="store_true",
                        help="Also rebuild the article-id index from the articles table (runs wait meanwhile).")
    add_logging_flags(parser)


def main(args: argparse.Namespace, extra_args: List[str]) -> int:
    import schemas
    from pipelines.common import check_dataset_command
    from transforms.storage.compact import compact, iter_summary
    from transforms.storage.locks import LockBusy

    check_dataset_command(args.root, extra_args)
    tables = args.table or list(schemas.TABLES)
    started = time.monotonic()
    try:
        results = compact(args.root, tables, since=args.since, target_rows=args.target_rows,
                          target_bytes=args.target_bytes, dry_run=args.dry_run)
    except LockBusy as exc:
        print(f"newsbeam: compaction not started: {exc}")
        return 1
    before = sum(r.files_before for r in results)
    after = sum(r.files_after for r in results)
    verb = "would compact" if args.dry_run else "compacted"
    print(f"newsbeam: {verb} {args.root}: {before} files -> {after} files, "
          f"{sum(r.rows for r in results)} rows unchanged, in {time.monotonic() - started:.1f}s")
    for line in iter_summary(results):
        print(line)
    if args.index and not args.dry_run:
        from transforms.storage.idindex import rebuild_index
        from transforms.storage.locks import run_lock

        with run_lock(args.root):
            n = rebuild_index(args.root)
        print(f"newsbeam: rebuilt the article-id index of {args.root}: {n} ids")
    return 0
