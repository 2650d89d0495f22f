"""Delivery through the ledger to real receivers: retries, isolation, permanent failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.models import AttemptRow, DeliveryRow
from services.notifier.webhook import WebhookSender
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import DeliveryEvent
from shared.settings import Settings
from tests.support.factories import match_event
from tests.support.receivers import Reply, SmtpReceiver, WebhookReceiver

SETTINGS = Settings(
    retry_schedule="100ms,100ms,100ms",
    webhook_timeout=2,
    dispatch_interval=0.05,
    webhook_allow_private=True,
)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpReceiver]:
    async with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
async def dispatcher(db: Database, smtp: SmtpReceiver) -> AsyncIterator[Dispatcher]:
    outcomes: list[DeliveryEvent] = []

    async def record(event: DeliveryEvent) -> None:
        outcomes.append(event)

    webhooks = WebhookSender(timeout=SETTINGS.webhook_timeout, allow_private=True)
    email = EmailSender(
        host="127.0.0.1", port=smtp.port, username=None, password=None, tls="none", timeout=5
    )
    worker = Dispatcher(db, SETTINGS, webhooks, email, record)
    worker.outcomes = outcomes  # type: ignore[attr-defined]
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
        await webhooks.aclose()


async def subscribe(db: Database, *, email: str | None, webhook: str | None) -> tuple[str, str]:
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name="Risk",
            email=email,
            webhook_url=webhook,
            reminders="1d",
            default_reminders="7d",
            allow_private=True,
        )
    return created.id, created.webhook_secret or ""


async def wait_status(db: Database, delivery_id: str, status: str, wait: float = 10) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        async with db.session() as session:
            row = await session.get(DeliveryRow, delivery_id)
            if row is not None and row.status == status:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{delivery_id} never reached {status}")


async def test_503_twice_then_200_is_one_delivery_three_attempts_same_id(
    db: Database, dispatcher: Dispatcher
) -> None:
    async with WebhookReceiver(plan=[503, 503, 200]) as hook:
        subscriber_id, secret = await subscribe(db, email=None, webhook=hook.url)
        [delivery_id], _ = await handle_match(
            db, SETTINGS, match_event(subscriber_id, date(2099, 8, 31))
        )
        dispatcher.kick()
        await wait_status(db, delivery_id, "delivered")
        await asyncio.sleep(0.5)
        assert [r.reply.status for r in hook.requests] == [503, 503, 200]
        assert {r.webhook_id for r in hook.requests} == {delivery_id}
        Webhook(secret).verify(hook.requests[-1].body, hook.requests[-1].headers)
    async with db.session() as session:
        attempts = (
            await session.execute(
                select(AttemptRow.status_code).where(AttemptRow.delivery_id == delivery_id)
            )
        ).all()
    assert sorted(code for (code,) in attempts) == [200, 503, 503]
    outcomes = [e.status for e in dispatcher.outcomes]  # type: ignore[attr-defined]
    assert outcomes == ["retrying", "retrying", "delivered"]


async def test_410_fails_at_once(db: Database, dispatcher: Dispatcher) -> None:
    async with WebhookReceiver(plan=[410]) as hook:
        subscriber_id, _ = await subscribe(db, email=None, webhook=hook.url)
        [delivery_id], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        dispatcher.kick()
        await wait_status(db, delivery_id, "failed")
        await asyncio.sleep(0.4)
        assert len(hook.requests) == 1


async def test_retries_run_out_then_failed(db: Database, dispatcher: Dispatcher) -> None:
    async with WebhookReceiver(default=500) as hook:
        subscriber_id, _ = await subscribe(db, email=None, webhook=hook.url)
        [delivery_id], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        dispatcher.kick()
        await wait_status(db, delivery_id, "failed")
        assert len(hook.requests) == 4  # first try + three retries


async def test_hanging_endpoint_does_not_delay_another_subscriber(
    db: Database, dispatcher: Dispatcher
) -> None:
    async with WebhookReceiver(plan=[Reply(hang=True)] * 10) as slow, WebhookReceiver() as fast:
        slow_id, _ = await subscribe(db, email=None, webhook=slow.url)
        fast_id, _ = await subscribe(db, email=None, webhook=fast.url)
        await handle_match(db, SETTINGS, match_event(slow_id, None))
        started = time.monotonic()
        dispatcher.kick()
        await asyncio.sleep(0.2)  # the slow endpoint's request is now hanging
        [fast_delivery], _ = await handle_match(db, SETTINGS, match_event(fast_id, None))
        dispatcher.kick()
        await fast.wait_for(1, timeout=5)
        assert time.monotonic() - started < SETTINGS.webhook_timeout
        await wait_status(db, fast_delivery, "delivered")


async def test_email_451_then_accepted(
    db: Database, smtp: SmtpReceiver, dispatcher: Dispatcher
) -> None:
    smtp.set_plan(["451 4.3.0 try again later"])
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    [delivery_id], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
    dispatcher.kick()
    await wait_status(db, delivery_id, "delivered")
    [message] = smtp.messages
    assert message["X-Regwatch-Alert-Id"] == delivery_id
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}
    assert len(smtp.received) == 2
