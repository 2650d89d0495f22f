"""Per-target send rates shared by every notifier instance: a sliding window over rows in the
database.

A platform limits how often one target may be sent to (a DingTalk or WeCom robot: 20 messages
a minute, and DingTalk then blocks the robot for 10 minutes; Feishu: 5 a second and 100 a
minute). The limit must hold in every window, so each (queue, rate) keeps the times of its last
``count`` sends in ``rate_limits``: a send at ``now`` is admitted when fewer than ``count``
sends fall in the last ``per`` seconds, for every rate (a burst of ``count`` goes out at once);
otherwise the answer is how long until the oldest of them leaves the window. (A token bucket
would let ``2 x count`` through in a window: a full bucket plus what refills meanwhile.)

:func:`admit` is the arithmetic (pure); :func:`take` reads and writes the rows inside the
caller's unit of work, locked (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction holds
the whole database), so two instances never spend the same slot; :func:`finish` then counts
the send from its answer, once it came.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import RateRow
from services.notifier.once import insert_once

Log = list[float]
"""Times of the latest sends (epoch seconds, oldest first, at most ``count`` of them)."""


@dataclass(frozen=True)
class Rate:
    """At most ``count`` sends in any ``per`` seconds."""

    count: int
    per: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.per <= 0:
            raise ValueError(f"a rate needs count >= 1 and per > 0, not {self.count}/{self.per}")

    @property
    def label(self) -> str:
        return f"{self.count}/{self.per:g}s"


def admit(rates: Sequence[Rate], logs: Sequence[Log], now: float) -> tuple[float, list[Log]]:
    """(seconds to wait, the logs after). Waiting 0 means admitted: the logs after hold this
    send and are to be stored; otherwise they are the logs as they were."""
    current = [
        [at for at in log if at > now - rate.per] for rate, log in zip(rates, logs, strict=True)
    ]
    waits = [
        log[-rate.count] + rate.per - now
        for rate, log in zip(rates, current, strict=True)
        if len(log) >= rate.count
    ]
    if waits:
        return max(waits), [list(log) for log in logs]
    return 0.0, [[*log, now][-rate.count :] for rate, log in zip(rates, current, strict=True)]


async def take(session: AsyncSession, key: str, rates: Sequence[Rate], now: datetime) -> float:
    """Spend one send of ``key`` under every rate, or say how many seconds until one is
    free (nothing spent then)."""
    if not rates:
        return 0.0
    labels = [rate.label for rate in rates]
    query = select(RateRow).where(RateRow.key == key, RateRow.rate.in_(labels))
    rows = {row.rate: row for row in (await session.scalars(query.with_for_update())).all()}
    missing = [label for label in labels if label not in rows]
    if missing:
        for label in missing:
            await insert_once(session, RateRow(key=key, rate=label, sends="[]"))
        rows = {row.rate: row for row in (await session.scalars(query.with_for_update())).all()}
    logs = [_log(rows[label].sends) for label in labels]
    wait, after = admit(rates, logs, now.timestamp())
    if wait == 0:
        for label, log in zip(labels, after, strict=True):
            rows[label].sends = json.dumps([round(at, 6) for at in log])
    return wait


def moved(log: Log, taken: float, done: float) -> Log:
    """The log with the send spent at ``taken`` counted from ``done`` (its answer) instead.

    A platform counts a message when it arrives, which is some time after the send was spent
    (at the claim) and no later than its answer. Counted from the answer, the next send of a
    queue that sends one at a time is never closer to it than the rate, however slow the
    request was on its way; counted from the claim, a request delayed by more than the rate's
    room (0.2 s of Feishu's 1.2 s) arrived too close to the next and was refused."""
    for i, at in enumerate(log):
        if abs(at - taken) < 1e-5:
            return sorted([*log[:i], max(done, at), *log[i + 1 :]])
    return log  # already out of the log (a later send pushed it out): nothing to move


async def finish(
    session: AsyncSession, key: str, rates: Sequence[Rate], taken: datetime, done: datetime
) -> None:
    """Count the send of ``key`` spent at ``taken`` from ``done``, when its answer came
    (:func:`moved`), in the caller's unit of work."""
    if not rates:
        return
    labels = [rate.label for rate in rates]
    query = select(RateRow).where(RateRow.key == key, RateRow.rate.in_(labels))
    for row in (await session.scalars(query.with_for_update())).all():
        log = _log(row.sends)
        after = moved(log, round(taken.timestamp(), 6), done.timestamp())
        if after != log:
            row.sends = json.dumps([round(at, 6) for at in after])


def _log(text: str) -> Log:
    try:
        found = json.loads(text)
    except ValueError:
        return []
    return sorted(float(at) for at in found) if isinstance(found, list) else []
