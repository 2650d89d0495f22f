"""Outbox relay: publishes what was stored but not yet published, in order, then marks it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from services.ingestor.models import OutboxRow
from shared.db import Database
from shared.logging import get_logger, log_context
from shared.outbox import Outgoing, RelayLoop
from shared.topics import Topics

log = get_logger("regwatch.ingestor.relay")


class OutboxRelay(RelayLoop[OutboxRow]):
    model = OutboxRow

    def __init__(
        self, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        super().__init__("outbox-relay", db, broker, topics, interval)

    def topic_of(self, logical: str) -> str:
        return self.topics.notices

    def message(self, row: OutboxRow) -> Outgoing:
        return Outgoing(
            self.topics.notices,
            row.key,
            json.loads(row.payload),
            {"x-regwatch-notice-id": row.key},
        )

    def published(self, rows: Sequence[OutboxRow]) -> None:
        for row in rows:
            with log_context(notice_id=row.key):
                log.info("notice published", extra={"topic": self.topics.notices})
