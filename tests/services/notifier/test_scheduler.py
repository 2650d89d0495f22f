"""Firing reminders: claimed once, late after downtime, one per deadline, expired after it;
skipped when already past on arrival; re-planned when the subscriber's clock changes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from services.notifier.handler import handle_match
from services.notifier.models import DeadlineRow, DeliveryRow, PreferencesRow, ReminderRow
from services.notifier.preferences import PreferenceChanges, apply_changes, get_preferences
from services.notifier.scheduler import (
    NO_SUMMARY,
    ReminderScheduler,
    answer_deadline,
    list_reminders,
    notice_reminders,
)
from services.notifier.tracking import (
    ARRIVED_LATE,
    MOVED_PAST,
    replanned_subscribers,
    summary_payload,
)
from shared.accounts import Subscriber
from shared.db import Database
from shared.errors import InputError
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
    assert listed["due"]["fire_at_local"] == "2099-08-31T09:00:00+02:00"  # 09:00 in Berlin


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


async def test_a_reminder_says_what_its_deadline_holds_or_its_own_older_copy(db: Database) -> None:
    """Reminders store no summary of their own (migration 0023): the one fired names every
    app its tracked deadline gathered, a later match's too. One made before 0023 keeps its own
    copy; one with neither is skipped saying why, and sends nothing."""
    first, _ = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(first, date(2099, 8, 31)))
    later = match_event(first, date(2099, 8, 31))
    later.reason = "match-2"
    later.matches[0] = later.matches[0].model_copy(
        update={"entity": later.matches[0].entity.model_copy(update={"name": "抖音极速版"})}
    )
    await handle_match(db, Settings(), later)
    older, _ = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(older, date(2099, 8, 31)))
    orphan, _ = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(orphan, date(2099, 8, 31)))
    own = match_event(older, date(2099, 8, 31))
    own.matches[0] = own.matches[0].model_copy(
        update={"entity": own.matches[0].entity.model_copy(update={"name": "今日头条"})}
    )
    async with db.session() as session:
        assert set(await session.scalars(select(ReminderRow.payload))) == {None}
        await session.execute(
            update(ReminderRow)
            .where(ReminderRow.subscriber_id == older)
            .values(payload=summary_payload(own.notice, own.matches))
        )
        await session.execute(delete(DeadlineRow).where(DeadlineRow.subscriber_id == orphan))
        await session.execute(
            update(ReminderRow).where(ReminderRow.offset == "1d").values(fire_at=datetime.now(UTC))
        )
    assert await ReminderScheduler(db, interval=1).fire_due() == 2
    async with db.session() as session:
        sent = await session.execute(
            select(DeliveryRow.subscriber_id, DeliveryRow.payload).where(
                DeliveryRow.type == "deadline.reminder", DeliveryRow.channel == "webhook"
            )
        )
        named = {
            sub: sorted(m["entity"]["name"] for m in json.loads(body)["data"]["matches"])
            for sub, body in sent
        }
        left = (
            await session.execute(
                select(ReminderRow.status, ReminderRow.note).where(
                    ReminderRow.subscriber_id == orphan, ReminderRow.offset == "1d"
                )
            )
        ).one()
    assert named == {first: ["抖音", "抖音极速版"], older: ["今日头条"]}
    assert tuple(left) == ("skipped", NO_SUMMARY)


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


def shanghai_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def test_reminders_already_past_when_the_notice_arrives_are_listed_as_skipped(
    db: Database,
) -> None:
    subscriber_id, _ = await new_subscriber(db, timezone="Europe/Berlin")
    due_on = shanghai_today() + timedelta(days=2)  # 7d and 3d were yesterday or before
    _, scheduled = await handle_match(db, Settings(), match_event(subscriber_id, due_on))
    assert sorted(row.offset for row in scheduled) == ["1d", "due", "overdue"]
    listed = {r["offset"]: r for r in await list_reminders(db, subscriber_id)}
    for offset in ("7d", "3d"):
        assert listed[offset]["status"] == "skipped"
        assert listed[offset]["note"] == ARRIVED_LATE
        assert listed[offset]["fired_at"] is None
    assert listed["1d"]["status"] == "scheduled" and listed["1d"]["note"] is None
    assert listed["1d"]["fire_at_local"].endswith("T09:00:00+01:00") or listed["1d"][
        "fire_at_local"
    ].endswith("T09:00:00+02:00")
    # the sweep neither sends nor touches them
    assert await ReminderScheduler(db, interval=1).fire_due() == 0
    assert (await statuses(db))["7d"] == ("skipped", False)


async def test_a_passed_deadline_says_so_and_an_unknown_notice_is_an_error(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db, reminders="1d")
    due_on = shanghai_today() - timedelta(days=10)
    event = match_event(subscriber_id, due_on)
    assert (await handle_match(db, Settings(), event))[1] == []
    shown = await notice_reminders(db, subscriber_id, event.notice.notice_id, datetime.now(UTC))
    assert shown["deadline_passed"] is True and shown["status"] == "open"
    assert shown["message"] == (
        f"notice {event.notice.notice_id}'s deadline {due_on.isoformat()} has passed;"
        " no reminders are planned"
    )
    assert [(r["offset"], r["status"], r["note"]) for r in shown["reminders"]] == [
        ("1d", "skipped", ARRIVED_LATE),
        ("due", "skipped", ARRIVED_LATE),
        ("overdue", "skipped", ARRIVED_LATE),
    ]
    ahead_id, _ = await new_subscriber(db, reminders="1d")
    await handle_match(db, Settings(), match_event(ahead_id, date(2099, 8, 31)))
    ahead = await notice_reminders(db, ahead_id, event.notice.notice_id, datetime.now(UTC))
    assert ahead["deadline_passed"] is False
    assert ahead["message"].endswith("is ahead; 3 reminder(s) still planned")
    with pytest.raises(InputError, match="no tracked deadline for notice 'nope'"):
        await notice_reminders(db, subscriber_id, "nope", datetime.now(UTC))


async def test_a_deadline_moved_back_skips_the_past_ones_and_moved_out_revives_them(
    db: Database,
) -> None:
    subscriber_id, _ = await new_subscriber(db, reminders="7d,1d")
    later = shanghai_today() + timedelta(days=30)
    await handle_match(db, Settings(), match_event(subscriber_id, later))
    sooner = shanghai_today() + timedelta(days=3)
    _, moved = await handle_match(db, Settings(), match_event(subscriber_id, sooner))
    assert sorted(row.offset for row in moved) == ["1d", "due", "overdue"]
    found = {r["offset"]: r for r in await list_reminders(db, subscriber_id)}
    assert (found["7d"]["status"], found["7d"]["note"]) == ("skipped", MOVED_PAST)
    _, revived = await handle_match(db, Settings(), match_event(subscriber_id, later))
    assert sorted(row.offset for row in revived) == ["1d", "7d", "due", "overdue"]
    assert (await statuses(db))["7d"] == ("scheduled", False)


async def test_a_new_time_zone_or_reminder_time_replans_at_the_next_sweep(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db, reminders="7d")
    await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 31)))
    scheduler = ReminderScheduler(db, interval=1)

    async def local_times() -> dict[str, str]:
        return {r["offset"]: r["fire_at_local"] for r in await list_reminders(db, subscriber_id)}

    assert (await local_times())["7d"] == "2099-08-24T09:00:00+08:00"
    async with db.session() as session:  # the first reminders noted the clock they used
        assert await replanned_subscribers(session, Settings(), 10) == []
    async with db.session() as session:  # planned by the rule before reminder times existed
        await session.execute(
            update(ReminderRow)
            .where(ReminderRow.offset == "7d")
            .values(fire_at=datetime(2099, 8, 24, 15, 59, 59, tzinfo=UTC))
        )
        await session.execute(update(PreferencesRow).values(planned_clock=None))
    await scheduler.fire_due()
    assert (await local_times())["7d"] == "2099-08-24T09:00:00+08:00"
    assert await scheduler.replan_changed() == 0  # nothing changed since
    async with db.session() as session:  # as PATCH /v1/subscribers/me does
        subscriber = await session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        subscriber.timezone = "Europe/Berlin"
    assert await scheduler.replan_changed() == 3
    assert await local_times() == {
        "7d": "2099-08-24T09:00:00+02:00",
        "due": "2099-08-31T09:00:00+02:00",
        "overdue": "2099-09-01T09:00:00+02:00",
    }
    async with db.session() as session:  # as PUT /v1/notifications/settings does
        prefs = await get_preferences(session, subscriber_id)
        apply_changes(prefs, PreferenceChanges(reminder_time="07:30"), datetime.now(UTC))
    await scheduler.fire_due()
    assert (await local_times())["7d"] == "2099-08-24T07:30:00+02:00"
    # a server-wide reminder time applies to those who set none
    async with db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        apply_changes(prefs, PreferenceChanges(clear_reminder_time=True), datetime.now(UTC))
    evening = ReminderScheduler(db, interval=1, settings=Settings(reminder_time="18:00"))
    assert await evening.replan_changed() == 3
    assert (await local_times())["7d"] == "2099-08-24T18:00:00+02:00"


async def test_only_reminders_due_before_the_sweep_after_next_hold_a_timer(db: Database) -> None:
    """A fan-out plans thousands of reminders days ahead: they get no timer when planned;
    the sweep gives one to each that comes within two sweeps, which then fires on time."""
    subscriber_id, _ = await new_subscriber(db)
    _, planned = await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 31)))
    scheduler = ReminderScheduler(db, interval=30)
    scheduler.start()
    try:
        scheduler.schedule(planned)
        assert planned and [j.id for j in scheduler.scheduler.get_jobs()] == ["reminder-sweep"]
        await scheduler.sweep()  # notes the clock the reminders were planned with
        assert [j.id for j in scheduler.scheduler.get_jobs()] == ["reminder-sweep"]
        soon = datetime.now(UTC) + timedelta(seconds=45)  # within 2 x 30 s
        async with db.session() as session:
            await session.execute(
                update(ReminderRow).where(ReminderRow.id == planned[0].id).values(fire_at=soon)
            )
        await scheduler.sweep()
        timers = {j.id: j.next_run_time for j in scheduler.scheduler.get_jobs()}
        assert set(timers) == {"reminder-sweep", f"reminder-{planned[0].id}"}
        assert abs((timers[f"reminder-{planned[0].id}"] - soon).total_seconds()) < 1
    finally:
        scheduler.stop()
