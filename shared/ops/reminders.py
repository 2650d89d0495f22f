"""Reminder backlog, read from the notifier's ``reminders`` table with plain SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, column, func, select, table

from shared.db import Database
from shared.db.base import UTCDateTime
from shared.metrics import observe_reminder_backlog

# Only the columns the backlog needs; the notifier owns the table (services/notifier/models.py).
REMINDERS = table("reminders", column("status"), column("fire_at", UTCDateTime()))


async def reminder_backlog(db: Database, now: datetime | None = None) -> dict[str, int]:
    """Scheduled reminders: ``overdue`` (fire time passed, not fired yet), ``next_24h`` (due
    within a day) and ``scheduled`` (all not fired yet)."""
    now = now or datetime.now(UTC)
    fire_at = REMINDERS.c.fire_at
    scheduled = REMINDERS.c.status == "scheduled"
    query = select(
        func.count().filter(and_(scheduled, fire_at <= now)),
        func.count().filter(and_(scheduled, fire_at > now, fire_at <= now + timedelta(hours=24))),
        func.count().filter(scheduled),
    ).select_from(REMINDERS)
    async with db.engine.connect() as conn:
        overdue, soon, total = (await conn.execute(query)).one()
    return {"overdue": int(overdue), "next_24h": int(soon), "scheduled": int(total)}


async def update_reminder_backlog(db: Database) -> dict[str, int]:
    """Compute the backlog and set ``regwatch_reminder_backlog``."""
    backlog = await reminder_backlog(db)
    observe_reminder_backlog(backlog["overdue"], backlog["next_24h"])
    return backlog
