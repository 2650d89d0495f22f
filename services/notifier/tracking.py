"""Tracked deadlines and their planned reminders: a subscriber's deadline per notice (its
apps merged across MatchEvents, without watches removed since) and the reminder rows of its
offsets, created once and moved when the deadline moves."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Context
from services.notifier.models import (
    DeadlineRow,
    ReminderRow,
    WatchTombstoneRow,
)
from services.notifier.once import insert_all_once, insert_once
from services.notifier.reminders import reminder_plan
from shared.accounts import Subscriber
from shared.durations import parse_durations
from shared.events import Match, MatchEvent, NoticeSummary
from shared.settings import Settings


def name_key(name: str) -> str:
    """How watch names are compared: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())[:300]


def watch_key(match: Match) -> tuple[str, str]:
    return match.watch.kind, name_key(match.watch.name)


async def live_matches(
    session: AsyncSession, subscriber_id: str, matches: list[Match], matched_at: datetime
) -> list[Match]:
    """``matches`` without those whose watch item was removed after the match was made."""
    result = await session.execute(
        select(WatchTombstoneRow).where(WatchTombstoneRow.subscriber_id == subscriber_id)
    )
    removed = {(row.kind, row.name_key): row.removed_at for row in result.scalars()}
    if not removed:
        return matches
    when = matched_at if matched_at.tzinfo else matched_at.replace(tzinfo=UTC)
    return [m for m in matches if not (watch_key(m) in removed and removed[watch_key(m)] >= when)]


def merge_matches(known: list[Match], new: list[Match]) -> list[Match]:
    """``known`` plus the matches of ``new`` it lacks (a later MatchEvent of the same notice,
    ``reason: match-2``, carries only the matches found since)."""

    def key(match: Match) -> tuple[str, str, str]:
        return (*watch_key(match), match.entity.name)

    seen = {key(m) for m in known}
    return known + [m for m in new if key(m) not in seen]


def summary_payload(notice: NoticeSummary, matches: list[Match]) -> str:
    return json.dumps(
        {
            "notice": notice.model_dump(mode="json"),
            "matches": [m.model_dump(mode="json") for m in matches],
        },
        ensure_ascii=False,
    )


def read_summary(payload: str) -> tuple[NoticeSummary, list[Match]]:
    content = json.loads(payload)
    return (
        NoticeSummary.model_validate(content["notice"]),
        [Match.model_validate(m) for m in content["matches"]],
    )


async def track_deadline(
    session: AsyncSession,
    subscriber_id: str,
    notice: NoticeSummary,
    matches: list[Match],
    now: datetime,
) -> DeadlineRow | None:
    """The subscriber's tracked deadline of this notice, created or brought up to date."""
    if notice.deadline is None:
        return None
    due_on: date = notice.deadline.due_on
    payload = summary_payload(notice, matches)
    found = await session.execute(
        select(DeadlineRow).where(
            DeadlineRow.subscriber_id == subscriber_id, DeadlineRow.notice_id == notice.notice_id
        )
    )
    row = found.scalar_one_or_none()
    if row is None:
        row = DeadlineRow(
            subscriber_id=subscriber_id,
            notice_id=notice.notice_id,
            due_on=due_on,
            status="open",
            payload=payload,
            created_at=now,
            updated_at=now,
        )
        if await insert_once(session, row):
            return row
        found = await session.execute(
            select(DeadlineRow).where(
                DeadlineRow.subscriber_id == subscriber_id,
                DeadlineRow.notice_id == notice.notice_id,
            )
        )
        row = found.scalar_one()
    if row.status == "cancelled":  # a watch came back: the deadline matters again
        row.status = "open"
    else:
        payload = summary_payload(notice, merge_matches(read_summary(row.payload)[1], matches))
    if row.due_on != due_on or row.payload != payload:
        row.due_on = due_on
        row.payload = payload
        row.updated_at = now
    return row


def reminder_offsets(subscriber: Subscriber, settings: Settings) -> list[timedelta]:
    try:
        return parse_durations(subscriber.reminders)
    except ValueError:
        return settings.reminder_offsets


async def schedule_reminders(
    session: AsyncSession, ctx: Context, event: MatchEvent
) -> list[ReminderRow]:
    """Reminder rows of the notice's deadline (offsets, due day, overdue), created once.

    Matches of watch items removed since are left out; when none is left, nothing is
    scheduled. A changed deadline moves the reminders that have not fired yet.
    """
    deadline = event.notice.deadline
    if deadline is None:
        return []
    subscriber = ctx.subscriber
    matches = await live_matches(session, subscriber.id, list(event.matches), event.matched_at)
    if not matches:
        return []
    tracked = await track_deadline(session, subscriber.id, event.notice, matches, ctx.now)
    if tracked is not None and tracked.status == "answered":
        return []
    plan = reminder_plan(
        deadline.due_on,
        reminder_offsets(subscriber, ctx.settings),
        ctx.now,
        due_day=ctx.prefs.remind_due_day,
        overdue=ctx.prefs.remind_overdue,
        due_hour=getattr(deadline, "due_hour", None),
    )
    payload = summary_payload(event.notice, matches)
    found = await session.scalars(
        select(ReminderRow).where(
            ReminderRow.subscriber_id == subscriber.id,
            ReminderRow.notice_id == event.notice.notice_id,
        )
    )
    existing = {row.offset: row for row in found}
    moved: list[ReminderRow] = []
    fresh: list[ReminderRow] = []
    for label, fire_at in plan:
        known = existing.get(label)
        if known is not None:
            if known.status != "scheduled":
                continue
            merged = merge_matches(read_summary(known.payload)[1], matches)
            known.payload = summary_payload(event.notice, merged)
            if known.due_on != deadline.due_on:
                known.due_on, known.fire_at = deadline.due_on, fire_at
                moved.append(known)
            continue
        fresh.append(
            ReminderRow(
                subscriber_id=subscriber.id,
                notice_id=event.notice.notice_id,
                offset=label,
                due_on=deadline.due_on,
                fire_at=fire_at,
                status="scheduled",
                payload=payload,
                late=False,
                created_at=ctx.now,
            )
        )
    return moved + await insert_all_once(session, fresh)
