"""A consumer moved to a group of its own starts where its old group had got to, once."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from shared.group_offsets import GroupMove, adopt_offsets
from shared.kafka_admin import ensure_topics


async def commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        parts = {TopicPartition(topic, p): OffsetAndMetadata(o, "") for p, o in offsets.items()}
        consumer.assign(list(parts))
        await consumer.commit(parts)
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        found: dict[int, int] = {}
        for partition in (0, 1):
            offset = await consumer.committed(TopicPartition(topic, partition))
            if offset is not None and offset >= 0:
                found[partition] = offset
        return found
    finally:
        await consumer.stop()


async def test_new_group_takes_old_groups_offsets_once(
    kafka_bootstrap: str, namespace: str
) -> None:
    topic = f"{namespace}.watchlist"
    await ensure_topics(kafka_bootstrap, [topic], partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for n in range(6):
            await producer.send_and_wait(topic, b"x", partition=n % 2)
    finally:
        await producer.stop()
    move = GroupMove(topic, old=f"{namespace}.old", new=f"{namespace}.new")

    assert await adopt_offsets(kafka_bootstrap, move) == {}  # the old group read nothing
    assert await committed(kafka_bootstrap, move.new, topic) == {}

    await commit(kafka_bootstrap, move.old, topic, {0: 2, 1: 3})
    assert await committed(kafka_bootstrap, move.old, topic) == {0: 2, 1: 3}
    assert await adopt_offsets(kafka_bootstrap, move) == {0: 2, 1: 3}
    assert await committed(kafka_bootstrap, move.new, topic) == {0: 2, 1: 3}

    # the new group has offsets of its own now: the old group's later ones are not taken
    await commit(kafka_bootstrap, move.old, topic, {0: 3, 1: 3})
    assert await adopt_offsets(kafka_bootstrap, move) == {}
    assert await committed(kafka_bootstrap, move.new, topic) == {0: 2, 1: 3}
