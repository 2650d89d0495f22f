"""Consumes NoticeEvents: stores each notice, matches it against the live index and records one
MatchEvent per (subscriber, notice) with new matches (published through the outbox)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from faststream.kafka import KafkaBroker

from services.matcher.alerts import match_id, record_alerts, without_suppressed
from services.matcher.notices import (
    RetroScope,
    last_matched,
    mark_matched,
    save_consumed_notice,
    today_in_china,
)
from services.matcher.updates import (
    deadline_changed,
    first_alerts_allowed,
    queue_deadline_updates,
)
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
    db: Database,
    watchlist: LiveWatchlist,
    notice: NoticeEvent,
    *,
    scope: RetroScope = "open",
    days: int = 30,
    today: date | None = None,
) -> list[MatchEvent]:
    """Store the notice (for retroactive matching), bring the index up to every watchlist change
    committed so far, match, drop suppressed matches, record the alerts with their events.

    A notice seen before (a re-post, an update; compared with the last version whose alerts
    were all recorded) alerts on the apps it already named only in the retroactive scope
    (``scope``, ``days``: ``REGWATCH_RETRO_MATCH``, ``REGWATCH_RETRO_DAYS``); a changed
    deadline is sent to the subscribers already alerted (``updates``)."""
    async with db.session() as session:
        matched = await last_matched(session, notice.notice_id)
        previous = await save_consumed_notice(session, notice)
        if deadline_changed(previous, notice):
            told = await queue_deadline_updates(session, notice)
            log.info("deadline changed", extra={"subscribers": len(told)})
    await watchlist.catch_up()
    found = first_alerts_allowed(
        watchlist.match(notice),
        notice,
        matched,
        scope,
        today=today or today_in_china(),
        days=days,
    )
    by_subscriber = await without_suppressed(db, found)
    events = await record_alerts(db, NoticeSummary.of(notice), by_subscriber, cause="notice")
    async with db.session() as session:
        await mark_matched(session, notice)
    return events


def register(
    broker: KafkaBroker,
    db: Database,
    topics: Topics,
    group_id: str,
    watchlist: LiveWatchlist,
    published: Callable[[], None],
    *,
    scope: RetroScope = "open",
    days: int = 30,
) -> None:
    """``published`` is called when alerts were queued (it kicks the outbox relay); ``scope``
    and ``days`` are the retroactive scope a notice seen before is matched in."""

    @broker.subscriber(
        topics.notices, group_id=group_id, auto_offset_reset="earliest", ack_policy=ACK_POLICY
    )
    async def on_notice(notice: NoticeEvent) -> None:
        with log_context(notice_id=notice.notice_id):
            events = await handle_notice(db, watchlist, notice, scope=scope, days=days)
            observe_notice_matched(len(events), sum(len(e.matches) for e in events))
            if events:
                published()  # deadline updates alone wait for the relay's next pass
            log.info(
                "notice matched",
                extra={"subscribers": len(events), "matches": sum(len(e.matches) for e in events)},
            )
