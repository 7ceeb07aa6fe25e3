"""Logging for the ``newsbeam`` command and its local worker processes, set up before Beam is
imported (Beam installs a root handler of its own otherwise)."""
from __future__ import annotations

import logging
import sys

__all__ = ["DropNoise", "configure_logging", "log_warnings_to_stderr", "FORMAT", "DATE_FORMAT"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%H:%M:%S"


class DropNoise(logging.Filter):
    """Beam logs an 'apitools not found' warning at import; it means nothing for newsbeam."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


def _handler(level: int = logging.NOTSET) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    handler.addFilter(DropNoise())
    return handler


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Logging for the CLI: INFO (WARNING with ``quiet``, DEBUG with ``-vv``) to stderr."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, handlers=[_handler()], force=True)
    # Beam's own INFO logging (worker harness chatter) drowns the progress lines.
    logging.getLogger("apache_beam").setLevel(logging.INFO if verbose > 1 else logging.WARNING)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)


def log_warnings_to_stderr() -> None:
    """Warnings and errors to the shared terminal (local worker processes): the harness raises
    the root level to INFO while it starts and sends every record it keeps to the runner anyway."""
    logging.basicConfig(level=logging.WARNING, handlers=[_handler(logging.WARNING)], force=True)
