"""The delivery ledger: one row per (subscriber, notice, type, reason, channel), created once.

Rows are created in the same unit of work that handles a MatchEvent or fires a reminder, so a
redelivered message or a second notifier instance finds them and creates nothing new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.email import render_match_email, render_reminder_email
from services.notifier.models import DeliveryRow, ReminderRow
from services.notifier.payloads import delivery_id, match_data, reminder_data, webhook_body
from services.notifier.reminders import days_left, fire_times
from shared.accounts import Subscriber
from shared.durations import parse_durations
from shared.events import Match, MatchEvent, NoticeSummary

MATCHED = "notice.matched"
REMINDER = "deadline.reminder"


@dataclass(frozen=True)
class Alert:
    """What one alert says, before it is split per channel."""

    type: str
    reason: str
    notice_id: str
    data: dict[str, object]
    email: tuple[str, str, str]


def channel_payload(alert: Alert, channel: str, at: datetime) -> str:
    if channel == "webhook":
        return webhook_body(alert.type, alert.data, at).decode()
    subject, text, html = alert.email
    return json.dumps({"subject": subject, "text": text, "html": html}, ensure_ascii=False)


def channels_of(subscriber: Subscriber) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if subscriber.email:
        found.append(("email", subscriber.email))
    if subscriber.webhook_url:
        found.append(("webhook", subscriber.webhook_url))
    return found


async def insert_once(session: AsyncSession, row: DeliveryRow | ReminderRow) -> bool:
    """Insert unless the unique key exists already (also under a concurrent insert)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def create_deliveries(
    session: AsyncSession, subscriber: Subscriber, alert: Alert, now: datetime
) -> list[str]:
    created: list[str] = []
    for channel, target in channels_of(subscriber):
        ident = delivery_id(subscriber.id, alert.notice_id, alert.type, alert.reason, channel)
        existing = await session.get(DeliveryRow, ident)
        if existing is not None:
            continue
        row = DeliveryRow(
            id=ident,
            subscriber_id=subscriber.id,
            notice_id=alert.notice_id,
            type=alert.type,
            reason=alert.reason,
            channel=channel,
            target=target,
            payload=channel_payload(alert, channel, now),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        if await insert_once(session, row):
            created.append(ident)
    return created


def match_alert(event: MatchEvent, public_url: str | None) -> Alert:
    return Alert(
        type=MATCHED,
        reason="match",
        notice_id=event.notice.notice_id,
        data=match_data(event),
        email=render_match_email(event, public_url),
    )


def reminder_alert(
    notice: NoticeSummary, matches: list[Match], offset: str, now: datetime
) -> Alert:
    assert notice.deadline is not None
    left = days_left(notice.deadline.due_on, now)
    return Alert(
        type=REMINDER,
        reason=offset,
        notice_id=notice.notice_id,
        data=reminder_data(notice, matches, offset, left),
        email=render_reminder_email(notice, matches, offset, left),
    )


async def schedule_reminders(
    session: AsyncSession, subscriber: Subscriber, event: MatchEvent, now: datetime
) -> list[ReminderRow]:
    deadline = event.notice.deadline
    if deadline is None:
        return []
    offsets = parse_durations(subscriber.reminders)
    payload = json.dumps(
        {
            "notice": event.notice.model_dump(mode="json"),
            "matches": [m.model_dump(mode="json") for m in event.matches],
        },
        ensure_ascii=False,
    )
    created: list[ReminderRow] = []
    for label, fire_at in fire_times(deadline.due_on, offsets, now):
        exists = await session.execute(
            select(ReminderRow.id).where(
                ReminderRow.subscriber_id == subscriber.id,
                ReminderRow.notice_id == event.notice.notice_id,
                ReminderRow.offset == label,
            )
        )
        if exists.first() is not None:
            continue
        row = ReminderRow(
            subscriber_id=subscriber.id,
            notice_id=event.notice.notice_id,
            offset=label,
            due_on=deadline.due_on,
            fire_at=fire_at,
            status="scheduled",
            payload=payload,
            created_at=now,
        )
        if await insert_once(session, row):
            created.append(row)
    return created


def lease(now: datetime, timeout: float) -> datetime:
    return now + timedelta(seconds=2 * timeout + 30)


def utc_now() -> datetime:
    return datetime.now(UTC)
