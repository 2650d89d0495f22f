"""A claim ranks only the oldest due rows (its window) and gets the same rows, in the same order,
as ranking every due row: random mixes of queues, backlogs, leases and full queues, with windows
small enough that a claim sometimes has to fall back to ranking every row."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, or_, select, update

from services.notifier.channels.email import SMTP_QUEUE
from services.notifier.dispatcher import Dispatcher
from services.notifier.models import DeliveryRow
from shared.db import Database
from shared.settings import Settings
from tests.services.notifier.conftest import idle_dispatcher

SETTINGS = Settings(webhook_timeout=2, webhook_allow_private=True)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
WINDOWS = (1, 3, 8, 25, 60, 1000)
WANTED = (1, 4, 10, 40)


@dataclass
class Mix:
    rows: list[dict[str, object]] = field(default_factory=list)
    sending: dict[str, str] = field(default_factory=dict)
    """Row id -> queue: rows this process is sending (in flight, lease held or run out)."""
    full: list[str] = field(default_factory=list)
    """Queues at their limit in this process (in flight, their rows elsewhere)."""


def row(
    rng: random.Random, queue: str, at: datetime, *, channel: str = "webhook"
) -> dict[str, object]:
    """A delivery row; ties in ``next_attempt_at`` and ``created_at`` are common on purpose (a
    fan-out writes thousands with one timestamp): the id decides between them."""
    ident = f"{rng.getrandbits(48):012x}"
    return {
        "id": ident,
        "subscriber_id": "sub",
        "notice_id": ident,
        "type": "notice.matched",
        "reason": "match",
        "channel": channel,
        "target": queue,
        "queue": queue,
        "payload": "{}",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at - timedelta(seconds=rng.choice((0, 0, 1, 5))),
        "claimed_until": None,
        "retry_base": 0,
    }


def moment(rng: random.Random) -> datetime:
    """One of a few times in the last minute (due) or, now and then, the next one (not due)."""
    if rng.random() < 0.05:
        return NOW + timedelta(seconds=rng.randint(1, 60))
    return NOW - timedelta(seconds=rng.choice((60, 30, 30, 10, 5, 5, 5, 1, 0)))


def spread(rng: random.Random) -> Mix:
    """A fan-out: many queues with one row each."""
    return Mix([row(rng, f"http://h/{q}", moment(rng)) for q in range(rng.randint(20, 150))])


def backlog(rng: random.Random) -> Mix:
    """One endpoint with more rows waiting than any window, older than the rest, and others."""
    deep = [row(rng, "http://h/deep", NOW - timedelta(minutes=10)) for _ in range(120)]
    others = [
        row(rng, f"http://h/{q}", moment(rng))
        for q in range(rng.randint(1, 60))
        for _ in range(rng.choice((1, 1, 2, 3)))
    ]
    return Mix([*deep, *others])


def channels(rng: random.Random) -> Mix:
    """Emails (one queue, 4 per SMTP connection), robots (1 at a time), unknown channels."""
    rows = [row(rng, SMTP_QUEUE, moment(rng), channel="email") for _ in range(rng.randint(0, 80))]
    for q in range(rng.randint(1, 10)):
        rows += [row(rng, f"dingtalk:{q}", moment(rng), channel="dingtalk") for _ in range(3)]
    rows += [row(rng, "gone:1", moment(rng), channel="gone") for _ in range(rng.randint(0, 3))]
    rows += [row(rng, f"http://h/{q}", moment(rng)) for q in range(rng.randint(0, 40))]
    return Mix(rows)


def busy(rng: random.Random) -> Mix:
    """Rows being sent here, leases of other instances (held and run out), full queues, rows
    no longer pending: each left out of the ranking or counted against its queue's slots."""
    mix = backlog(rng) if rng.random() < 0.5 else spread(rng)
    extra = channels(rng)
    mix.rows += extra.rows
    for entry in mix.rows:
        luck = rng.random()
        if luck < 0.1:
            entry["claimed_until"] = NOW + timedelta(seconds=30)  # another instance's
        elif luck < 0.15:
            entry["claimed_until"] = NOW - timedelta(seconds=1)  # its lease ran out
        elif luck < 0.2:
            entry["status"] = rng.choice(("delivered", "failed", "held"))
        elif luck < 0.3:
            mix.sending[str(entry["id"])] = str(entry["queue"])
    mix.full = [str(q) for q in rng.sample(sorted({str(e["queue"]) for e in mix.rows}), 3)]
    return mix


def behind(rng: random.Random) -> Mix:
    """Emails far behind the webhooks (the SMTP queue is slower), and a deep endpoint between
    them: windows filled by one deep queue, then by another, before the fan-out's rows."""
    rows = [
        row(rng, SMTP_QUEUE, NOW - timedelta(minutes=20), channel="email")
        for _ in range(rng.randint(60, 140))
    ]
    rows += [row(rng, "http://h/deep", NOW - timedelta(minutes=10)) for _ in range(80)]
    rows += [row(rng, f"http://h/{q}", moment(rng)) for q in range(rng.randint(20, 120))]
    return Mix(rows)


MIXES = {
    "spread": spread,
    "backlog": backlog,
    "channels": channels,
    "busy": busy,
    "behind": behind,
}


@pytest.fixture
async def worker(db: Database) -> AsyncIterator[Dispatcher]:
    async with idle_dispatcher(db, SETTINGS) as dispatcher:
        yield dispatcher


async def load(db: Database, worker: Dispatcher, mix: Mix) -> int:
    """The mix in the ledger and in the worker's state; how many rows are due for it."""
    worker.in_flight.clear()
    worker.limits.clear()
    worker.sending.clear()
    for ident, queue in mix.sending.items():
        worker.sending.add(ident)
        worker.in_flight[queue] += 1
        worker.limits[queue] = 4
    for queue in mix.full:
        worker.in_flight[queue] = worker.limits[queue] = 1
    async with db.session() as session:
        await session.execute(delete(DeliveryRow))
        if mix.rows:
            await session.execute(insert(DeliveryRow), mix.rows)
        full = [q for q, n in worker.in_flight.items() if n >= worker.limits[q]]
        return int(
            await session.scalar(
                select(func.count()).where(
                    DeliveryRow.status == "pending",
                    DeliveryRow.next_attempt_at <= NOW,
                    or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < NOW),
                    DeliveryRow.queue.not_in(full),
                    DeliveryRow.id.not_in(worker.sending),
                )
            )
            or 0
        )


async def test_the_window_ranks_the_same_rows_in_the_same_order_as_ranking_every_row(
    db: Database, worker: Dispatcher
) -> None:
    rng = random.Random(15)
    paths = {
        "saw every due row": 0,
        "took first rows only": 0,
        "set deep queues aside": 0,
        "read a wider window": 0,
        "ranked every row": 0,
    }
    for round_ in range(6):
        for name, make in MIXES.items():
            mix = make(rng)
            due = await load(db, worker, mix)
            for window in WINDOWS:
                for wanted in WANTED:
                    fallbacks, narrowed = worker.full_ranks, worker.narrowed
                    widened = worker.widened
                    # how wide a window may grow before every row is ranked: now and then
                    # no wider than the first one
                    worker.window_max = rng.choice((window, window * 4, 100_000))
                    async with db.session() as session:
                        everything = await worker.rank(session, NOW, wanted, None)
                        bounded = await worker.rank(session, NOW, wanted, window)
                    assert bounded == everything, (round_, name, window, wanted)
                    if worker.full_ranks > fallbacks:
                        paths["ranked every row"] += 1
                    elif worker.narrowed > narrowed:
                        paths["set deep queues aside"] += 1
                    elif worker.widened > widened:
                        paths["read a wider window"] += 1
                    elif window > due:
                        paths["saw every due row"] += 1
                    else:
                        paths["took first rows only"] += 1
    # every way a claim can go was taken: the windows are not all too wide or too narrow
    assert min(paths.values()) >= 20, paths


async def test_claims_with_a_small_window_take_what_claims_ranking_every_row_take(
    db: Database, worker: Dispatcher
) -> None:
    """Whole claims, round after round, the claimed rows being sent (queues fill up): each
    claim with a window of 3 rows takes the rows a claim ranking every row takes."""
    rng = random.Random(42)
    mix = backlog(rng)
    mix.rows += [row(rng, SMTP_QUEUE, moment(rng), channel="email") for _ in range(50)]
    await load(db, worker, mix)
    worker.batch = 7
    narrowed = worker.narrowed
    for _ in range(12):
        worker.window = 3
        small = await worker.claim(NOW)
        async with db.session() as session:  # let them go again, as if not claimed
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_([r.id for r in small]))
                .values(claimed_until=None, claim_token=None)
            )
        worker.window = 100_000
        wide = await worker.claim(NOW)  # a window holding every row here
        assert sorted(r.id for r in small) == sorted(r.id for r in wide)
        for claimed in wide:  # what sweep() does with them, without sending
            worker.in_flight[claimed.queue] += 1
            worker.limits[claimed.queue] = worker.limit_of(claimed.channel)
            worker.sending.add(claimed.id)
        if len(wide) > 1:  # one of them done: its queue has a free slot again
            worker.sending.discard(wide[0].id)
            worker.in_flight[wide[0].queue] -= 1
    assert worker.narrowed > narrowed  # the deep queue filled the window of 3
