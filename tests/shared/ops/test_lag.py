"""Consumer lag on a real broker: committed offsets against end offsets, per partition."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from shared.broker import make_broker
from shared.kafka_admin import ensure_topics
from shared.ops.lag import LagMonitor, consumer_lag, list_groups, subscriptions
from shared.settings import Settings

pytestmark = pytest.mark.broker


async def test_lag_counts_what_a_group_has_not_committed(
    kafka_bootstrap: str, namespace: str
) -> None:
    topic, other = f"{namespace}.lagged", f"{namespace}.untouched"
    group = f"{namespace}.regwatch-lagtest"
    await ensure_topics(kafka_bootstrap, [topic, other], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b'{"i": %d}' % i, partition=0)
        await producer.send_and_wait(other, b"{}", partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 2})  # two of five processed
    finally:
        await consumer.stop()

    [known] = await consumer_lag(kafka_bootstrap, {group: [topic]})
    assert known.group == group
    assert [(p.topic, p.partition, p.committed, p.end_offset, p.lag) for p in known.partitions] == [
        (topic, 0, 2, 5, 3)
    ]
    assert known.as_dict()["lag"] == 3

    # a group found on the broker: only the topics it committed on count
    assert group in await list_groups(kafka_bootstrap, f"{namespace}.regwatch-")
    [found] = await consumer_lag(kafka_bootstrap, {}, others=[group], candidates=[topic, other])
    assert [p.topic for p in found.partitions] == [topic]

    # a known group that never committed lags by everything
    [fresh] = await consumer_lag(kafka_bootstrap, {f"{namespace}.never": [other]})
    assert fresh.lag == 1

    monitor = LagMonitor(kafka_bootstrap, {group: [topic]}, interval=60)
    await monitor.update()
    assert (
        REGISTRY.get_sample_value(
            "regwatch_consumer_lag", {"group": group, "topic": topic, "partition": "0"}
        )
        == 3
    )


def test_subscriptions_come_from_the_registered_subscribers() -> None:
    settings = Settings(kafka_bootstrap="127.0.0.1:9", topic_namespace="ns")
    broker = make_broker(settings, "127.0.0.1:9")

    @broker.subscriber("ns.a", group_id="ns.regwatch-x")
    async def one(body: dict[str, object]) -> None: ...

    @broker.subscriber("ns.b", group_id="ns.regwatch-x")
    async def two(body: dict[str, object]) -> None: ...

    @broker.subscriber("ns.c")  # no group: nothing to report
    async def three(body: dict[str, object]) -> None: ...

    assert subscriptions(broker) == {"ns.regwatch-x": ["ns.a", "ns.b"]}
