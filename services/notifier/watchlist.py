"""Watchlist changes (``regwatch.watchlist.v1``): a removed watch item takes its reminders along.

Each tracked deadline keeps the matches that caused it (with their watch {kind, name}), and its
reminders read them from it (a reminder made before migration 0023 has its own copy). When a
watch item is removed, its matches are dropped from the subscriber's tracked deadlines (and
those copies); a reminder or deadline left with no match is cancelled. The removal is also kept as
a tombstone, so a MatchEvent made before the removal but read after it schedules nothing for
that watch; adding the watch again clears the tombstone. ``updated`` changes nothing here.
An event about a batch of items (a CSV import) is applied as a whole, in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import DeadlineRow, ReminderRow, WatchTombstoneRow
from services.notifier.once import insert_once
from services.notifier.tracking import name_key, read_summary, summary_payload, watch_key
from shared.db import Database
from shared.events import Match, WatchItemRef, WatchlistEvent
from shared.logging import get_logger

log = get_logger("regwatch.notifier.watchlist")

_IN_CHUNK = 500


async def _tombstone(
    session: AsyncSession, subscriber_id: str, kind: str, key: str, at: datetime
) -> None:
    found = await session.execute(
        select(WatchTombstoneRow).where(
            WatchTombstoneRow.subscriber_id == subscriber_id,
            WatchTombstoneRow.kind == kind,
            WatchTombstoneRow.name_key == key,
        )
    )
    row = found.scalar_one_or_none()
    if row is not None:
        row.removed_at = max(row.removed_at, at)
        return
    await insert_once(
        session,
        WatchTombstoneRow(subscriber_id=subscriber_id, kind=kind, name_key=key, removed_at=at),
    )


def _removal_note(matches: list[Match], removed: dict[tuple[str, str], WatchItemRef]) -> str:
    """``watch removed: app 'Douyin'`` (the removed watches among a reminder's matches)."""
    names = dict.fromkeys(
        f"{removed[watch_key(m)].kind} {removed[watch_key(m)].name!r}"
        for m in matches
        if watch_key(m) in removed
    )
    return "watch removed: " + ", ".join(names)


async def handle_watchlist(db: Database, event: WatchlistEvent) -> int:
    """Apply one watchlist change, about one item or a batch of them (all in one transaction);
    returns how many reminders it cancelled."""
    removed: dict[tuple[str, str], WatchItemRef] = {}
    for item in event.items():
        removed.setdefault((item.kind, name_key(item.name)), item)
    async with db.session() as session:
        if event.op == "added":
            for kind in sorted({kind for kind, _ in removed}):
                keys = sorted(key for k, key in removed if k == kind)
                for start in range(0, len(keys), _IN_CHUNK):
                    await session.execute(
                        delete(WatchTombstoneRow).where(
                            WatchTombstoneRow.subscriber_id == event.subscriber_id,
                            WatchTombstoneRow.kind == kind,
                            WatchTombstoneRow.name_key.in_(keys[start : start + _IN_CHUNK]),
                            WatchTombstoneRow.removed_at <= event.at,
                        )
                    )
            return 0
        if event.op != "removed":
            return 0
        for kind, key in removed:
            await _tombstone(session, event.subscriber_id, kind, key, event.at)
        deadlines = list(
            await session.scalars(
                select(DeadlineRow).where(
                    DeadlineRow.subscriber_id == event.subscriber_id,
                    DeadlineRow.status == "open",
                )
            )
        )
        # each deadline's summary before this change: the reminders without a copy of their
        # own (every one made since migration 0023) read theirs from it
        summaries = {row.notice_id: read_summary(row.payload) for row in deadlines}
        cancelled = 0
        reminders = await session.scalars(
            select(ReminderRow).where(
                ReminderRow.subscriber_id == event.subscriber_id,
                ReminderRow.status == "scheduled",
            )
        )
        for reminder in reminders:
            if reminder.payload is not None:
                notice, matches = read_summary(reminder.payload)
            elif reminder.notice_id in summaries:
                notice, matches = summaries[reminder.notice_id]
            else:
                continue
            remaining = [m for m in matches if watch_key(m) not in removed]
            if len(remaining) == len(matches):
                continue
            if not remaining:
                reminder.status = "cancelled"
                reminder.note = _removal_note(matches, removed)
                cancelled += 1
            elif reminder.payload is not None:
                reminder.payload = summary_payload(notice, remaining)
        for deadline in deadlines:
            notice, matches = summaries[deadline.notice_id]
            remaining = [m for m in matches if watch_key(m) not in removed]
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
