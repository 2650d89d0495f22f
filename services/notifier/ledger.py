"""The delivery ledger: one row per (subscriber, notice, type, reason, channel), created once.

Rows are created in the same unit of work that handles a MatchEvent or fires a reminder, so a
redelivered message or a second notifier instance finds them and creates nothing new. The row
id is derived from that key (:func:`payloads.delivery_id`) and is the ``webhook-id``.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier import render
from services.notifier.holding import hold_until
from services.notifier.links import unsubscribe_url
from services.notifier.models import (
    DeadlineRow,
    DeliveryRow,
    PreferencesRow,
    ReminderRow,
    WatchTombstoneRow,
)
from services.notifier.once import insert_all_once, insert_once
from services.notifier.payloads import (
    DEADLINE_REMINDER,
    ENDPOINT_DISABLED,
    NOTICE_ESCALATED,
    NOTICE_MATCHED,
    delivery_id,
    escalation_data,
    match_data,
    reminder_data,
    webhook_body,
)
from services.notifier.preferences import get_preferences, holding_rules, webhook_disabled
from services.notifier.reminders import days_left, local_iso, reminder_plan, zone
from shared.accounts import Subscriber
from shared.durations import parse_durations
from shared.events import Match, MatchEvent, NoticeSummary
from shared.settings import Settings

MATCHED = NOTICE_MATCHED
ESCALATED = NOTICE_ESCALATED
REMINDER = DEADLINE_REMINDER

ENDPOINT_NOTICE_ID = "endpoint"
LEASE_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True)
class Alert:
    """What one alert says, before it is split per channel."""

    type: str
    reason: str
    notice_id: str
    data: dict[str, Any]
    email: tuple[str, str, str]
    channels: tuple[str, ...] = ("email", "webhook")
    holdable: bool = True


@dataclass
class Context:
    """Who an alert is for and when it is made: settings, account, notifier preferences."""

    settings: Settings
    subscriber: Subscriber
    prefs: PreferencesRow
    now: datetime
    tz: tzinfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = zone(self.subscriber.timezone)

    @property
    def unsubscribe_url(self) -> str:
        return unsubscribe_url(self.settings, self.prefs.unsubscribe_token)

    @property
    def public_url(self) -> str | None:
        return self.settings.public_url


async def load_context(
    session: AsyncSession, settings: Settings, subscriber: Subscriber, now: datetime
) -> Context:
    prefs = await get_preferences(session, subscriber.id, now)
    return Context(settings, subscriber, prefs, now)


def channel_payload(alert: Alert, channel: str, at: datetime, unsubscribe: str | None) -> str:
    """What is stored for one channel: the exact webhook body, or the email's content (with
    the alert's type and data, so a digest can be rendered from held emails too)."""
    if channel == "webhook":
        return webhook_body(alert.type, alert.data, at).decode()
    subject, text, html = alert.email
    content: dict[str, Any] = {
        "subject": subject,
        "text": text,
        "html": html,
        "type": alert.type,
        "data": alert.data,
        "unsubscribe_url": unsubscribe,
    }
    return json.dumps(content, ensure_ascii=False)


def channels_of(subscriber: Subscriber) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if subscriber.email:
        found.append(("email", subscriber.email))
    if subscriber.webhook_url:
        found.append(("webhook", subscriber.webhook_url))
    return found


def alert_id(subscriber_id: str, alert: Alert, channel: str) -> str:
    return delivery_id(subscriber_id, alert.notice_id, alert.type, alert.reason, channel)


async def create_deliveries(session: AsyncSession, ctx: Context, alert: Alert) -> list[str]:
    """The alert's rows, one per channel, unless they exist already. Returns the new ids.

    An email alert is skipped after the subscriber unsubscribed from email alerts (service
    messages excepted); a webhook alert to a disabled endpoint is recorded as failed; an alert
    inside quiet hours or for the daily digest is recorded as ``held``.
    """
    subscriber, prefs, now = ctx.subscriber, ctx.prefs, ctx.now
    rules = holding_rules(prefs, subscriber)
    hold = hold_until(rules, alert.type, now) if alert.holdable else None
    wanted = [
        (channel, target, alert_id(subscriber.id, alert, channel))
        for channel, target in channels_of(subscriber)
        if channel in alert.channels
        and not (
            channel == "email" and prefs.email_unsubscribed_at and alert.type != ENDPOINT_DISABLED
        )
    ]
    if not wanted:
        return []
    found = await session.scalars(
        select(DeliveryRow.id).where(DeliveryRow.id.in_([ident for _, _, ident in wanted]))
    )
    existing = set(found)
    rows: list[DeliveryRow] = []
    for channel, target, ident in wanted:
        if ident in existing:
            continue
        row = DeliveryRow(
            id=ident,
            subscriber_id=subscriber.id,
            notice_id=alert.notice_id,
            type=alert.type,
            reason=alert.reason,
            channel=channel,
            target=target,
            payload=channel_payload(alert, channel, now, ctx.unsubscribe_url),
            status="pending",
            attempts=0,
            retry_base=0,
            next_attempt_at=now,
            created_at=now,
        )
        if channel == "webhook" and webhook_disabled(prefs, target):
            row.status = "failed"
            row.last_error = "endpoint gone: disabled after it answered 410 Gone"
        elif hold is not None:
            row.status = "held"
            row.held_for, row.release_at = hold
        rows.append(row)
    return [row.id for row in await insert_all_once(session, rows)]


def event_reason(event: MatchEvent) -> str:
    """Why the matcher sent this event (``match`` unless it says otherwise)."""
    reason = getattr(event, "reason", None)
    return str(reason)[:40] if reason else "match"


def match_alert(event: MatchEvent, ctx: Context) -> Alert:
    """``notice.matched``, or ``notice.escalated`` when the notice orders apps removed."""
    reason = event_reason(event)
    escalated = event.notice.kind == "removal"
    data = escalation_data(event, reason) if escalated else match_data(event, reason)
    return Alert(
        type=ESCALATED if escalated else MATCHED,
        reason=reason,
        notice_id=event.notice.notice_id,
        data=data,
        email=render.render_match_email(
            event.notice,
            event.matches,
            now=ctx.now,
            tz=ctx.tz,
            public_url=ctx.public_url,
            unsubscribe_url=ctx.unsubscribe_url,
            escalated=escalated,
        ),
        holdable=not escalated,
    )


def reminder_alert(
    notice: NoticeSummary,
    matches: list[Match],
    offset: str,
    ctx: Context,
    *,
    late: bool = False,
    fire_at: datetime | None = None,
) -> Alert:
    assert notice.deadline is not None
    left = days_left(notice.deadline.due_on, ctx.now)
    tz_label = render.tz_name(ctx.tz)
    return Alert(
        type=REMINDER,
        reason=offset,
        notice_id=notice.notice_id,
        data={"subscriber_id": ctx.subscriber.id}
        | reminder_data(
            notice,
            matches,
            offset,
            left,
            late=late,
            fire_at=fire_at,
            timezone=tz_label,
            fire_at_local=local_iso(fire_at, ctx.tz) if fire_at else None,
        ),
        email=render.render_reminder_email(
            notice,
            matches,
            offset,
            left,
            now=ctx.now,
            tz=ctx.tz,
            public_url=ctx.public_url,
            unsubscribe_url=ctx.unsubscribe_url,
            late=late,
        ),
    )


def endpoint_alert(url: str, error: str, ctx: Context) -> Alert:
    """The email that tells a subscriber their webhook endpoint was disabled (never held)."""
    return Alert(
        type=ENDPOINT_DISABLED,
        reason=ctx.now.strftime("%Y%m%dT%H%M%S.%f"),
        notice_id=ENDPOINT_NOTICE_ID,
        data={"url": url, "error": error, "disabled_at": ctx.now.isoformat()},
        email=render.render_endpoint_disabled_email(
            url, error, ctx.now, tz=ctx.tz, public_url=ctx.public_url
        ),
        channels=("email",),
        holdable=False,
    )


# --- watches and deadlines -----------------------------------------------------------------


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


def lease(now: datetime, timeout: float) -> datetime:
    """How long a claimed delivery belongs to the instance that claimed it: one attempt is
    bounded by ``timeout`` (twice for email: waiting for a pooled connection, then sending),
    plus a margin to record the result. After that, another instance may try it again."""
    return now + timedelta(seconds=2 * timeout) + LEASE_MARGIN


def utc_now() -> datetime:
    return datetime.now(UTC)
