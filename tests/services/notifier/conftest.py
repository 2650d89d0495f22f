"""Helpers for the notifier's store tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.webhook import WebhookSender
from shared.accounts import Subscriber, register_subscriber
from shared.db import Database
from shared.settings import Settings


@contextlib.asynccontextmanager
async def idle_dispatcher(db: Database, settings: Settings) -> AsyncIterator[Dispatcher]:
    """A dispatcher whose loop is not running (tests call claim() or rank() themselves),
    with senders that are closed afterwards; its SMTP server is never reached."""
    webhooks = WebhookSender(timeout=settings.webhook_timeout, allow_private=True)
    email = EmailSender(host="127.0.0.1", port=9, tls="none", timeout=5)
    try:
        yield Dispatcher(db, settings, webhooks, email)
    finally:
        await webhooks.aclose()
        await email.aclose()


async def new_subscriber(
    db: Database,
    *,
    email: str | None = "risk@example.com",
    webhook: str | None = "http://127.0.0.1:1/hook",
    reminders: str = "7d,3d,1d",
    timezone: str | None = None,
) -> tuple[str, str]:
    """(subscriber id, webhook secret)."""
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name="Risk",
            email=email,
            webhook_url=webhook,
            reminders=reminders,
            default_reminders="7d,3d,1d",
            allow_private=True,
        )
        if timezone is not None:
            row = await session.get(Subscriber, created.id)
            assert row is not None
            row.timezone = timezone
    return created.id, created.webhook_secret or ""
