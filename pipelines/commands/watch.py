"""``newsbeam watch FEED... --output ROOT --interval 15m [--once]``: the batch pipeline on a timer.

Every tick runs the same pipeline as ``newsbeam run`` (``pipelines.batch.build_batch``, in-process
``FnApiRunner`` unless ``--runner``) over the feeds that are due, and prints one summary line. What
makes repeated ticks safe:

* only new articles are written: dedup is against ROOT (tracking parameters do not make a new
  article, see ``transforms.normalise.urls``);
* each tick is one atomic run (``transforms.storage.sink``); the conditional-GET validators it received
  only count once it has committed (``transforms.fetch.state``), so a tick killed at any moment
  (even SIGKILL) loses nothing: the next start rolls an interrupted commit forward and fetches
  the feeds of the lost tick again; dedup drops what did get committed;
* a feed that keeps failing (fetch error, or a body that is not a readable feed) backs off per
  feed: after n failures in a row it is skipped for ``interval * (2**(n-1) - 1)`` (at most
  ``--max-backoff``), while the others are fetched as usual (state: ``ROOT/_state/feeds.json``);
* SIGINT / SIGTERM: the tick in flight finishes and commits, then the command exits 0; a second
  signal aborts the tick at once, which leaves nothing visible (its files stay staged).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import logging
import signal
import sys
import time
from typing import Any, Dict, List, Tuple

from pipelines.common import (
    UsageError,
    add_logging_flags,
    check_beam_args,
    check_spacy_model,
    duration,
    expand_patterns,
    pipeline_options,
    prepare_output,
)

_LOGGER = logging.getLogger("newsbeam")

__all__ = ["register", "main", "Stopper", "run_tick", "feed_failures"]


def register(subparsers: Any) -> None:
    from pipelines.options import FetchOptions, NewsbeamOptions

    parser = subparsers.add_parser(
        "watch", help="Poll feeds every --interval and ingest what is new into ROOT.",
        description="Run the ingestion pipeline over FEED... every --interval: only new articles are written, "
                    "one summary line per tick. Stop with Ctrl-C or SIGTERM (the tick in flight finishes).")
    parser.add_argument("feeds", nargs="+", metavar="FEED",
                        help="Feed URLs (http/https), feed lists (@feeds.txt: one URL per line, # comments; "
                             "subscriptions.opml), or any `run` input (files, folders, globs).")
    NewsbeamOptions._add_argparse_args(parser)
    FetchOptions._add_argparse_args(parser)
    parser.add_argument("--interval", type=duration, default=duration("15m"),
                        help="Time from the start of one tick to the start of the next, e.g. 15m, 1h, 30s "
                             "(default 15m). A tick that takes longer is followed at once by the next.")
    parser.add_argument("--once", action="store_true", help="Run one tick and exit (for cron and systemd timers).")
    parser.add_argument("--ticks", type=int, default=0, metavar="N", help="Stop after N ticks (default: never).")
    parser.add_argument("--max-backoff", "--max_backoff", dest="max_backoff", type=duration,
                        default=duration("24h"), help="Longest pause for a feed that keeps failing (default 24h).")
    parser.add_argument("--runner", default=None,
                        help="Beam runner for each tick (default: the in-process FnApiRunner).")
    add_logging_flags(parser, quiet_help="Only warnings and the summary lines.",
                      verbose_help="More logging; -vv includes Beam's.")


class Stopper:
    """SIGINT/SIGTERM handling: the first signal asks to stop after the current tick; the second
    raises KeyboardInterrupt (abort: the tick's staged files stay invisible)."""

    def __init__(self):
        self.requested = False
        self._previous: Dict[int, Any] = {}

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(f"newsbeam watch: {signal.Signals(signum).name}: stopping after the current tick "
              f"(send it again to abort the tick)", file=sys.stderr, flush=True)

    def __enter__(self) -> "Stopper":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def sleep_until(self, deadline: float) -> None:
        """Sleep until ``deadline`` (monotonic) or a stop request, in short steps."""
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.1, left))


def feed_failures(root: str, manifest: Dict, feeds: List[str]) -> Dict[str, str]:
    """Feed URL -> message for the feeds whose whole input failed in a committed run (an error row
    without record_index: not fetched, empty, not a feed, malformed XML)."""
    import fsspec
    import pyarrow.parquet as pq

    wanted = set(feeds)
    failed: Dict[str, str] = {}
    for entry in manifest.get("files", []):
        if entry["table"] != "errors":
            continue
        with fsspec.open(entry["path"], "rb") as fh:
            rows = pq.read_table(fh, columns=["input_path", "record_index", "error_type", "message"]).to_pylist()
        for row in rows:
            if row["record_index"] is None and row["input_path"] in wanted:
                failed[row["input_path"]] = f"{row['error_type']}: {row['message']}"
    return failed


def _metric(result, name: str) -> int:
    try:
        from apache_beam.metrics.metric import MetricsFilter

        counters = result.metrics().query(MetricsFilter().with_name(name))["counters"]
        return sum(int(c.committed or c.attempted or 0) for c in counters)
    except Exception:  # metrics are for the summary line only
        return 0


def _nlp_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    """The entity/event options of ``run`` (``--skip-nlp``, ``--spacy-model``, ``--nlp-batch-size``),
    passed on to ``build_batch`` when the options define them."""
    if not hasattr(args, "skip_nlp"):
        return {}
    return {"nlp": not args.skip_nlp, "spacy_model": args.spacy_model, "nlp_batch_size": args.nlp_batch_size}


def run_tick(args: argparse.Namespace, beam_args: List[str], root: str, tick: int) -> Tuple[int, str]:
    """One tick: run the pipeline over the due feeds; returns (exit status, summary line).

    A tick is a run like ``newsbeam run``: it holds ROOT's run lock from recovery to the commit
    and the backoff update, so a ``newsbeam run`` (or another watch) on the same ROOT waits its
    turn instead of writing an article both of them think is new."""
    from transforms.storage.locks import run_lock

    def waiting(holder: str) -> None:
        _LOGGER.warning("tick %d waits for the run holding %s/_locks/run.lock (%s)", tick, root, holder)

    with run_lock(root, on_wait=waiting):
        return _run_tick(args, beam_args, root, tick)


def _run_tick(args: argparse.Namespace, beam_args: List[str], root: str, tick: int) -> Tuple[int, str]:
    import apache_beam as beam

    from pipelines.batch import build_batch
    from pipelines.local_runner import make_runner
    from pipelines.options import fetch_settings_from_options
    from transforms.fetch.state import compact_validators, due_feeds, load_backoff, save_backoff, update_backoff
    from transforms.normalise.urls import is_url
    from transforms.storage.idindex import INDEX_DIR, ensure_index, merge_buckets
    from transforms.storage.manifest import new_run_id
    from transforms.storage.sink import load_manifest, recover
    from transforms.stories.state import prune_states

    started = time.monotonic()
    recover(root)
    ensure_index(root)
    feeds = expand_patterns(args.feeds)
    urls = [f for f in feeds if is_url(f)]
    now = _dt.datetime.now(_dt.timezone.utc)
    backoff = load_backoff(root)
    due_urls, waiting = due_feeds(urls, backoff, now)
    inputs = [f for f in feeds if not is_url(f) or f in due_urls]
    prefix = f"newsbeam watch: tick {tick}"
    if not inputs:
        return 0, f"{prefix}: nothing due, {len(waiting)} feeds backing off"

    run_id = new_run_id(now)
    options = pipeline_options(list(beam_args) + [f"--output={root}"], args.runner, args.workers)
    fetch = fetch_settings_from_options(args, max_decompressed_bytes=args.max_file_bytes)
    recorded = {"runner": args.runner or "FnApiRunner", "workers": args.workers, "command": "watch",
                "tick": tick, "fetch_articles": bool(args.fetch_articles), "backing_off": waiting,
                "max_file_bytes": args.max_file_bytes, "max_line_bytes": args.max_line_bytes,
                "max_rows_per_file": args.max_rows_per_file}
    nlp = _nlp_kwargs(args)
    recorded.update({k: v for k, v in nlp.items()})
    pipeline = beam.Pipeline(runner=make_runner(args.runner is None), options=options)
    build_batch(pipeline, inputs, root=root, run_id=run_id, ingested_at=now, options=recorded,
                 max_file_bytes=args.max_file_bytes, max_line_bytes=args.max_line_bytes,
                max_rows_per_file=args.max_rows_per_file, fetch=fetch, fetch_articles=bool(args.fetch_articles),
                **nlp)
    result = pipeline.run()
    result.wait_until_finish()
    manifest = load_manifest(root, run_id)
    if manifest is None:
        raise RuntimeError(f"tick {tick} finished but wrote no manifest under {root}/_runs")
    # The run has committed: its validators may now be trusted, and its failures counted.
    compact_validators(root)
    prune_states(root)  # the story states before the previous one
    merge_buckets(root, {f["dt"] for f in manifest["files"] if f["table"] == INDEX_DIR and f["dt"]})
    failed = feed_failures(root, manifest, due_urls)
    after = _dt.datetime.now(_dt.timezone.utc)
    save_backoff(root, update_backoff(backoff, due_urls, failed, after, base=args.interval, cap=args.max_backoff))

    c = manifest["counts"]
    dup = c["duplicates_by_reason"]
    not_modified = _metric(result, "feeds_not_modified")
    check = "ok" if c["balanced"] else "MISMATCH"
    stages = ", ".join(f"{k} {v}" for k, v in c["errors_by_stage"].items()) or "none"
    line = (f"{prefix} run {run_id}: {len(due_urls)} feeds ({not_modified} not modified, {len(failed)} failed, "
            f"{len(waiting)} backing off), {c['records_read']} records -> {c['articles']} new articles, "
            f"{dup.get('in_root', 0)} already in ROOT, {dup.get('in_run', 0)} repeated, {c['record_errors']} "
            f"record errors; {c.get('near_duplicates', 0)} near-duplicates, {manifest['tables'].get('stories', 0)} "
            f"stories ({c.get('stories_new', 0)} new); error rows: {stages}; {time.monotonic() - started:.1f}s [{check}]")
    return (0 if c["balanced"] else 1), line


def main(args: argparse.Namespace, beam_args: List[str]) -> int:
    from transforms.fetch.state import compact_validators
    from transforms.storage.sink import recover

    if not args.output:
        raise UsageError("--output ROOT is required")
    if args.run_id:
        raise UsageError("--run-id does not apply to watch: every tick is a run with its own id")
    if args.interval <= 0:
        raise UsageError("--interval must be more than 0")
    if args.ticks < 0:
        raise UsageError("--ticks must be >= 0")
    check_beam_args(beam_args, "watch")
    expand_patterns(args.feeds)  # bad lists and missing files fail now, with one line
    check_spacy_model(args)
    root = prepare_output(args.output)
    recover(root)
    compact_validators(root)

    status = 0
    tick = 0
    with Stopper() as stopper:
        while not stopper.requested:
            tick += 1
            tick_start = time.monotonic()
            try:
                code, line = run_tick(args, beam_args, root, tick)
            except UsageError:
                raise
            except Exception as exc:  # one failed tick (ROOT briefly unreachable...) does not end the watch
                if args.verbose:
                    _LOGGER.exception("tick %d failed", tick)
                code, line = 1, f"newsbeam watch: tick {tick} failed: {type(exc).__name__}: {exc}"
            print(line, flush=True)
            status = max(status, code)
            if args.once or (args.ticks and tick >= args.ticks):
                break
            stopper.sleep_until(tick_start + args.interval)
    return status if (args.once or args.ticks) else 0
