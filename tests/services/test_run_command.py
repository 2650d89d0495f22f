"""``regwatch run`` as users run it, in a real process on its embedded defaults: one instance
per data dir, a port in use named with its setting, the summary on stdout and nothing noisy
on stderr, Ctrl-C to the process group stopping it cleanly with nothing lost or sent twice,
and CLI commands from another folder finding it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from services.notifier.models import AttemptRow, DeliveryRow
from services.run_command import record
from services.runtime import Runtime
from shared.db import Database
from shared.embedded.ports import free_port
from shared.settings import Settings
from tests.reliability.support import notice, post_notice, subscribe, wait_until
from tests.shared.test_instance_lock import Holder
from tests.support.receivers import Reply, WebhookReceiver

pytestmark = [pytest.mark.broker, pytest.mark.timeout(400)]

REGWATCH = Path(sys.executable).with_name("regwatch")


def run_env(tmp_path: Path, http_port: int, **extra: str) -> dict[str, str]:
    """No REGWATCH_DATA_DIR: the data dir is ``./var`` of the folder it runs in."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("REGWATCH_")}
    env.update(
        {
            "REGWATCH_HTTP_PORT": str(http_port),
            "REGWATCH_WEBHOOK_ALLOW_PRIVATE": "true",
            "REGWATCH_DISPATCH_INTERVAL": "0.2",
            "XDG_RUNTIME_DIR": str(tmp_path / "run"),  # this test's own instance list
        }
    )
    env.update(extra)
    return env


def regwatch(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REGWATCH), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Running:
    """``regwatch run`` in its own session (its own process group, as a terminal's job)."""

    cwd: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def out(self) -> Path:
        return self.cwd / f"stdout.{self.runs}"

    @property
    def err(self) -> Path:
        return self.cwd / f"stderr.{self.runs}"

    def start(self) -> None:
        self.runs += 1
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [str(REGWATCH), "run"],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    async def ready(self, timeout: float = 120.0) -> list[str]:  # noqa: ASYNC109
        """Wait for the summary's last line; returns stdout's lines."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while not any(line.startswith("  logs ") for line in self.stdout()):
            if self.proc.poll() is not None:
                raise AssertionError(f"regwatch run exited {self.proc.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"regwatch run not ready in {timeout}s: {self.tail()}")
            await asyncio.sleep(0.1)
        return self.stdout()

    async def signal_group(self, sig: signal.Signals, timeout: float = 90.0) -> int:  # noqa: ASYNC109
        """``sig`` to the whole process group (what Ctrl-C in a terminal does); the exit code.
        Waits without blocking the loop: the webhook receiver answers meanwhile."""
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)
        deadline = time.monotonic() + timeout
        while (code := self.proc.poll()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"regwatch run still running {timeout}s after {sig.name}")
            await asyncio.sleep(0.05)
        return code

    def stdout(self) -> list[str]:
        return self.out.read_text(errors="replace").splitlines()

    def stderr(self) -> list[str]:
        return self.err.read_text(errors="replace").splitlines()

    def tail(self) -> str:
        return "\n".join(self.stdout()[-20:] + self.stderr()[-40:])

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def quiet(stderr: list[str]) -> None:
    """A normal run's stderr: human lines only, no errors, tracebacks or rebalance noise."""
    assert not [line for line in stderr if line.lstrip().startswith("{")], stderr
    assert not [line for line in stderr if "Traceback" in line or "ERROR" in line], stderr
    assert not [line for line in stderr if line.startswith("error")], stderr
    assert not [line for line in stderr if "Heartbeat failed" in line], stderr


async def ledger(database: Path) -> tuple[dict[str, str], Counter[str]]:
    """delivery id -> status, and attempts per delivery id."""
    db = Database(f"sqlite+aiosqlite:///{database}")
    try:
        async with db.session() as session:
            rows = (await session.execute(select(DeliveryRow.id, DeliveryRow.status))).all()
            attempts = (
                await session.execute(
                    select(AttemptRow.delivery_id, func.count()).group_by(AttemptRow.delivery_id)
                )
            ).all()
    finally:
        await db.dispose()
    return {r[0]: r[1] for r in rows}, Counter({a[0]: a[1] for a in attempts})


def test_a_second_run_on_a_locked_data_dir_refuses_before_touching_anything(
    tmp_path: Path, project: Path
) -> None:
    held = Holder(project / "var", "http://127.0.0.1:8080")
    try:
        done = regwatch("run", cwd=project, env=run_env(tmp_path, free_port()))
    finally:
        held.kill()
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"error: regwatch is already running here: pid {held.proc.pid}, http://127.0.0.1:8080"
    ]
    assert done.stdout == ""
    assert sorted(p.name for p in (project / "var").iterdir()) == ["regwatch.lock"]


def test_a_stale_lock_is_taken_over_and_a_port_in_use_is_named(
    tmp_path: Path, project: Path
) -> None:
    """The lock of a SIGKILLed holder does not stop a start; the HTTP port in use does, before
    the database or a broker is touched, naming the setting that moves it."""
    held = Holder(project / "var", "http://127.0.0.1:8080")
    held.kill()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = regwatch("run", cwd=project, env=run_env(tmp_path, port))
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"error: port {port} is in use on 127.0.0.1: set REGWATCH_HTTP_PORT to another port"
        " (0 = any free one)"
    ]
    assert sorted(p.name for p in (project / "var").iterdir()) == ["regwatch.lock"]


def test_a_bad_log_format_is_one_line(tmp_path: Path, project: Path) -> None:
    done = regwatch("run", "--log-format", "xml", cwd=project, env=run_env(tmp_path, 0))
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["error: --log-format 'xml': choose from human, json, text"]
    assert not (project / "var").exists()


@pytest.fixture
def running(tmp_path: Path, project: Path) -> Iterator[Running]:
    instance = Running(project, run_env(tmp_path, free_port()))
    yield instance
    instance.kill()


async def test_run_ctrl_c_and_restart_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, project: Path, elsewhere: Path, running: Running
) -> None:
    port = running.env["REGWATCH_HTTP_PORT"]
    base = f"http://127.0.0.1:{port}"
    data_dir = (project / "var").resolve()
    # the first alert's webhook is answered after 1.5 s: Ctrl-C lands while it is in flight
    async with WebhookReceiver(plan=[Reply(200, delay=1.5)]) as hook:
        running.start()
        first_pid = running.proc.pid if running.proc else 0
        summary = await running.ready()
        assert summary == [
            "regwatch is running (Ctrl-C stops it)",
            f"  portal    {base}/portal/",
            f"  API       {base}/v1/",
            f"  docs      {base}/docs",
            *[line for line in summary if line.startswith("  mail ")],
            *[line for line in summary if line.startswith("  broker ")],
            f"  database  {data_dir / 'regwatch.db'}",
            f"  logs      {data_dir / 'regwatch.log'}",
        ]
        assert summary[4].startswith(f"  mail      {data_dir / 'mail'} (embedded mail sink ")
        assert summary[5].startswith("  broker    embedded Tansu at 127.0.0.1:")
        quiet(running.stderr())
        logged = [json.loads(line) for line in (data_dir / "regwatch.log").read_text().splitlines()]
        assert any(line["msg"] == "regwatch started" for line in logged)

        # a second `regwatch run` here: refused, naming the first; the first is untouched
        runtime_file = (data_dir / "runtime.json").read_text()
        second = regwatch("run", cwd=project, env=running.env)
        assert second.returncode == 1
        assert second.stderr.splitlines() == [
            f"error: regwatch is already running here: pid {first_pid}, {base}"
        ]
        assert (data_dir / "runtime.json").read_text() == runtime_file

        # from another folder the CLI finds it
        status = regwatch("status", cwd=elsewhere, env=running.env)
        assert status.returncode == 0, status.stderr
        found = json.loads(status.stdout)
        assert found["data_dir"] == str(data_dir)
        assert found["running"] == {"pid": first_pid, "http": base}
        assert found["database"]["url"].endswith(str(data_dir / "regwatch.db"))
        assert not (elsewhere / "var").exists()

        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            team = await subscribe(client, "Team", hook.url)
            assert (await post_notice(client, notice(0, "stop"))).status_code < 300
            await hook.wait_for(1, timeout=60)  # in flight: the receiver holds its answer
            assert await running.signal_group(signal.SIGINT) == 0, running.tail()
        out = running.stdout()
        assert out[-1] == "regwatch stopped", out
        quiet(running.stderr())
        assert not (data_dir / "runtime.json").exists()
        instances = Path(running.env["XDG_RUNTIME_DIR"]) / "regwatch" / "instances"
        assert not (instances / f"{first_pid}.json").exists()

        listed = regwatch("reminders", "list", team.id, cwd=elsewhere, env=running.env)
        assert listed.returncode == 1  # nothing runs now: no data in this folder, none created
        assert "no regwatch data here" in listed.stderr
        assert not (elsewhere / "var").exists()

        running.start()
        await running.ready()
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            assert (await post_notice(client, notice(1, "stop"))).status_code < 300
            await hook.wait_for(2, timeout=60)
            await wait_until(
                lambda: len(list((data_dir / "mail").glob("*.eml"))) >= 2, 60, "two emails"
            )
        assert await running.signal_group(signal.SIGTERM) == 0, running.tail()
        assert running.stdout()[-1] == "regwatch stopped"
        quiet(running.stderr())

    notices = Counter(r.json()["data"]["notice"]["notice_id"] for r in hook.requests)
    assert notices == {
        str(notice(0, "stop")["notice_id"]): 1,
        str(notice(1, "stop")["notice_id"]): 1,
    }
    assert len({r.webhook_id for r in hook.requests}) == 2
    emailed = Counter(
        message_from_bytes(path.read_bytes())["X-Regwatch-Notice-Id"]
        for path in (data_dir / "mail").glob("*.eml")
    )
    assert emailed == notices
    statuses, attempts = await ledger(data_dir / "regwatch.db")
    assert set(statuses.values()) == {"delivered"} and len(statuses) == 4
    assert attempts == Counter(dict.fromkeys(statuses, 1))  # the one in flight: sent once


def test_an_instance_list_that_cannot_be_written_costs_only_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No writable home (a container user without one): regwatch runs on, saying so."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(blocker))
    with caplog.at_level(logging.WARNING, logger="regwatch.run"):
        record(Runtime(Settings(data_dir=tmp_path / "var")))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "regwatch.run"]
    assert line.startswith("this regwatch is not in the instance list (")
    assert "REGWATCH_DATA_DIR" in line
