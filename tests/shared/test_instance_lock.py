"""The data dir's lock: held by one process at a time, named in the refusal, taken over once
its holder is gone (even killed with SIGKILL: the kernel drops the lock)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.instance_lock import AlreadyRunning, InstanceLock, is_locked, read_holder

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from pathlib import Path
from shared.instance_lock import InstanceLock
InstanceLock.acquire(Path(sys.argv[1]), http=sys.argv[2] or None)
print("held", flush=True)
time.sleep(600)
"""


class Holder:
    """Another process holding the lock of ``data_dir``."""

    def __init__(self, data_dir: Path, http: str = "") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(data_dir), http],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "held"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holder]:
    held = Holder(tmp_path / "var", "http://127.0.0.1:8080")
    yield held
    if held.proc.poll() is None:
        held.kill()


def test_a_second_process_is_refused_naming_the_holder(tmp_path: Path, holder: Holder) -> None:
    with pytest.raises(AlreadyRunning) as refused:
        InstanceLock.acquire(tmp_path / "var", patience=0)
    assert str(refused.value) == (
        f"regwatch is already running here: pid {holder.proc.pid}, http://127.0.0.1:8080"
    )
    assert is_locked(tmp_path / "var")


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path: Path, holder: Holder) -> None:
    holder.kill()
    assert read_holder(tmp_path / "var").pid == holder.proc.pid  # the file is still there
    assert not is_locked(tmp_path / "var")
    lock = InstanceLock.acquire(tmp_path / "var", http=None)
    try:
        assert read_holder(tmp_path / "var").pid == os.getpid()
        lock.update("http://127.0.0.1:9999")
        assert read_holder(tmp_path / "var").http == "http://127.0.0.1:9999"
    finally:
        lock.release()
    assert not is_locked(tmp_path / "var")


def test_a_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    first = InstanceLock.acquire(tmp_path)
    first.release()
    second = InstanceLock.acquire(tmp_path)
    second.release()


def test_a_probe_does_not_make_a_start_fail(tmp_path: Path) -> None:
    """``is_locked`` holds a shared lock for a moment; a start that meets it waits it out
    instead of reporting a running regwatch (the file names no live process)."""
    probe = os.open(tmp_path / "regwatch.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    ended = threading.Timer(0.2, os.close, [probe])
    ended.start()
    lock = InstanceLock.acquire(tmp_path, patience=30)
    ended.join()
    lock.release()


def test_a_probe_that_lasts_is_reported_after_the_patience(tmp_path: Path) -> None:
    probe = os.open(tmp_path / "regwatch.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
    try:
        with pytest.raises(AlreadyRunning, match="pid unknown"):
            InstanceLock.acquire(tmp_path, patience=0.2)
    finally:
        os.close(probe)
