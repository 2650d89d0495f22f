"""WakeLoop stops whenever it is stopped: also when a kick lands in the same turn of the event
loop as the stop (a delivery finishing while the dispatcher shuts down)."""

from __future__ import annotations

import asyncio

import pytest

from shared.wakeloop import WakeLoop


async def test_runs_its_step_when_kicked_and_on_its_interval() -> None:
    steps: list[str] = []
    ran = asyncio.Event()

    async def step() -> None:
        steps.append("step")
        ran.set()

    loop = WakeLoop("test", step, interval=0.05)
    loop.start()
    async with asyncio.timeout(5):
        await ran.wait()  # on the interval, without a kick
        ran.clear()
        loop.kick()
        await ran.wait()
    await loop.stop()
    assert len(steps) >= 2


@pytest.mark.parametrize("turns", range(8))
async def test_stop_right_after_a_kick_ends_the_loop(turns: int) -> None:
    """The kick wakes the loop's wait and the stop cancels it; whichever of the two the loop
    sees first, stop() returns. (``asyncio.wait_for`` on 3.11 drops a cancel that arrives
    after the awaited thing finished, and the loop ran on for ever.)"""

    async def step() -> None:
        return None

    loop = WakeLoop("test", step, interval=3600)
    loop.start()
    await asyncio.sleep(0.01)  # the loop is waiting
    loop.kick()
    for _ in range(turns):
        await asyncio.sleep(0)
    stopping = asyncio.ensure_future(loop.stop())
    done, _ = await asyncio.wait({stopping}, timeout=5)
    assert done == {stopping}, "the loop ran on after stop()"
    stopping.result()


async def test_stop_does_not_swallow_the_callers_own_cancel() -> None:
    """A caller that gives up on stop() (a timeout around it) is cancelled, not left
    believing the loop stopped."""
    release = asyncio.Event()

    async def step() -> None:
        await release.wait()

    loop = WakeLoop("test", step, interval=3600)
    loop.start()
    loop.kick()
    await asyncio.sleep(0.01)  # the step is running
    stopping = asyncio.ensure_future(loop.stop())
    await asyncio.sleep(0)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    await loop.stop()


async def test_a_step_that_raises_is_retried_on_the_next_wake() -> None:
    calls = 0
    again = asyncio.Event()

    async def step() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("first step fails")
        again.set()

    loop = WakeLoop("test", step, interval=3600)
    loop.start()
    loop.kick()
    await asyncio.sleep(0.01)
    loop.kick()
    async with asyncio.timeout(5):
        await again.wait()
    await loop.stop()
    assert calls == 2
