"""Watchlist changes (``regwatch.watchlist.v1``): a removed watch item takes its reminders along.

Each reminder keeps the matches that caused it (with their watch {kind, name}). When a watch
item is removed, its matches are dropped from the subscriber's scheduled reminders and tracked
deadlines; a reminder or deadline left with no match is cancelled. The removal is also kept as
a tombstone, so a MatchEvent made before the removal but read after it schedules nothing for
that watch; adding the watch again clears the tombstone. ``updated`` changes nothing here.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.ledger import name_key, read_summary, summary_payload, watch_key
from services.notifier.models import DeadlineRow, ReminderRow, WatchTombstoneRow
from services.notifier.once import insert_once
from shared.db import Database
from shared.events import WatchlistEvent
from shared.logging import get_logger

log = get_logger("regwatch.notifier.watchlist")


async def _tombstone(session: AsyncSession, event: WatchlistEvent, key: str) -> None:
    found = await session.execute(
        select(WatchTombstoneRow).where(
            WatchTombstoneRow.subscriber_id == event.subscriber_id,
            WatchTombstoneRow.kind == event.watch.kind,
            WatchTombstoneRow.name_key == key,
        )
    )
    row = found.scalar_one_or_none()
    if row is not None:
        row.removed_at = max(row.removed_at, event.at)
        return
    await insert_once(
        session,
        WatchTombstoneRow(
            subscriber_id=event.subscriber_id,
            kind=event.watch.kind,
            name_key=key,
            removed_at=event.at,
        ),
    )


async def handle_watchlist(db: Database, event: WatchlistEvent) -> int:
    """Apply one watchlist change; returns how many reminders it cancelled."""
    key = name_key(event.watch.name)
    removed = (event.watch.kind, key)
    note = f"watch removed: {event.watch.kind} {event.watch.name!r}"
    async with db.session() as session:
        if event.op == "added":
            await session.execute(
                delete(WatchTombstoneRow).where(
                    WatchTombstoneRow.subscriber_id == event.subscriber_id,
                    WatchTombstoneRow.kind == event.watch.kind,
                    WatchTombstoneRow.name_key == key,
                    WatchTombstoneRow.removed_at <= event.at,
                )
            )
            return 0
        if event.op != "removed":
            return 0
        await _tombstone(session, event, key)
        cancelled = 0
        reminders = await session.execute(
            select(ReminderRow).where(
                ReminderRow.subscriber_id == event.subscriber_id,
                ReminderRow.status == "scheduled",
            )
        )
        for reminder in reminders.scalars():
            notice, matches = read_summary(reminder.payload)
            remaining = [m for m in matches if watch_key(m) != removed]
            if len(remaining) == len(matches):
                continue
            if remaining:
                reminder.payload = summary_payload(notice, remaining)
            else:
                reminder.status = "cancelled"
                reminder.note = note
                cancelled += 1
        deadlines = await session.execute(
            select(DeadlineRow).where(
                DeadlineRow.subscriber_id == event.subscriber_id, DeadlineRow.status == "open"
            )
        )
        for deadline in deadlines.scalars():
            notice, matches = read_summary(deadline.payload)
            remaining = [m for m in matches if watch_key(m) != removed]
            if len(remaining) == len(matches):
                continue
            if remaining:
                deadline.payload = summary_payload(notice, remaining)
            else:
                deadline.status = "cancelled"
            deadline.updated_at = event.at
    if cancelled:
        log.info(
            "reminders cancelled: watch removed",
            extra={"subscriber_id": event.subscriber_id, "cancelled": cancelled},
        )
    return cancelled
