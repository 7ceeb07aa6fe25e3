"""``newsbeam run INPUT... --output ROOT``: one batch run (see :mod:`pipelines.batch`).

Validates the command line, takes ROOT's run lock, rolls forward what a killed run left, runs the
pipeline, folds the run's HTTP validators into ROOT's state and prints the summary. Exit status 0
when the counts add up, 1 when they do not.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import logging
import time
from typing import Any, Dict, List

from pipelines.common import (
    UsageError,
    absolute_inputs,
    add_logging_flags,
    check_beam_args,
    check_spacy_model,
    expand_patterns,
    pipeline_options,
    prepare_output,
    warn_local_paths,
)

_LOGGER = logging.getLogger("newsbeam")

__all__ = ["register", "main", "summary"]


def register(subparsers: Any) -> None:
    # pipelines.options also defines FetchOptions: the fetch flags (--fetch-timeout, ...) are left
    # to Beam's parser, which then knows them (check_beam_args rejects misspelled ones).
    from pipelines.options import NewsbeamOptions

    parser = subparsers.add_parser("run", help="Ingest INPUT... into the dataset at --output.",
                                   description="Ingest files, folders, globs and feed files into ROOT.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="Files, directories (recursive), globs or fsspec URLs (memory://, gs://, ...).")
    NewsbeamOptions._add_argparse_args(parser)
    parser.add_argument("--runner", default=None,
                        help="Beam runner (default: the in-process FnApiRunner). Any Beam runner works, e.g. "
                             "DataflowRunner or FlinkRunner, with its own options after it.")
    add_logging_flags(parser, verbose_help="More logging; -vv includes Beam's.")


def summary(manifest: Dict[str, Any], root: str, seconds: float) -> str:
    """The lines printed at the end of a run: what it wrote and whether the counts add up."""
    c = manifest["counts"]
    dup = c["duplicates_by_reason"]
    stages = ", ".join(f"{k} {v}" for k, v in c["errors_by_stage"].items()) or "none"
    check = "ok" if c["balanced"] else "MISMATCH"
    t = manifest.get("tables", {})
    return (f"newsbeam: run {manifest['run_id']} wrote {c['articles']} articles, {t.get('entities', 0)} entities, "
            f"{t.get('events', 0)} events and {c['errors']} error rows to {root} in {seconds:.1f}s\n"
            f"  {c['files']} files, {c['records_read']} records read = {c['articles']} articles + "
            f"{c['record_errors']} errors + {c['duplicates']} duplicates "
            f"({dup.get('in_run', 0)} within the run, {dup.get('in_root', 0)} already in ROOT) [{check}]\n"
            f"  errors by stage: {stages}; not English (no entities/events): {c.get('entities_skipped_language', 0)}\n"
            f"  {c.get('near_duplicates', 0)} near-duplicates, {t.get('stories', 0)} stories "
            f"({c.get('stories_new', 0)} new)")


def main(args: argparse.Namespace, beam_args: List[str]) -> int:
    """Validate, take ROOT's run lock, recover, run the pipeline, print the summary."""
    from transforms.runtime.gcpause import gc_paused

    with gc_paused():
        import apache_beam as beam

        from pipelines.batch import build_batch
        from pipelines.local_runner import make_runner
        from pipelines.options import FetchOptions, fetch_settings_from_options
        from transforms.fetch.state import compact_validators
        from transforms.storage.idindex import INDEX_DIR, ensure_index, merge_buckets
        from transforms.storage.locks import run_lock
        from transforms.storage.manifest import new_run_id
        from transforms.storage.sink import load_manifest, recover, remove_orphans
        from transforms.stories.state import prune_states

    if not args.output:
        raise UsageError("--output ROOT is required")
    check_beam_args(beam_args, "run")
    expand_patterns(args.inputs)  # missing files and bad feed lists fail now, with one line (as the user wrote them)
    inputs = absolute_inputs(args.inputs)  # workers may run in another folder (portable runners)
    warn_local_paths(inputs + [args.output], args.runner)
    check_spacy_model(args)
    root = prepare_output(args.output)
    # Runs on one ROOT take turns (see transforms.storage.locks.run_lock): recovery, deduplication
    # against ROOT and the commit then always see every earlier run complete.
    with run_lock(root, on_wait=lambda holder: _LOGGER.warning("waiting for the run holding %s/_locks/run.lock "
                                                                "to finish (%s)", root, holder)):
        recover(root)
        remove_orphans(root)
        ensure_index(root)  # a committed run missing from the id index (an older version wrote it): rebuild

        ingested_at = _dt.datetime.now(_dt.timezone.utc)
        run_id = args.run_id or new_run_id(ingested_at)
        options = pipeline_options(beam_args, args.runner, args.workers)
        fetch = fetch_settings_from_options(options, max_decompressed_bytes=args.max_file_bytes)
        recorded = {"runner": args.runner or "FnApiRunner", "workers": args.workers,
                    "max_file_bytes": args.max_file_bytes, "max_line_bytes": args.max_line_bytes,
                    "max_rows_per_file": args.max_rows_per_file, "nlp": not args.skip_nlp,
                    "spacy_model": args.spacy_model, "nlp_batch_size": args.nlp_batch_size}
        _LOGGER.info("run %s: %d input(s) -> %s", run_id, len(inputs), root)
        started = time.monotonic()
        pipeline = beam.Pipeline(runner=make_runner(args.runner is None, "DEBUG" if args.verbose > 1 else "WARNING"),
                                 options=options)
        build_batch(pipeline, inputs, root=root, run_id=run_id, ingested_at=ingested_at, options=recorded,
                    max_file_bytes=args.max_file_bytes, max_line_bytes=args.max_line_bytes,
                    max_rows_per_file=args.max_rows_per_file, nlp=not args.skip_nlp, spacy_model=args.spacy_model,
                    nlp_batch_size=args.nlp_batch_size, fetch=fetch,
                    fetch_articles=bool(options.view_as(FetchOptions).fetch_articles))
        result = pipeline.run()
        result.wait_until_finish()
        manifest = load_manifest(root, run_id)
        if manifest is None:
            raise RuntimeError(f"the run finished but wrote no manifest under {root}/_runs")
        compact_validators(root)  # fold this run's HTTP validators into ROOT/_state/http.json
        merge_buckets(root, {f["dt"] for f in manifest["files"] if f["table"] == INDEX_DIR and f["dt"]})
        prune_states(root)  # the story states before the previous one
        print(summary(manifest, root, time.monotonic() - started))
    return 0 if manifest["counts"]["balanced"] else 1
