"""Reading and replaying the delivery ledger (``GET /v1/deliveries``, ``regwatch deliveries``).

A replay puts a failed delivery back in the queue under the same id (so the same
``webhook-id``): its attempts stay recorded, its retry schedule starts again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.ledger import channels
from services.notifier.models import AttemptRow, DeliveryRow
from shared.errors import InputError

STATUSES = ("pending", "held", "digested", "delivered", "failed", "cancelled")
REPLAYABLE = ("failed",)


def parse_since(text: str | None) -> datetime | None:
    """An ISO-8601 time (a date means its midnight UTC; no zone means UTC)."""
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"bad time {text!r}: expected ISO-8601, e.g. 2024-05-01T08:00Z") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def describe(row: DeliveryRow, attempts: list[AttemptRow] | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": row.id,
        "subscriber_id": row.subscriber_id,
        "notice_id": row.notice_id,
        "type": row.type,
        "reason": row.reason,
        "channel": row.channel,
        "target": row.target,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": _iso(row.created_at),
        "next_attempt_at": _iso(row.next_attempt_at) if row.status == "pending" else None,
        "delivered_at": _iso(row.delivered_at),
        "held_for": row.held_for,
        "release_at": _iso(row.release_at) if row.status == "held" else None,
        "digest_id": row.digest_id,
        "replayed_at": _iso(row.replayed_at),
    }
    if attempts is not None:
        shown["history"] = [
            {
                "at": _iso(a.at),
                "ok": a.ok,
                "retriable": a.retriable,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ]
    return shown


async def list_deliveries(
    session: AsyncSession,
    *,
    subscriber_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    target: str | None = None,
    limit: int = 100,
    with_attempts: bool = True,
) -> list[dict[str, Any]]:
    """Deliveries, newest first, with each attempt (time, status code, error) when asked."""
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown status {status!r}: choose from {', '.join(STATUSES)}")
    if channel is not None and channel not in channels():
        raise InputError(f"unknown channel {channel!r}: choose from {', '.join(channels())}")
    if not 1 <= limit <= 10_000:
        raise InputError("limit must be between 1 and 10000")
    query = select(DeliveryRow)
    if subscriber_id is not None:
        query = query.where(DeliveryRow.subscriber_id == subscriber_id)
    if status is not None:
        query = query.where(DeliveryRow.status == status)
    if channel is not None:
        query = query.where(DeliveryRow.channel == channel)
    if since is not None:
        query = query.where(DeliveryRow.created_at >= since)
    if target is not None:
        query = query.where(DeliveryRow.target == target)
    query = query.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id).limit(limit)
    rows = list((await session.execute(query)).scalars())
    if not with_attempts:
        return [describe(row) for row in rows]
    by_delivery: dict[str, list[AttemptRow]] = defaultdict(list)
    if rows:
        found = await session.execute(
            select(AttemptRow)
            .where(AttemptRow.delivery_id.in_([row.id for row in rows]))
            .order_by(AttemptRow.at, AttemptRow.id)
        )
        for attempt in found.scalars():
            by_delivery[attempt.delivery_id].append(attempt)
    return [describe(row, by_delivery[row.id]) for row in rows]


async def _reset(session: AsyncSession, row: DeliveryRow, now: datetime) -> None:
    row.status = "pending"
    row.next_attempt_at = now
    row.claimed_until = None
    row.claim_token = None
    row.retry_base = row.attempts
    row.replayed_at = now
    channel = channels().get(row.channel)
    if channel is not None:
        await channel.before_replay(session, row, now)


async def replay_delivery(
    session: AsyncSession, delivery_id: str, now: datetime, *, subscriber_id: str | None = None
) -> DeliveryRow:
    """Put one failed delivery back in the queue (same id); raises InputError otherwise.

    Replaying a webhook to an endpoint that was disabled (410) enables it again.
    """
    row = await session.get(DeliveryRow, delivery_id, with_for_update=True)
    if row is None or (subscriber_id is not None and row.subscriber_id != subscriber_id):
        raise InputError(f"no delivery {delivery_id!r}")
    if row.status not in REPLAYABLE:
        raise InputError(f"delivery {delivery_id} is {row.status}: only failed ones are replayed")
    await _reset(session, row, now)
    return row


async def replay_endpoint(
    session: AsyncSession,
    url: str,
    since: datetime,
    now: datetime,
    *,
    subscriber_id: str | None = None,
) -> list[str]:
    """Put every failed delivery to ``url`` (a webhook URL or an email address) created since
    ``since`` back in the queue; returns their ids."""
    query = select(DeliveryRow).where(
        DeliveryRow.target == url,
        DeliveryRow.status.in_(REPLAYABLE),
        DeliveryRow.created_at >= since,
    )
    if subscriber_id is not None:
        query = query.where(DeliveryRow.subscriber_id == subscriber_id)
    rows = list((await session.execute(query.order_by(DeliveryRow.created_at))).scalars())
    for row in rows:
        await _reset(session, row, now)
    return [row.id for row in rows]
