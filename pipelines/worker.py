"""The worker processes of local multi-process runs (``newsbeam run --workers N``).

Beam's local runner starts each worker as ``python -m apache_beam.runners.worker.sdk_worker_main``;
newsbeam starts ``python -m pipelines.worker`` instead (see :func:`pipelines.cli._make_runner`).
It runs the same SDK harness, then leaves without the interpreter's tear-down: freeing a worker's
spaCy model, language-id model and gazetteer object by object takes ~0.35 s, and the runner stops
its workers one after the other, so every worker made each run that much longer. Everything a
worker writes is closed before its last bundle reports success, so there is nothing left to flush
but the standard streams and the log handlers (:func:`pipelines.fastexit.exit_now`).
"""
from __future__ import annotations

import sys
import traceback

from pipelines.fastexit import exit_now

WORKER_MODULE = "pipelines.worker"
"""The module local worker processes run (``python -m pipelines.worker``)."""


def _log_to_stderr() -> None:
    """Warnings and errors to the shared terminal, set up before Beam is imported (Beam would
    install its own handler): the harness raises the root level to INFO while it starts and
    sends every record it keeps to the runner anyway, and Beam's import-time 'apitools not
    found' notice means nothing here."""
    import logging

    from pipelines.cli import _DropNoise

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(_DropNoise())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def main() -> None:
    """Run Beam's SDK harness (the process's environment says where the runner is), then
    :func:`exit_now` with its exit status."""
    _log_to_stderr()
    from transforms.runtime.gcpause import gc_paused

    with gc_paused():
        from apache_beam.runners.worker import sdk_worker_main

    try:
        sdk_worker_main.main(sys.argv)
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # the harness logged it; the runner sees the non-zero exit
        traceback.print_exc()
        code = 1
    exit_now(code)


if __name__ == "__main__":
    main()
