"""Consumes NoticeEvents, publishes one MatchEvent per (subscriber, notice)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker

from services.matcher.matching import match_notice
from services.matcher.store import all_watch_items
from shared.broker import ACK_POLICY
from shared.db import Database
from shared.events import MatchEvent, NoticeEvent, NoticeSummary
from shared.logging import get_logger, log_context
from shared.topics import Topics

log = get_logger("regwatch.matcher")


def match_id(subscriber_id: str, notice_id: str) -> str:
    digest = hashlib.sha256(f"{subscriber_id}\x1f{notice_id}".encode()).hexdigest()
    return "match_" + digest[:24]


async def compute_matches(db: Database, notice: NoticeEvent) -> list[MatchEvent]:
    async with db.session() as session:
        watches = await all_watch_items(session)
    by_subscriber = match_notice(watches, notice)
    now = datetime.now(UTC)
    summary = NoticeSummary.of(notice)
    return [
        MatchEvent(
            match_id=match_id(subscriber_id, notice.notice_id),
            subscriber_id=subscriber_id,
            notice=summary,
            matches=matches,
            matched_at=now,
        )
        for subscriber_id, matches in sorted(by_subscriber.items())
        if matches
    ]


def register(broker: KafkaBroker, db: Database, topics: Topics, group_id: str) -> None:
    publisher = broker.publisher(topics.matches)

    @broker.subscriber(
        topics.notices, group_id=group_id, auto_offset_reset="earliest", ack_policy=ACK_POLICY
    )
    async def on_notice(notice: NoticeEvent) -> None:
        with log_context(notice_id=notice.notice_id):
            events = await compute_matches(db, notice)
            for event in events:
                await publisher.publish(
                    event.dump(),
                    key=event.subscriber_id.encode(),
                    headers={
                        "x-regwatch-notice-id": notice.notice_id,
                        "x-regwatch-match-id": event.match_id,
                    },
                )
            log.info(
                "notice matched",
                extra={"subscribers": len(events), "matches": sum(len(e.matches) for e in events)},
            )
