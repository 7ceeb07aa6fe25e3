"""The ``newsbeam`` command line.

Bad command lines and unusable outputs end with one line on stderr and exit code 2; a run that
fails while running ends with one line and exit code 1 (``--verbose`` adds the traceback).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import logging
import shlex
import sys
import time
from typing import Dict, List, Optional, Sequence

_LOGGER = logging.getLogger("newsbeam")

__all__ = ["main", "entry", "run_command", "UsageError"]


class UsageError(Exception):
    """A problem with the command line or the environment, reported as one line (exit 2)."""


def add_logging_flags(parser: argparse.ArgumentParser, quiet_help: str = "Only warnings and the summary.",
                      verbose_help: str = "More logging.") -> None:
    """``-v/--verbose`` (count) and ``-q/--quiet``, the same on every command (``main`` reads
    them from ``argv`` before parsing, so logging is set up before Beam is imported)."""
    parser.add_argument("-v", "--verbose", action="count", default=0, help=verbose_help)
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet_help)


def check_dataset_command(root: str, extra_args: Sequence[str], out: Optional[str] = None) -> None:
    """The checks of the commands that read a dataset (query, compact, report): no unknown
    arguments, ``root`` is an existing folder (any fsspec URL), ``out``'s folder exists.
    Raises :class:`UsageError` with one line."""
    import os

    from transforms.storage.sink import _fs

    if extra_args:
        raise UsageError(f"unrecognized arguments: {' '.join(extra_args)}")
    try:
        fs, path = _fs(root)
        exists = fs.isdir(path)
    except (ImportError, ValueError, OSError) as exc:
        raise UsageError(f"cannot read {root}: {exc}")
    if not exists:
        raise UsageError(f"no dataset at {root}: not a folder")
    if out and not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        raise UsageError(f"cannot write {out}: its folder does not exist")


def check_spacy_model(args: argparse.Namespace) -> None:
    """Unless ``--skip-nlp``: the ``--spacy-model`` package (or the default) is installed, else
    :class:`UsageError` with one line (nothing is downloaded at run time)."""
    if getattr(args, "skip_nlp", True):  # no NLP flags on the command: nothing to check
        return
    import importlib.util

    from transforms.nlp.entities import resolve_model_name

    model = resolve_model_name(args.spacy_model)
    if importlib.util.find_spec(model) is None:
        raise UsageError(f"spaCy model {model!r} is not installed (pip install it, or use --skip-nlp)")


class _DropNoise(logging.Filter):
    """Beam logs an 'apitools not found' warning at import; it means nothing for newsbeam."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Logging for the CLI; call before importing Beam (Beam installs a root handler otherwise)."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(_DropNoise())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Beam's own INFO logging (worker harness chatter) drowns the progress lines.
    logging.getLogger("apache_beam").setLevel(logging.INFO if verbose > 1 else logging.WARNING)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)


def _beam_parser() -> argparse.ArgumentParser:
    """A parser that knows every registered Beam option, to reject misspelled flags."""
    from apache_beam.options.pipeline_options import PipelineOptions

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    seen = set()
    stack = list(PipelineOptions.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        try:
            cls._add_argparse_args(parser)
        except argparse.ArgumentError:
            pass  # an option registered twice by two views
    return parser


def _add_run_args(parser: argparse.ArgumentParser) -> None:
    from pipelines.options import NewsbeamOptions

    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="Files, directories (recursive), globs or fsspec URLs (memory://, gs://, ...).")
    NewsbeamOptions._add_argparse_args(parser)
    parser.add_argument("--runner", default=None,
                        help="Beam runner (default: the in-process FnApiRunner). Any Beam runner works, e.g. "
                             "DataflowRunner or FlinkRunner, with its own options after it.")
    add_logging_flags(parser, verbose_help="More logging; -vv includes Beam's.")


# Other commands live in their own modules ``pipelines/commands/<name>.py``, each with
# ``register(subparsers)`` (adds its sub-parser) and ``main(args, extra_args) -> int``.
_COMMAND_MODULES = ("query", "compact", "report", "watch", "stream")


def _command_modules() -> Dict[str, object]:
    import importlib
    import importlib.util

    found = {}
    for name in _COMMAND_MODULES:
        module_name = f"pipelines.commands.{name}"
        if importlib.util.find_spec(module_name) is not None:
            found[name] = importlib.import_module(module_name)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam", description="Ingest news articles and feeds into a partitioned Parquet dataset.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="Ingest INPUT... into the dataset at --output.",
                         description="Ingest files, folders, globs and feed files into ROOT.")
    _add_run_args(run)
    for module in _command_modules().values():
        module.register(sub)
    return parser


def _fail_parser(parser: argparse.ArgumentParser):
    def error(message: str):
        raise UsageError(message)
    parser.error = error  # type: ignore[assignment]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _fail_parser(child)
    return parser


def _pipeline_options(args: argparse.Namespace, beam_args: List[str]):
    from apache_beam.options.pipeline_options import PipelineOptions

    flags = list(beam_args)
    local = args.runner is None
    if args.runner:
        flags.append(f"--runner={args.runner}")
    if local and args.workers > 1:
        flags += [f"--direct_num_workers={args.workers}", "--direct_running_mode=multi_processing"]

    return PipelineOptions(flags), local


def _make_runner(local: bool, worker_log_level: str = "WARNING"):
    """The in-process FnApiRunner for local runs (None: Beam picks ``--runner``). Its worker
    processes (``--workers N``) run :mod:`pipelines.worker` (Beam's harness without the slow
    interpreter tear-down) and share the terminal; they get ``worker_log_level`` through the
    provisioning info, the only options the local runner hands them (Beam logs INFO there)."""
    if local:
        from apache_beam.portability.api import beam_provision_api_pb2
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner
        from apache_beam.runners.portability.fn_api_runner.fn_runner import ExtendedProvisionInfo
        from apache_beam.transforms import environments
        from google.protobuf import struct_pb2

        from pipelines.worker import WORKER_MODULE

        class LocalRunner(FnApiRunner):
            """FnApiRunner whose multi-processing mode starts ``python -m pipelines.worker``
            (Beam sets the subprocess environment inside ``run_pipeline``; this swaps its command)."""

            @property
            def _default_environment(self):
                return self._newsbeam_environment

            @_default_environment.setter
            def _default_environment(self, environment):
                if isinstance(environment, environments.SubprocessSDKEnvironment):
                    environment = environments.SubprocessSDKEnvironment.from_command_string(
                        f"{shlex.quote(sys.executable)} -m {WORKER_MODULE}")
                self._newsbeam_environment = environment

        options = struct_pb2.Struct()
        # the harness's own notices ("No session file found", ...), under either module name
        quiet_harness = {} if worker_log_level == "DEBUG" else {
            "__main__": "ERROR", "apache_beam.runners.worker.sdk_worker_main": "ERROR"}
        options.update({"options": {"default_sdk_harness_log_level": worker_log_level,
                                    "sdk_harness_log_level_overrides": quiet_harness}})
        info = beam_provision_api_pb2.ProvisionInfo(retrieval_token="unused-retrieval-token", pipeline_options=options)
        return LocalRunner(provision_info=ExtendedProvisionInfo(info))
    return None


def _summary(manifest: Dict, root: str, seconds: float) -> str:
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
            f"  errors by stage: {stages}; not English (no entities/events): {c.get('entities_skipped_language', 0)}")


def run_command(args: argparse.Namespace, beam_args: List[str]) -> int:
    """``newsbeam run``: validate, take ROOT's run lock, recover, run the pipeline, print the summary."""
    from transforms.runtime.gcpause import gc_paused

    with gc_paused():
        import apache_beam as beam

        import transforms.fetch.feeds  # noqa: F401  (registers the --fetch-* options with Beam's parser)
        from pipelines.batch import build_ingest, new_run_id
        from transforms.inputs.expand import expand_input
        from transforms.storage.sink import ensure_writable, load_manifest, recover, remove_orphans, run_lock

    if not args.output:
        raise UsageError("--output ROOT is required")
    unknown = _beam_parser().parse_known_args(beam_args)[1]
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r} (see 'newsbeam run --help')")
    for pattern in args.inputs:
        try:
            expand_input(pattern)
        except FileNotFoundError as exc:
            raise UsageError(str(exc))
        except (ImportError, ValueError) as exc:
            raise UsageError(f"cannot read {pattern}: {exc}")
    check_spacy_model(args)
    root = args.output.rstrip("/") or args.output
    try:
        ensure_writable(root)
    except (OSError, ImportError, ValueError) as exc:
        raise UsageError(f"cannot write to {root}: {exc}")
    # Runs on one ROOT take turns (see transforms.storage.sink.run_lock): recovery, deduplication against
    # ROOT and the commit then always see every earlier run complete.
    with run_lock(root, on_wait=lambda holder: _LOGGER.warning("waiting for the run holding %s/_locks/run.lock "
                                                                "to finish (%s)", root, holder)):
        recover(root)
        remove_orphans(root)

        ingested_at = _dt.datetime.now(_dt.timezone.utc)
        run_id = args.run_id or new_run_id(ingested_at)
        options, local = _pipeline_options(args, beam_args)
        recorded = {"runner": args.runner or "FnApiRunner", "workers": args.workers,
                    "max_file_bytes": args.max_file_bytes, "max_line_bytes": args.max_line_bytes,
                    "max_rows_per_file": args.max_rows_per_file, "nlp": not args.skip_nlp,
                    "spacy_model": args.spacy_model, "nlp_batch_size": args.nlp_batch_size}
        _LOGGER.info("run %s: %d input(s) -> %s", run_id, len(args.inputs), root)
        started = time.monotonic()
        pipeline = beam.Pipeline(runner=_make_runner(local, "DEBUG" if args.verbose > 1 else "WARNING"),
                                 options=options)
        build_ingest(pipeline, list(args.inputs), root=root, run_id=run_id, ingested_at=ingested_at, options=recorded,
                     max_file_bytes=args.max_file_bytes, max_line_bytes=args.max_line_bytes,
                     max_rows_per_file=args.max_rows_per_file, nlp=not args.skip_nlp, spacy_model=args.spacy_model,
                     nlp_batch_size=args.nlp_batch_size)
        result = pipeline.run()
        result.wait_until_finish()
        manifest = load_manifest(root, run_id)
        if manifest is None:
            raise RuntimeError(f"the run finished but wrote no manifest under {root}/_runs")
        from transforms.fetch.state import compact_validators

        compact_validators(root)  # fold this run's HTTP validators into ROOT/_state/http.json
        print(_summary(manifest, root, time.monotonic() - started))
    return 0 if manifest["counts"]["balanced"] else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = sum(a.count("v") for a in argv if a.startswith("-v") and set(a[1:]) == {"v"}) + argv.count("--verbose")
    configure_logging(verbose, quiet="-q" in argv or "--quiet" in argv)
    from transforms.runtime.gcpause import gc_paused

    with gc_paused():  # the parser imports Beam: no collector passes over what it loads
        parser = _fail_parser(build_parser())
    try:
        args, beam_args = parser.parse_known_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        if args.command == "run":
            return run_command(args, beam_args)
        module = _command_modules().get(args.command)
        if module is None:
            raise UsageError(f"unknown command {args.command!r}")
        return module.main(args, beam_args)
    except UsageError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsbeam: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a failed run: one line, the traceback only when asked
        if verbose:
            _LOGGER.exception("run failed")
        print(f"newsbeam: run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def entry() -> None:
    """The ``newsbeam`` console script and ``python -m pipelines``: :func:`main`, then a fast exit
    with its status (:func:`pipelines.fastexit.exit_now`: no interpreter tear-down, ~0.35 s)."""
    from pipelines.fastexit import exit_now

    exit_now(main())
