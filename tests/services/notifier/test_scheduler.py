"""Firing reminders: claimed once, late after downtime, one per deadline, expired after it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from services.notifier.handler import handle_match
from services.notifier.models import DeadlineRow, DeliveryRow, ReminderRow
from services.notifier.scheduler import ReminderScheduler, answer_deadline, list_reminders
from shared.db import Database
from shared.settings import Settings
from tests.services.notifier.conftest import new_subscriber
from tests.support.factories import match_event


async def statuses(db: Database) -> dict[str, tuple[str, bool]]:
    async with db.session() as session:
        rows = (await session.execute(select(ReminderRow))).scalars()
        return {r.offset: (r.status, r.late) for r in rows}


async def reminder_bodies(db: Database) -> list[dict[str, object]]:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(DeliveryRow.payload).where(
                    DeliveryRow.type == "deadline.reminder", DeliveryRow.channel == "webhook"
                )
            )
        ).all()
    return [json.loads(payload)["data"] for (payload,) in rows]


async def test_missed_while_down_fires_once_late_and_skips_the_earlier_ones(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db, timezone="Europe/Berlin")
    await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 31)))
    hours_ago = datetime.now(UTC) - timedelta(hours=3)
    async with db.session() as session:  # 7d and 3d fell due while nothing ran
        await session.execute(
            update(ReminderRow)
            .where(ReminderRow.offset.in_(("7d", "3d")))
            .values(fire_at=hours_ago)
        )
        await session.execute(
            update(ReminderRow)
            .where(ReminderRow.offset == "3d")
            .values(fire_at=hours_ago + timedelta(minutes=1))
        )
    scheduler = ReminderScheduler(db, interval=1)
    assert await scheduler.fire_due() == 1
    assert await scheduler.fire_due() == 0
    found = await statuses(db)
    assert found["3d"] == ("sent", True)
    assert found["7d"] == ("skipped", False)
    assert found["1d"] == ("scheduled", False)
    [data] = await reminder_bodies(db)
    assert data["offset"] == "3d" and data["late"] is True
    assert data["timezone"] == "Europe/Berlin"
    assert str(data["fire_at_local"]).endswith("+02:00") or str(data["fire_at_local"]).endswith(
        "+01:00"
    )
    listed = {r["offset"]: r for r in await list_reminders(db, subscriber_id)}
    assert listed["3d"]["late"] is True and listed["7d"]["status"] == "skipped"
    assert listed["due"]["fire_at_local"].startswith("2099-08-31T03:00:00+02:00")  # 09:00 Shanghai


async def test_on_time_is_not_late_and_a_passed_deadline_expires(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 31)))
    async with db.session() as session:
        await session.execute(
            update(ReminderRow).where(ReminderRow.offset == "1d").values(fire_at=datetime.now(UTC))
        )
    assert await ReminderScheduler(db, interval=1).fire_due() == 1
    assert (await statuses(db))["1d"] == ("sent", False)
    # a deadline in the past: its due reminder expires unsent, the overdue one is sent
    other_id, _ = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(other_id, date(2099, 9, 30)))
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    async with db.session() as session:
        await session.execute(
            update(ReminderRow)
            .where(ReminderRow.subscriber_id == other_id, ReminderRow.offset == "due")
            .values(due_on=yesterday, fire_at=datetime.now(UTC) - timedelta(days=1))
        )
    await ReminderScheduler(db, interval=1).fire_due()
    async with db.session() as session:
        due = (
            await session.execute(
                select(ReminderRow.status).where(
                    ReminderRow.subscriber_id == other_id, ReminderRow.offset == "due"
                )
            )
        ).scalar_one()
    assert due == "expired"


async def test_answering_a_deadline_cancels_its_reminders(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db)
    event = match_event(subscriber_id, date(2099, 8, 31))
    await handle_match(db, Settings(), event)
    async with db.session() as session:
        cancelled = await answer_deadline(
            session, subscriber_id, event.notice.notice_id, datetime.now(UTC)
        )
    assert cancelled == 5
    assert {status for status, _ in (await statuses(db)).values()} == {"cancelled"}
    async with db.session() as session:
        deadline = (await session.execute(select(DeadlineRow))).scalar_one()
    assert deadline.status == "answered"
    # a redelivered match does not bring them back
    assert (await handle_match(db, Settings(), event))[1] == []


async def test_a_moved_deadline_moves_unfired_reminders(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 31)))
    _, moved = await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 9, 7)))
    assert {row.offset for row in moved} == {"1d", "due", "overdue"}
    async with db.session() as session:
        rows = (await session.execute(select(ReminderRow.due_on))).all()
        deadline = (await session.execute(select(DeadlineRow.due_on))).scalar_one()
    assert {due for (due,) in rows} == {date(2099, 9, 7)} and deadline == date(2099, 9, 7)
