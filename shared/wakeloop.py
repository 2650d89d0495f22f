"""A background loop that runs one step every ``interval`` seconds, or at once when kicked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from shared.logging import get_logger

log = get_logger("regwatch.loop")


class WakeLoop:
    """Stopping is sure: a flag the loop checks besides the task's cancellation. (On Python
    3.11, ``asyncio.wait_for`` drops a cancel that lands after the awaited thing finished, in
    the same turn of the event loop, so a kick racing a stop left the loop running for ever;
    the wait uses ``asyncio.timeout``, which counts cancels, and the flag ends the loop even if
    a step swallows one.)"""

    def __init__(self, name: str, step: Callable[[], Awaitable[Any]], interval: float) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def kick(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            try:
                await self.step()
            except Exception:
                log.exception("%s failed; retrying in %.1fs", self.name, self.interval)

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop (a step under way is cancelled) and wait until it has ended. A
        cancel of the caller itself is not swallowed: it propagates, and the loop still
        ends."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        task.cancel()
        await asyncio.wait({task})
        self._task = None
        if not task.cancelled() and task.exception() is not None:
            log.error("%s ended with an error", self.name, exc_info=task.exception())
