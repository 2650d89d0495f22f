"""The ledger creates each delivery and reminder once, whatever happens to the message."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

from sqlalchemy import func, select, update

from services.notifier.handler import handle_match
from services.notifier.models import DeadlineRow, DeliveryRow, ReminderRow
from services.notifier.scheduler import ReminderScheduler
from services.notifier.tracking import OF_REMINDER, REMINDER_PAYLOAD
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import DEADLINE_CHANGED
from shared.settings import Settings
from tests.support.factories import match_event


async def new_subscriber(db: Database, reminders: str = "7d,3d,1d") -> str:
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name="Risk",
            email="risk@example.com",
            webhook_url="http://127.0.0.1:1/hook",
            reminders=reminders,
            default_reminders="7d,3d,1d",
            allow_private=True,
        )
    return created.id


async def count(db: Database, model: type[DeliveryRow] | type[ReminderRow]) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_redelivered_match_creates_nothing_new(db: Database) -> None:
    subscriber_id = await new_subscriber(db)
    event = match_event(subscriber_id, date(2099, 8, 31))
    first = await handle_match(db, Settings(), event)
    second = await handle_match(db, Settings(), event)
    assert len(first[0]) == 2 and len(first[1]) == 5  # 7d, 3d, 1d, due, overdue
    assert second == ([], [])
    assert await count(db, DeliveryRow) == 2
    assert await count(db, ReminderRow) == 5


async def test_concurrent_instances_create_each_row_once(db: Database) -> None:
    subscriber_id = await new_subscriber(db)
    event = match_event(subscriber_id, date(2099, 8, 31))
    await asyncio.gather(*(handle_match(db, Settings(), event) for _ in range(4)))
    assert await count(db, DeliveryRow) == 2
    assert await count(db, ReminderRow) == 5


async def test_no_deadline_no_reminders(db: Database) -> None:
    subscriber_id = await new_subscriber(db)
    created, reminders = await handle_match(db, Settings(), match_event(subscriber_id, None))
    assert len(created) == 2 and reminders == []


async def test_due_reminder_fires_once_across_instances(db: Database) -> None:
    subscriber_id = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 31)))
    async with db.session() as session:  # make it due now
        await session.execute(
            update(ReminderRow).where(ReminderRow.offset == "1d").values(fire_at=datetime.now(UTC))
        )
    schedulers = [ReminderScheduler(db, interval=60) for _ in range(3)]
    fired = await asyncio.gather(*(s.fire_due() for s in schedulers))
    assert sum(fired) == 1
    async with db.session() as session:
        rows = (
            await session.execute(
                select(DeliveryRow.type, DeliveryRow.reason, DeliveryRow.channel)
                .where(DeliveryRow.type == "deadline.reminder")
                .order_by(DeliveryRow.channel)
            )
        ).all()
        status = (
            await session.execute(select(ReminderRow.status).where(ReminderRow.offset == "1d"))
        ).scalar_one()
    assert [tuple(r) for r in rows] == [
        ("deadline.reminder", "1d", "email"),
        ("deadline.reminder", "1d", "webhook"),
    ]
    assert status == "sent"


async def test_a_later_match_of_the_same_notice_is_its_own_alert_and_joins_the_reminders(
    db: Database,
) -> None:
    subscriber_id = await new_subscriber(db, reminders="1d")
    first = match_event(subscriber_id, date(2099, 8, 31))
    await handle_match(db, Settings(), first)
    later = match_event(subscriber_id, date(2099, 8, 31))
    later.reason = "match-2"
    later.matches[0] = later.matches[0].model_copy(
        update={
            "watch": later.matches[0].watch.model_copy(
                update={"kind": "company", "name": "字节跳动"}
            )
        }
    )
    created, moved = await handle_match(db, Settings(), later)
    assert len(created) == 2 and moved == []
    async with db.session() as session:
        reasons = sorted(r for (r,) in (await session.execute(select(DeliveryRow.reason))).all())
        payloads = (
            await session.execute(
                select(REMINDER_PAYLOAD)
                .select_from(ReminderRow)
                .outerjoin(DeadlineRow, OF_REMINDER)
            )
        ).all()
    assert reasons == ["match", "match", "match-2", "match-2"]
    for (payload,) in payloads:
        watches = [m["watch"]["name"] for m in json.loads(payload)["matches"]]
        assert watches == ["Douyin", "字节跳动"]


async def test_a_changed_deadline_moves_reminders_and_alerts_nobody(db: Database) -> None:
    subscriber_id = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 26)))
    update_ = match_event(subscriber_id, date(2099, 8, 31))
    update_.reason = DEADLINE_CHANGED
    created, moved = await handle_match(db, Settings(), update_)
    assert created == [] and {r.offset for r in moved} == {"1d", "due", "overdue"}
    async with db.session() as session:
        due = {d for (d,) in (await session.execute(select(ReminderRow.due_on))).all()}
    assert due == {date(2099, 8, 31)}
    assert await count(db, DeliveryRow) == 2  # the first alert, on its two channels
