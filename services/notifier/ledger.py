"""The delivery ledger: one row per (subscriber, notice, type, reason, channel), created once.

Rows are created in the same unit of work that handles a MatchEvent or fires a reminder, so a
redelivered message or a second notifier instance finds them and creates nothing new. The row
id is derived from that key (:func:`payloads.delivery_id`) and is the ``webhook-id``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Alert, Context
from services.notifier.holding import hold_until
from services.notifier.models import (
    DeliveryRow,
)
from services.notifier.once import insert_all_once
from services.notifier.payloads import (
    ENDPOINT_DISABLED,
    delivery_id,
    webhook_body,
)
from services.notifier.preferences import holding_rules, webhook_disabled
from shared.accounts import Subscriber

LEASE_MARGIN = timedelta(seconds=5)


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


def lease(now: datetime, timeout: float) -> datetime:
    """How long a claimed delivery belongs to the instance that claimed it: one attempt is
    bounded by ``timeout`` (twice for email: waiting for a pooled connection, then sending),
    plus a margin to record the result. After that, another instance may try it again."""
    return now + timedelta(seconds=2 * timeout) + LEASE_MARGIN


def utc_now() -> datetime:
    return datetime.now(UTC)
