"""Helpers for the notifier's store tests."""

from __future__ import annotations

from shared.accounts import Subscriber, register_subscriber
from shared.db import Database


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
