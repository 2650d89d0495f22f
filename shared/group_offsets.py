"""A consumer moved to a consumer group of its own starts where its old group had got to.

When a subscriber leaves a shared group for a group of its own (the notifier's watchlist
subscriber left ``regwatch-notifier`` for ``regwatch-notifier-watchlist``), the new group has
no committed offsets the first time it starts. Reading from the earliest offset would replay
the topic's whole retention, reading from the latest would skip what arrived while the old
version was stopped. :func:`adopt_offsets` gives the new group the old group's committed
offsets on the topic before the consumer joins, once: a group that has committed anything on
the topic keeps its own. Committing without joining (OffsetCommit with no generation) is
accepted while the new group has no members, which is the case before the consumers start.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from shared.logging import get_logger
from shared.ops.kafka import admin_client, partitions_of, plain_consumer

log = get_logger("regwatch.groups")


@dataclass(frozen=True)
class GroupMove:
    """``topic`` was read by ``old`` and is read by ``new`` now."""

    topic: str
    old: str
    new: str


async def _committed(consumer: AIOKafkaConsumer, parts: list[TopicPartition]) -> dict[int, int]:
    found: dict[int, int] = {}
    for tp in parts:
        offset = await consumer.committed(tp)
        if offset is not None and offset >= 0:
            found[tp.partition] = offset
    return found


async def adopt_offsets(bootstrap: str, move: GroupMove) -> dict[int, int]:
    """Commit ``move.old``'s offsets on ``move.topic`` for ``move.new`` when ``move.new`` has
    committed none there; returns partition -> offset adopted (empty: nothing to do)."""
    async with admin_client(bootstrap) as admin:
        partitions = (await partitions_of(admin, [move.topic])).get(move.topic, [])
    parts = [TopicPartition(move.topic, p) for p in partitions]
    async with plain_consumer(bootstrap, move.new) as new:
        if not parts or await _committed(new, parts):
            return {}
        async with plain_consumer(bootstrap, move.old) as old:
            adopted = await _committed(old, parts)
        if not adopted:
            return {}
        new.assign(parts)
        await new.commit(
            {TopicPartition(move.topic, p): OffsetAndMetadata(o, "") for p, o in adopted.items()}
        )
    log.info(
        "consumer group starts where the old one had got to",
        extra={"topic": move.topic, "group": move.new, "from_group": move.old, "offsets": adopted},
    )
    return adopted
