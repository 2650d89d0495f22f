"""Which data dir a CLI command uses when run from a folder without one: the running
instance's, or a refusal naming the database it looked for (never a new empty one)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from shared.data_location import (
    NoDataHere,
    describe_location,
    locate,
    require_database,
)
from shared.instance_lock import InstanceLock
from shared.instances import Instance, register, registry_dir, running, unregister
from shared.settings import Settings


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder has no ``var``; no REGWATCH_DATA_DIR or database URL; this test's
    own list of running instances."""
    for name in list(os.environ):
        if name.upper().startswith("REGWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def started(data_dir: Path, pid: int | None = None) -> InstanceLock:
    """What ``regwatch run`` does for the instance list: the lock, then the record."""
    lock = InstanceLock.acquire(data_dir, http="http://127.0.0.1:8080")
    (data_dir / "regwatch.db").touch()
    register(
        Instance(
            pid=pid or os.getpid(),
            data_dir=data_dir,
            http="http://127.0.0.1:8080",
            database=f"sqlite+aiosqlite:///{data_dir / 'regwatch.db'}",
            sqlite=True,
        )
    )
    return lock


@pytest.fixture
def one_running(tmp_path: Path, elsewhere: Path) -> Iterator[Path]:
    data_dir = tmp_path / "project" / "var"
    lock = started(data_dir)
    yield data_dir
    unregister(os.getpid())
    lock.release()


def test_nothing_here_nothing_running_refuses_naming_the_database(elsewhere: Path) -> None:
    settings = locate(Settings())
    with pytest.raises(NoDataHere) as refused:
        require_database(settings)
    assert str(refused.value) == (
        f"no regwatch data here ({elsewhere / 'var' / 'regwatch.db'} does not exist); run from"
        " the folder where you ran `regwatch run`, or set REGWATCH_DATA_DIR"
    )
    assert not (elsewhere / "var").exists()


def test_a_read_command_from_elsewhere_creates_nothing(elsewhere: Path) -> None:
    result = CliRunner().invoke(app, ["reminders", "list", "sub_x"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: no regwatch data here (")
    assert "set REGWATCH_DATA_DIR" in line
    assert not (elsewhere / "var").exists()


def test_the_one_running_instance_is_used(elsewhere: Path, one_running: Path) -> None:
    settings = locate(Settings())
    assert settings.data_dir == one_running
    require_database(settings)  # its database exists
    where = describe_location(settings)
    assert where["data_dir"] == str(one_running)
    assert where["data_dir_source"].startswith("the running regwatch")
    assert where["running"] == {"pid": os.getpid(), "http": "http://127.0.0.1:8080"}
    assert not (elsewhere / "var").exists()


def test_a_command_from_elsewhere_reads_the_running_instance(
    elsewhere: Path, one_running: Path
) -> None:
    result = CliRunner().invoke(app, ["reminders", "list", "sub_x"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no subscriber 'sub_x'"  # its database answered
    assert not (elsewhere / "var").exists()


def test_this_folders_data_comes_first(elsewhere: Path, one_running: Path) -> None:
    (elsewhere / "var").mkdir()
    (elsewhere / "var" / "regwatch.db").touch()
    assert locate(Settings()).data_dir == Path("var")


def test_a_set_data_dir_is_used_even_when_empty(
    elsewhere: Path, one_running: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(elsewhere / "new"))
    settings = locate(Settings())
    assert settings.data_dir == elsewhere / "new"
    require_database(settings)  # asked for: may be created
    assert describe_location(settings)["data_dir_source"] == "REGWATCH_DATA_DIR"


def test_two_running_instances_are_listed_not_chosen(
    tmp_path: Path, elsewhere: Path, one_running: Path
) -> None:
    other, other_pid = tmp_path / "other" / "var", os.getpid() + 100_000
    lock = started(other, pid=other_pid)
    (other / "regwatch.lock").write_text(json.dumps({"pid": other_pid, "http": None}))
    try:
        assert [i.data_dir for i in running()] == [other, one_running]
        settings = locate(Settings())
        assert settings.data_dir == Path("var")
        with pytest.raises(NoDataHere) as refused:
            require_database(settings)
        assert str(refused.value).endswith(
            f"; running now: {other} (pid {other_pid}), {one_running} (pid {os.getpid()})"
        )
    finally:
        unregister(other_pid)
        lock.release()


def test_a_record_whose_pid_does_not_hold_the_lock_is_stale(
    tmp_path: Path, elsewhere: Path, one_running: Path
) -> None:
    """A data dir locked by a later instance: the earlier record (another pid) is gone."""
    register(
        Instance(
            pid=os.getpid() + 100_000, data_dir=one_running, http=None, database="", sqlite=True
        )
    )
    assert [i.pid for i in running()] == [os.getpid()]
    assert not (registry_dir() / f"{os.getpid() + 100_000}.json").exists()


def test_a_killed_instance_is_not_found(tmp_path: Path, elsewhere: Path) -> None:
    data_dir = tmp_path / "project" / "var"
    lock = started(data_dir)
    lock.release()  # as the kernel does when the process dies
    assert running() == []
    assert locate(Settings()).data_dir == Path("var")
    assert list(registry_dir().glob("*.json")) == []
