"""Consumer lag on a real broker: committed offsets against end offsets, per partition."""

from __future__ import annotations

import asyncio
import os

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from shared.broker import make_broker
from shared.kafka_admin import ensure_topics
from shared.ops.lag import (
    LagMonitor,
    consumer_lag,
    group_members,
    list_groups,
    member_client_id,
    subscriptions,
)
from shared.settings import Settings
from tests.support.brokers import TANSU

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


async def test_members_of_one_group_show_their_own_client_ids(
    kafka_bootstrap: str, broker_kind: str, namespace: str
) -> None:
    """Two processes of one service in a group (as docs/scaling.md runs notifiers) are told
    apart by their client ids; each has a partition of the two (the embedded Tansu broker
    reports member ids only: no host, no assignment)."""
    tansu = broker_kind == TANSU
    topic, group = f"{namespace}.shared", f"{namespace}.regwatch-notifier"
    await ensure_topics(kafka_bootstrap, [topic], partitions=2)
    brokers = []
    for name in ("node-a", "node-b"):
        settings = Settings(kafka_client_id=name, topic_namespace=namespace)
        broker = make_broker(settings, kafka_bootstrap, idempotent=False, service="notifier")

        @broker.subscriber(topic, group_id=group)
        async def handle(body: dict[str, object]) -> None: ...

        brokers.append(broker)
    try:
        await asyncio.gather(*(broker.start() for broker in brokers))
        for _ in range(100):  # until the second join's rebalance has settled
            found = await group_members(kafka_bootstrap, [group, f"{namespace}.nobody"])
            described = found[group]
            members = described["members"]
            assert isinstance(members, list)
            settled = tansu or all(m["partitions"] for m in members)
            if described["state"] == "Stable" and len(members) == 2 and settled:
                break
            await asyncio.sleep(0.2)
    finally:
        await asyncio.gather(*(broker.stop() for broker in brokers))
    assert found[f"{namespace}.nobody"]["members"] == []  # a second group in one call
    pid = os.getpid()
    assert [m["client_id"] for m in members] == [
        f"node-a-notifier-{pid}",
        f"node-b-notifier-{pid}",
    ]
    if not tansu:
        assert all(m["host"] for m in members)
        assert sorted(p for m in members for p in m["partitions"][topic]) == [0, 1]


def test_a_member_without_client_id_is_named_by_its_member_id() -> None:
    member = "node-a-notifier-77-1f7ce3ce-2e40-4747-8ba9-d66437382081"
    assert member_client_id("", member) == "node-a-notifier-77"
    assert member_client_id("given", member) == "given"
    assert member_client_id("", "not-a-kafka-member-id") == ""
