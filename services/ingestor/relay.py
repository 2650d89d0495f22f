"""Outbox relay: publishes what was stored but not yet published, in order, then marks it."""

from __future__ import annotations

import asyncio
import contextlib
import json

from faststream.kafka import KafkaBroker

from services.ingestor.store import mark_published, pending_outbox
from shared.db import Database
from shared.logging import get_logger, log_context
from shared.topics import Topics

log = get_logger("regwatch.ingestor.relay")


class OutboxRelay:
    def __init__(
        self, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        self.db = db
        self.broker = broker
        self.topics = topics
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def kick(self) -> None:
        self._wake.set()

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

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.publish_pending()
            except Exception:
                log.exception("outbox relay failed; will retry")

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
