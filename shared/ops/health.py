"""Readiness checks: is the broker, the database and the SMTP server reachable from here?"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaBroker

from shared.db import Database

Check = Callable[[], Awaitable[None]]


def broker_check(broker: KafkaBroker, timeout: float = 3.0) -> Check:
    """FastStream's own ping (a metadata request through the broker's admin client)."""

    async def check() -> None:
        if not await broker.ping(timeout=timeout):
            raise ConnectionError("Kafka broker did not answer a metadata request")

    return check


def database_check(db: Database) -> Check:
    async def check() -> None:
        await db.ping()

    return check


def smtp_check(host: str, port: int, *, implicit_tls: bool = False) -> Check:
    """Connect; without implicit TLS also read the server's ``220`` greeting, then QUIT."""

    async def check() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            if not implicit_tls:
                greeting = await reader.readline()
                if not greeting.startswith(b"220"):
                    text = greeting.decode(errors="replace").strip() or "nothing"
                    raise ConnectionError(f"SMTP server at {host}:{port} greeted with {text!r}")
                writer.write(b"QUIT\r\n")
                with contextlib.suppress(OSError):
                    await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return check


async def readiness(
    checks: dict[str, Check],
    timeout: float = 5.0,  # noqa: ASYNC109
) -> tuple[bool, dict[str, Any]]:
    """Run the checks at once: (all passed, ``{"status", "checks": {name: "ok" or error},
    "failed"}``)."""

    async def run(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout)
        except TimeoutError:
            return f"error: no answer within {timeout:g}s"
        except Exception as exc:
            return f"error: {type(exc).__name__}: {exc}"
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(run(checks[name]) for name in names))
    outcome = dict(zip(names, results, strict=True))
    failed = [name for name, result in outcome.items() if result != "ok"]
    return not failed, {
        "status": "ready" if not failed else "unavailable",
        "checks": outcome,
        "failed": failed,
    }
