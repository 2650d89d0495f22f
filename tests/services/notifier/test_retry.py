"""Retry delays: schedule, exhaustion, jitter and Retry-After."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from services.notifier.retry import next_delay
from shared.durations import parse_durations

SCHEDULE = parse_durations("5s,5m,30m,2h")


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, timedelta(seconds=5)), (2, timedelta(minutes=5)), (4, timedelta(hours=2))],
)
def test_attempt_n_failed_waits_schedule_n_minus_1(attempt: int, expected: timedelta) -> None:
    assert next_delay(attempt, SCHEDULE, retry_after=None, jitter=0) == expected


def test_exhausted_schedule_stops() -> None:
    assert next_delay(5, SCHEDULE, retry_after=None) is None
    assert next_delay(1, [], retry_after=None) is None
    assert next_delay(5, SCHEDULE, retry_after=10.0) is None


def test_jitter_stays_within_ten_percent_and_varies() -> None:
    rng = random.Random(42)
    delays = [next_delay(2, SCHEDULE, retry_after=None, rng=rng) for _ in range(500)]
    seconds = [d.total_seconds() for d in delays if d is not None]
    assert len(seconds) == 500
    assert min(seconds) >= 270 and max(seconds) <= 330
    assert len(set(seconds)) > 100
    assert min(seconds) < 280 and max(seconds) > 320  # uses the whole range


def test_seeded_rng_is_reproducible() -> None:
    first = next_delay(3, SCHEDULE, retry_after=None, rng=random.Random(7))
    assert first == next_delay(3, SCHEDULE, retry_after=None, rng=random.Random(7))


def test_retry_after_honoured_when_larger() -> None:
    assert next_delay(1, SCHEDULE, retry_after=120, jitter=0) == timedelta(seconds=120)
    assert next_delay(2, SCHEDULE, retry_after=120, jitter=0) == timedelta(minutes=5)
    assert next_delay(1, SCHEDULE, retry_after=0, jitter=0) == timedelta(seconds=5)


def test_retry_after_is_capped() -> None:
    assert next_delay(1, SCHEDULE, retry_after=10**9, jitter=0) == timedelta(days=1)
    capped = next_delay(
        1, SCHEDULE, retry_after=3600, jitter=0, max_retry_after=timedelta(minutes=10)
    )
    assert capped == timedelta(minutes=10)


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_count_from_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="attempt"):
        next_delay(attempt, SCHEDULE, retry_after=None)


def test_bad_jitter() -> None:
    with pytest.raises(ValueError, match="jitter"):
        next_delay(1, SCHEDULE, retry_after=None, jitter=1.5)
