"""The matcher's outbox relay: publishes committed watchlist changes and alerts, in order.

Rows are published in id order (the order their transactions wrote them); all events of one
subscriber share a key, so they land on one partition in that order. Any process may write the
outbox (the HTTP API, ``regwatch watch ...`` in another process); a running matcher's relay
publishes within ``interval`` seconds, at once when kicked in-process.

On PostgreSQL a transaction-scoped advisory lock lets one relay at a time publish, so several
matcher instances do not interleave (and reorder) the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.models import MatcherOutboxRow
from services.matcher.store import MATCHES_STREAM, WATCHLIST_STREAM
from shared.db import Database
from shared.logging import get_logger
from shared.outbox import Outgoing, RelayLoop
from shared.topics import Topics

log = get_logger("regwatch.matcher.relay")

ADVISORY_LOCK = 0x72_77_6D_61_74_63_68  # "rwmatch"


class OutboxRelay(RelayLoop[MatcherOutboxRow]):
    model = MatcherOutboxRow

    def __init__(
        self, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        super().__init__("matcher-outbox-relay", db, broker, topics, interval)

    def topic_of(self, logical: str) -> str:
        if logical == MATCHES_STREAM:
            return self.topics.matches
        if logical == WATCHLIST_STREAM:
            return self.topics.watchlist
        raise ValueError(f"unknown outbox topic {logical!r}")

    def message(self, row: MatcherOutboxRow) -> Outgoing:
        try:
            topic = self.topic_of(row.topic)
        except ValueError:
            raise ValueError(f"outbox row {row.id} has an unknown topic {row.topic!r}") from None
        if row.topic == MATCHES_STREAM:
            payload = json.loads(row.payload)
            notice = payload.get("notice") or {}
            headers = {
                "x-regwatch-notice-id": str(notice.get("notice_id", "")),
                "x-regwatch-match-id": str(payload.get("match_id", "")),
            }
            return Outgoing(topic, row.key, payload, headers)
        return Outgoing(
            topic, row.key, json.loads(row.payload), {"x-regwatch-subscriber-id": row.key}
        )

    async def leader(self, session: AsyncSession) -> bool:
        result = await session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
        )
        return bool(result.scalar())

    def published(self, rows: Sequence[MatcherOutboxRow]) -> None:
        if rows:
            log.info("outbox published", extra={"events": len(rows)})
