"""What every ``newsbeam`` command shares: the usage error, argument types, logging flags and the
checks that turn a bad command line into one line on stderr (exit code 2)."""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
from typing import TYPE_CHECKING, List, Optional, Sequence

if TYPE_CHECKING:
    from apache_beam.options.pipeline_options import PipelineOptions

__all__ = [
    "UsageError", "iso_date", "positive_int", "duration", "add_logging_flags", "check_beam_args", "check_dataset_command",
    "check_spacy_model", "expand_patterns", "prepare_output", "pipeline_options", "absolute_inputs",
    "is_local_path", "warn_local_paths",
]


class UsageError(Exception):
    """A problem with the command line or the environment, reported as one line (exit 2)."""


def iso_date(text: str) -> _dt.date:
    """argparse type: a date ``YYYY-MM-DD``."""
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?")


def duration(text: str) -> float:
    """argparse type: the seconds of a duration on the command line (``90``, ``90s``, ``15m``,
    ``1h30m``, ``2d``, ``0.2s``; a bare number is seconds); raises argparse.ArgumentTypeError."""
    value = str(text).strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    while pos < len(value):
        m = _PART.match(value, pos)
        if not m or (m.group(2) is None and m.end() != len(value)):
            raise argparse.ArgumentTypeError(f"expected a duration such as 90s, 15m or 1h, got {text!r}")
        total += float(m.group(1)) * _UNITS[m.group(2) or "s"]
        pos = m.end()
    if not value:
        raise argparse.ArgumentTypeError("expected a duration such as 90s, 15m or 1h, got ''")
    return total


def add_logging_flags(parser: argparse.ArgumentParser, quiet_help: str = "Only warnings and the summary.",
                      verbose_help: str = "More logging.") -> None:
    """``-v/--verbose`` (count) and ``-q/--quiet``, the same on every command (``main`` reads
    them from ``argv`` before parsing, so logging is set up before Beam is imported)."""
    parser.add_argument("-v", "--verbose", action="count", default=0, help=verbose_help)
    parser.add_argument("-q", "--quiet", action="store_true", help=quiet_help)


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
            cls._add_argparse_args(parser)  # type: ignore[arg-type]
        except argparse.ArgumentError:
            pass  # an option registered twice by two views
    return parser


def check_beam_args(beam_args: Sequence[str], command: str) -> None:
    """The arguments left for Beam are all options some Beam ``PipelineOptions`` knows (a
    misspelled flag would otherwise be ignored silently); else :class:`UsageError`."""
    unknown = _beam_parser().parse_known_args(list(beam_args))[1]
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r} (see 'newsbeam {command} --help')")


def check_dataset_command(root: str, extra_args: Sequence[str], out: Optional[str] = None) -> None:
    """The checks of the commands that read a dataset (query, compact, report): no unknown
    arguments, ``root`` is an existing folder (any fsspec URL), ``out``'s folder exists.
    Raises :class:`UsageError` with one line."""
    from transforms.storage.fs import filesystem

    if extra_args:
        raise UsageError(f"unrecognized arguments: {' '.join(extra_args)}")
    try:
        fs, path = filesystem(root)
        exists = fs.isdir(path)
    except (ImportError, ValueError, OSError) as exc:
        raise UsageError(f"cannot read {root}: {exc}") from exc
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

    from transforms.nlp.model import resolve_model_name

    model = resolve_model_name(args.spacy_model)
    if importlib.util.find_spec(model) is None:
        raise UsageError(f"spaCy model {model!r} is not installed (pip install it, or use --skip-nlp)")


def expand_patterns(patterns: Sequence[str]) -> List[str]:
    """Every input the patterns name, in order, each once (see
    :func:`transforms.inputs.expand.expand_input`); a missing file or a bad feed list is a
    :class:`UsageError`."""
    from transforms.inputs.expand import expand_input

    out: List[str] = []
    for pattern in patterns:
        try:
            items = expand_input(pattern)
        except FileNotFoundError as exc:
            raise UsageError(str(exc)) from exc
        except (ImportError, ValueError) as exc:
            raise UsageError(f"cannot read {pattern}: {exc}") from exc
        out.extend(i for i in items if i not in out)
    return out


def is_local_path(pattern: str) -> bool:
    """True for a path on this machine's disk (no ``scheme://``, not a feed URL); ``@list`` counts by its path."""
    path = pattern[1:] if pattern.startswith("@") else pattern
    return "://" not in path


def absolute_inputs(patterns: Sequence[str]) -> List[str]:
    """``patterns`` with local paths made absolute (``@list`` keeps its ``@``): the pipeline's workers
    may run in another working directory (Beam's portable runners, a worker pool), and must find the
    same files."""
    out = []
    for p in patterns:
        if is_local_path(p):
            at = "@" if p.startswith("@") else ""
            p = at + os.path.abspath(os.path.expanduser(p[len(at):]))
        out.append(p)
    return out


def warn_local_paths(patterns: Sequence[str], runner: Optional[str], what: str = "input") -> None:
    """With a runner whose workers may be other machines (anything but the local runners), say which
    local paths those workers must be able to read."""
    if not runner or runner in ("DirectRunner", "FnApiRunner", "BundleBasedDirectRunner", "PortableRunner"):
        return
    import logging

    for p in patterns:
        if is_local_path(p):
            logging.getLogger("newsbeam").warning(
                "%s %s is a path on this machine: %s's workers read it there, so it must exist on every worker "
                "(use a gs://, s3:// or other shared URL)", what, p, runner)


def prepare_output(output: Optional[str]) -> str:
    """The dataset root of ``--output``, created and proven writable (a local path made absolute: the
    workers may run elsewhere, see :func:`absolute_inputs`); :class:`UsageError` when it is missing or
    cannot be written."""
    from transforms.storage.sink import ensure_writable

    if not output:
        raise UsageError("--output ROOT is required")
    root = output.rstrip("/") or output
    if is_local_path(root):
        root = os.path.abspath(os.path.expanduser(root))
    try:
        ensure_writable(root)
    except (OSError, ImportError, ValueError) as exc:
        raise UsageError(f"cannot write to {root}: {exc}") from exc
    return root


def pipeline_options(beam_args: Sequence[str], runner: Optional[str], workers: int = 1) -> "PipelineOptions":
    """Beam's options: ``beam_args``, ``--runner`` when given, and for the default in-process
    runner with ``workers > 1`` its multi-processing mode."""
    from apache_beam.options.pipeline_options import PipelineOptions

    flags = list(beam_args)
    if runner:
        flags.append(f"--runner={runner}")
    elif workers > 1:
        flags += [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    return PipelineOptions(flags)
