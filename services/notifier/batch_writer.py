"""Gathers writes that arrive while one is running into the next unit of work.

Every delivery's result must be written before its lease runs out, and one unit of work per
result costs a transaction (on SQLite a thread hop per statement, a lock taken in turn) for
each webhook sent. Here the first result is written at once, alone; those that arrive while
that write runs go together in the next one, and so on: under load a write carries everything
that finished since the last, with no timer and no added wait when idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 500


class BatchWriter(Generic[T, R]):
    """``await write(item)`` returns ``write_many(items)``'s result for ``item``, or raises
    what the write of its batch raised. ``write_many`` returns one result per item, in order."""

    def __init__(
        self, write_many: Callable[[list[T]], Awaitable[list[R]]], max_batch: int = MAX_BATCH
    ) -> None:
        self.write_many = write_many
        self.max_batch = max_batch
        self.pending: list[tuple[T, asyncio.Future[R]]] = []
        self.task: asyncio.Task[None] | None = None

    async def write(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self.pending.append((item, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain(), name="batch-writer")
        # shielded: a caller cancelled while waiting (a stop) leaves its write to finish
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self.pending:
            batch = self.pending[: self.max_batch]
            del self.pending[: self.max_batch]
            try:
                results = await self.write_many([item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled: nothing waiting may wait for ever
                for _, future in [*batch, *self.pending]:
                    if not future.done():
                        future.cancel()
                self.pending.clear()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Wait for the writes under way and those waiting to be written."""
        if self.task is not None:
            await asyncio.wait([self.task])
