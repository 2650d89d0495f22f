"""Subscriber-facing notifier routes: reminders and delivery history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from services.notifier.models import DeliveryRow
from services.notifier.scheduler import list_reminders
from shared.accounts import Subscriber
from shared.db import Database
from shared.http import app_db, current_subscriber


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["deliveries"])

    @router.get("/reminders")
    async def reminders(
        db: Annotated[Database, Depends(app_db)],
        subscriber: Annotated[Subscriber, Depends(current_subscriber)],
    ) -> list[dict[str, object]]:
        return await list_reminders(db, subscriber.id)

    @router.get("/deliveries")
    async def deliveries(
        db: Annotated[Database, Depends(app_db)],
        subscriber: Annotated[Subscriber, Depends(current_subscriber)],
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        async with db.session() as session:
            result = await session.execute(
                select(DeliveryRow)
                .where(DeliveryRow.subscriber_id == subscriber.id)
                .order_by(DeliveryRow.created_at.desc())
                .limit(limit)
            )
            rows = list(result.scalars())
        return [
            {
                "id": row.id,
                "notice_id": row.notice_id,
                "type": row.type,
                "reason": row.reason,
                "channel": row.channel,
                "status": row.status,
                "attempts": row.attempts,
                "last_error": row.last_error,
                "created_at": row.created_at.isoformat(),
                "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            }
            for row in rows
        ]

    return router
