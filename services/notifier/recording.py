"""Records MatchEvents in the ledger: a batch of them in one unit of work.

For a batch, the subscribers, their notifier preferences and channel targets, their removed
watches, and the tracked deadlines, reminders and delivery ids the batch touches are read once
(seven statements, whatever the batch's size, and one more for subscribers whose reminder
clock is not noted yet); each event's deliveries and reminders are then
planned in memory (:func:`ledger.plan_deliveries`, :func:`tracking.plan_reminders`) and the new
rows inserted with one statement per table (:mod:`shared.db.bulk`), as plain column values:
they are never ORM objects (building one cost about 0.1 ms, and a fan-out's alert writes seven
rows). A redelivered event finds its rows and adds nothing.

Two instances recording the same keys at once (a partition moved between them mid-batch): the
second one's flush fails on a unique key and the batch is recorded again once, now reading the
first one's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Context, MatchEmails, match_alert, targets_of
from services.notifier.ledger import plan_deliveries, unknown, utc_now
from services.notifier.models import DeliveryRow
from services.notifier.preferences import preferences_of
from services.notifier.tracking import DeadlineBook, Reminder, note_clocks, plan_reminders
from shared.accounts import Subscriber
from shared.db import Database
from shared.db.bulk import insert_values
from shared.events import DEADLINE_CHANGED, MatchEvent
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("regwatch.notifier.recording")


@dataclass
class Recorded:
    """What a batch created: delivery ids to send, reminders to time, and the events of
    subscribers that no longer exist (skipped)."""

    deliveries: list[str] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)
    unknown_subscribers: list[MatchEvent] = field(default_factory=list)


async def record_matches(
    db: Database, settings: Settings, events: Sequence[MatchEvent]
) -> Recorded:
    """Record the alerts of ``events`` (one row per channel target) and their reminders, in
    one unit of work."""
    if not events:
        return Recorded()
    try:
        return await _unit(db, settings, events)
    except IntegrityError:
        log.info("another instance recorded some of these meanwhile: recording them again")
        return await _unit(db, settings, events)


async def _unit(db: Database, settings: Settings, events: Sequence[MatchEvent]) -> Recorded:
    """One unit of work, without autoflush (about 0.4 ms per alert of a first fan-out less):
    a new subscriber's preferences row goes in once, at the commit, with its reminder clock
    noted, instead of an INSERT at the next read and an UPDATE at the commit. Its only read
    after a change, :func:`tracking.note_clocks`, is given the rows it changed."""
    async with db.session() as session:
        with session.no_autoflush:
            return await _record(session, settings, events)


async def _record(
    session: AsyncSession, settings: Settings, events: Sequence[MatchEvent]
) -> Recorded:
    now = utc_now()
    wanted = {event.subscriber_id for event in events}
    subscribers = {
        s.id: s
        for s in await session.scalars(select(Subscriber).where(Subscriber.id.in_(sorted(wanted))))
    }
    prefs = await preferences_of(session, subscribers, now)
    targets = await targets_of(session, subscribers)
    contexts = {
        ident: Context(settings, subscriber, prefs[ident], now, targets.get(ident, []))
        for ident, subscriber in subscribers.items()
    }
    notices = {event.notice.notice_id for event in events if event.notice.deadline is not None}
    book = await DeadlineBook.load(session, subscribers, notices)
    recorded = Recorded()
    planned: list[dict[str, Any]] = []
    emails = MatchEmails()
    for event in events:
        ctx = contexts.get(event.subscriber_id)
        if ctx is None:
            recorded.unknown_subscribers.append(event)
            continue
        if event.reason != DEADLINE_CHANGED:  # a moved deadline moves reminders, alerts nobody
            planned += plan_deliveries(ctx, match_alert(event, ctx, emails))
        recorded.reminders += plan_reminders(book, ctx, event)
    fresh = await unknown(session, planned)
    await insert_values(session, DeliveryRow.__table__, fresh)  # type: ignore[arg-type]
    await note_clocks(session, list(contexts.values()), book)
    await book.save(session)
    recorded.deliveries = [row["id"] for row in fresh]
    return recorded
