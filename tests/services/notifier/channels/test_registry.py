"""A channel is one module and one registry line: a channel added only to ``CHANNELS`` gets
its alerts through the ledger, the dispatcher (queues, limits, retries), the delivery log and
replays, with nothing else touched; a row of a channel this version lacks fails, and says so."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import select

from services.notifier.alerts import Alert, Context
from services.notifier.channels import CHANNELS, Channel, Rate, Senders, SendResult, Target
from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.history import replay_delivery
from services.notifier.ledger import utc_now
from services.notifier.models import AttemptRow, DeliveryRow, RateRow
from services.notifier.webhook import WebhookSender
from shared.db import Database
from tests.services.notifier.test_dispatcher import (
    SETTINGS,
    running_dispatcher,
    subscribe,
    wait_status,
)
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver, WebhookReceiver


class EchoChannel(Channel):
    """Posts the alert's type and notice as JSON to one URL per subscriber."""

    name: ClassVar[str] = "echo"

    def __init__(self, base_url: str, rates: tuple[Rate, ...] = ()) -> None:
        self.base_url = base_url
        self.replayed: list[str] = []
        self._rates = rates
        self.sent_at: list[float] = []

    def rates(self, target: str) -> tuple[Rate, ...]:
        return self._rates

    def targets(self, ctx: Context) -> list[Target]:
        return [Target(f"{self.base_url}?to={ctx.subscriber.id}")]

    def render(self, alert: Alert, ctx: Context, target: Target) -> str:
        return json.dumps({"type": alert.type, "notice": alert.notice_id})

    def render_digest(
        self, ctx: Context, target: Target, why: str, alerts: list[dict[str, Any]]
    ) -> str:
        return json.dumps({"type": "digest", "ids": [a["id"] for a in alerts]})

    def limit(self, senders: Senders) -> int:
        return 1

    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        self.sent_at.append(time.time())
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.post(row.target, content=row.payload)
        ok = answer.is_success
        error = None if ok else f"HTTP {answer.status_code}"
        return SendResult(ok, answer.status_code >= 500, answer.status_code, error, None, 1.0)

    async def before_replay(self, session: Any, row: DeliveryRow, now: datetime) -> None:
        self.replayed.append(row.id)


@pytest.fixture
async def echo(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[EchoChannel, WebhookReceiver]]:
    async with WebhookReceiver(plan=[503]) as receiver:
        channel = EchoChannel(receiver.url)
        monkeypatch.setitem(CHANNELS, channel.name, channel)
        yield channel, receiver


async def echo_rows(db: Database) -> set[str]:
    async with db.read_session() as session:
        found = await session.scalars(select(DeliveryRow.id).where(DeliveryRow.channel == "echo"))
        return set(found)


async def alerts(db: Database, count: int, prefix: str) -> None:
    """A new subscriber gets ``count`` alerts, one per notice (``{prefix}-00``, ``-01`` ...)."""
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    for n in range(count):
        event = match_event(subscriber_id, None)
        event.notice.notice_id = f"{prefix}-{n:02d}"
        await handle_match(db, SETTINGS, event)


async def test_a_channel_in_the_registry_gets_alerts_retries_and_replays(
    db: Database, echo: tuple[EchoChannel, WebhookReceiver]
) -> None:
    channel, receiver = echo
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    await handle_match(db, SETTINGS, match_event(subscriber_id, None))
    async with db.read_session() as session:
        rows = list((await session.scalars(select(DeliveryRow))).all())
    assert sorted((row.channel, row.target, row.queue) for row in rows) == [
        ("echo", f"{receiver.url}?to={subscriber_id}", f"echo:{receiver.url}?to={subscriber_id}"),
        ("email", "risk@example.com", "smtp:"),
    ]
    [delivery] = [row.id for row in rows if row.channel == "echo"]
    async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
        dispatcher.kick()
        await wait_status(db, delivery, "delivered")  # a 503 first, then accepted
    assert [json.loads(r.body) for r in receiver.requests] == [
        {"type": "notice.matched", "notice": "miit-20990801-abc"}
    ] * 2
    async with db.session() as session:
        attempts = await session.scalars(
            select(AttemptRow.status_code).where(AttemptRow.delivery_id == delivery)
        )
        assert list(attempts) == [503, 200]
        row = await session.get(DeliveryRow, delivery)
        assert row is not None
        row.status = "failed"
    async with db.session() as session:
        await replay_delivery(session, delivery, datetime.now(UTC))
    assert channel.replayed == [delivery]


async def test_a_row_of_a_channel_this_version_lacks_fails_and_says_which(
    db: Database, echo: tuple[EchoChannel, WebhookReceiver]
) -> None:
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    created, _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
    [delivery] = [ident for ident in created if ident in await echo_rows(db)]
    del CHANNELS["echo"]  # a newer version wrote it; this one does not know the channel
    async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
        dispatcher.kick()
        await wait_status(db, delivery, "failed")
    async with db.read_session() as session:
        row = await session.get(DeliveryRow, delivery)
        assert row is not None
        assert row.last_error == "no channel 'echo' in this version of regwatch"


async def test_a_channels_rate_holds_across_instances_none_lost_none_twice(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with WebhookReceiver() as receiver:
        channel = EchoChannel(receiver.url, (Rate(4, 1.0),))
        monkeypatch.setitem(CHANNELS, "echo", channel)
        await alerts(db, 14, "miit-burst")
        wanted = await echo_rows(db)
        async with (
            SmtpReceiver() as smtp,
            running_dispatcher(db, smtp) as one,
            running_dispatcher(db, smtp) as two,
        ):
            one.kick()
            two.kick()
            for delivery in wanted:
                await wait_status(db, delivery, "delivered", wait=30)
    notices = [json.loads(r.body)["notice"] for r in receiver.requests]
    assert sorted(notices) == [f"miit-burst-{n:02d}" for n in range(14)]  # each once
    times = sorted(channel.sent_at)  # when each send began, just after its turn was taken
    busiest = max(sum(1 for t in times if start <= t < start + 0.6) for start in times)
    assert busiest <= 4  # never more than the rate in a window (0.4 s left for a busy loop)
    assert times[-1] - times[0] >= 2.9  # 14 at 4 a second: the last three windows later
    async with db.read_session() as session:
        attempts = await session.scalars(
            select(AttemptRow.delivery_id).where(AttemptRow.delivery_id.in_(wanted))
        )
        assert sorted(attempts) == sorted(wanted)  # waiting for the rate is not an attempt


async def test_the_claim_spends_the_rate_and_a_row_over_it_waits_unclaimed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One unit of work claims a row and spends its queue's rate (or lets it go again to
    wait): a rate-limited send opens no transaction of its own."""
    channel = EchoChannel("http://127.0.0.1:1/echo", (Rate(1, 60.0),))
    monkeypatch.setitem(CHANNELS, "echo", channel)
    await alerts(db, 2, "miit-rate")
    async with db.session() as work:  # only the echo rows: one queue, one at a time
        for row in (await work.scalars(select(DeliveryRow))).all():
            if row.channel != "echo":
                await work.delete(row)
    units = 0
    unit_of_work = db.session

    def counted() -> Any:
        nonlocal units
        units += 1
        return unit_of_work()

    webhooks = WebhookSender(timeout=2, allow_private=True)
    worker = Dispatcher(db, SETTINGS, webhooks, EmailSender("127.0.0.1", 1))
    monkeypatch.setattr(db, "session", counted)
    try:
        [first] = await worker.claim(utc_now())  # the queue's oldest row, its rate spent
        assert units == 1
        await worker.record(first, SendResult(True, False, 200, None, None, 1.0))
        assert units == 2
        assert await worker.claim(utc_now()) == []  # the next one is over the rate
        assert units == 3
    finally:
        monkeypatch.setattr(db, "session", unit_of_work)
        await webhooks.aclose()
    async with db.read_session() as read:
        [waiting] = (
            await read.scalars(select(DeliveryRow).where(DeliveryRow.id != first.id))
        ).all()
        [spent] = (await read.scalars(select(RateRow))).all()
    assert waiting.status == "pending" and waiting.claim_token is None
    assert waiting.attempts == 0  # waiting for the rate is not an attempt
    assert waiting.next_attempt_at > utc_now() + timedelta(seconds=50)  # the window's end
    assert (spent.key, len(json.loads(spent.sends))) == (first.queue, 1)
