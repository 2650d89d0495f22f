"""Migration 0016 on a database made before it: each account's email address and webhook URL
become ``notifier_targets`` rows, the deliveries already recorded for them take the row's id,
and an alert recorded before the upgrade is not recorded (or sent) again after it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import select, text

from services.notifier.handler import handle_match
from services.notifier.models import DeliveryRow, TargetRow
from shared.db import Database
from shared.db.engine import alembic_config
from shared.settings import Settings
from tests.support.factories import match_event

HOOK = "https://hooks.example.com/risk"
OLD_HOOK = "https://hooks.example.com/old"


def _delivery(n: int, channel: str, target: str, notice_id: str) -> DeliveryRow:
    return DeliveryRow(
        id=f"dlv_before_{n}",
        subscriber_id="sub_old",
        notice_id=notice_id,
        type="notice.matched",
        reason="match",
        channel=channel,
        target=target,
        target_id="",
        queue=target,
        payload="{}",
        status="delivered",
        created_at=datetime(2099, 8, 1, tzinfo=UTC),
    )


async def test_account_addresses_become_targets_and_nothing_is_sent_twice(
    database_url: str,
) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0015")
    db = Database(database_url)
    try:
        event = match_event("sub_old", date(2099, 9, 1))
        notice_id = event.notice.notice_id
        async with db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO subscribers (id, name, api_key_hash, email, webhook_url,"
                    " webhook_secret, reminders, timezone, created_at) VALUES ('sub_old', 'Old',"
                    " 'h', 'Risk@Example.com', :hook, NULL, '', 'UTC', :t)"
                ),
                {"hook": HOOK, "t": datetime.now(UTC)},
            )
            await session.execute(
                text(
                    "INSERT INTO subscribers (id, name, api_key_hash, email, webhook_url,"
                    " webhook_secret, reminders, timezone, created_at) VALUES ('sub_mail',"
                    " 'Mail only', 'h2', 'legal@example.com', NULL, NULL, '', 'UTC', :t)"
                ),
                {"t": datetime.now(UTC)},
            )
            session.add_all(
                [
                    _delivery(1, "email", "Risk@Example.com", notice_id),
                    _delivery(2, "webhook", HOOK, notice_id),
                    _delivery(3, "webhook", OLD_HOOK, "older-notice"),  # an address since changed
                ]
            )

        await db.migrate()

        async with db.read_session() as session:
            rows = list(await session.scalars(select(TargetRow).order_by(TargetRow.channel)))
            deliveries = {d.id: d.target_id for d in await session.scalars(select(DeliveryRow))}
        mine = {(r.subscriber_id, r.channel): r for r in rows}
        assert set(mine) == {("sub_old", "email"), ("sub_old", "webhook"), ("sub_mail", "email")}
        assert all(r.account for r in rows)
        assert mine["sub_old", "email"].address == "Risk@Example.com"  # kept as stored
        assert mine["sub_old", "webhook"].address == HOOK
        assert deliveries == {
            "dlv_before_1": mine["sub_old", "email"].id,
            "dlv_before_2": mine["sub_old", "webhook"].id,
            "dlv_before_3": "",
        }

        # the same alert arriving again after the upgrade finds its deliveries recorded
        await handle_match(db, Settings(webhook_allow_private=True), event)
        async with db.read_session() as session:
            after = list(await session.scalars(select(DeliveryRow.id)))
        assert sorted(after) == sorted(deliveries)

        await asyncio.to_thread(command.downgrade, config, "0015")
        async with db.read_session() as session:
            left = (await session.execute(text("SELECT count(*) FROM notifier_targets"))).scalar()
            ids = (await session.execute(text("SELECT DISTINCT target_id FROM deliveries"))).all()
        assert left == 0 and ids == [("",)]
    finally:
        await db.dispose()
