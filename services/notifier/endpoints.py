"""Webhook endpoints that answered ``410 Gone``: disabled, their queue failed, the subscriber told.

``410 Gone`` means the receiver is gone for good: regwatch stops calling that URL for that
subscriber, records its pending and held alerts as failed ("endpoint gone"), records new ones
as failed too, and emails the subscriber (when they have an address). ``POST
/v1/webhook/enable`` or a replay for the endpoint turns it back on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import endpoint_alert, load_context
from services.notifier.ledger import create_deliveries
from services.notifier.models import DeliveryRow
from services.notifier.preferences import get_preferences
from shared.accounts import Subscriber
from shared.settings import Settings

GONE = "endpoint gone"


async def disable_endpoint(
    session: AsyncSession,
    settings: Settings,
    subscriber_id: str,
    url: str,
    error: str,
    now: datetime,
    *,
    except_id: str | None = None,
) -> list[str]:
    """Disable ``url`` for the subscriber; returns the ids of the notice emails created."""
    prefs = await get_preferences(session, subscriber_id, now)
    if prefs.webhook_disabled_url == url:
        return []
    prefs.webhook_disabled_url = url
    prefs.webhook_disabled_at = now
    prefs.webhook_disabled_reason = error
    prefs.updated_at = now
    conditions = [
        DeliveryRow.subscriber_id == subscriber_id,
        DeliveryRow.channel == "webhook",
        DeliveryRow.target == url,
        DeliveryRow.status.in_(("pending", "held")),
        DeliveryRow.claim_token.is_(None),
    ]
    if except_id is not None:
        conditions.append(DeliveryRow.id != except_id)
    await session.execute(
        update(DeliveryRow)
        .where(*conditions)
        .values(status="failed", last_error=f"{GONE}: {error}", held_for=None)
    )
    subscriber = await session.get(Subscriber, subscriber_id)
    if subscriber is None or not subscriber.email:
        return []
    ctx = await load_context(session, settings, subscriber, now)
    return await create_deliveries(session, ctx, endpoint_alert(url, error, ctx))


async def enable_endpoint(session: AsyncSession, subscriber_id: str, now: datetime) -> bool:
    """Turn a disabled endpoint back on; False when none was disabled."""
    prefs = await get_preferences(session, subscriber_id, now)
    if prefs.webhook_disabled_url is None:
        return False
    prefs.webhook_disabled_url = None
    prefs.webhook_disabled_at = None
    prefs.webhook_disabled_reason = None
    prefs.updated_at = now
    return True
