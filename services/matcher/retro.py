"""Retroactive matching: a watch item added (or given new aliases) after a notice was consumed
is matched against the stored notices in scope (``REGWATCH_RETRO_MATCH``), and alerts through
the normal path (a MatchEvent on ``regwatch.matches.v1``), once.

It runs from the watchlist topic in one shared consumer group (``regwatch-matcher-retro``), so
exactly one matcher instance handles each change, whatever process made it (HTTP, CLI), and a
change made while no matcher ran is handled when one starts. Events come in batches, and an
event may itself carry a batch of items (a CSV import): one pass over the stored notices per
batch of events (per PASS_ITEMS items of it), not per item.
The watch items are read from the database, so a watch removed meanwhile is skipped; alerts
dedupe on what was already alerted, so a replayed event publishes nothing new.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from services.matcher.alerts import record_alerts, without_suppressed
from services.matcher.matching import WatchIndex, WatchItem
from services.matcher.notices import RetroScope, notices_in_scope
from services.matcher.store import watch_items_by_id
from shared.broker import ACK_POLICY, validated_batch
from shared.db import Database
from shared.events import MatchEvent, NoticeSummary, WatchlistEvent
from shared.logging import get_logger
from shared.topics import Topics

log = get_logger("regwatch.matcher.retro")

BATCH = 500
INDEX_SLICE = 100
PASS_ITEMS = 10_000


async def retro_match(
    db: Database,
    items: Sequence[WatchItem],
    scope: RetroScope,
    *,
    days: int,
    today: date | None = None,
) -> list[MatchEvent]:
    """Match ``items`` against the stored notices in scope; record the new alerts."""
    if scope == "off" or not items:
        return []
    index = WatchIndex()
    for start in range(0, len(items), INDEX_SLICE):
        # preparing a watch costs up to a fraction of a millisecond: a CSV import's 100k items
        # are indexed in slices, letting the event loop serve others in between
        index.add_many(items[start : start + INDEX_SLICE])
        await asyncio.sleep(0)
    events: list[MatchEvent] = []
    async for page in notices_in_scope(db, scope, days=days, today=today):
        for notice in page:
            found = index.match(notice)
            if found:
                kept = await without_suppressed(db, found)
                events.extend(
                    await record_alerts(db, NoticeSummary.of(notice), kept, cause="watch")
                )
            await asyncio.sleep(0)
    return events


def retro_watch_ids(events: Sequence[WatchlistEvent]) -> list[int]:
    """Watch items that may match more than before: added, or updated (renamed, new aliases)."""
    return sorted({w.id for e in events if e.op in ("added", "updated") for w in e.items()})


def register_retro(
    broker: KafkaBroker,
    db: Database,
    topics: Topics,
    group_id: str,
    scope: RetroScope,
    days: int,
    published: Callable[[], None],
) -> None:
    @broker.subscriber(
        topics.watchlist,
        group_id=group_id,
        batch=True,
        max_records=BATCH,
        batch_timeout_ms=100,
        auto_offset_reset="earliest",
        ack_policy=ACK_POLICY,
        title="matcher-retro",
    )
    async def on_watchlist_batch(bodies: list[Any], message: KafkaMessage) -> None:
        valid = await validated_batch(
            broker, topics.watchlist, group_id, WatchlistEvent, bodies, message
        )
        ids = retro_watch_ids([event for event, _ in valid])
        # events of a CSV import carry up to 1000 items each: a pass over the stored notices
        # per PASS_ITEMS items keeps the pass's index (and memory) bounded
        for start in range(0, len(ids), PASS_ITEMS):
            async with db.session() as session:
                items = await watch_items_by_id(session, ids[start : start + PASS_ITEMS])
            made = await retro_match(db, items, scope, days=days)
            if made:
                published()
            log.info(
                "retroactive matching done",
                extra={"watch_items": len(items), "alerts": len(made)},
            )
