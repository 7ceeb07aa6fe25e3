"""``newsbeam report ROOT --out report.html``: a static, offline HTML page of charts (see
:mod:`transforms.report`)."""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import time
from typing import List

__all__ = ["register", "main"]


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="Write a static HTML report of ROOT (charts, map, errors).",
        description="Write one self-contained HTML page about the dataset at ROOT: articles and events per "
                    "day, event types over time, top actors and places, a map of geocoded events and the "
                    "error breakdown. It embeds everything it needs and can be opened offline.")
    parser.add_argument("root", metavar="ROOT", help="Dataset root (local folder or fsspec URL).")
    parser.add_argument("--out", metavar="FILE", required=True, help="The HTML file to write.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="More logging.")
    parser.add_argument("-q", "--quiet", action="store_true", help="Only warnings and the summary line.")


def main(args: argparse.Namespace, extra_args: List[str]) -> int:
    from pipelines.cli import UsageError
    from transforms.query import QueryError
    from transforms.report import collect, render
    from transforms.sink import _fs

    if extra_args:
        raise UsageError(f"unrecognized arguments: {' '.join(extra_args)}")
    fs, path = _fs(args.root)
    if not fs.isdir(path):
        raise UsageError(f"no dataset at {args.root}: not a folder")
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {args.out}: its folder does not exist")
    started = time.monotonic()
    try:
        data = collect(args.root)
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
