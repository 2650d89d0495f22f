"""A removed watch item cancels the reminders it caused (regwatch.watchlist.v1)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from services.notifier.handler import handle_match
from services.notifier.models import DeadlineRow, ReminderRow, WatchTombstoneRow
from services.notifier.tracking import OF_REMINDER, REMINDER_PAYLOAD
from services.notifier.watchlist import handle_watchlist
from shared.db import Database
from shared.events import EntityRef, Match, MatchEvent, WatchItemRef, WatchlistEvent, WatchRef
from shared.settings import Settings
from tests.services.notifier.conftest import new_subscriber
from tests.support.factories import match_event


def two_watch_event(subscriber_id: str, at: datetime | None = None) -> MatchEvent:
    event = match_event(subscriber_id, date(2099, 8, 31))
    event.matches.append(
        Match(
            watch=WatchRef(kind="company", name="Tencent"),
            entity=EntityRef(name="腾讯地图"),
            score=0.9,
            reason="developer owned by Tencent",
        )
    )
    if at is not None:
        event.matched_at = at
    return event


def change(subscriber_id: str, op: str, kind: str, name: str, at: datetime) -> WatchlistEvent:
    return WatchlistEvent(
        op=op,  # type: ignore[arg-type]
        subscriber_id=subscriber_id,
        watch=WatchItemRef(id=1, kind=kind, name=name),  # type: ignore[arg-type]
        at=at,
    )


async def reminders(db: Database) -> list[ReminderRow]:
    async with db.session() as session:
        return list((await session.execute(select(ReminderRow))).scalars())


async def reminded_names(db: Database) -> list[list[str]]:
    """The watch names each reminder reminds of, read as the scheduler reads them."""
    async with db.session() as session:
        rows = await session.execute(
            select(REMINDER_PAYLOAD).select_from(ReminderRow).outerjoin(DeadlineRow, OF_REMINDER)
        )
        return [[m["watch"]["name"] for m in json.loads(p)["matches"]] for (p,) in rows]


async def test_removing_one_of_two_watches_trims_then_removing_both_cancels(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db)
    await handle_match(db, Settings(), two_watch_event(subscriber_id))
    now = datetime.now(UTC)
    assert await handle_watchlist(db, change(subscriber_id, "removed", "app", " douyin ", now)) == 0
    rows = await reminders(db)
    assert {r.status for r in rows} == {"scheduled"}
    assert {r.payload for r in rows} == {None}  # no copy of their own: their deadline's
    assert await reminded_names(db) == [["Tencent"]] * 5
    cancelled = await handle_watchlist(
        db, change(subscriber_id, "removed", "company", "Tencent", now)
    )
    assert cancelled == 5
    rows = await reminders(db)
    assert {r.status for r in rows} == {"cancelled"}
    assert all("watch removed" in (r.note or "") for r in rows)
    async with db.session() as session:
        deadline = (await session.execute(select(DeadlineRow))).scalar_one()
    assert deadline.status == "cancelled"


async def test_reminders_with_their_own_copy_are_trimmed_and_cancelled_too(db: Database) -> None:
    """Reminders made before migration 0023 carry their summary; a removal trims that copy and
    a reminder left without a match is cancelled, as one reading its deadline's is."""
    subscriber_id, _ = await new_subscriber(db)
    await handle_match(db, Settings(), two_watch_event(subscriber_id))
    async with db.session() as session:
        deadline = (await session.execute(select(DeadlineRow))).scalar_one()
        copy = deadline.payload
        for row in (await session.execute(select(ReminderRow))).scalars():
            row.payload = copy
    now = datetime.now(UTC)
    await handle_watchlist(db, change(subscriber_id, "removed", "app", "Douyin", now))
    assert all(r.payload is not None for r in await reminders(db))
    assert await reminded_names(db) == [["Tencent"]] * 5
    cancelled = await handle_watchlist(
        db, change(subscriber_id, "removed", "company", "tencent", now)
    )
    assert cancelled == 5
    assert {r.status for r in await reminders(db)} == {"cancelled"}


async def test_a_match_read_after_the_removal_schedules_nothing_for_it(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db)
    removed_at = datetime.now(UTC)
    await handle_watchlist(db, change(subscriber_id, "removed", "app", "Douyin", removed_at))
    stale = match_event(subscriber_id, date(2099, 8, 31))
    stale.matched_at = removed_at - timedelta(seconds=5)
    created, scheduled = await handle_match(db, Settings(), stale)
    assert len(created) == 2  # the alert itself was true when it was made
    assert scheduled == []
    # added again: a later match schedules reminders as usual
    await handle_watchlist(
        db, change(subscriber_id, "added", "app", "Douyin", removed_at + timedelta(seconds=1))
    )
    fresh = match_event(subscriber_id, date(2099, 8, 31))
    fresh.matched_at = removed_at + timedelta(seconds=2)
    assert len((await handle_match(db, Settings(), fresh))[1]) == 5


async def test_other_subscribers_and_updates_are_untouched(db: Database) -> None:
    first, _ = await new_subscriber(db)
    second, _ = await new_subscriber(db)
    await handle_match(db, Settings(), match_event(first, date(2099, 8, 31)))
    await handle_match(db, Settings(), match_event(second, date(2099, 8, 31)))
    now = datetime.now(UTC)
    assert await handle_watchlist(db, change(first, "updated", "app", "Douyin", now)) == 0
    assert await handle_watchlist(db, change(first, "removed", "app", "Douyin", now)) == 5
    by_owner = {(r.subscriber_id, r.status) for r in await reminders(db)}
    assert by_owner == {(first, "cancelled"), (second, "scheduled")}


def batch(subscriber_id: str, op: str, at: datetime, *watches: tuple[str, str]) -> WatchlistEvent:
    refs = [
        WatchItemRef(id=i, kind=kind, name=name)  # type: ignore[arg-type]
        for i, (kind, name) in enumerate(watches, start=1)
    ]
    return WatchlistEvent.batch(op, subscriber_id, refs, at)  # type: ignore[arg-type]


async def test_a_batch_event_is_applied_as_a_whole(db: Database) -> None:
    """A CSV import's events carry many items each: every item is applied, not the first."""
    subscriber_id, _ = await new_subscriber(db)
    await handle_match(db, Settings(), two_watch_event(subscriber_id))
    now = datetime.now(UTC)
    removal = batch(subscriber_id, "removed", now, ("app", "Douyin"), ("company", "tencent"))
    assert await handle_watchlist(db, removal) == 5
    rows = await reminders(db)
    assert {r.status for r in rows} == {"cancelled"}
    assert {r.note for r in rows} == {"watch removed: app 'Douyin', company 'tencent'"}
    # both tombstoned (a match made before the removal schedules nothing for them); a batch
    # 'added' clears both
    async with db.session() as session:
        stones = (await session.execute(select(WatchTombstoneRow))).scalars()
        assert sorted((t.kind, t.name_key) for t in stones) == [
            ("app", "douyin"),
            ("company", "tencent"),
        ]
    readded = batch(
        subscriber_id,
        "added",
        now + timedelta(seconds=1),
        ("app", "douyin"),
        ("company", "Tencent"),
    )
    assert await handle_watchlist(db, readded) == 0
    async with db.session() as session:
        assert list((await session.execute(select(WatchTombstoneRow))).scalars()) == []
