"""The delivery ledger: one row per (subscriber, notice, type, reason, channel), created once.

Rows are created in the same unit of work that handles a MatchEvent or fires a reminder, so a
redelivered message or a second notifier instance finds them and creates nothing new. The row
id is derived from that key (:func:`payloads.delivery_id`) and is the ``webhook-id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Alert, Context
from services.notifier.holding import hold_until
from services.notifier.models import DeliveryRow
from services.notifier.once import insert_all_once
from services.notifier.payloads import delivery_id
from services.notifier.preferences import holding_rules

if TYPE_CHECKING:
    from services.notifier.channels.base import Channel

LEASE_MARGIN = timedelta(seconds=5)


def channels() -> Mapping[str, Channel]:
    """The channel registry (``services.notifier.channels.CHANNELS``). Imported when first
    needed, not with this module: a channel may raise an alert of its own through the ledger
    (the webhook channel tells the subscriber, by email, that an endpoint is gone)."""
    from services.notifier.channels import CHANNELS

    return CHANNELS


def alert_id(subscriber_id: str, alert: Alert, channel: str, target_id: str = "") -> str:
    """The delivery's id (``webhook-id``): the account's own address keeps the id it always
    had; a chat channel target adds its own id."""
    parts = [subscriber_id, alert.notice_id, alert.type, alert.reason, channel]
    return delivery_id(*parts, target_id) if target_id else delivery_id(*parts)


async def create_deliveries(session: AsyncSession, ctx: Context, alert: Alert) -> list[str]:
    """The alert's rows, one per channel target, unless they exist already. Returns the new
    ids.

    A channel may not want the alert (email after unsubscribing, service messages excepted) or
    refuse a target (a webhook endpoint disabled after 410: recorded as failed); an alert
    inside quiet hours or for the daily digest is recorded as ``held``.
    """
    subscriber, prefs, now = ctx.subscriber, ctx.prefs, ctx.now
    rules = holding_rules(prefs, subscriber)
    hold = hold_until(rules, alert.type, now) if alert.holdable else None
    wanted = [
        (channel, target, alert_id(subscriber.id, alert, channel.name, target.id))
        for channel in channels().values()
        if (alert.channels is None or channel.name in alert.channels) and channel.wants(alert, ctx)
        for target in channel.targets(ctx)
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
            channel=channel.name,
            target=target.address,
            target_id=target.id,
            queue=channel.queue(target.address),
            payload=channel.render(alert, ctx, target),
            status="pending",
            attempts=0,
            retry_base=0,
            next_attempt_at=now,
            created_at=now,
        )
        refusal = channel.refusal(target.address, ctx)
        if refusal is not None:
            row.status = "failed"
            row.last_error = refusal
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
