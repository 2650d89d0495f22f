"""Publishing a page of outbox rows: send all, then wait for all, keep the order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker

from shared.db import Database
from shared.logging import get_logger
from shared.topics import Topics
from shared.wakeloop import WakeLoop

log = get_logger("regwatch.outbox")


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: str
    payload: Any
    headers: dict[str, str]


async def publish_page(broker: KafkaBroker, messages: Sequence[Outgoing]) -> int:
    """Send every message without waiting for each acknowledgement (the producer keeps the
    order per partition), then wait for all; returns how many leading messages were
    acknowledged, so the caller marks exactly those as published."""
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
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, BaseException):
            log.warning(
                "outbox publish failed: %s",
                outcome,
                extra={"topic": messages[index].topic, "key": messages[index].key},
            )
            return index
    return len(messages)


class RelayLoop:
    """What every outbox relay shares: the broker and database it moves rows between, a
    wake-or-interval loop running ``publish_pending`` and a lock so one page runs at a time."""

    def __init__(
        self, name: str, db: Database, broker: KafkaBroker, topics: Topics, interval: float = 1.0
    ) -> None:
        self.db = db
        self.broker = broker
        self.topics = topics
        self.loop = WakeLoop(name, self.publish_pending, interval)
        self._lock = asyncio.Lock()

    async def publish_pending(self) -> int:
        raise NotImplementedError

    def kick(self) -> None:
        self.loop.kick()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
