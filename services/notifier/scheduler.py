"""Deadline reminders: rows in the database, fired by APScheduler, claimed before firing.

Each reminder gets an APScheduler date job at its fire time, and a periodic sweep catches
anything the jobs missed (reminders created by another instance, or due while regwatch was
down). Firing is a claim in the database (``scheduled`` -> ``sent`` in the unit of work that
creates the deliveries), so several notifier instances fire each reminder once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update

from services.notifier.ledger import create_deliveries, reminder_alert, utc_now
from services.notifier.models import ReminderRow
from services.notifier.reminders import SHANGHAI
from shared.accounts import Subscriber
from shared.db import Database
from shared.events import Match, NoticeSummary
from shared.logging import get_logger, log_context

log = get_logger("regwatch.notifier.reminders")


def deadline_passed(due_on: object, now: datetime) -> bool:
    local = now.astimezone(SHANGHAI).date()
    return bool(local > due_on)  # type: ignore[operator]


class ReminderScheduler:
    def __init__(self, db: Database, interval: float, on_fired: object = None) -> None:
        self.db = db
        self.interval = interval
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.on_fired = on_fired

    def start(self) -> None:
        self.scheduler.add_job(
            self.fire_due,
            "interval",
            seconds=self.interval,
            id="reminder-sweep",
            next_run_time=utc_now(),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def schedule(self, rows: list[ReminderRow]) -> None:
        """Add a date job per reminder (the sweep is the safety net)."""
        if not self.scheduler.running:
            return
        for row in rows:
            self.scheduler.add_job(
                self.fire_due,
                "date",
                run_date=max(row.fire_at, utc_now()) + timedelta(milliseconds=50),
                id=f"reminder-{row.id}",
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def fire_due(self) -> int:
        """Fire every due reminder this instance can claim; returns how many it fired."""
        now = utc_now()
        async with self.db.session() as session:
            result = await session.execute(
                select(ReminderRow.id)
                .where(ReminderRow.status == "scheduled", ReminderRow.fire_at <= now)
                .order_by(ReminderRow.fire_at)
                .limit(500)
            )
            due = [row_id for (row_id,) in result.all()]
        fired = 0
        for reminder_id in due:
            if await self.fire(reminder_id, now):
                fired += 1
        if fired and callable(self.on_fired):
            self.on_fired()
        return fired

    async def fire(self, reminder_id: int, now: datetime) -> bool:
        async with self.db.session() as session:
            row = await session.get(ReminderRow, reminder_id)
            if row is None or row.status != "scheduled":
                return False
            status = "expired" if deadline_passed(row.due_on, now) else "sent"
            claimed = await session.execute(
                update(ReminderRow)
                .where(ReminderRow.id == reminder_id, ReminderRow.status == "scheduled")
                .values(status=status, fired_at=now)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return False
            with log_context(notice_id=row.notice_id):
                if status == "expired":
                    log.info("reminder expired unsent: the deadline has passed")
                    return False
                subscriber = await session.get(Subscriber, row.subscriber_id)
                if subscriber is None:
                    return False
                content = json.loads(row.payload)
                notice = NoticeSummary.model_validate(content["notice"])
                matches = [Match.model_validate(m) for m in content["matches"]]
                alert = reminder_alert(notice, matches, row.offset, now)
                created = await create_deliveries(session, subscriber, alert, now)
                log.info("reminder fired", extra={"offset": row.offset, "deliveries": created})
        return True


async def list_reminders(db: Database, subscriber_id: str) -> list[dict[str, object]]:
    async with db.session() as session:
        result = await session.execute(
            select(ReminderRow)
            .where(ReminderRow.subscriber_id == subscriber_id)
            .order_by(ReminderRow.fire_at, ReminderRow.notice_id)
        )
        return [
            {
                "notice_id": row.notice_id,
                "due_on": row.due_on.isoformat(),
                "fire_at": row.fire_at.isoformat(),
                "offset": row.offset,
                "status": row.status,
            }
            for row in result.scalars()
        ]
