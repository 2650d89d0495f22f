"""Consumer lag: committed offsets of regwatch's consumer groups against the end offsets.

Which group reads which topics comes from the FastStream subscribers registered on a broker
(:func:`subscriptions`); other groups found on the broker under regwatch's prefix count on the
topics they committed offsets for. Committed offsets are read with a plain aiokafka consumer
per group (OffsetFetch through the group coordinator, without joining the group), which Apache
Kafka and the embedded Tansu broker both answer. Partitions a group has not committed on yet
count from their beginning (regwatch's groups start at ``earliest``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker

from shared.logging import get_logger
from shared.metrics import observe_consumer_lag
from shared.ops.kafka import admin_client, offsets, partitions_of, plain_consumer
from shared.wakeloop import WakeLoop

log = get_logger("regwatch.ops.lag")


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end_offset: int
    lag: int

    def as_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "committed": self.committed,
            "end_offset": self.end_offset,
            "lag": self.lag,
        }


@dataclass
class GroupLag:
    group: str
    partitions: list[PartitionLag] = field(default_factory=list)

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "lag": self.lag,
            "partitions": [p.as_dict() for p in self.partitions],
        }


def subscriptions(broker: KafkaBroker) -> dict[str, list[str]]:
    """Consumer group -> topics, from the subscribers registered on ``broker`` (subscribers
    without a group, which assign partitions themselves, have no lag to report)."""
    found: dict[str, list[str]] = {}
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "group_id", None)
        if not group:
            continue
        for topic in getattr(subscriber, "topics", None) or ():
            name = str(getattr(topic, "name", topic))
            if name not in found.setdefault(str(group), []):
                found[str(group)].append(name)
    return {group: sorted(topics) for group, topics in sorted(found.items())}


async def list_groups(bootstrap: str, prefix: str) -> list[str]:
    """Consumer groups on the broker whose id starts with ``prefix``."""
    async with admin_client(bootstrap) as admin:
        listed = await admin.list_consumer_groups()
    return sorted({str(g[0]) for g in listed if str(g[0]).startswith(prefix)})


async def consumer_lag(
    bootstrap: str,
    known: Mapping[str, Iterable[str]],
    others: Iterable[str] = (),
    candidates: Iterable[str] = (),
) -> list[GroupLag]:
    """Lag of the ``known`` groups on their topics, and of the ``others`` on the
    ``candidates`` topics they committed offsets for."""
    plan = {group: list(topics) for group, topics in known.items()}
    guessed = [g for g in dict.fromkeys(others) if g not in plan]
    wanted = {t for topics in plan.values() for t in topics} | set(candidates)
    async with admin_client(bootstrap) as admin:
        partitions = await partitions_of(admin, wanted)
    async with plain_consumer(bootstrap) as reader:
        begin, end = await offsets(reader, partitions)
    result: list[GroupLag] = []
    for group in [*plan, *guessed]:
        topics = plan.get(group) or [t for t in candidates if t in partitions]
        entry = GroupLag(group)
        async with plain_consumer(bootstrap, group_id=group) as consumer:
            for topic in topics:
                parts = partitions.get(topic, [])
                done: dict[int, int | None] = {}
                for p in parts:
                    done[p] = await consumer.committed(TopicPartition(topic, p))
                if group not in plan and all(v is None for v in done.values()):
                    continue
                for p in parts:
                    tp = TopicPartition(topic, p)
                    start = done[p] if done[p] is not None else begin.get(tp, 0)
                    entry.partitions.append(
                        PartitionLag(topic, p, done[p], end[tp], max(0, end[tp] - (start or 0)))
                    )
        result.append(entry)
    return result


class LagMonitor:
    """Updates ``regwatch_consumer_lag`` every ``interval`` seconds for the consumer groups of
    the subscribers registered on this process's broker."""

    def __init__(self, bootstrap: str, known: Mapping[str, list[str]], interval: float) -> None:
        self.bootstrap = bootstrap
        self.known = dict(known)
        self.loop = WakeLoop("consumer-lag", self.update, interval)
        self.last: list[GroupLag] = []

    async def update(self) -> list[GroupLag]:
        self.last = await consumer_lag(self.bootstrap, self.known)
        observe_consumer_lag(
            [(g.group, p.topic, p.partition, p.lag) for g in self.last for p in g.partitions],
            time.time(),
        )
        return self.last

    def start(self) -> None:
        self.loop.start()  # first check after one interval: new topics have leaders by then

    async def stop(self) -> None:
        await self.loop.stop()
