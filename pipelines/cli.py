"""The ``newsbeam`` command line: one sub-command per module of :mod:`pipelines.commands`.

Bad command lines and unusable outputs end with one line on stderr and exit code 2; a run that
fails while running ends with one line and exit code 1 (``--verbose`` adds the traceback).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from types import ModuleType
from typing import Dict, List, NoReturn, Optional, Sequence

from pipelines.common import UsageError
from pipelines.logs import configure_logging

_LOGGER = logging.getLogger("newsbeam")

__all__ = ["main", "entry", "build_parser", "COMMANDS", "FAST_EXIT_COMMANDS", "PIPELINE_COMMANDS"]

COMMANDS = ("run", "query", "compact", "report", "watch", "stream", "stories")
"""Each lives in ``pipelines/commands/<name>.py`` with ``register(subparsers)`` and
``main(args, extra_args) -> int``."""
PIPELINE_COMMANDS = frozenset({"run", "watch", "stream"})
"""Commands that run a pipeline in this process (they get the NLP stage's malloc thresholds)."""
FAST_EXIT_COMMANDS = frozenset({"run"})
"""Commands whose process ends without the interpreter's tear-down (:mod:`pipelines.fastexit`).
Not the others: they rely on atexit handlers (fsspec/gcsfs sessions, temporary folders of
``query``, the watch loop's and the stream job's clean-up)."""


def _command_modules() -> Dict[str, ModuleType]:
    return {name: importlib.import_module(f"pipelines.commands.{name}") for name in COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam", description="Ingest news articles and feeds into a partitioned Parquet dataset.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules().values():
        module.register(sub)
    return parser


def _fail_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    def error(message: str) -> NoReturn:
        raise UsageError(message)
    parser.error = error  # type: ignore[method-assign]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _fail_parser(child)
    return parser


def _verbosity(argv: Sequence[str]) -> int:
    return sum(a.count("v") for a in argv if a.startswith("-v") and set(a[1:]) == {"v"}) + list(argv).count("--verbose")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` and run its command; returns the exit status (callable in-process: tests,
    Airflow tasks)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = _verbosity(argv)
    configure_logging(verbose, quiet="-q" in argv or "--quiet" in argv)
    from transforms.runtime.gcpause import gc_paused

    with gc_paused():  # the parser imports Beam: no collector passes over what it loads
        parser = _fail_parser(build_parser())
    try:
        args, extra_args = parser.parse_known_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        module = _command_modules()[args.command]
        status: int = module.main(args, extra_args)
        return status
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


def _command_of(argv: List[str]) -> Optional[str]:
    return next((a for a in argv if not a.startswith("-")), None)


def entry() -> None:
    """The ``newsbeam`` console script and ``python -m pipelines``: the process entry point.

    For the commands that run a pipeline here it first sets the NLP stage's malloc thresholds
    (:func:`transforms.runtime.malloc.tune_malloc`); after :func:`main`, ``run`` leaves with a
    fast exit (:func:`pipelines.fastexit.exit_now`: no interpreter tear-down, ~0.35 s), every
    other command with a normal one."""
    command = _command_of(sys.argv[1:])
    if command in PIPELINE_COMMANDS:
        from transforms.runtime.malloc import tune_malloc

        tune_malloc()
    status = main()
    if command in FAST_EXIT_COMMANDS:
        from pipelines.fastexit import exit_now

        exit_now(status)
    sys.exit(status)
