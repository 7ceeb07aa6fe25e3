"""``newsbeam stream FEED... --output ROOT --runner FlinkRunner|DataflowRunner ...``: the streaming pipeline.

PeriodicImpulse every ``--interval`` → fetch (one request at a time per host, validators in Beam
state) → stateful dedup in the global window (state expires ``--dedup-ttl`` after an entry was last
seen) → extract → fixed windows of ``--window`` → one atomic commit per window (see
``pipelines.streaming``). It needs a streaming runner; the local runners cannot run an unbounded
pipeline, so without ``--runner`` the command needs ``--ticks N`` (a bounded trial run with the
in-process runner: N polls, ``--interval`` apart in real time, windows written at the end).
"""
from __future__ import annotations

import argparse
import logging
import secrets
import time
from typing import Any, List

from pipelines.common import (
    UsageError,
    add_logging_flags,
    check_beam_args,
    check_spacy_model,
    duration,
    expand_patterns,
    positive_int,
    prepare_output,
)

_LOGGER = logging.getLogger("newsbeam")

__all__ = ["register", "main"]


def register(subparsers: Any) -> None:
    from pipelines.options import FetchOptions, add_nlp_args
    from transforms.inputs.readers import DEFAULT_MAX_FILE_BYTES
    from transforms.storage.sink import DEFAULT_MAX_ROWS_PER_FILE

    parser = subparsers.add_parser(
        "stream", help="Run the streaming pipeline (Flink, Dataflow) over FEED... into ROOT.",
        description="Poll FEED... every --interval with a streaming Beam pipeline; entries are deduplicated with "
                    "expiring state and written to ROOT once per --window.")
    parser.add_argument("feeds", nargs="+", metavar="FEED",
                        help="Feed URLs (http/https) or feed lists (@feeds.txt, subscriptions.opml), read at launch.")
    parser.add_argument("--output", "-o", dest="output", default=None,
                        help="Dataset root every worker can reach (gs://bucket/news on Dataflow).")
    FetchOptions._add_argparse_args(parser)
    parser.add_argument("--interval", type=duration, default=duration("15m"),
                        help="Time between two polls of every feed (default 15m).")
    parser.add_argument("--window", type=duration, default=duration("15m"),
                        help="Fixed window of the output: one commit per window (default 15m, like GDELT).")
    parser.add_argument("--dedup-ttl", "--dedup_ttl", dest="dedup_ttl", type=duration, default=duration("3d"),
                        help="How long an entry is remembered after it was last seen in a feed (default 3d).")
    parser.add_argument("--job-id", "--job_id", dest="job_id", default=None,
                        help="Id in the window run ids (<window start>-<job id>); default: random. Keep it when "
                             "updating a Dataflow job.")
    parser.add_argument("--ticks", type=positive_int, default=None, metavar="N",
                        help="Poll N times and stop (a bounded run; needed with the local runner).")
    parser.add_argument("--max-file-bytes", "--max_file_bytes", dest="max_file_bytes", type=positive_int,
                        default=DEFAULT_MAX_FILE_BYTES, help="Largest decompressed HTTP body.")
    parser.add_argument("--max-rows-per-file", "--max_rows_per_file", dest="max_rows_per_file", type=positive_int,
                        default=DEFAULT_MAX_ROWS_PER_FILE, help="Most rows in one output Parquet file.")
    add_nlp_args(parser)
    parser.add_argument("--runner", default=None,
                        help="A streaming runner: FlinkRunner or DataflowRunner, with its own options after it "
                             "(--setup_file ./setup.py for the workers).")
    add_logging_flags(parser, quiet_help="Only warnings.", verbose_help="More logging; -vv includes Beam's.")


def main(args: argparse.Namespace, beam_args: List[str]) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from pipelines.local_runner import make_runner
    from pipelines.options import fetch_settings_from_options
    from pipelines.streaming import build_stream, periodic_ticks
    from transforms.normalise.urls import is_url
    from transforms.storage.idindex import ensure_index
    from transforms.storage.sink import recover

    if not args.output:
        raise UsageError("--output ROOT is required")
    if args.interval <= 0 or args.window <= 0 or args.dedup_ttl <= 0:
        raise UsageError("--interval, --window and --dedup-ttl must be more than 0")
    check_beam_args(beam_args, "stream")
    local = args.runner is None
    if local and args.ticks is None:
        raise UsageError("the local runners cannot run an unbounded pipeline: give --runner FlinkRunner or "
                         "--runner DataflowRunner (README: 'Streaming on Flink and Dataflow'), or --ticks N for a "
                         "bounded local run")
    check_spacy_model(args)
    feeds = expand_patterns(args.feeds)
    not_urls = [f for f in feeds if not is_url(f)]
    if not_urls:
        raise UsageError(f"stream polls feed URLs only, not {not_urls[0]!r} (use 'newsbeam run' for files)")
    root = prepare_output(args.output)
    recover(root)
    ensure_index(root)

    flags = list(beam_args) + ([f"--runner={args.runner}"] if args.runner else [])
    options = PipelineOptions(flags)
    # Bounded local runs execute in batch mode (the in-process runner has no streaming mode).
    options.view_as(StandardOptions).streaming = not local
    fetch = fetch_settings_from_options(args, max_decompressed_bytes=args.max_file_bytes)
    job_id = args.job_id or secrets.token_hex(3)
    start = time.time()
    stop = start + args.ticks * args.interval - args.interval / 2 if args.ticks else None
    recorded = {"runner": args.runner or "FnApiRunner", "command": "stream", "interval": args.interval,
                "window": args.window, "dedup_ttl": args.dedup_ttl, "fetch_articles": bool(args.fetch_articles),
                "job_id": job_id, "nlp": not args.skip_nlp, "spacy_model": args.spacy_model}
    pipeline = beam.Pipeline(runner=make_runner(local), options=options)
    ticks = periodic_ticks(pipeline, start=start, interval=args.interval, stop=stop)
    build_stream(ticks, feeds, root=root, job_id=job_id, fetch=fetch, window=args.window, dedup_ttl=args.dedup_ttl,
                 fetch_articles=args.fetch_articles, max_rows_per_file=args.max_rows_per_file, options=recorded,
                 nlp=not args.skip_nlp, spacy_model=args.spacy_model, nlp_batch_size=args.nlp_batch_size,
                 # a bounded run shorter than the ttl never needs to forget an entry (and the local runners
                 # would fire every expiry between two polls)
                 expire_dedup=not (args.ticks and args.ticks * args.interval <= args.dedup_ttl))
    _LOGGER.info("stream %s: %d feeds every %gs, %gs windows -> %s", job_id, len(feeds), args.interval,
                 args.window, root)
    result = pipeline.run()
    if local or args.ticks:
        result.wait_until_finish()
        print(f"newsbeam stream: job {job_id} stopped after {args.ticks} polls; windows committed under {root}/_runs")
    else:
        print(f"newsbeam stream: job {job_id} submitted to {args.runner}; windows are committed under {root}/_runs")
    return 0
