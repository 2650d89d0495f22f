"""Outbox relay: publishes what was stored but not yet published, in order, then marks it."""

from __future__ import annotations

import json

from faststream.kafka import KafkaBroker

from services.ingestor.models import OutboxRow
from services.ingestor.store import mark_published, pending_outbox
from shared.db import Database
from shared.errors import TransientError
from shared.logging import get_logger, log_context
from shared.outbox import Outgoing, RelayLoop, publish_page
from shared.topics import Topics

log = get_logger("regwatch.ingestor.relay")

PAGE = 500


class OutboxRelay(RelayLoop):
    def __init__(
        self, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        super().__init__("outbox-relay", db, broker, topics, interval)

    async def publish_pending(self) -> int:
        """Publish every pending outbox row, a page at a time; returns how many."""
        published = 0
        async with self._lock:
            while True:
                async with self.db.session() as session:
                    rows = await pending_outbox(session, limit=PAGE)
                if not rows:
                    return published
                sent = await self._publish(rows)
                if sent:
                    async with self.db.session() as session:
                        await mark_published(session, [row.id for row in sent])
                published += len(sent)
                if len(sent) < len(rows):
                    raise TransientError("the broker refused part of the outbox; retrying")

    async def _publish(self, rows: list[OutboxRow]) -> list[OutboxRow]:
        messages = [
            Outgoing(
                self.topics.notices,
                row.key,
                json.loads(row.payload),
                {"x-regwatch-notice-id": row.key},
            )
            for row in rows
        ]
        sent = rows[: await publish_page(self.broker, messages)]
        for row in sent:
            with log_context(notice_id=row.key):
                log.info("notice published", extra={"topic": self.topics.notices})
        return sent
