"""The outbox relay: publishing pages of outbox rows (send all, then wait for all, keep the
order), marking them published, and confirming them against the consumers' commits."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.db.base import utcnow
from shared.errors import TransientError
from shared.logging import get_logger
from shared.outbox_confirm import CommittedOffsets
from shared.outbox_rows import (
    Ack,
    Row,
    confirm_below,
    mark_published,
    pending,
    requeue_unconfirmed,
    unconfirmed_partitions,
)
from shared.topics import Topics
from shared.wakeloop import WakeLoop

log = get_logger("regwatch.outbox")

CONFIRM_EVERY = 0.5
"""Seconds between two reads of the consumers' committed offsets (kicks come per event)."""


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: str
    payload: Any
    headers: dict[str, str]


async def publish_page(
    broker: KafkaBroker, messages: Sequence[Outgoing]
) -> list[tuple[int | None, int | None]]:
    """Send every message without waiting for each acknowledgement (the producer keeps the
    order per partition), then wait for all; returns (partition, offset) of the leading
    messages acknowledged, so the caller marks exactly those as published."""
    pending: list[asyncio.Future[Any]] = []
    for message in messages:
        future = await broker.publish(
            message.payload,
            topic=message.topic,
            key=message.key.encode(),
            headers=message.headers,
            no_confirm=True,
        )
        pending.append(future)
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    acked: list[tuple[int | None, int | None]] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, BaseException):
            log.warning(
                "outbox publish failed: %s",
                outcome,
                extra={"topic": messages[index].topic, "key": messages[index].key},
            )
            break
        acked.append((getattr(outcome, "partition", None), getattr(outcome, "offset", None)))
    return acked


class RelayLoop(Generic[Row]):
    """Publishes an outbox table's pending rows in id order, a page at a time, then marks them:
    a wake-or-interval loop and a lock so one page runs at a time.

    With :meth:`confirm_with` (the embedded broker, whose log is in memory) a published row
    stays unconfirmed until every consumer group reading its topic committed past it;
    :meth:`requeue_unconfirmed` at start publishes again what the last broker took with it.
    Subclasses say which table (``model``), how a row becomes a message (:meth:`message`),
    and may hold a leader lock (:meth:`leader`, PostgreSQL)."""

    model: type[Row]
    page = 500

    def __init__(
        self, name: str, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        self.name = name
        self.db = db
        self.broker = broker
        self.topics = topics
        self.loop = WakeLoop(name, self._step, interval)
        self._lock = asyncio.Lock()
        self.offsets: CommittedOffsets | None = None
        self._confirmed = -math.inf

    def message(self, row: Row) -> Outgoing:
        raise NotImplementedError

    async def leader(self, session: AsyncSession) -> bool:
        """Whether this instance may publish now (one at a time keeps the order)."""
        return True

    def published(self, rows: Sequence[Row]) -> None:
        """Called after rows were published (for logs)."""

    def confirm_with(self, offsets: CommittedOffsets) -> None:
        self.offsets = offsets

    async def requeue_unconfirmed(self) -> int:
        async with self.db.session() as session:
            count = await requeue_unconfirmed(session, self.model)
        if count:
            log.warning(
                "publishing again what the last embedded broker held unconfirmed",
                extra={"relay": self.name, "events": count},
            )
        return count

    async def _step(self) -> None:
        await self.publish_pending()
        if time.monotonic() - self._confirmed >= CONFIRM_EVERY:
            self._confirmed = time.monotonic()
            await self.confirm()

    async def publish_pending(self) -> int:
        """Publish every pending row, a page at a time; returns how many."""
        published = 0
        async with self._lock:
            while True:
                sent, total = await self._publish_page()
                published += sent
                if total == 0:
                    return published
                if sent < total:
                    raise TransientError("the broker refused part of the outbox; retrying")

    async def _publish_page(self) -> tuple[int, int]:
        if self.db.is_sqlite:
            # no leader lock on SQLite; the write lock is not held while the broker answers
            async with self.db.read_session() as session:
                rows = await pending(session, self.model, self.page)
            if not rows:
                return 0, 0
            acks = await self._send(rows)
            if acks:
                async with self.db.session() as session:
                    await self._mark(session, acks)
            return len(acks), len(rows)
        async with self.db.session() as session:
            if not await self.leader(session):
                return 0, 0
            rows = await pending(session, self.model, self.page)
            if not rows:
                return 0, 0
            acks = await self._send(rows)
            await self._mark(session, acks)
        return len(acks), len(rows)

    async def _send(self, rows: list[Row]) -> list[Ack]:
        acked = await publish_page(self.broker, [self.message(row) for row in rows])
        self.published(rows[: len(acked)])
        return [Ack(row.id, p, o) for row, (p, o) in zip(rows, acked, strict=False)]

    async def _mark(self, session: AsyncSession, acks: list[Ack]) -> None:
        if acks:
            await mark_published(session, self.model, acks, utcnow(), durable=self.offsets is None)

    async def confirm(self) -> int:
        """Confirm the rows every consumer group reading them committed past; returns how many."""
        if self.offsets is None:
            return 0
        async with self.db.read_session() as session:
            open_ = await unconfirmed_partitions(session, self.model)
        if not open_:
            return 0
        passed: dict[str, dict[int, int]] = {}
        for logical, partitions in open_.items():
            passed[logical] = await self.offsets.committed(self.topic_of(logical), partitions)
        done = 0
        async with self.db.session() as session:
            for logical, committed in passed.items():
                done += await confirm_below(session, self.model, logical, committed, utcnow())
        return done

    def topic_of(self, logical: str) -> str:
        """The Kafka topic of a row's logical topic."""
        raise NotImplementedError

    def kick(self) -> None:
        self.loop.kick()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        if self.offsets is not None:
            await self.offsets.close()
