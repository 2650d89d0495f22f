"""A subscriber's tracked deadlines as the calendar feed and the portal read them.

Days left are calendar days in Asia/Shanghai (:func:`services.notifier.reminders.days_left`).
For a deadline counted in working days ("N 个工作日", rule ``working_days``) the portal also
shows working days left, counted Monday to Friday: no holiday calendar lives in ``shared/``
(the ingestor's is its own), so public holidays and make-up working days are not taken into
account there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.models import DeadlineRow
from services.notifier.reminders import days_left
from services.notifier.tracking import read_summary
from shared.events import Match, NoticeSummary

WORKING_DAYS_RULE = "working_days"


async def open_deadlines(
    session: AsyncSession, subscriber_id: str, *, from_day: date | None = None
) -> list[DeadlineRow]:
    """The subscriber's open deadlines (due on or after ``from_day`` when given), soonest
    first."""
    query = select(DeadlineRow).where(
        DeadlineRow.subscriber_id == subscriber_id, DeadlineRow.status == "open"
    )
    if from_day is not None:
        query = query.where(DeadlineRow.due_on >= from_day)
    rows = await session.execute(query.order_by(DeadlineRow.due_on, DeadlineRow.notice_id))
    return list(rows.scalars())


async def own_deadline(
    session: AsyncSession, subscriber_id: str, deadline_id: int
) -> DeadlineRow | None:
    """One tracked deadline by its id, only if it is this subscriber's."""
    row = await session.get(DeadlineRow, deadline_id)
    if row is None or row.subscriber_id != subscriber_id:
        return None
    return row


def working_days_left(today: date, due_on: date) -> int:
    """Monday-to-Friday days after ``today`` up to and including ``due_on`` (0 on the due day;
    negative, counted the same way, once it has passed)."""
    if due_on == today:
        return 0
    step = 1 if due_on > today else -1
    count = 0
    day = today
    while day != due_on:
        day += timedelta(days=step)
        if day.weekday() < 5:
            count += step
    return count


@dataclass(frozen=True)
class DeadlineView:
    """A tracked deadline with what the portal shows of it."""

    id: int
    notice: NoticeSummary
    matches: list[Match]
    due_on: date
    days_left: int
    working_days_left: int | None
    """Only for a deadline counted in working days."""

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(match.entity.name for match in self.matches))


def view(row: DeadlineRow, now: datetime) -> DeadlineView:
    notice, matches = read_summary(row.payload)
    left = days_left(row.due_on, now)
    working = None
    if notice.deadline is not None and notice.deadline.rule == WORKING_DAYS_RULE:
        working = working_days_left(row.due_on - timedelta(days=left), row.due_on)
    return DeadlineView(row.id, notice, matches, row.due_on, left, working)
