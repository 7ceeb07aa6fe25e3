"""Leave a finished process at once, skipping the interpreter's tear-down.

Tearing down a process that holds a spaCy model, the language-id model and the gazetteer frees
millions of objects one by one: ~0.35 s after the work is done. The ``newsbeam`` command and the
local worker processes (:mod:`pipelines.worker`) end through :func:`exit_now` instead, once
everything they wrote is closed. Code that calls :func:`pipelines.cli.main` in-process (tests,
Airflow tasks) is not affected: only the console script and ``python -m`` entry points use it.
"""
from __future__ import annotations

import logging
import os
import sys

__all__ = ["exit_now"]


def exit_now(code: object = 0) -> None:
    """Flush the standard streams and the log handlers, then end the process with ``code``
    (``SystemExit`` semantics: None is 0, an int is itself, anything else is printed and 1)
    without running the interpreter's tear-down (atexit handlers, module and object clean-up)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    try:
        logging.shutdown()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # a closed or broken stream must not turn the exit into a crash
                pass
        os._exit(status)
