"""``newsbeam stories ROOT [--rebuild [--since DATE]]``: the story state of a dataset, or a rebuild of
its stories from the tables (see :mod:`transforms.stories.rebuild`)."""
from __future__ import annotations

import argparse
import logging
import time
from typing import Any, List

from pipelines.common import add_logging_flags, check_dataset_command, iso_date

_LOGGER = logging.getLogger("newsbeam")

__all__ = ["register", "main"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stories", help="Show ROOT's story state, or rebuild its stories from the tables (--rebuild).",
        description="Without --rebuild: what the story clustering carries between runs. With --rebuild: "
                    "cluster the articles again from their entity and event rows, from an empty state, and "
                    "rewrite the story columns of articles and events, the stories table and the state. "
                    "Runs on ROOT wait meanwhile.")
    parser.add_argument("root", metavar="ROOT", help="Dataset root (local folder or fsspec URL).")
    parser.add_argument("--rebuild", action="store_true", help="Recompute the stories from the tables.")
    parser.add_argument("--since", type=iso_date, metavar="DATE",
                        help="With --rebuild: only the articles with dt on or after DATE (older ones keep their "
                             "stories; a story spanning DATE is split).")
    add_logging_flags(parser, quiet_help="Only warnings and the summary line.")


def main(args: argparse.Namespace, extra_args: List[str]) -> int:
    from pipelines.common import UsageError
    from transforms.storage.locks import LockBusy, run_lock
    from transforms.storage.sink import recover
    from transforms.stories.rebuild import rebuild_stories
    from transforms.stories.state import load_state, state_dirs

    check_dataset_command(args.root, extra_args)
    if args.since and not args.rebuild:
        raise UsageError("--since goes with --rebuild")
    root = args.root.rstrip("/") or args.root
    if not args.rebuild:
        dirs = state_dirs(root)
        if not dirs:
            print(f"newsbeam stories: {root} has no story state yet (runs with NLP make one)")
            return 0
        state = load_state(root)
        c = state.clusterer
        print(f"newsbeam stories: state {state.sequence} of run {state.run_id}: {len(c.stories)} open stories, "
              f"{len(c.copies)} copy signatures, {c.seen_docs} articles seen, {len(c.seen)} words counted")
        return 0
    started = time.monotonic()
    with run_lock(root, on_wait=lambda holder: _LOGGER.warning("waiting for the run holding %s/_locks/run.lock "
                                                                "(%s)", root, holder)):
        recover(root)
        try:
            result = rebuild_stories(root, since=args.since)
        except LockBusy as exc:
            raise UsageError(str(exc)) from exc
    print(f"newsbeam stories: rebuilt {result.stories} stories from {result.articles} articles "
          f"({result.near_duplicates} near-duplicates), {result.partitions} partitions rewritten, as run "
          f"{result.run_id} in {time.monotonic() - started:.1f}s")
    return 0
