"""Releasing held alerts: at the daily digest hour or at the end of quiet hours.

Per (subscriber, channel, target), the held alerts whose time has come are released in one
unit of work:

* one alert held only for quiet hours goes out as itself (status ``pending``, same id);
* otherwise they become one ``digest`` delivery (an email, or a webhook of type ``digest``
  whose ``data.alerts`` lists each alert with its own id), and each held row is marked
  ``digested`` with the digest's id.

The held rows move with a conditional update (``held`` -> ``digested``) checked by row count,
so with several notifier instances each alert ends up in exactly one digest.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import load_context
from services.notifier.channels.base import Target
from services.notifier.ledger import channels
from services.notifier.models import DeliveryRow
from services.notifier.once import insert_once
from services.notifier.payloads import DIGEST, delivery_id
from shared.accounts import Subscriber
from shared.db import Database
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("regwatch.notifier.digest")

DIGEST_NOTICE_ID = "digest"


class _Taken(Exception):
    """Another instance released some of these rows first: roll back, look again later."""


def alert_of(row: DeliveryRow) -> dict[str, Any]:
    """{id, type, data} of a held row, whatever its channel."""
    content = json.loads(row.payload)
    return {"id": row.id, "type": content.get("type", row.type), "data": content.get("data", {})}


async def _release(
    session: AsyncSession, settings: Settings, rows: list[DeliveryRow], now: datetime
) -> str | None:
    first = rows[0]
    ids = [row.id for row in rows]
    if len(rows) == 1 and first.held_for == "quiet":
        moved = await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == first.id, DeliveryRow.status == "held")
            .values(status="pending", next_attempt_at=now)
        )
        if getattr(moved, "rowcount", 0) != 1:
            raise _Taken
        return first.id
    subscriber = await session.get(Subscriber, first.subscriber_id)
    if subscriber is None:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(ids), DeliveryRow.status == "held")
            .values(status="cancelled", last_error="subscriber gone")
        )
        return None
    channel = channels().get(first.channel)
    if channel is None:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(ids), DeliveryRow.status == "held")
            .values(status="failed", last_error=f"no channel {first.channel!r} in this version")
        )
        return None
    why = "digest" if any(row.held_for == "digest" for row in rows) else "quiet"
    ident = delivery_id(first.subscriber_id, DIGEST_NOTICE_ID, first.channel, *ids)
    moved = await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(ids), DeliveryRow.status == "held")
        .values(status="digested", digest_id=ident)
    )
    if getattr(moved, "rowcount", 0) != len(ids):
        raise _Taken
    ctx = await load_context(session, settings, subscriber, now)
    tag = hashlib.sha256(ident.encode()).hexdigest()[:8]
    digest = DeliveryRow(
        id=ident,
        subscriber_id=first.subscriber_id,
        notice_id=DIGEST_NOTICE_ID,
        type=DIGEST,
        reason=f"{why}-{now.strftime('%Y%m%dT%H%M')}-{tag}",
        channel=first.channel,
        target=first.target,
        target_id=first.target_id,
        queue=first.queue,
        payload=channel.render_digest(
            ctx, Target(first.target, first.target_id), why, [alert_of(row) for row in rows]
        ),
        status="pending",
        attempts=0,
        retry_base=0,
        next_attempt_at=now,
        created_at=now,
    )
    if not await insert_once(session, digest):
        raise _Taken
    return ident


async def release_held(db: Database, settings: Settings, now: datetime, limit: int = 200) -> int:
    """Release every group of held alerts that is due; returns how many deliveries resulted."""
    async with db.session() as session:
        groups = (
            await session.execute(
                select(
                    DeliveryRow.subscriber_id,
                    DeliveryRow.channel,
                    DeliveryRow.target,
                    DeliveryRow.target_id,
                )
                .where(DeliveryRow.status == "held", DeliveryRow.release_at <= now)
                .distinct()
                .limit(limit)
            )
        ).all()
    released = 0
    for subscriber_id, channel, target, target_id in groups:
        try:
            async with db.session() as session:
                rows = list(
                    (
                        await session.execute(
                            select(DeliveryRow)
                            .where(
                                DeliveryRow.subscriber_id == subscriber_id,
                                DeliveryRow.channel == channel,
                                DeliveryRow.target == target,
                                DeliveryRow.target_id == target_id,
                                DeliveryRow.status == "held",
                                DeliveryRow.release_at <= now,
                            )
                            .order_by(DeliveryRow.created_at, DeliveryRow.id)
                        )
                    ).scalars()
                )
                if not rows:
                    continue
                if await _release(session, settings, rows, now) is not None:
                    released += 1
        except _Taken:
            log.info("held alerts released by another instance")
    return released
