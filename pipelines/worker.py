"""The worker processes of local multi-process runs (``newsbeam run --workers N``).

Beam's local runner starts each worker as ``python -m apache_beam.runners.worker.sdk_worker_main``;
newsbeam starts ``python -m pipelines.worker`` instead (see :mod:`pipelines.local_runner`, which
also says how to switch this off). It runs the same SDK harness, then leaves without the
interpreter's tear-down: freeing a worker's spaCy model, language-id model and gazetteer object by
object takes ~0.35 s, and the runner stops its workers one after the other, so every worker made
each run that much longer. Everything a worker writes is closed before its last bundle reports
success, so there is nothing left to flush but the standard streams and the log handlers
(:func:`pipelines.fastexit.exit_now`). A worker is a process entry point, so it also sets the
NLP stage's malloc thresholds (:func:`transforms.runtime.malloc.tune_malloc`).
"""
from __future__ import annotations

import sys
import traceback

from pipelines.fastexit import exit_now
from pipelines.logs import log_warnings_to_stderr

__all__ = ["main"]


def main() -> None:
    """Run Beam's SDK harness (the process's environment says where the runner is), then
    :func:`exit_now` with its exit status."""
    log_warnings_to_stderr()
    from transforms.runtime.gcpause import gc_paused
    from transforms.runtime.malloc import tune_malloc

    tune_malloc()
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
