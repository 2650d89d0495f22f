"""runtime.json: read while its ``regwatch run`` holds the data dir's lock, ignored once a
killed one left it behind."""

from __future__ import annotations

from pathlib import Path

from shared.instance_lock import InstanceLock
from shared.runtime_file import read_runtime_file, write_runtime_file
from tests.shared.test_instance_lock import Holder


def test_the_file_of_a_running_instance_is_read(tmp_path: Path) -> None:
    lock = InstanceLock.acquire(tmp_path)
    try:
        write_runtime_file(tmp_path, {"kafka_bootstrap": "127.0.0.1:40001"})
        assert read_runtime_file(tmp_path) == {"kafka_bootstrap": "127.0.0.1:40001"}
    finally:
        lock.release()


def test_the_file_left_by_a_killed_instance_is_ignored(tmp_path: Path) -> None:
    held = Holder(tmp_path)
    write_runtime_file(tmp_path, {"kafka_bootstrap": "127.0.0.1:40001"})
    assert read_runtime_file(tmp_path) == {"kafka_bootstrap": "127.0.0.1:40001"}
    held.kill()
    assert read_runtime_file(tmp_path) is None


def test_without_a_lock_file_the_file_is_read(tmp_path: Path) -> None:
    """A runtime started in-process (tests, embedding) takes no lock."""
    write_runtime_file(tmp_path, {"http": "http://127.0.0.1:38080"})
    assert read_runtime_file(tmp_path) == {"http": "http://127.0.0.1:38080"}
    assert read_runtime_file(tmp_path / "nothing") is None
