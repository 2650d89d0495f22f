"""Consumers: MatchEvents record deliveries and reminders in the ledger, once, a batch at a
time; WatchlistEvents cancel reminders of removed watch items."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.notifier.recording import Recorded, record_matches
from services.notifier.tracking import Reminder
from services.notifier.watchlist import handle_watchlist
from shared.broker import (
    ACK_POLICY,
    dead_letter_record,
    is_transient,
    raw_bodies,
    validated_batch,
)
from shared.db import Database
from shared.events import MatchEvent, WatchlistEvent
from shared.logging import get_logger, log_context
from shared.settings import Settings
from shared.topics import Topics

log = get_logger("regwatch.notifier")

MATCH_BATCH = 100
"""MatchEvents recorded in one unit of work at most (what one poll of the topic gives). A
batch holds SQLite's writer for its whole unit of work, which the dispatcher's claims and
result writes wait for: bench.fanout --quick gave the first delivery 7.2 s after the POST
with 100 and 7.7-25.2 s with 500, at about the same rate (0.27 against 0.25-0.30 of the bare
loop)."""


async def handle_match(
    db: Database, settings: Settings, event: MatchEvent
) -> tuple[list[str], list[Reminder]]:
    """Record the alert of one MatchEvent (one row per channel target) and its reminders, in
    one unit of work. A redelivered event creates nothing new."""
    recorded = await record_matches(db, settings, [event])
    return recorded.deliveries, recorded.reminders


def register(
    broker: KafkaBroker,
    db: Database,
    settings: Settings,
    group_id: str,
    on_created: Callable[[list[str], list[Reminder]], None],
    watchlist_group_id: str,
) -> None:
    """``group_id`` reads the matches; ``watchlist_group_id``, a group of its own, reads the
    watchlist changes: in one group, the second member's join is a rebalance that holds both
    (about a second more before ``regwatch run`` is ready on the embedded broker)."""
    topics: Topics = settings.topics

    def done(recorded: Recorded) -> None:
        for event in recorded.unknown_subscribers:
            with log_context(notice_id=event.notice.notice_id, alert_id=event.match_id):
                log.warning("match for an unknown subscriber skipped")
        on_created(recorded.deliveries, recorded.reminders)

    async def one_by_one(events: Sequence[tuple[MatchEvent, Any]]) -> None:
        """A batch that could not be recorded whole: each event on its own, so one that
        cannot be recorded is dead-lettered and the others are recorded."""
        for event, raw in events:
            with log_context(notice_id=event.notice.notice_id, alert_id=event.match_id):
                try:
                    done(await record_matches(db, settings, [event]))
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    await dead_letter_record(broker, topics.matches, group_id, raw, None, exc)

    @broker.subscriber(
        topics.matches,
        group_id=group_id,
        batch=True,
        max_records=MATCH_BATCH,
        batch_timeout_ms=100,
        decoder=raw_bodies,
        auto_offset_reset="earliest",
        ack_policy=ACK_POLICY,
        title="notifier-matches",
    )
    async def on_matches(bodies: list[bytes], message: KafkaMessage) -> None:
        events = await validated_batch(
            broker, topics.matches, group_id, MatchEvent, bodies, message
        )
        if not events:
            return
        try:
            recorded = await record_matches(db, settings, [event for event, _ in events])
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning(
                "a batch of matches could not be recorded whole: one event at a time",
                extra={"events": len(events), "error": f"{type(exc).__name__}: {exc}"},
            )
            await one_by_one(events)
            return
        log.info(
            "matches recorded",
            extra={
                "events": len(events),
                "notice_ids": sorted({event.notice.notice_id for event, _ in events})[:20],
                "deliveries": len(recorded.deliveries),
                "reminders": len(recorded.reminders),
            },
        )
        done(recorded)

    @broker.subscriber(
        topics.watchlist,
        group_id=watchlist_group_id,
        auto_offset_reset="earliest",
        ack_policy=ACK_POLICY,
    )
    async def on_watchlist(event: WatchlistEvent) -> None:
        await handle_watchlist(db, event)
