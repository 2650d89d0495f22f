"""BatchWriter: the first write goes at once; what arrives while it runs goes in the next one;
each caller gets its own result or its batch's error; a caller that stops waiting leaves its
write to finish."""

from __future__ import annotations

import asyncio

import pytest

from services.notifier.batch_writer import BatchWriter


class SlowStore:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail_on: int | None = None

    async def write_many(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await self.release.wait()
        if self.fail_on in items:
            raise RuntimeError(f"cannot write {self.fail_on}")
        return [item * 10 for item in items]


async def test_writes_arriving_during_a_write_go_together_in_the_next() -> None:
    store = SlowStore()
    writer = BatchWriter(store.write_many)
    first = asyncio.create_task(writer.write(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(writer.write(n)) for n in range(2, 12)]
    await asyncio.sleep(0)
    store.release.set()
    assert await first == 10
    assert [await task for task in rest] == [n * 10 for n in range(2, 12)]
    assert store.batches == [[1], list(range(2, 12))]


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_still_goes() -> None:
    store = SlowStore()
    store.fail_on = 1
    writer = BatchWriter(store.write_many)
    first = asyncio.create_task(writer.write(1))
    await asyncio.sleep(0)
    second = asyncio.create_task(writer.write(2))
    store.release.set()
    with pytest.raises(RuntimeError, match="cannot write 1"):
        await first
    assert await second == 20


async def test_a_caller_that_stops_waiting_leaves_its_write_to_finish() -> None:
    store = SlowStore()
    writer = BatchWriter(store.write_many, max_batch=2)
    caller = asyncio.create_task(writer.write(7))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    later = [asyncio.create_task(writer.write(n)) for n in (8, 9, 10)]
    await asyncio.sleep(0)
    store.release.set()
    await writer.close()
    assert store.batches == [[7], [8, 9], [10]]  # batches of at most max_batch
    assert [task.result() for task in later] == [80, 90, 100]
