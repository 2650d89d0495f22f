"""Deadline reminders: rows in the database, fired by APScheduler, claimed before firing.

Each reminder due within the next two sweeps gets an APScheduler date job at its fire time
(the sweep gives later ones theirs as they come near), and a periodic sweep catches anything
the jobs missed (reminders created by another instance, or due while regwatch was down: the
first sweep runs at start). Firing is a claim in the database (``scheduled`` ->
``sent`` in the unit of work that creates the deliveries), so several notifier instances fire
each reminder once.

Each sweep first re-plans the scheduled reminders of subscribers whose time zone or reminder
time changed since they were planned (:func:`services.notifier.tracking.replanned_subscribers`),
whichever API or page changed them.

A reminder fired more than ``late_after`` after its time is marked ``late`` (in the ledger, the
webhook and the email). When several reminders of one deadline are due at the same sweep (the
notifier was down across them), only the latest is sent and the others are ``skipped``. A
reminder whose deadline has passed is ``expired`` instead of sent (the ``overdue`` one excepted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import load_context, reminder_alert
from services.notifier.ledger import create_deliveries, utc_now
from services.notifier.models import DeadlineRow, ReminderRow
from services.notifier.reminders import (
    deadline_passed,
    describe_label,
    is_late,
    local_iso,
    still_worth_sending,
    zone,
)
from services.notifier.tracking import (
    Reminder,
    reminder_summary,
    replan_reminders,
    replanned_subscribers,
)
from shared.accounts import Subscriber
from shared.db import Database
from shared.errors import InputError
from shared.logging import get_logger, log_context
from shared.settings import Settings

log = get_logger("regwatch.notifier.reminders")

SKIPPED_NOTE = "a later reminder of the same deadline was due at the same time"
NO_SUMMARY = "reminder not sent: it has no tracked deadline to read its notice and matches from"
REPLAN_BATCH = 200


class ReminderScheduler:
    def __init__(
        self,
        db: Database,
        interval: float,
        on_fired: Callable[[], None] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.interval = interval
        self.settings = settings or Settings()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.on_fired = on_fired
        self.late_after = timedelta(seconds=max(60.0, 2 * interval))

    def start(self) -> None:
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.interval,
            id="reminder-sweep",
            next_run_time=utc_now(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # late (a busy start-up) is run, not skipped with a warning
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def schedule(self, rows: Sequence[Reminder]) -> None:
        """Add a date job per reminder (the sweep is the safety net)."""
        self.schedule_at([(row.id, row.fire_at) for row in rows])

    @property
    def horizon(self) -> timedelta:
        """How far ahead reminders get a timer: the next two sweeps. One due later gets its
        timer from the sweep before it (a fan-out plans tens of thousands of reminders days
        ahead; a timer each cost the notifier a sixth of its time)."""
        return timedelta(seconds=2 * self.interval)

    def schedule_at(self, timers: Sequence[tuple[int, datetime]]) -> None:
        """Add (or move) the date job of each ``(reminder id, fire time)`` due within the
        :attr:`horizon`."""
        if not self.scheduler.running:
            return
        until = utc_now() + self.horizon
        for reminder_id, fire_at in timers:
            if fire_at > until:
                continue
            self.scheduler.add_job(
                self.fire_due,
                "date",
                run_date=max(fire_at, utc_now()) + timedelta(milliseconds=50),
                id=f"reminder-{reminder_id}",
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def replan_changed(self) -> int:
        """Re-plan the reminders of subscribers whose time zone or reminder time changed since
        they were planned (up to ``REPLAN_BATCH`` subscribers a sweep); returns how many
        reminders moved."""
        async with self.db.read_session() as session:
            changed = await replanned_subscribers(session, self.settings, REPLAN_BATCH)
        moved: list[tuple[int, datetime]] = []
        for subscriber_id in changed:
            try:
                async with self.db.session() as session:
                    moved += await replan_reminders(session, self.settings, subscriber_id)
            except Exception:
                log.exception("reminders could not be re-planned; the next sweep tries again")
        if moved:
            log.info("reminders re-planned", extra={"moved": len(moved)})
            self.schedule_at(moved)
        return len(moved)

    async def sweep(self) -> int:
        """The periodic sweep: fire what is due, then give a timer to each reminder due
        before the sweep after next."""
        fired = await self.fire_due()
        now = utc_now()
        async with self.db.read_session() as session:
            upcoming = await session.execute(
                select(ReminderRow.id, ReminderRow.fire_at).where(
                    ReminderRow.status == "scheduled",
                    ReminderRow.fire_at > now,
                    ReminderRow.fire_at <= now + self.horizon,
                )
            )
            timers = [(reminder_id, fire_at) for reminder_id, fire_at in upcoming]
        self.schedule_at(timers)
        return fired

    async def fire_due(self) -> int:
        """Fire every due reminder this instance can claim (after re-planning those of
        subscribers whose clock changed); returns how many it sent."""
        await self.replan_changed()
        now = utc_now()
        async with self.db.session() as session:
            result = await session.execute(
                select(
                    ReminderRow.id,
                    ReminderRow.subscriber_id,
                    ReminderRow.notice_id,
                    ReminderRow.fire_at,
                )
                .where(ReminderRow.status == "scheduled", ReminderRow.fire_at <= now)
                .order_by(ReminderRow.fire_at)
                .limit(500)
            )
            due = result.all()
        groups: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
        for reminder_id, subscriber_id, notice_id, fire_at in due:
            groups[(subscriber_id, notice_id)].append((fire_at, reminder_id))
        fired = 0
        for items in groups.values():
            items.sort()
            latest = items[-1][1]
            earlier = [reminder_id for _, reminder_id in items[:-1]]
            try:
                if await self.fire(latest, now, skip=earlier):
                    fired += 1
            except Exception:
                log.exception("reminder could not fire; the next sweep tries again")
        if fired and self.on_fired is not None:
            self.on_fired()
        return fired

    async def fire(self, reminder_id: int, now: datetime, skip: Sequence[int] = ()) -> bool:
        """Claim one reminder and create its deliveries in the same unit of work."""
        async with self.db.session() as session:
            row = await session.get(ReminderRow, reminder_id)
            if row is None or row.status != "scheduled":
                return False
            worth = still_worth_sending(row.offset, row.due_on, now)
            status = "sent" if worth else "expired"
            late = is_late(row.fire_at, now, self.late_after)
            claimed = await session.execute(
                update(ReminderRow)
                .where(ReminderRow.id == reminder_id, ReminderRow.status == "scheduled")
                .values(status=status, fired_at=now, late=late)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return False
            if skip:
                await session.execute(
                    update(ReminderRow)
                    .where(ReminderRow.id.in_(list(skip)), ReminderRow.status == "scheduled")
                    .values(status="skipped", fired_at=now, note=SKIPPED_NOTE)
                )
            with log_context(notice_id=row.notice_id):
                if not worth:
                    log.info("reminder expired unsent: the deadline has passed")
                    return False
                subscriber = await session.get(Subscriber, row.subscriber_id)
                if subscriber is None:
                    return False
                summary = await reminder_summary(session, row)
                if summary is None:  # no version of regwatch makes such a row
                    await session.execute(
                        update(ReminderRow)
                        .where(ReminderRow.id == reminder_id)
                        .values(status="skipped", note=NO_SUMMARY)
                    )
                    log.error(NO_SUMMARY, extra={"reminder_id": reminder_id})
                    return False
                notice, matches = summary
                ctx = await load_context(session, self.settings, subscriber, now)
                alert = reminder_alert(
                    notice, matches, row.offset, ctx, late=late, fire_at=row.fire_at
                )
                created = await create_deliveries(session, ctx, alert)
                log.info(
                    "reminder fired",
                    extra={"offset": row.offset, "late": late, "deliveries": created},
                )
        return True


def reminder_out(row: ReminderRow, tz: tzinfo) -> dict[str, Any]:
    """One reminder as ``reminders list`` and ``GET /v1/reminders`` show it."""
    return {
        "notice_id": row.notice_id,
        "due_on": row.due_on.isoformat(),
        "fire_at": row.fire_at.isoformat(),
        "fire_at_local": local_iso(row.fire_at, tz),
        "timezone": str(getattr(tz, "key", tz)),
        "offset": row.offset,
        "label": describe_label(row.offset),
        "status": row.status,
        "late": row.late,
        "fired_at": row.fired_at.isoformat() if row.fired_at else None,
        "note": row.note,
    }


async def list_reminders(db: Database, subscriber_id: str) -> list[dict[str, Any]]:
    """A subscriber's reminders with their times in UTC and in the subscriber's time zone."""
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        tz = zone(subscriber.timezone if subscriber else None)
        result = await session.execute(
            select(ReminderRow)
            .where(ReminderRow.subscriber_id == subscriber_id)
            .order_by(ReminderRow.fire_at, ReminderRow.notice_id)
        )
        return [reminder_out(row, tz) for row in result.scalars()]


def deadline_message(notice_id: str, due_on: date, status: str, planned: int, now: datetime) -> str:
    """One line on what is still planned for a tracked deadline."""
    deadline = f"notice {notice_id}'s deadline {due_on.isoformat()}"
    rest = f"{planned} reminder(s) still planned" if planned else "no reminders are planned"
    if status == "answered":
        return f"{deadline} was answered; {rest}"
    if status == "cancelled":
        return f"{deadline} is no longer watched; {rest}"
    if deadline_passed(due_on, now):
        return f"{deadline} has passed; {rest}"
    return f"{deadline} is ahead; {rest}"


async def notice_reminders(
    db: Database, subscriber_id: str, notice_id: str, now: datetime
) -> dict[str, Any]:
    """The subscriber's tracked deadline of one notice and its reminders (sent, skipped with
    their reason, planned...): ``{notice_id, due_on, status, deadline_passed, message,
    reminders}``. Raises InputError when the subscriber tracks no deadline of that notice."""
    async with db.session() as session:
        found = await session.execute(
            select(DeadlineRow).where(
                DeadlineRow.subscriber_id == subscriber_id, DeadlineRow.notice_id == notice_id
            )
        )
        deadline = found.scalar_one_or_none()
        if deadline is None:
            raise InputError(
                f"no tracked deadline for notice {notice_id!r}: it has no deadline or never"
                " matched this subscriber's watchlist"
            )
        subscriber = await session.get(Subscriber, subscriber_id)
        tz = zone(subscriber.timezone if subscriber else None)
        result = await session.scalars(
            select(ReminderRow)
            .where(ReminderRow.subscriber_id == subscriber_id, ReminderRow.notice_id == notice_id)
            .order_by(ReminderRow.fire_at)
        )
        reminders = [reminder_out(row, tz) for row in result]
    planned = sum(1 for item in reminders if item["status"] == "scheduled")
    return {
        "notice_id": notice_id,
        "due_on": deadline.due_on.isoformat(),
        "status": deadline.status,
        "deadline_passed": deadline_passed(deadline.due_on, now),
        "message": deadline_message(notice_id, deadline.due_on, deadline.status, planned, now),
        "reminders": reminders,
    }


async def answer_deadline(
    session: AsyncSession, subscriber_id: str, notice_id: str, now: datetime
) -> int:
    """The subscriber has dealt with this deadline: its remaining reminders are cancelled and
    it leaves the calendar. Returns how many reminders were cancelled."""
    found = await session.execute(
        select(DeadlineRow).where(
            DeadlineRow.subscriber_id == subscriber_id, DeadlineRow.notice_id == notice_id
        )
    )
    deadline = found.scalar_one_or_none()
    if deadline is None:
        raise InputError(f"no tracked deadline for notice {notice_id!r}")
    deadline.status = "answered"
    deadline.updated_at = now
    result = await session.execute(
        update(ReminderRow)
        .where(
            ReminderRow.subscriber_id == subscriber_id,
            ReminderRow.notice_id == notice_id,
            ReminderRow.status == "scheduled",
        )
        .values(status="cancelled", note="deadline answered")
    )
    return int(getattr(result, "rowcount", 0) or 0)
