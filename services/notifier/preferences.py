"""A subscriber's notifier settings: digest and quiet hours, due-day and overdue reminders and
the reminder time of day, email unsubscribe, the calendar token, and a webhook endpoint
disabled after ``410 Gone``.

The row is created on first use with random tokens (unsubscribe link, calendar feed).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.chat_text import LANGUAGES
from services.notifier.holding import DIGEST_MODES, Holding, parse_hhmm
from services.notifier.models import DeliveryRow, PreferencesRow
from services.notifier.once import insert_once
from services.notifier.reminders import Clock, zone
from shared.accounts import Subscriber
from shared.db.base import utcnow
from shared.errors import InputError
from shared.settings import Settings

TOKEN_BYTES = 24


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def get_preferences(
    session: AsyncSession, subscriber_id: str, now: datetime | None = None
) -> PreferencesRow:
    """The subscriber's row, created with defaults and fresh tokens when missing."""
    row = await session.get(PreferencesRow, subscriber_id)
    if row is not None:
        return row
    fresh = default_preferences(subscriber_id, now or utcnow())
    if await insert_once(session, fresh):
        return fresh
    existing = await session.get(PreferencesRow, subscriber_id, populate_existing=True)
    assert existing is not None
    return existing


def default_preferences(subscriber_id: str, now: datetime) -> PreferencesRow:
    """A subscriber's first row: the defaults and fresh tokens."""
    return PreferencesRow(
        subscriber_id=subscriber_id,
        digest="immediate",
        digest_hour=9,
        quiet_start=None,
        quiet_end=None,
        remind_due_day=True,
        remind_overdue=True,
        unsubscribe_token=new_token(),
        calendar_token=new_token(),
        updated_at=now,
    )


async def preferences_of(
    session: AsyncSession, subscriber_ids: Collection[str], now: datetime
) -> dict[str, PreferencesRow]:
    """Many subscribers' rows in one read; missing ones are added with the defaults (one that
    another instance adds meanwhile raises IntegrityError when the unit of work flushes)."""
    if not subscriber_ids:
        return {}
    found = await session.scalars(
        select(PreferencesRow).where(PreferencesRow.subscriber_id.in_(sorted(subscriber_ids)))
    )
    rows = {row.subscriber_id: row for row in found}
    missing = [default_preferences(ident, now) for ident in subscriber_ids if ident not in rows]
    session.add_all(missing)
    rows.update((row.subscriber_id, row) for row in missing)
    return rows


def holding_rules(prefs: PreferencesRow, subscriber: Subscriber) -> Holding:
    return Holding(
        tz=zone(subscriber.timezone),
        digest=prefs.digest,
        digest_hour=prefs.digest_hour,
        quiet_start=parse_hhmm(prefs.quiet_start) if prefs.quiet_start else None,
        quiet_end=parse_hhmm(prefs.quiet_end) if prefs.quiet_end else None,
    )


def reminder_time(prefs: PreferencesRow | None, settings: Settings) -> time:
    """The subscriber's reminder time of day, else the server's (``REGWATCH_REMINDER_TIME``)."""
    if prefs is not None and prefs.reminder_time:
        return parse_hhmm(prefs.reminder_time)
    return settings.reminder_clock


def reminder_clock(
    prefs: PreferencesRow | None, subscriber: Subscriber, settings: Settings
) -> Clock:
    """When the subscriber's day reminders fire: their time zone and reminder time."""
    return Clock(zone(subscriber.timezone), reminder_time(prefs, settings))


def webhook_disabled(prefs: PreferencesRow | None, url: str) -> bool:
    return prefs is not None and prefs.webhook_disabled_url == url


def describe(prefs: PreferencesRow, subscriber: Subscriber, settings: Settings) -> dict[str, Any]:
    """The settings as the API shows them (``reminder_time``: the subscriber's, else the
    server's; ``reminder_time_default``: whether it is the server's)."""
    quiet = (
        {"start": prefs.quiet_start, "end": prefs.quiet_end}
        if prefs.quiet_start and prefs.quiet_end
        else None
    )
    disabled = None
    if prefs.webhook_disabled_url:
        disabled = {
            "url": prefs.webhook_disabled_url,
            "at": prefs.webhook_disabled_at.isoformat() if prefs.webhook_disabled_at else None,
            "reason": prefs.webhook_disabled_reason,
        }
    return {
        "timezone": subscriber.timezone,
        "digest": prefs.digest,
        "digest_hour": prefs.digest_hour,
        "quiet_hours": quiet,
        "email_alerts": prefs.email_unsubscribed_at is None,
        "remind_due_day": prefs.remind_due_day,
        "remind_overdue": prefs.remind_overdue,
        "reminder_time": reminder_time(prefs, settings).strftime("%H:%M"),
        "reminder_time_default": not prefs.reminder_time,
        "chat_language": prefs.chat_language,
        "webhook_disabled": disabled,
    }


@dataclass
class PreferenceChanges:
    """A partial update; None = leave as is (``clear_quiet_hours`` removes them)."""

    digest: str | None = None
    digest_hour: int | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    clear_quiet_hours: bool = False
    email_alerts: bool | None = None
    remind_due_day: bool | None = None
    remind_overdue: bool | None = None
    reminder_time: str | None = None
    clear_reminder_time: bool = False
    """Back to the server's reminder time."""
    chat_language: str | None = None
    clear_chat_language: bool = False
    """Back to each chat platform's own default language."""


def apply_changes(prefs: PreferencesRow, changes: PreferenceChanges, now: datetime) -> None:
    """Validate and apply ``changes``; raises InputError naming the bad value."""
    if changes.digest is not None:
        if changes.digest not in DIGEST_MODES:
            raise InputError(f"digest must be one of {', '.join(DIGEST_MODES)}")
        prefs.digest = changes.digest
    if changes.digest_hour is not None:
        if not 0 <= changes.digest_hour <= 23:
            raise InputError(f"digest_hour must be 0-23, not {changes.digest_hour}")
        prefs.digest_hour = changes.digest_hour
    if changes.clear_quiet_hours:
        prefs.quiet_start = prefs.quiet_end = None
    elif (changes.quiet_start is None) != (changes.quiet_end is None):
        raise InputError("quiet hours need both start and end (HH:MM)")
    elif changes.quiet_start is not None and changes.quiet_end is not None:
        start, end = parse_hhmm(changes.quiet_start), parse_hhmm(changes.quiet_end)
        if start == end:
            raise InputError("quiet hours start and end must differ")
        prefs.quiet_start, prefs.quiet_end = start.strftime("%H:%M"), end.strftime("%H:%M")
    if changes.email_alerts is not None:
        if changes.email_alerts:
            prefs.email_unsubscribed_at = None
        elif prefs.email_unsubscribed_at is None:
            prefs.email_unsubscribed_at = now
    if changes.remind_due_day is not None:
        prefs.remind_due_day = changes.remind_due_day
    if changes.remind_overdue is not None:
        prefs.remind_overdue = changes.remind_overdue
    if changes.clear_reminder_time:
        prefs.reminder_time = None
    elif changes.reminder_time is not None:
        try:
            prefs.reminder_time = parse_hhmm(changes.reminder_time).strftime("%H:%M")
        except InputError as exc:
            raise InputError(f"reminder_time: {exc}") from exc
    if changes.clear_chat_language:
        prefs.chat_language = None
    elif changes.chat_language is not None:
        if changes.chat_language not in LANGUAGES:
            raise InputError(
                f"chat_language must be one of {', '.join(LANGUAGES)} (or null for each "
                f"platform's own), not {changes.chat_language!r}"
            )
        prefs.chat_language = changes.chat_language
    prefs.updated_at = now


async def unsubscribe_email(session: AsyncSession, prefs: PreferencesRow, now: datetime) -> int:
    """Stop email alerts; pending and held email alerts are cancelled. Returns how many."""
    if prefs.email_unsubscribed_at is None:
        prefs.email_unsubscribed_at = now
        prefs.updated_at = now
    result = await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.subscriber_id == prefs.subscriber_id,
            DeliveryRow.channel == "email",
            DeliveryRow.status.in_(("pending", "held")),
            DeliveryRow.claim_token.is_(None),
        )
        .values(status="cancelled", last_error="unsubscribed from email alerts")
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def by_token(
    session: AsyncSession, column: str, token: str
) -> tuple[PreferencesRow, Subscriber] | None:
    """The preferences and subscriber of an unsubscribe or calendar token."""
    if not token or len(token) > 64:
        return None
    field = getattr(PreferencesRow, column)
    prefs = (
        await session.execute(select(PreferencesRow).where(field == token))
    ).scalar_one_or_none()
    if prefs is None:
        return None
    subscriber = await session.get(Subscriber, prefs.subscriber_id)
    if subscriber is None:
        return None
    return prefs, subscriber
