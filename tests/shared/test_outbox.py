"""The outbox relay on an outbox table: rows go out in id order; on a durable broker they are
confirmed once acknowledged; on the embedded broker they stay until every consumer group
committed past their offset, and what is unconfirmed at start is published again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from faststream.kafka import KafkaBroker
from sqlalchemy import select

from services.ingestor.models import OutboxRow
from services.ingestor.relay import OutboxRelay
from shared.db import Database
from shared.outbox_confirm import CommittedOffsets
from shared.outbox_rows import count_unconfirmed
from shared.topics import Topics


@dataclass
class Metadata:
    partition: int
    offset: int


class Broker:
    """Acknowledges like Kafka: partition by key, offsets counting up per partition."""

    def __init__(self, partitions: int = 2) -> None:
        self.partitions = partitions
        self.ends = [0] * partitions
        self.sent: list[tuple[str, int, int]] = []

    async def publish(self, body: dict[str, Any], **kwargs: Any) -> asyncio.Future[Metadata]:
        partition = sum(kwargs["key"]) % self.partitions
        offset = self.ends[partition]
        self.ends[partition] += 1
        self.sent.append((kwargs["key"].decode(), partition, offset))
        future: asyncio.Future[Metadata] = asyncio.get_running_loop().create_future()
        future.set_result(Metadata(partition, offset))
        return future


class Commits:
    """What the consumer groups committed: topic -> partition -> next offset to read."""

    def __init__(self) -> None:
        self.done: dict[str, dict[int, int]] = {}
        self.asked: list[tuple[str, list[int]]] = []

    async def committed(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        self.asked.append((topic, list(partitions)))
        return {p: o for p, o in self.done.get(topic, {}).items() if p in partitions}

    async def close(self) -> None:
        return None


async def queue(db: Database, *keys: str) -> None:
    async with db.session() as session:
        for key in keys:
            session.add(OutboxRow(topic="notices", key=key, payload="{}"))


async def rows(db: Database) -> list[OutboxRow]:
    async with db.read_session() as session:
        return list((await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())


def relay_on(db: Database, broker: Broker, commits: Commits | None) -> OutboxRelay:
    relay = OutboxRelay(db, cast(KafkaBroker, broker), Topics("t"))
    if commits is not None:
        relay.confirm_with(cast(CommittedOffsets, commits))
    return relay


async def test_on_a_durable_broker_an_acknowledged_row_is_confirmed(db: Database) -> None:
    await queue(db, "a", "b")
    assert await relay_on(db, Broker(), None).publish_pending() == 2
    assert all(r.published_at and r.confirmed_at == r.published_at for r in await rows(db))
    assert [(r.broker_partition, r.broker_offset) for r in await rows(db)] == [(None, None)] * 2


async def test_rows_stay_unconfirmed_until_every_partition_is_committed_past(
    db: Database,
) -> None:
    await queue(db, "a", "b", "c", "d")
    broker, commits = Broker(), Commits()
    relay = relay_on(db, broker, commits)
    assert await relay.publish_pending() == 4
    placed = {key: (p, o) for key, p, o in broker.sent}
    stored = {r.key: (r.broker_partition, r.broker_offset) for r in await rows(db)}
    assert stored == placed
    assert await relay.confirm() == 0  # nothing committed yet

    # the consumer group read partition 0 up to (not including) its second message
    first_on_0 = sorted(o for p, o in placed.values() if p == 0)
    commits.done["t.regwatch.notices.v1"] = {0: first_on_0[0] + 1}
    assert await relay.confirm() == 1
    assert commits.asked[-1] == ("t.regwatch.notices.v1", sorted({p for p, _ in placed.values()}))
    async with db.read_session() as session:
        assert await count_unconfirmed(session, OutboxRow) == 3

    commits.done["t.regwatch.notices.v1"] = {0: 99, 1: 99}
    assert await relay.confirm() == 3
    assert all(r.confirmed_at is not None for r in await rows(db))


async def test_what_the_dead_broker_held_unconfirmed_is_published_again_in_order(
    db: Database,
) -> None:
    await queue(db, "a", "b", "c")
    commits = Commits()
    old_broker = Broker()
    first = relay_on(db, old_broker, commits)
    await first.publish_pending()
    commits.done["t.regwatch.notices.v1"] = {p: 0 for p in range(2)}
    partition, offset = next((p, o) for k, p, o in old_broker.sent if k == "a")
    commits.done["t.regwatch.notices.v1"][partition] = offset + 1  # only "a" was consumed
    await first.confirm()
    await queue(db, "d")  # stored while the process was down

    # a new process, a new (empty) embedded broker
    broker = Broker()
    second = relay_on(db, broker, Commits())
    assert await second.requeue_unconfirmed() == 2
    assert await second.publish_pending() == 3
    assert [key for key, _, _ in broker.sent] == ["b", "c", "d"]
    assert [r.key for r in await rows(db) if r.confirmed_at is not None] == ["a"]


async def test_a_durable_broker_never_requeues(db: Database) -> None:
    await queue(db, "a")
    relay = relay_on(db, Broker(), None)
    await relay.publish_pending()
    assert await relay.requeue_unconfirmed() == 0
    assert await relay.publish_pending() == 0
