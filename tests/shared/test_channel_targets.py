"""The account's own email address and webhook URL as targets: added with the account, moved,
merged with a target of the same address, and removed with the address."""

from __future__ import annotations

from sqlalchemy import select

from shared.accounts import create_subscriber
from shared.channel_targets import TargetRow, new_target_id, sync_account_targets
from shared.db import Database


async def _targets(db: Database, subscriber_id: str) -> list[tuple[str, str, bool]]:
    async with db.read_session() as session:
        rows = await session.scalars(
            select(TargetRow).where(TargetRow.subscriber_id == subscriber_id)
        )
        return sorted((r.channel, r.address, r.account) for r in rows)


async def test_account_rows_follow_the_account(db: Database) -> None:
    async with db.session() as session:
        created = await create_subscriber(
            session,
            name="Risk",
            email="risk@example.com",
            webhook_url="https://h.example/a",
            webhook_secret=None,
            reminders="1d",
        )
    sid = created.subscriber.id
    assert await _targets(db, sid) == [
        ("email", "risk@example.com", True),
        ("webhook", "https://h.example/a", True),
    ]
    async with db.session() as session:
        subscriber = created.subscriber
        session.add(
            TargetRow(
                id=new_target_id(),
                subscriber_id=sid,
                channel="webhook",
                address="https://h.example/b",
            )
        )
        await session.flush()
        merged = await session.merge(subscriber)
        merged.webhook_url = "https://h.example/b"  # the added target becomes the account's
        merged.email = None
        await sync_account_targets(session, merged)
    assert await _targets(db, sid) == [("webhook", "https://h.example/b", True)]
    async with db.session() as session:
        merged = await session.merge(subscriber)
        merged.email = "legal@example.com"
        merged.webhook_url = None
        await sync_account_targets(session, merged)
        await sync_account_targets(session, merged)  # twice: nothing changes
    assert await _targets(db, sid) == [("email", "legal@example.com", True)]
