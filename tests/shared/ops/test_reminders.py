"""Reminder backlog from the notifier's table with plain SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.notifier.models import ReminderRow
from shared.db import Database
from shared.ops.reminders import reminder_backlog, update_reminder_backlog

pytestmark = pytest.mark.postgres


async def test_backlog_counts_overdue_and_next_day(db: Database) -> None:
    now = datetime.now(UTC)
    rows = [
        ("a", "scheduled", now - timedelta(hours=2)),  # overdue
        ("b", "scheduled", now + timedelta(hours=3)),  # next 24 h
        ("c", "scheduled", now + timedelta(hours=23)),  # next 24 h
        ("d", "scheduled", now + timedelta(days=3)),  # later
        ("e", "sent", now - timedelta(hours=1)),  # fired: not backlog
    ]
    async with db.session() as session:
        for notice, status, fire_at in rows:
            session.add(
                ReminderRow(
                    subscriber_id="sub_1",
                    notice_id=notice,
                    offset="1d",
                    due_on=date(2099, 1, 1),
                    fire_at=fire_at,
                    status=status,
                    payload="{}",
                )
            )
    assert await reminder_backlog(db, now) == {"overdue": 1, "next_24h": 2, "scheduled": 4}
    await update_reminder_backlog(db)
    assert REGISTRY.get_sample_value("regwatch_reminder_backlog", {"window": "overdue"}) == 1
    assert REGISTRY.get_sample_value("regwatch_reminder_backlog", {"window": "next_24h"}) == 2
