"""Tracked deadlines and their planned reminders: a subscriber's deadline per notice (its
apps merged across MatchEvents, without watches removed since) and the reminder rows of its
offsets, created once (those already past are kept as ``skipped``), moved when the deadline
moves and re-planned when the subscriber's time zone or reminder time changes."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeAlias

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Context
from services.notifier.models import (
    DeadlineRow,
    PreferencesRow,
    ReminderRow,
    WatchTombstoneRow,
)
from services.notifier.preferences import get_preferences, reminder_clock, reminder_time
from services.notifier.reminders import Clock, label_at, reminder_plan
from shared.accounts import Subscriber
from shared.db.bulk import insert_values
from shared.durations import parse_durations
from shared.events import Match, MatchEvent, NoticeSummary
from shared.settings import Settings

SCHEDULED = "scheduled"
SKIPPED = "skipped"
ARRIVED_LATE = "the notice arrived after this reminder's time"
MOVED_PAST = "the deadline moved and this reminder's time had passed"
PLANNED_SKIPS = frozenset({ARRIVED_LATE, MOVED_PAST})
"""Notes of reminders skipped when planned: scheduled again if a move puts them ahead."""


def name_key(name: str) -> str:
    """How watch names are compared: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())[:300]


def watch_key(match: Match) -> tuple[str, str]:
    return match.watch.kind, name_key(match.watch.name)


Pair = tuple[str, str]
"""(subscriber id, notice id)."""


@dataclass(slots=True)
class NewDeadline:
    """A ``notifier_deadlines`` row added by this unit of work, as plain values until
    :meth:`DeadlineBook.save` inserts it (an ORM object costs about 20 times as much to
    build, and a fan-out adds one per alert)."""

    subscriber_id: str
    notice_id: str
    due_on: date
    status: str
    payload: str
    created_at: datetime
    updated_at: datetime

    def values(self) -> dict[str, Any]:
        return {
            "subscriber_id": self.subscriber_id,
            "notice_id": self.notice_id,
            "due_on": self.due_on,
            "status": self.status,
            "payload": self.payload,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(slots=True)
class NewReminder:
    """A ``reminders`` row added by this unit of work, as plain values until
    :meth:`DeadlineBook.save` inserts it and sets its ``id`` (a fan-out adds five per
    alert). It has no payload of its own: the notice and matches it reminds of are its tracked
    deadline's (``reminders.payload`` null, migration 0023)."""

    subscriber_id: str
    notice_id: str
    offset: str
    due_on: date
    fire_at: datetime
    status: str
    note: str | None
    late: bool
    created_at: datetime
    id: int = 0
    """The database's, once saved."""

    def values(self) -> dict[str, Any]:
        return {
            "subscriber_id": self.subscriber_id,
            "notice_id": self.notice_id,
            "offset": self.offset,
            "due_on": self.due_on,
            "fire_at": self.fire_at,
            "status": self.status,
            "note": self.note,
            "late": self.late,
            "created_at": self.created_at,
        }


Deadline: TypeAlias = DeadlineRow | NewDeadline
"""A tracked deadline: read from the database, or added by this unit of work."""
Reminder: TypeAlias = ReminderRow | NewReminder
"""A reminder row: read from the database, or added by this unit of work."""


@dataclass
class DeadlineBook:
    """What one unit of work knows of the deadlines it tracks: each subscriber's removed
    watches, the tracked deadline and the reminder rows of each (subscriber, notice), read
    once for a whole batch of MatchEvents; and the rows the batch adds (saved with
    :meth:`save`). Events of the same pair later in the batch see what earlier ones added."""

    removed: dict[str, dict[tuple[str, str], datetime]] = field(default_factory=dict)
    deadlines: dict[Pair, Deadline] = field(default_factory=dict)
    reminders: dict[Pair, dict[str, Reminder]] = field(default_factory=dict)
    added: list[NewDeadline | NewReminder] = field(default_factory=list)

    @classmethod
    async def load(
        cls, session: AsyncSession, subscriber_ids: Collection[str], notice_ids: Collection[str]
    ) -> DeadlineBook:
        book = cls()
        if not subscriber_ids:
            return book
        subs = sorted(subscriber_ids)
        for tomb in await session.scalars(
            select(WatchTombstoneRow).where(WatchTombstoneRow.subscriber_id.in_(subs))
        ):
            book.removed.setdefault(tomb.subscriber_id, {})[(tomb.kind, tomb.name_key)] = (
                tomb.removed_at
            )
        if not notice_ids:
            return book
        notices = sorted(notice_ids)
        for row in await session.scalars(
            select(DeadlineRow).where(
                DeadlineRow.subscriber_id.in_(subs), DeadlineRow.notice_id.in_(notices)
            )
        ):
            book.deadlines[(row.subscriber_id, row.notice_id)] = row
        for reminder in await session.scalars(
            select(ReminderRow).where(
                ReminderRow.subscriber_id.in_(subs), ReminderRow.notice_id.in_(notices)
            )
        ):
            pair = (reminder.subscriber_id, reminder.notice_id)
            book.reminders.setdefault(pair, {})[reminder.offset] = reminder
        return book

    def add(self, row: NewDeadline | NewReminder) -> None:
        self.added.append(row)

    async def save(self, session: AsyncSession) -> None:
        """Insert the added rows, a statement per table (reminders get their ids). A row
        another instance inserted meanwhile raises IntegrityError: the caller records the
        batch again, reading that row. Changes to rows read by :meth:`load` are flushed by
        the session."""
        deadlines = [row.values() for row in self.added if isinstance(row, NewDeadline)]
        table = DeadlineRow.__table__
        await insert_values(session, table, deadlines, ids=False)  # type: ignore[arg-type]
        reminders = [row for row in self.added if isinstance(row, NewReminder)]
        ids = await insert_values(
            session,
            ReminderRow.__table__,  # type: ignore[arg-type]
            [row.values() for row in reminders],
        )
        for row, ident in zip(reminders, ids or [], strict=True):
            row.id = ident
        self.added.clear()


def live_matches(
    removed: dict[tuple[str, str], datetime], matches: list[Match], matched_at: datetime
) -> list[Match]:
    """``matches`` without those whose watch item was removed after the match was made."""
    if not removed:
        return matches
    when = matched_at if matched_at.tzinfo else matched_at.replace(tzinfo=UTC)
    return [m for m in matches if not (watch_key(m) in removed and removed[watch_key(m)] >= when)]


def merge_matches(known: list[Match], new: list[Match]) -> list[Match]:
    """``known`` plus the matches of ``new`` it lacks (a later MatchEvent of the same notice,
    ``reason: match-2``, carries only the matches found since)."""

    def key(match: Match) -> tuple[str, str, str]:
        return (*watch_key(match), match.entity.name)

    seen = {key(m) for m in known}
    return known + [m for m in new if key(m) not in seen]


def summary_payload(notice: NoticeSummary, matches: list[Match]) -> str:
    """``{"notice": ..., "matches": [...]}`` as JSON, serialized by pydantic's own encoder
    (a fan-out stores this for each alert's deadline and reminders: about 4% of the
    notifier's CPU through ``model_dump`` and ``json.dumps``)."""
    listed = ",".join(m.model_dump_json() for m in matches)
    return '{"notice":' + notice.model_dump_json() + ',"matches":[' + listed + "]}"


def read_summary(payload: str) -> tuple[NoticeSummary, list[Match]]:
    content = json.loads(payload)
    return (
        NoticeSummary.model_validate(content["notice"]),
        [Match.model_validate(m) for m in content["matches"]],
    )


OF_REMINDER = and_(
    DeadlineRow.subscriber_id == ReminderRow.subscriber_id,
    DeadlineRow.notice_id == ReminderRow.notice_id,
)
"""Joins a reminder to its tracked deadline (one per subscriber and notice)."""
REMINDER_PAYLOAD = func.coalesce(ReminderRow.payload, DeadlineRow.payload)
"""A reminder's summary (notice and matches): its own copy (made before migration 0023), else
its tracked deadline's. Select it with ``.outerjoin(DeadlineRow, OF_REMINDER)``."""


async def reminder_summary(
    session: AsyncSession, row: ReminderRow
) -> tuple[NoticeSummary, list[Match]] | None:
    """The notice and matches ``row`` reminds of (:data:`REMINDER_PAYLOAD`); None when it has
    neither a copy nor a tracked deadline (no version of regwatch makes such a row)."""
    payload = await session.scalar(
        select(REMINDER_PAYLOAD)
        .select_from(ReminderRow)
        .outerjoin(DeadlineRow, OF_REMINDER)
        .where(ReminderRow.id == row.id)
    )
    return read_summary(payload) if payload is not None else None


def track_deadline(
    book: DeadlineBook,
    subscriber_id: str,
    notice: NoticeSummary,
    matches: list[Match],
    now: datetime,
    payload: str | None = None,
) -> Deadline | None:
    """The subscriber's tracked deadline of this notice, created or brought up to date.
    ``payload``: ``summary_payload(notice, matches)`` when the caller has it already."""
    if notice.deadline is None:
        return None
    due_on: date = notice.deadline.due_on
    payload = payload or summary_payload(notice, matches)
    pair = (subscriber_id, notice.notice_id)
    row = book.deadlines.get(pair)
    if row is None:
        fresh = NewDeadline(
            subscriber_id=subscriber_id,
            notice_id=notice.notice_id,
            due_on=due_on,
            status="open",
            payload=payload,
            created_at=now,
            updated_at=now,
        )
        book.deadlines[pair] = fresh
        book.add(fresh)
        return fresh
    if row.status == "cancelled":  # a watch came back: the deadline matters again
        row.status = "open"
    else:
        payload = summary_payload(notice, merge_matches(read_summary(row.payload)[1], matches))
    if row.due_on != due_on or row.payload != payload:
        row.due_on = due_on
        row.payload = payload
        row.updated_at = now
    return row


def reminder_offsets(subscriber: Subscriber, settings: Settings) -> tuple[timedelta, ...]:
    try:
        return _offsets(subscriber.reminders)
    except ValueError:
        return tuple(settings.reminder_offsets)


@lru_cache(maxsize=1024)
def _offsets(text: str) -> tuple[timedelta, ...]:
    """A subscriber's ``reminders`` setting parsed, once per distinct setting (a fan-out
    plans the reminders of thousands of subscribers, most with the default)."""
    return tuple(parse_durations(text))


@lru_cache(maxsize=4096)
def _plan(
    due_on: date,
    offsets: tuple[timedelta, ...],
    clock: Clock,
    due_day: bool,
    overdue: bool,
    due_hour: int | None,
) -> tuple[tuple[str, datetime], ...]:
    """:func:`reminder_plan`, once per distinct deadline and subscriber settings: it depends
    on nothing else, and a fan-out's subscribers share a few."""
    return tuple(
        reminder_plan(
            due_on, list(offsets), clock, due_day=due_day, overdue=overdue, due_hour=due_hour
        )
    )


def _settle(row: Reminder, due_on: date, fire_at: datetime, now: datetime) -> bool:
    """Give a scheduled row (or one skipped at planning) a new deadline and time: scheduled
    when the time is ahead, else skipped saying why. True when it is scheduled afterwards."""
    planned_skip = row.status == SKIPPED and row.note in PLANNED_SKIPS
    if row.status != SCHEDULED and not planned_skip:
        return False
    if row.due_on == due_on and row.fire_at == fire_at:
        return False
    row.due_on, row.fire_at = due_on, fire_at
    if fire_at >= now:
        row.status, row.note = SCHEDULED, None
        return True
    if row.status == SCHEDULED:
        row.status, row.note = SKIPPED, MOVED_PAST
    return False


def plan_reminders(book: DeadlineBook, ctx: Context, event: MatchEvent) -> list[Reminder]:
    """Reminder rows of the notice's deadline (offsets, due day, overdue), created once, at the
    times the subscriber's time zone and reminder time give (see
    :mod:`services.notifier.reminders`). Returns the rows scheduled or moved; new rows are
    added to ``book`` (their ids come when it is saved).

    A reminder whose time had already passed when the notice arrived is stored ``skipped``
    with a note saying so. Matches of watch items removed since are left out; when none is
    left, nothing is planned. A changed deadline moves the reminders that have not fired yet
    (one moved into the past is skipped, one skipped at planning whose new time is ahead is
    scheduled again).
    """
    deadline = event.notice.deadline
    if deadline is None:
        return []
    subscriber = ctx.subscriber
    removed = book.removed.get(subscriber.id, {})
    matches = live_matches(removed, list(event.matches), event.matched_at)
    if not matches:
        return []
    payload = summary_payload(event.notice, matches)
    tracked = track_deadline(book, subscriber.id, event.notice, matches, ctx.now, payload)
    if tracked is not None and tracked.status == "answered":
        return []
    plan = _plan(
        deadline.due_on,
        reminder_offsets(subscriber, ctx.settings),
        reminder_clock(ctx.prefs, subscriber, ctx.settings),
        ctx.prefs.remind_due_day,
        ctx.prefs.remind_overdue,
        deadline.due_hour,
    )
    existing = book.reminders.setdefault((subscriber.id, event.notice.notice_id), {})
    planned: list[Reminder] = []
    for label, fire_at in plan:
        known = existing.get(label)
        if known is not None:
            if known.status != SCHEDULED and known.note not in PLANNED_SKIPS:
                continue
            if isinstance(known, ReminderRow) and known.payload is not None:
                known.payload = None  # a copy made before 0023: its deadline's is newer
            if _settle(known, deadline.due_on, fire_at, ctx.now):
                planned.append(known)
            continue
        ahead = fire_at >= ctx.now
        fresh = NewReminder(
            subscriber_id=subscriber.id,
            notice_id=event.notice.notice_id,
            offset=label,
            due_on=deadline.due_on,
            fire_at=fire_at,
            status=SCHEDULED if ahead else SKIPPED,
            note=None if ahead else ARRIVED_LATE,
            late=False,
            created_at=ctx.now,
        )
        existing[label] = fresh
        book.add(fresh)
        if ahead:
            planned.append(fresh)
    return planned


async def schedule_reminders(
    session: AsyncSession, ctx: Context, event: MatchEvent
) -> list[Reminder]:
    """:func:`plan_reminders` for one event: its book read, planned and saved."""
    book = await DeadlineBook.load(session, [ctx.subscriber.id], [event.notice.notice_id])
    planned = plan_reminders(book, ctx, event)
    await note_clocks(session, [ctx], book)
    await book.save(session)
    return planned


def clock_key(subscriber: Subscriber, prefs: PreferencesRow | None, settings: Settings) -> str:
    """The zone and reminder time a subscriber's reminders are planned with, as stored in
    ``notifier_preferences.planned_clock``: ``"Europe/Berlin 09:00"``."""
    return f"{subscriber.timezone} {reminder_time(prefs, settings).strftime('%H:%M')}"


async def replan_reminders(
    session: AsyncSession, settings: Settings, subscriber_id: str
) -> list[tuple[int, datetime]]:
    """Move the subscriber's scheduled reminders that are not due yet to the times their
    current time zone and reminder time give, and note that clock in ``planned_clock``. One
    whose new time has just passed fires at once. A row changed meanwhile (fired, moved with
    its deadline) is left to that change. Returns ``(reminder id, new time)`` of those moved."""
    subscriber = await session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return []
    prefs = await get_preferences(session, subscriber_id)
    now = datetime.now(UTC)  # once the unit of work has begun: what is due stays due
    clock = reminder_clock(prefs, subscriber, settings)
    rows = await session.execute(
        select(
            ReminderRow.id,
            ReminderRow.offset,
            ReminderRow.due_on,
            ReminderRow.fire_at,
            REMINDER_PAYLOAD,
        )
        .outerjoin(DeadlineRow, OF_REMINDER)
        .where(
            ReminderRow.subscriber_id == subscriber_id,
            ReminderRow.status == SCHEDULED,
            ReminderRow.fire_at > now,
        )
    )
    moved: list[tuple[int, datetime]] = []
    for reminder_id, label, due_on, was, payload in rows.all():
        deadline = read_summary(payload)[0].deadline if payload is not None else None
        due_hour = deadline.due_hour if deadline is not None else None
        try:
            fire_at = max(label_at(label, due_on, clock, due_hour), now)
        except ValueError:  # a label no rule makes: left as it is
            continue
        if fire_at == was:
            continue
        result = await session.execute(
            update(ReminderRow)
            .where(
                ReminderRow.id == reminder_id,
                ReminderRow.status == SCHEDULED,
                ReminderRow.fire_at == was,
                ReminderRow.due_on == due_on,
            )
            .values(fire_at=fire_at)
        )
        if getattr(result, "rowcount", 0) == 1:
            moved.append((reminder_id, fire_at))
    prefs.planned_clock = clock_key(subscriber, prefs, settings)
    return moved


async def note_clocks(
    session: AsyncSession, contexts: Collection[Context], book: DeadlineBook | None = None
) -> None:
    """Mark the clock (zone and reminder time) of subscribers who have no scheduled reminder
    yet as the one their reminders are planned with: reminders planned in this unit of work
    use it, and there are no earlier ones a changed clock would have to move. Call it before
    the new reminders are saved. Without it, the reminder sweep took every subscriber a
    fan-out alerted for the first time as one whose clock had changed, and re-planned their
    reminders to the same times, one unit of work each (in every notifier process).

    ``book``: the rows read for this unit of work, whose status counts as it is now rather
    than as stored (a unit of work without autoflush has not written a change yet)."""
    clocks = {
        ctx.subscriber.id: (ctx, clock_key(ctx.subscriber, ctx.prefs, ctx.settings))
        for ctx in contexts
    }
    stale = {
        ident: pair for ident, pair in clocks.items() if pair[0].prefs.planned_clock != pair[1]
    }
    if not stale:
        return
    read = [
        row
        for pair, rows in (book.reminders.items() if book is not None else ())
        if pair[0] in stale
        for row in rows.values()
        if isinstance(row, ReminderRow)
    ]
    # each subscriber's statuses, the scheduled ones picked here: with the status in the
    # query, SQLite searched its index of statuses, every scheduled reminder of every
    # subscriber (a fan-out's hundreds of thousands), for each batch
    query = select(ReminderRow.subscriber_id, ReminderRow.status).where(
        ReminderRow.subscriber_id.in_(sorted(stale))
    )
    if read:
        query = query.where(ReminderRow.id.not_in(sorted(row.id for row in read)))
    found = await session.execute(query.distinct())
    planned = {ident for ident, status in found if status == SCHEDULED}
    planned.update(row.subscriber_id for row in read if row.status == SCHEDULED)
    for ident, (ctx, clock) in stale.items():
        if ident not in planned:
            ctx.prefs.planned_clock = clock


async def replanned_subscribers(session: AsyncSession, settings: Settings, limit: int) -> list[str]:
    """Up to ``limit`` subscribers whose reminders were planned with another time zone or
    reminder time than theirs now (changed through any API or page, by
    ``REGWATCH_REMINDER_TIME``, or planned before reminder times existed)."""
    current = (
        Subscriber.timezone
        + " "
        + func.coalesce(PreferencesRow.reminder_time, settings.reminder_time)
    )
    found = await session.execute(
        select(PreferencesRow.subscriber_id)
        .join(Subscriber, Subscriber.id == PreferencesRow.subscriber_id)
        .where(PreferencesRow.planned_clock.is_distinct_from(current))
        .order_by(PreferencesRow.subscriber_id)
        .limit(limit)
    )
    return list(found.scalars())
