"""Consumers: MatchEvents record deliveries and reminders in the ledger, once; WatchlistEvents
cancel reminders of removed watch items."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from services.notifier.alerts import load_context, match_alert
from services.notifier.ledger import create_deliveries, utc_now
from services.notifier.models import ReminderRow
from services.notifier.tracking import schedule_reminders
from services.notifier.watchlist import handle_watchlist
from shared.accounts import Subscriber
from shared.broker import ACK_POLICY
from shared.db import Database
from shared.events import DEADLINE_CHANGED, MatchEvent, WatchlistEvent
from shared.logging import get_logger, log_context
from shared.settings import Settings
from shared.topics import Topics

log = get_logger("regwatch.notifier")


async def handle_match(
    db: Database, settings: Settings, event: MatchEvent
) -> tuple[list[str], list[ReminderRow]]:
    """Record the alert of one MatchEvent (one row per channel) and its reminders, in one
    unit of work. A redelivered event creates nothing new."""
    now = utc_now()
    async with db.session() as session:
        subscriber = await session.get(Subscriber, event.subscriber_id)
        if subscriber is None:
            log.warning("match for an unknown subscriber skipped")
            return [], []
        ctx = await load_context(session, settings, subscriber, now)
        created: list[str] = []
        if event.reason != DEADLINE_CHANGED:  # a moved deadline moves reminders, alerts nobody
            created = await create_deliveries(session, ctx, match_alert(event, ctx))
        reminders = await schedule_reminders(session, ctx, event)
    return created, reminders


def register(
    broker: KafkaBroker,
    db: Database,
    settings: Settings,
    group_id: str,
    on_created: Callable[[list[str], list[ReminderRow]], None],
) -> None:
    topics: Topics = settings.topics

    @broker.subscriber(
        topics.matches, group_id=group_id, auto_offset_reset="earliest", ack_policy=ACK_POLICY
    )
    async def on_match(event: MatchEvent) -> None:
        with log_context(notice_id=event.notice.notice_id, alert_id=event.match_id):
            created, reminders = await handle_match(db, settings, event)
            log.info(
                "match recorded",
                extra={
                    "subscriber_id": event.subscriber_id,
                    "deliveries": created,
                    "reminders": len(reminders),
                },
            )
            on_created(created, reminders)

    @broker.subscriber(
        topics.watchlist, group_id=group_id, auto_offset_reset="earliest", ack_policy=ACK_POLICY
    )
    async def on_watchlist(event: WatchlistEvent) -> None:
        await handle_watchlist(db, event)
