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

from faststream.kafka import KafkaBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.models import MatcherOutboxRow
from services.matcher.store import MATCHES_STREAM, WATCHLIST_STREAM, mark_published, pending_outbox
from shared.db import Database
from shared.db.base import utcnow
from shared.logging import get_logger
from shared.outbox import Outgoing, RelayLoop, publish_page
from shared.topics import Topics

log = get_logger("regwatch.matcher.relay")

ADVISORY_LOCK = 0x72_77_6D_61_74_63_68  # "rwmatch"
PAGE = 500


class OutboxRelay(RelayLoop):
    def __init__(
        self, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        super().__init__("matcher-outbox-relay", db, broker, topics, interval)

    def _target(self, row: MatcherOutboxRow) -> tuple[str, dict[str, str]]:
        if row.topic == MATCHES_STREAM:
            payload = json.loads(row.payload)
            notice = payload.get("notice") or {}
            return self.topics.matches, {
                "x-regwatch-notice-id": str(notice.get("notice_id", "")),
                "x-regwatch-match-id": str(payload.get("match_id", "")),
            }
        if row.topic == WATCHLIST_STREAM:
            return self.topics.watchlist, {"x-regwatch-subscriber-id": row.key}
        raise ValueError(f"outbox row {row.id} has an unknown topic {row.topic!r}")

    async def _leader(self, session: AsyncSession) -> bool:
        if self.db.is_sqlite:
            return True
        result = await session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}
        )
        return bool(result.scalar())

    async def publish_pending(self) -> int:
        """Publish every pending outbox row; returns how many were published."""
        published = 0
        async with self._lock:
            while True:
                async with self.db.session() as session:
                    if not await self._leader(session):
                        return published
                    rows = await pending_outbox(session, limit=PAGE)
                    if not rows:
                        return published
                    sent = await self._publish(rows)
                    await mark_published(session, [row.id for row in sent], utcnow())
                published += len(sent)
                if len(sent) < len(rows):
                    raise RuntimeError("the broker refused part of the outbox; retrying")
                log.info("outbox published", extra={"events": len(sent)})

    async def _publish(self, rows: list[MatcherOutboxRow]) -> list[MatcherOutboxRow]:
        messages = []
        for row in rows:
            topic, headers = self._target(row)
            messages.append(Outgoing(topic, row.key, json.loads(row.payload), headers))
        return rows[: await publish_page(self.broker, messages)]
