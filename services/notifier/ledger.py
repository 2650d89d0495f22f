"""The delivery ledger: one row per (subscriber, notice, type, reason, channel), created once.

Rows are created in the same unit of work that handles a MatchEvent or fires a reminder, so a
redelivered message or a second notifier instance finds them and creates nothing new. The row
id is derived from that key (:func:`payloads.delivery_id`) and is the ``webhook-id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

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
    """The alert's rows (:func:`plan_deliveries`) unless they exist already. Returns the new
    ids."""
    fresh = await unknown(session, plan_deliveries(ctx, alert))
    return [row.id for row in await insert_all_once(session, [DeliveryRow(**v) for v in fresh])]


def plan_deliveries(ctx: Context, alert: Alert) -> list[dict[str, Any]]:
    """The alert's rows, one per channel target, not yet checked against the ledger: the
    values of their columns (each row with the same columns), to insert in bulk
    (``shared.db.bulk.insert_values``) or to make ``DeliveryRow`` objects of.

    A channel may not want the alert (email after unsubscribing, service messages excepted) or
    refuse a target (a webhook endpoint disabled after 410: recorded as failed); an alert
    inside quiet hours or for the daily digest is recorded as ``held``.
    """
    subscriber, prefs, now = ctx.subscriber, ctx.prefs, ctx.now
    rules = holding_rules(prefs, subscriber)
    hold = hold_until(rules, alert.type, now) if alert.holdable else None
    rows: list[dict[str, Any]] = []
    for channel in channels().values():
        if alert.channels is not None and channel.name not in alert.channels:
            continue
        if not channel.wants(alert, ctx):
            continue
        for target in channel.targets(ctx):
            status, last_error, held_for, release_at = "pending", None, None, None
            refusal = channel.refusal(target.address, ctx)
            if refusal is not None:
                status, last_error = "failed", refusal
            elif hold is not None:
                status = "held"
                held_for, release_at = hold
            rows.append(
                {
                    "id": alert_id(subscriber.id, alert, channel.name, target.id),
                    "subscriber_id": subscriber.id,
                    "notice_id": alert.notice_id,
                    "type": alert.type,
                    "reason": alert.reason,
                    "channel": channel.name,
                    "target": target.address,
                    "target_id": target.id,
                    "queue": channel.queue(target.address),
                    "payload": channel.render(alert, ctx, target),
                    "status": status,
                    "attempts": 0,
                    "retry_base": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "last_error": last_error,
                    "held_for": held_for,
                    "release_at": release_at,
                }
            )
    return rows


def ledger_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The ledger's unique key of a row's values (rows migrated from older versions keep ids
    of their own, so the id alone does not tell a row is known)."""
    return (
        row["subscriber_id"],
        row["notice_id"],
        row["type"],
        row["reason"],
        row["channel"],
        row["target_id"],
    )


async def unknown(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (:func:`plan_deliveries`) the ledger does not hold yet (by id or by its unique
    key), each once."""
    if not rows:
        return []
    found = await session.execute(
        select(
            DeliveryRow.id,
            DeliveryRow.subscriber_id,
            DeliveryRow.notice_id,
            DeliveryRow.type,
            DeliveryRow.reason,
            DeliveryRow.channel,
            DeliveryRow.target_id,
        ).where(
            DeliveryRow.subscriber_id.in_(sorted({row["subscriber_id"] for row in rows})),
            DeliveryRow.notice_id.in_(sorted({row["notice_id"] for row in rows})),
        )
    )
    seen: set[object] = set()
    for ident, *key in found:
        seen.add(ident)
        seen.add(tuple(key))
    fresh: list[dict[str, Any]] = []
    for row in rows:
        row_key = ledger_key(row)
        if row["id"] not in seen and row_key not in seen:
            seen.update((row["id"], row_key))
            fresh.append(row)
    return fresh


def lease(now: datetime, timeout: float) -> datetime:
    """How long a claimed delivery belongs to the instance that claimed it: one attempt is
    bounded by ``timeout`` (twice for email: waiting for a pooled connection, then sending),
    plus a margin to record the result. After that, another instance may try it again."""
    return now + timedelta(seconds=2 * timeout) + LEASE_MARGIN


def utc_now() -> datetime:
    return datetime.now(UTC)
