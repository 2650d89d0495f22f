"""``regwatch run`` after its arguments are read: one instance per data dir, ports checked,
logs set up, the runtime served until SIGINT or SIGTERM, then stopped in order.

Before anything else starts (no database opened, no broker started) it takes the data dir's
lock (``shared/instance_lock.py``): a second ``regwatch run`` on the same data dir exits 1
naming the first one's pid and address. Then the HTTP port is checked (the embedded broker
and mail sink take free ports, so none of theirs can be taken). Once ready it prints where
everything is on stdout and records itself in the user's instance list
(``shared/instances.py``) for CLI commands run from other folders; when it has stopped it
removes that record and prints ``regwatch stopped``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import Sequence
from pathlib import Path

import typer

from services.run_output import choose_log_format, setup_run_logging, summary_lines
from services.runtime import SERVICE_NAMES, Runtime
from shared.cli import fail
from shared.instance_lock import AlreadyRunning, InstanceLock
from shared.instances import Instance, register, unregister
from shared.logging import get_logger
from shared.port_check import port_in_use
from shared.settings import Settings

log = get_logger("regwatch.run")


def planned_http(settings: Settings) -> str | None:
    """The address the HTTP server will have (unknown for port 0 until it listens)."""
    if settings.http_port == 0:
        return None
    return f"http://{settings.http_host}:{settings.http_port}"


def busy_port(settings: Settings) -> str | None:
    """The message naming a fixed port already in use and the setting that moves it."""
    if port_in_use(settings.http_host, settings.http_port):
        return (
            f"port {settings.http_port} is in use on {settings.http_host}: set "
            "REGWATCH_HTTP_PORT to another port (0 = any free one)"
        )
    return None


def run_regwatch(settings: Settings, only: Sequence[str], log_format: str | None) -> None:
    """Run until SIGINT or SIGTERM; exit 1 with one line on stderr if it cannot start."""
    try:
        lock = InstanceLock.acquire(settings.data_dir, http=planned_http(settings))
    except AlreadyRunning as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot use the data dir {settings.data_dir}: {exc.strerror or exc}")
    try:
        problem = busy_port(settings)
        if problem:
            fail(problem)
        log_file = setup_run_logging(settings, choose_log_format(log_format, settings))
        runtime = Runtime(settings, only=tuple(only) or SERVICE_NAMES)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(runtime, lock, log_file))
    finally:
        lock.release()


async def serve(runtime: Runtime, lock: InstanceLock, log_file: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
    except Exception as exc:
        await runtime.stop()
        fail(f"regwatch could not start: {type(exc).__name__}: {exc}")
    lock.update(runtime.http_url)
    record(runtime)
    try:
        info = runtime.describe()
        all_services = len(info["services"]) == len(SERVICE_NAMES)
        for line in summary_lines(info, log_file, all_services):
            typer.echo(line)
        collect_after_start()
        await stop.wait()
        typer.echo("stopping: finishing what is in flight...")
        try:
            await runtime.stop()
        except Exception as exc:
            fail(f"regwatch did not stop cleanly: {type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(OSError):
            unregister(os.getpid())
    typer.echo("regwatch stopped")


def collect_after_start() -> None:
    """The collector is off while regwatch starts (``services/cli.py``: start-up makes
    modules, routes and handlers that nearly all live on, and each collection walked them
    again: 0.4-0.6 s of its CPU). Once it has started, what exists is moved out of the
    collections' way (``gc.freeze``; collecting first would hold the event loop 0.16 s for
    about 2,500 unreachable objects, under a megabyte, which stay) and the collector is on."""
    gc.freeze()
    gc.enable()


def record(runtime: Runtime) -> None:
    """Add this instance to the user's list for CLI commands run elsewhere; a list that
    cannot be written (no writable home) only costs that, with a warning."""
    from shared.db.engine import describe_url

    settings = runtime.settings
    instance = Instance(
        pid=os.getpid(),
        data_dir=settings.data_dir.resolve(),
        http=runtime.http_url,
        database=describe_url(settings.sqlalchemy_url),
        sqlite=settings.database_url is None,
    )
    try:
        register(instance)
    except OSError as exc:
        log.warning(
            "this regwatch is not in the instance list (%s: %s): CLI commands find it only"
            " from its folder or with REGWATCH_DATA_DIR",
            exc.strerror or exc,
            exc.filename,
        )
