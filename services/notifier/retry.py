"""When to try a failed delivery again: the configured schedule, jitter and ``Retry-After``."""

from __future__ import annotations

import random
from datetime import timedelta

MAX_RETRY_AFTER = timedelta(days=1)

_default_rng = random.Random()


def next_delay(
    attempt: int,
    schedule: list[timedelta],
    *,
    retry_after: float | None,
    jitter: float = 0.1,
    rng: random.Random | None = None,
    max_retry_after: timedelta = MAX_RETRY_AFTER,
) -> timedelta | None:
    """Delay before the next attempt after ``attempt`` attempts have failed, or None to stop.

    Attempt 1 failed -> ``schedule[0]``, attempt 2 failed -> ``schedule[1]`` ...; None once the
    schedule is exhausted (then the delivery is failed for good). The delay is spread by
    +/- ``jitter`` (a fraction) so retries of many deliveries do not arrive together. A
    receiver's ``retry_after`` (seconds) is honoured when it asks for longer, capped at
    ``max_retry_after`` so a receiver cannot park a delivery forever.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    if attempt > len(schedule):
        return None
    base = schedule[attempt - 1]
    spread = (rng or _default_rng).uniform(-jitter, jitter) if jitter else 0.0
    delay = max(base * (1.0 + spread), timedelta(0))
    if retry_after is not None and retry_after > 0:
        asked = min(timedelta(seconds=retry_after), max_retry_after)
        delay = max(delay, asked)
    return delay
