"""Consumes NoticeEvents: stores each notice, matches it against the live index and records one
MatchEvent per (subscriber, notice) with new matches (published through the outbox)."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from services.matcher.alerts import match_id, record_alerts, without_suppressed
from services.matcher.notices import save_consumed_notice
from services.matcher.watchlist import LiveWatchlist
from shared.broker import ACK_POLICY
from shared.db import Database
from shared.events import MatchEvent, NoticeEvent, NoticeSummary
from shared.logging import get_logger, log_context
from shared.metrics import observe_notice_matched
from shared.topics import Topics

log = get_logger("regwatch.matcher")

__all__ = ["handle_notice", "match_id", "register"]


async def handle_notice(
    db: Database, watchlist: LiveWatchlist, notice: NoticeEvent
) -> list[MatchEvent]:
    """Store the notice (for retroactive matching), bring the index up to every watchlist change
    committed so far, match, drop suppressed matches, record the alerts with their events."""
    async with db.session() as session:
        await save_consumed_notice(session, notice)
    await watchlist.catch_up()
    by_subscriber = await without_suppressed(db, watchlist.match(notice))
    return await record_alerts(db, NoticeSummary.of(notice), by_subscriber, cause="notice")


def register(
    broker: KafkaBroker,
    db: Database,
    topics: Topics,
    group_id: str,
    watchlist: LiveWatchlist,
    published: Callable[[], None],
) -> None:
    """``published`` is called when alerts were queued (it kicks the outbox relay)."""

    @broker.subscriber(
        topics.notices, group_id=group_id, auto_offset_reset="earliest", ack_policy=ACK_POLICY
    )
    async def on_notice(notice: NoticeEvent) -> None:
        with log_context(notice_id=notice.notice_id):
            events = await handle_notice(db, watchlist, notice)
            observe_notice_matched(len(events), sum(len(e.matches) for e in events))
            if events:
                published()
            log.info(
                "notice matched",
                extra={"subscribers": len(events), "matches": sum(len(e.matches) for e in events)},
            )
