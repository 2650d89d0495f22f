"""Send rates: a burst of up to the count at once, never more than the count in any window,
several rates at once; and, through the database, one budget shared by concurrent takers."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest

from services.notifier.ratelimit import Log, Rate, admit, moved, take
from shared.db import Database

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def run(rates: list[Rate], times: list[float]) -> tuple[list[float], list[float]]:
    """Try a send at each of ``times`` (seconds); (the waits answered, the times admitted)."""
    logs: list[Log] = [[] for _ in rates]
    waits, sent = [], []
    for at in times:
        wait, logs = admit(rates, logs, at)
        if wait == 0:
            sent.append(at)
        waits.append(round(wait, 6))
    return waits, sent


def most_in_a_window(sent: list[float], per: float) -> int:
    return max((sum(1 for t in sent if start <= t < start + per) for start in sent), default=0)


def test_a_burst_of_the_count_goes_at_once_then_the_window_must_move() -> None:
    minute = Rate(20, 60)
    waits, _ = run([minute], [0.0] * 21)
    assert waits == [0.0] * 20 + [60.0]
    waits, _ = run([minute], [0.0] * 20 + [59.0, 60.0, 60.0])
    assert waits[20:] == [1.0, 0.0, 0.0]  # at 60 s the first burst has left the window


def test_sending_as_fast_as_allowed_never_puts_more_than_the_count_in_any_window() -> None:
    feishu = [Rate(5, 1), Rate(100, 60)]
    chance = random.Random(7)
    clock, times = 0.0, []
    for _ in range(2000):
        clock += chance.choice([0.0, 0.0, 0.01, 0.05, 0.2, 1.0])
        times.append(clock)
    _, sent = run(feishu, times)
    assert most_in_a_window(sent, 1) == 5
    assert most_in_a_window(sent, 60) == 100


def test_every_rate_must_allow_and_a_refused_send_spends_nothing() -> None:
    feishu = [Rate(5, 1), Rate(100, 60)]
    logs: list[Log] = [[], []]
    for _ in range(5):
        _, logs = admit(feishu, logs, 0.0)
    wait, after = admit(feishu, logs, 0.5)
    assert wait == pytest.approx(0.5) and after == logs  # the second's budget is spent
    waits, _ = run(feishu, [n * 0.25 for n in range(101)])  # four a second
    assert waits[:100] == [0.0] * 100
    assert waits[100] == pytest.approx(35.0)  # the 101st waits for the minute's budget


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="count >= 1"):
        Rate(0, 60)
    with pytest.raises(ValueError, match="per > 0"):
        Rate(20, 0)


async def test_concurrent_takers_share_one_budget(db: Database) -> None:
    rates = (Rate(20, 60),)

    async def one() -> float:
        async with db.session() as session:
            return await take(session, "dingtalk:robot-1", rates, T0)

    waits = await asyncio.gather(*(one() for _ in range(30)))
    assert sorted(waits)[:20] == [0.0] * 20  # the burst, once
    assert all(wait > 0 for wait in sorted(waits)[20:])
    async with db.session() as session:  # another queue has its own budget
        assert await take(session, "dingtalk:robot-2", rates, T0) == 0.0


def test_a_send_is_counted_from_its_answer_once_it_came() -> None:
    assert moved([10.0, 20.0], 10.0, 10.7) == [10.7, 20.0]
    assert moved([10.0, 20.0], 20.0, 21.5) == [10.0, 21.5]
    assert moved([20.0, 30.0], 10.0, 11.0) == [20.0, 30.0]  # already out of the log
    assert moved([10.0], 10.0, 9.0) == [10.0]  # never earlier than it was spent
    # moved past a later send: the log stays in order
    assert moved([10.0, 10.5, 11.0], 10.0, 10.8) == [10.5, 10.8, 11.0]
