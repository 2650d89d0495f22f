"""Recording MatchEvents a batch at a time: the same ledger as one event at a time, each key
once inside a batch, and a batch recorded again when another instance got there first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.notifier import recording
from services.notifier.channels.webhook import DISABLED
from services.notifier.handler import handle_match
from services.notifier.models import DeadlineRow, DeliveryRow, ReminderRow
from services.notifier.models import PreferencesRow as PrefsRow
from services.notifier.payloads import delivery_id, match_data, webhook_body
from services.notifier.preferences import get_preferences
from services.notifier.recording import record_matches
from services.notifier.reminders import Clock, reminder_plan
from services.notifier.tracking import DeadlineBook, read_summary, summary_payload
from shared.db import Database
from shared.durations import parse_durations
from shared.events import DEADLINE_CHANGED, EntityRef, Match, MatchEvent, WatchRef
from shared.settings import Settings
from tests.services.notifier.conftest import new_subscriber
from tests.support.factories import match_event

SETTINGS = Settings(webhook_allow_private=True)
DUE = date(2099, 8, 31)


def event_for(subscriber_id: str, notice_id: str = "cac-20990801-a", **changes: Any) -> MatchEvent:
    base = match_event(subscriber_id, DUE)
    notice = base.notice.model_copy(update={"notice_id": notice_id})
    return base.model_copy(update={"notice": notice, "match_id": f"m-{notice_id}", **changes})


async def ledger(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the recording writes, without generated ids and times."""
    async with db.read_session() as session:
        deliveries = await session.scalars(select(DeliveryRow).order_by(DeliveryRow.id))
        deadlines = await session.scalars(
            select(DeadlineRow).order_by(DeadlineRow.subscriber_id, DeadlineRow.notice_id)
        )
        reminders = await session.scalars(
            select(ReminderRow).order_by(
                ReminderRow.subscriber_id, ReminderRow.notice_id, ReminderRow.offset
            )
        )
        return {
            "deliveries": [
                (r.id, r.subscriber_id, r.channel, r.target, r.status, r.type, r.reason)
                for r in deliveries
            ],
            "deadlines": [(d.subscriber_id, d.notice_id, d.due_on, d.status) for d in deadlines],
            "reminders": [
                (r.subscriber_id, r.notice_id, r.offset, r.fire_at, r.status) for r in reminders
            ],
        }


async def test_a_batch_records_what_one_event_at_a_time_records(
    db: Database,
) -> None:
    subscribers = [
        (await new_subscriber(db, email=f"s{n}@example.com" if n % 2 else None))[0]
        for n in range(6)
    ]
    events = [event_for(s, notice) for s in subscribers for notice in ("cac-a", "cac-b")]
    recorded = await record_matches(db, SETTINGS, events)
    batch = await ledger(db)
    # 6 webhooks + 3 emails per notice, 3 reminders (7d, 3d, 1d) plus due day and overdue
    assert len(recorded.deliveries) == len(batch["deliveries"]) == 2 * 9
    assert len(batch["deadlines"]) == 12
    assert {r.id for r in recorded.reminders} == {
        r.id for r in await all_reminders(db) if r.status == "scheduled"
    }
    assert all(r.id is not None for r in recorded.reminders)

    # the same events into a fresh database, one at a time
    async with db.session() as session:
        for table in (DeliveryRow, DeadlineRow, ReminderRow):
            await session.execute(table.__table__.delete())
    for event in events:
        await handle_match(db, SETTINGS, event)
    assert await ledger(db) == batch


async def all_reminders(db: Database) -> list[ReminderRow]:
    async with db.read_session() as session:
        return list(await session.scalars(select(ReminderRow)))


async def test_a_key_twice_in_one_batch_is_recorded_once_and_later_matches_merge(
    db: Database,
) -> None:
    subscriber_id, _ = await new_subscriber(db)
    first = event_for(subscriber_id)
    later = event_for(
        subscriber_id,
        reason="match-2",
        matches=[
            Match(
                watch=WatchRef(kind="app", name="Kuaishou"),
                entity=EntityRef(name="快手"),
                score=1.0,
                reason="same name",
            )
        ],
    )
    recorded = await record_matches(db, SETTINGS, [first, first, later, first])
    rows = await ledger(db)
    # two alerts (match, match-2) on two channels, each once
    assert len(rows["deliveries"]) == len(recorded.deliveries) == 4
    assert len(rows["deadlines"]) == 1
    async with db.read_session() as session:
        deadline = (await session.scalars(select(DeadlineRow))).one()
        reminders = list(await session.scalars(select(ReminderRow)))
    apps = {m.entity.name for m in read_summary(deadline.payload)[1]}
    assert apps == {"抖音", "快手"}
    assert len({r.offset for r in reminders}) == len(reminders)
    # the reminders read the merged matches from their deadline: no copy of their own
    assert all(r.payload is None for r in reminders)
    # redelivered: nothing new
    again = await record_matches(db, SETTINGS, [first, later])
    assert again.deliveries == [] and again.reminders == []
    assert await ledger(db) == rows


async def test_an_unknown_subscriber_is_skipped_and_the_rest_recorded(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db)
    gone = event_for("sub_gone")
    recorded = await record_matches(db, SETTINGS, [gone, event_for(subscriber_id)])
    assert recorded.unknown_subscribers == [gone]
    assert {row[1] for row in (await ledger(db))["deliveries"]} == {subscriber_id}


async def test_rows_another_instance_wrote_meanwhile_make_the_batch_record_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This batch reads the book before another instance's rows of the same keys are
    committed (simulated: its first read sees none of them), so its insert meets their unique
    keys: the batch is recorded again, reading them, and nothing is doubled."""
    subscriber_id, _ = await new_subscriber(db)
    await handle_match(db, SETTINGS, event_for(subscriber_id))  # the other instance
    before = await ledger(db)
    real_load = DeadlineBook.load.__func__  # type: ignore[attr-defined]
    loads = 0

    async def stale_load(cls: type[DeadlineBook], session: Any, *args: Any) -> DeadlineBook:
        nonlocal loads
        loads += 1
        book = await real_load(cls, session, *args)
        if loads == 1:
            book.deadlines.clear()
            book.reminders.clear()
        return book

    monkeypatch.setattr(DeadlineBook, "load", classmethod(stale_load))
    later = event_for(subscriber_id, matched_at=datetime(2099, 8, 2, tzinfo=UTC))
    recorded = await record_matches(db, SETTINGS, [later])
    assert loads == 2
    assert recorded.deliveries == [] and recorded.reminders == []
    assert await ledger(db) == before


async def test_every_column_of_the_rows_a_varied_batch_writes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows are written as plain values, not ORM objects: each column holds what the
    planning functions give (the time of recording fixed), the columns nobody sets are null,
    a new subscriber's preferences row goes in with its reminder clock noted, and each
    subscriber's reminders follow their own settings (plans are shared between subscribers
    whose settings are the same)."""
    now = datetime(2099, 8, 20, 22, 30, tzinfo=UTC)  # 06:30 in Shanghai: quiet hours
    monkeypatch.setattr(recording, "utc_now", lambda: now)
    plain, _ = await new_subscriber(db, webhook="http://127.0.0.1:1/plain")
    quiet, _ = await new_subscriber(db, email=None, webhook="http://127.0.0.1:1/quiet")
    gone, _ = await new_subscriber(db, email=None, webhook="http://127.0.0.1:1/gone")
    berlin, _ = await new_subscriber(db, email=None, reminders="2d,12h", timezone="Europe/Berlin")
    async with db.session() as session:
        (await get_preferences(session, quiet)).quiet_start = "22:00"
        (await get_preferences(session, quiet)).quiet_end = "07:00"
        (await get_preferences(session, gone)).webhook_disabled_url = "http://127.0.0.1:1/gone"
        (await get_preferences(session, berlin)).reminder_time = "07:30"
    events = {s: event_for(s) for s in (plain, quiet, gone, berlin)}
    recorded = await record_matches(db, SETTINGS, list(events.values()))

    rows = await table_rows(db, DeliveryRow)
    assert sorted(recorded.deliveries) == sorted(rows)
    expected = {
        (plain, "webhook", "pending", None, None, None),
        (plain, "email", "pending", None, None, None),
        (quiet, "webhook", "held", None, "quiet", datetime(2099, 8, 20, 23, tzinfo=UTC)),
        (gone, "webhook", "failed", DISABLED, None, None),
        (berlin, "webhook", "pending", None, None, None),
    }
    found = {
        pick(r, "subscriber_id", "channel", "status", "last_error", "held_for", "release_at")
        for r in rows.values()
    }
    assert found == expected
    for ident, row in rows.items():
        event = events[row["subscriber_id"]]
        parts = [row["subscriber_id"], event.notice.notice_id, "notice.matched", "match"]
        assert ident == delivery_id(*parts, row["channel"], row["target_id"])
        assert row["target_id"].startswith("tgt_") and row["notice_id"] == "cac-20990801-a"
        assert (row["attempts"], row["retry_base"]) == (0, 0)
        assert row["next_attempt_at"] == row["created_at"] == now
        for unset in ("claimed_until", "claim_token", "delivered_at", "digest_id"):
            assert row[unset] is None
        assert row["replayed_at"] is None
        if row["channel"] == "webhook":
            assert row["queue"] == row["target"]
            body = webhook_body("notice.matched", match_data(event), now).decode()
            assert row["payload"] == body
        else:
            assert row["queue"] == "smtp:" and row["target"] == "risk@example.com"
            assert json.loads(row["payload"])["data"] == match_data(event)

    deadlines = await table_rows(db, DeadlineRow)
    summary = summary_payload(events[plain].notice, events[plain].matches)
    assert sorted(
        pick(d, "subscriber_id", "due_on", "status", "payload", "created_at", "updated_at")
        for d in deadlines.values()
    ) == sorted((s, DUE, "open", summary, now, now) for s in events)

    reminders = await table_rows(db, ReminderRow)
    assert {r.id for r in recorded.reminders} == set(reminders)
    default_plan = reminder_plan(DUE, parse_durations("7d,3d,1d"), Clock())
    berlin_plan = reminder_plan(
        DUE, parse_durations("2d,12h"), Clock(ZoneInfo("Europe/Berlin"), time(7, 30))
    )
    assert dict(default_plan) != dict(berlin_plan)
    planned = {s: berlin_plan if s == berlin else default_plan for s in events}
    # payload null: a reminder reads its summary from its deadline (migration 0023)
    columns = ("subscriber_id", "offset", "due_on", "fire_at", "status", "note", "payload")
    unset = ("late", "created_at", "claimed_until", "fired_at")
    assert sorted(pick(r, *columns, *unset) for r in reminders.values()) == sorted(
        (s, label, DUE, fire_at, "scheduled", None, None, False, now, None, None)
        for s, plan in planned.items()
        for label, fire_at in plan
    )

    clocks = {
        p["subscriber_id"]: p["planned_clock"] for p in (await table_rows(db, PrefsRow)).values()
    }
    assert clocks == {
        plain: "Asia/Shanghai 09:00",
        quiet: "Asia/Shanghai 09:00",
        gone: "Asia/Shanghai 09:00",
        berlin: "Europe/Berlin 07:30",
    }


def pick(row: dict[str, Any], *columns: str) -> tuple[Any, ...]:
    return tuple(row[column] for column in columns)


async def table_rows(db: Database, model: Any) -> dict[Any, dict[str, Any]]:
    """Every row of the model's table as column values, by primary key."""
    table = model.__table__
    async with db.read_session() as session:
        found = (await session.execute(select(table))).mappings().all()
    [key] = table.primary_key.columns
    return {row[key.name]: dict(row) for row in found}


async def test_a_clock_is_noted_by_the_statuses_the_batch_leaves_not_those_it_read(
    db: Database,
) -> None:
    """The unit of work does not flush its changes before reading: a subscriber whose only
    scheduled reminders this batch moves into the past (skipped) has none scheduled after it,
    so the clock their next reminders are planned with is noted, as when each change was
    written before the read."""
    subscriber_id, _ = await new_subscriber(db, reminders="1d")
    await record_matches(db, SETTINGS, [event_for(subscriber_id)])
    async with db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        assert prefs.planned_clock == "Asia/Shanghai 09:00"
        prefs.planned_clock = None  # planned before clocks were noted
    moved = event_for(subscriber_id, reason=DEADLINE_CHANGED)
    deadline = moved.notice.deadline
    assert deadline is not None
    past = deadline.model_copy(update={"due_on": date(2020, 1, 31)})
    moved = moved.model_copy(update={"notice": moved.notice.model_copy(update={"deadline": past})})
    await record_matches(db, SETTINGS, [moved])
    rows = (await ledger(db))["reminders"]
    assert {status for *_, status in rows} == {"skipped"} and len(rows) == 3
    async with db.read_session() as session:
        assert (await get_preferences(session, subscriber_id)).planned_clock == (
            "Asia/Shanghai 09:00"
        )
