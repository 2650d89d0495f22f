"""One ``regwatch run`` per data directory: an OS lock on ``<data dir>/regwatch.lock``.

The lock is ``flock`` on the file, held for the life of the process. The kernel drops it when
the process ends, however it ends (SIGKILL, power cut of the process), so a lock file left
behind is taken over by the next start. The file holds the holder's pid and, once it serves,
its HTTP address (JSON), for the line a second start prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from shared.errors import RegwatchError

LOCK_FILE = "regwatch.lock"


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a data directory's lock, as its lock file says."""

    pid: int | None = None
    http: str | None = None

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid else "pid unknown"
        return f"{pid}, {self.http}" if self.http else f"{pid} (starting)"


class AlreadyRunning(RegwatchError):
    """Another live process holds the data directory's lock."""

    def __init__(self, holder: Holder) -> None:
        self.holder = holder
        super().__init__(f"regwatch is already running here: {holder.describe()}")


def lock_path(data_dir: Path) -> Path:
    return data_dir / LOCK_FILE


def read_holder(data_dir: Path) -> Holder:
    """What the lock file says (pid and address of the last holder); empty if unreadable."""
    try:
        raw = json.loads(lock_path(data_dir).read_text())
    except (OSError, ValueError):
        return Holder()
    if not isinstance(raw, dict):
        return Holder()
    pid, http = raw.get("pid"), raw.get("http")
    return Holder(
        pid if isinstance(pid, int) else None, http if isinstance(http, str) and http else None
    )


def pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def is_locked(data_dir: Path) -> bool:
    """Whether a live process holds the lock now. Probes with a shared lock, which a holder's
    exclusive lock refuses; a start racing the probe waits it out (see :meth:`acquire`)."""
    try:
        fd = os.open(lock_path(data_dir), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's lock
    return False


class InstanceLock:
    """The held lock of one data directory; :meth:`release` (or process exit) drops it."""

    def __init__(self, data_dir: Path, fd: int) -> None:
        self.data_dir = data_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(
        cls, data_dir: Path, *, http: str | None = None, patience: float = 2.0
    ) -> InstanceLock:
        """Take the lock or raise :class:`AlreadyRunning` naming the holder.

        A holder whose pid is alive refuses at once. If the lock is held but the file names no
        live process (a CLI probing with :func:`is_locked`, or a start that has not written its
        pid yet), try again for up to ``patience`` seconds."""
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(data_dir), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = read_holder(data_dir)
                live = pid_alive(holder.pid) and holder.pid != os.getpid()
                if live or time.monotonic() > deadline:
                    os.close(fd)
                    raise AlreadyRunning(holder) from None
                time.sleep(0.05)
        lock = cls(data_dir, fd)
        lock.update(http)
        return lock

    def update(self, http: str | None) -> None:
        """Write this process's pid and HTTP address into the lock file."""
        if self._fd is None:
            return
        body = json.dumps({"pid": os.getpid(), "http": http}).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, body, 0)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # drops the lock; the file stays (removing it would race a new start)
