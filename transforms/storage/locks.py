"""Locks on ROOT: the run lock (runs and watch ticks take turns) and exclusive lock files
(compaction; the run lock on object stores).

* :class:`ExclusiveLock` (``ROOT/_locks/<name>.lock``): created exclusively (``O_EXCL`` on local
  disks; best effort on object stores, which have no locks); a lock left by a dead process on this
  host is taken over. A busy lock raises :class:`LockBusy` at once.
* :class:`run_lock` (``ROOT/_locks/run.lock``): waits for its turn. Local disks: ``fcntl.flock``,
  which the kernel drops when its holder dies, even by SIGKILL. Other file systems: an
  :class:`ExclusiveLock` polled until free.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import posixpath
import socket
import time
from typing import Any, Callable, Dict, Optional

from transforms.storage.fs import filesystem, is_local

_LOGGER = logging.getLogger(__name__)

__all__ = ["ExclusiveLock", "LockBusy", "run_lock", "pid_alive"]


class LockBusy(RuntimeError):
    """Another process holds the lock."""


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` alive on this host (True when it exists but is not ours to signal)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder_line() -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                       "since": _dt.datetime.now(_dt.timezone.utc).isoformat()})


class ExclusiveLock:
    """``ROOT/_locks/<name>.lock``, created exclusively; raises :class:`LockBusy` (with the holder's
    pid, host and start time) when another live process holds it. ``purpose`` names the holder in
    that message ("another compaction holds ...")."""

    def __init__(self, root: str, name: str = "compact", *, purpose: Optional[str] = None) -> None:
        self._fs, base = filesystem(root)
        self.path = posixpath.join(base, "_locks", f"{name}.lock")
        self._local = is_local(self._fs)
        self._purpose = purpose or f"another {name}"

    def _holder(self) -> Dict[str, Any]:
        try:
            with self._fs.open(self.path, "r") as fh:
                holder: Dict[str, Any] = json.load(fh)
                return holder
        except (FileNotFoundError, ValueError):
            return {}

    def _try_create(self, body: str) -> bool:
        if self._local:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w") as fh:
                fh.write(body)
            return True
        if self._fs.exists(self.path):
            return False
        with self._fs.open(self.path, "w") as fh:
            fh.write(body)
        return True

    def __enter__(self) -> "ExclusiveLock":
        self._fs.makedirs(posixpath.dirname(self.path), exist_ok=True)
        body = _holder_line()
        if self._try_create(body):
            return self
        holder = self._holder()
        if holder.get("host") == socket.gethostname() and not pid_alive(int(holder.get("pid", 0)) or -1):
            _LOGGER.warning("taking over %s left by dead process %s", self.path, holder.get("pid"))
            self._fs.rm(self.path)
            if self._try_create(body):
                return self
            holder = self._holder()
        raise LockBusy(f"{self._purpose} holds {self.path} (pid {holder.get('pid')} on "
                       f"{holder.get('host')} since {holder.get('since')})")

    def __exit__(self, *exc: object) -> None:
        try:
            self._fs.rm(self.path)
        except FileNotFoundError:
            pass


class run_lock:
    """Exclusive lock on ROOT for one run: ``ROOT/_locks/run.lock``; a second run waits for it.

    Local disks: ``fcntl.flock`` on the file. The kernel drops the lock when its holder dies, even by
    SIGKILL, so a killed run never blocks the next one. Other fsspec file systems (object stores
    have no locks): best effort, an :class:`ExclusiveLock` taken over when its holder is a dead
    process on this host; two hosts starting runs within the same second can both get it, so
    schedule runs on one ROOT from one place. ``on_wait`` is called once with the holder's
    description when the lock is busy.
    """

    def __init__(self, root: str, *, poll_seconds: float = 1.0,
                 on_wait: Optional[Callable[[str], None]] = None) -> None:
        self._fs, base = filesystem(root)
        self._root = root
        self.path = posixpath.join(base, "_locks", "run.lock")
        self._local = is_local(self._fs)
        self._poll = poll_seconds
        self._on_wait = on_wait or (lambda holder: _LOGGER.warning("waiting for another run on this ROOT (%s)", holder))
        self._fd: Optional[int] = None
        self._remote: Optional[ExclusiveLock] = None

    def _describe(self) -> str:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})

    def __enter__(self) -> "run_lock":
        self._fs.makedirs(posixpath.dirname(self.path), exist_ok=True)
        if self._local:
            import fcntl

            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._on_wait(os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown holder")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, self._describe().encode(), 0)
            self._fd = fd
            return self
        waited = False
        while True:
            remote = ExclusiveLock(self._root, "run", purpose="another run")
            try:
                self._remote = remote.__enter__()
                return self
            except LockBusy as busy:
                if not waited:
                    self._on_wait(str(busy).replace("another run holds", "held:"))
                    waited = True
                time.sleep(self._poll)

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            import fcntl

            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        elif self._remote is not None:
            self._remote.__exit__(*exc)
            self._remote = None
