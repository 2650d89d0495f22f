"""Email addresses and webhook URLs added as targets besides the account's own: each alert
reaches every one once (webhooks signed with the subscriber's secret), a removed one gets
nothing more, and the account's own follow a change of the account."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from standardwebhooks import Webhook

from services.notifier.handler import handle_match
from services.notifier.models import DeliveryRow
from services.notifier.targets import NewTarget, add_target, remove_target
from shared.accounts import SubscriberChanges, get_subscriber, update_subscriber
from shared.db import Database
from tests.services.notifier.test_dispatcher import (
    SETTINGS,
    running_dispatcher,
    subscribe,
    wait_status,
)
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver, WebhookReceiver


async def add(db: Database, subscriber_id: str, channel: str, address: str) -> str:
    async with db.session() as session:
        row = await add_target(
            session, subscriber_id, NewTarget(channel, address), datetime.now(UTC)
        )
        return row.id


async def test_every_email_and_webhook_target_gets_each_alert_once(db: Database) -> None:
    async with WebhookReceiver() as own, WebhookReceiver() as extra, SmtpReceiver() as smtp:
        subscriber_id, secret = await subscribe(db, email="risk@example.com", webhook=own.url)
        await add(db, subscriber_id, "email", "legal@example.com")
        await add(db, subscriber_id, "webhook", extra.url)
        ids, _ = await handle_match(db, SETTINGS, match_event(subscriber_id, date(2099, 9, 1)))
        again, _ = await handle_match(db, SETTINGS, match_event(subscriber_id, date(2099, 9, 1)))
        assert len(ids) == 4 and again == []  # redelivered: recorded once per target
        async with running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for delivery_id in ids:
                await wait_status(db, delivery_id, "delivered")
        assert sorted(m["To"] for m in smtp.messages) == ["legal@example.com", "risk@example.com"]
        for hook in (own, extra):
            [request] = hook.requests
            Webhook(secret).verify(request.body, request.headers)
        assert own.requests[0].webhook_id != extra.requests[0].webhook_id


async def test_a_removed_target_gets_nothing_more_and_the_accounts_own_moves(
    db: Database,
) -> None:
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    extra = await add(db, subscriber_id, "email", "legal@example.com")
    async with db.session() as session:
        assert await remove_target(session, subscriber_id, extra) == 0
        subscriber = await get_subscriber(session, subscriber_id)
        assert subscriber is not None
        await update_subscriber(
            session,
            subscriber,
            SubscriberChanges(frozenset({"email"}), email="compliance@example.com"),
            allow_private=True,
        )
    await handle_match(db, SETTINGS, match_event(subscriber_id, date(2099, 9, 1)))
    async with db.read_session() as session:
        rows = list(
            await session.scalars(select(DeliveryRow).where(DeliveryRow.channel == "email"))
        )
    assert [row.target for row in rows] == ["compliance@example.com"]
