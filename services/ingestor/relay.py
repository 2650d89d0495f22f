"""Outbox relay: publishes what was stored but not yet published, in order, then marks it."""

from __future__ import annotations

import asyncio
import json

from faststream.kafka import KafkaBroker

from services.ingestor.store import mark_published, pending_outbox
from shared.db import Database
from shared.logging import get_logger, log_context
from shared.topics import Topics
from shared.wakeloop import WakeLoop

log = get_logger("regwatch.ingestor.relay")


class OutboxRelay:
    def __init__(
        self, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        self.db = db
        self.broker = broker
        self.topics = topics
        self.loop = WakeLoop("outbox-relay", self.publish_pending, interval)
        self._lock = asyncio.Lock()

    def kick(self) -> None:
        self.loop.kick()

    async def publish_pending(self) -> int:
        """Publish every pending outbox row; returns how many were published."""
        published = 0
        async with self._lock:
            while True:
                async with self.db.session() as session:
                    rows = await pending_outbox(session)
                if not rows:
                    return published
                for row in rows:
                    with log_context(notice_id=row.key):
                        await self.broker.publish(
                            json.loads(row.payload),
                            topic=self.topics.notices,
                            key=row.key.encode(),
                            headers={"x-regwatch-notice-id": row.key},
                        )
                        async with self.db.session() as session:
                            await mark_published(session, row.id)
                        log.info("notice published", extra={"topic": self.topics.notices})
                    published += 1

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
