"""The default runner: Beam's in-process ``FnApiRunner``, whose ``--workers N`` processes run
:mod:`pipelines.worker` instead of Beam's own harness command.

Why: the runner stops its worker processes one after the other, and a worker holding a spaCy
model, the language-id model and the gazetteer takes ~0.35 s to tear its interpreter down, so
every worker made every run that much longer. :mod:`pipelines.worker` runs the same harness, then
leaves at once. The swap overrides a private detail of Beam's runner (the setter of
``FnApiRunner._default_environment``), checked against apache-beam 2.77.0 (the pinned version):
``NEWSBEAM_LOCAL_WORKER=beam`` turns it off and the workers run Beam's own command.
"""
from __future__ import annotations

import os
import shlex
import sys
from typing import Any, Optional

__all__ = ["make_runner", "WORKER_MODULE", "WORKER_SWITCH", "CHECKED_BEAM_VERSION", "worker_override_enabled"]

WORKER_MODULE = "pipelines.worker"
"""The module local worker processes run (``python -m pipelines.worker``)."""
WORKER_SWITCH = "NEWSBEAM_LOCAL_WORKER"
"""``beam`` (or ``off``): the worker processes run Beam's own harness command."""
CHECKED_BEAM_VERSION = "2.77.0"


def worker_override_enabled() -> bool:
    """False when ``$NEWSBEAM_LOCAL_WORKER`` is ``beam``/``off``/``0``."""
    return os.environ.get(WORKER_SWITCH, "").strip().lower() not in ("beam", "off", "0", "false", "no")


def make_runner(local: bool, worker_log_level: str = "WARNING") -> Optional[Any]:
    """The in-process FnApiRunner for local runs (None: Beam picks ``--runner``). Its worker
    processes (``--workers N``) run :mod:`pipelines.worker` unless switched off (see the module
    notes) and share the terminal; they get ``worker_log_level`` through the provisioning info,
    the only options the local runner hands them (Beam logs INFO there)."""
    if not local:
        return None
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.runners.portability.fn_api_runner.fn_runner import ExtendedProvisionInfo
    from apache_beam.transforms import environments
    from google.protobuf import struct_pb2

    options = struct_pb2.Struct()
    # the harness's own notices ("No session file found", ...), under either module name
    quiet_harness = {} if worker_log_level == "DEBUG" else {
        "__main__": "ERROR", "apache_beam.runners.worker.sdk_worker_main": "ERROR"}
    options.update({"options": {"default_sdk_harness_log_level": worker_log_level,
                                "sdk_harness_log_level_overrides": quiet_harness}})
    info = ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(retrieval_token="unused-retrieval-token",
                                                                     pipeline_options=options))
    if not worker_override_enabled():
        return FnApiRunner(provision_info=info)

    class LocalRunner(FnApiRunner):
        """FnApiRunner whose multi-processing mode starts ``python -m pipelines.worker``
        (Beam sets the subprocess environment inside ``run_pipeline``; this swaps its command)."""

        @property
        def _default_environment(self) -> Any:
            return self._newsbeam_environment

        @_default_environment.setter
        def _default_environment(self, environment: Any) -> None:
            if isinstance(environment, environments.SubprocessSDKEnvironment):
                environment = environments.SubprocessSDKEnvironment.from_command_string(
                    f"{shlex.quote(sys.executable)} -m {WORKER_MODULE}")
            self._newsbeam_environment = environment

    return LocalRunner(provision_info=info)
