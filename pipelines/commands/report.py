"""``newsbeam report ROOT --out report.html``: a static, offline HTML page of charts (see
:mod:`transforms.dataset.report`)."""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import time
from typing import List

__all__ = ["register", "main"]


def register(subparsers) -> None:
    from pipelines.common import add_logging_flags, iso_date

    parser = subparsers.add_parser(
        "report", help="Write a static HTML report of ROOT (charts, map, errors).",
        description="Write one self-contained HTML page about the dataset at ROOT: articles and events per "
                    "day, event types over time, top actors and places, a map of geocoded events, the top "
                    "stories of a period with their timeline, the average tone per day and the error breakdown. "
                    "It embeds everything it needs and can be opened offline.")
    parser.add_argument("root", metavar="ROOT", help="Dataset root (local folder or fsspec URL).")
    parser.add_argument("--out", metavar="FILE", required=True, help="The HTML file to write.")
    parser.add_argument("--since", type=iso_date, metavar="DATE",
                        help="Top stories: those with an article on or after DATE (default: the data's last week).")
    parser.add_argument("--until", type=iso_date, metavar="DATE",
                        help="Top stories: those with an article on or before DATE (default: the newest story's day).")
    add_logging_flags(parser, quiet_help="Only warnings and the summary line.")


def main(args: argparse.Namespace, extra_args: List[str]) -> int:
    from pipelines.common import check_dataset_command
    from transforms.dataset.query import QueryError
    from transforms.dataset.report import collect, render

    check_dataset_command(args.root, extra_args, args.out)
    started = time.monotonic()
    try:
        data = collect(args.root, since=args.since, until=args.until)
    except QueryError as exc:
        print(f"newsbeam: report failed: {exc}")
        return 1
    page = render(data, root=args.root, generated_at=_dt.datetime.now(_dt.timezone.utc))
    tmp = f"{args.out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.replace(tmp, args.out)
    print(f"newsbeam: wrote {args.out} ({len(page) // 1024} KiB) in {time.monotonic() - started:.1f}s")
    return 0
