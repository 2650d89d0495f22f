"""A background loop that runs one step every ``interval`` seconds, or at once when kicked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from shared.logging import get_logger

log = get_logger("regwatch.loop")


class WakeLoop:
    def __init__(self, name: str, step: Callable[[], Awaitable[Any]], interval: float) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.step()
            except Exception:
                log.exception("%s failed; retrying in %.1fs", self.name, self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
