"""Topic creation and broker readiness against the session's real broker."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from shared.embedded.local_kafka import KAFKA_SCRIPT
from shared.embedded.ports import free_port
from shared.kafka_admin import ensure_topics, wait_for_broker
from shared.topics import Topics


async def _partitions(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {m["topic"]: len(m["partitions"]) for m in await admin.describe_topics(topics)}
    finally:
        await admin.close()


async def test_wait_for_broker_answers(kafka_bootstrap: str) -> None:
    cluster = await wait_for_broker(kafka_bootstrap, timeout=10)
    assert cluster["brokers"]


async def test_wait_for_broker_times_out_on_a_closed_port() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not answer"):
        await wait_for_broker(f"127.0.0.1:{free_port()}", timeout=1)
    assert time.monotonic() - started < 5


async def test_ensure_topics_creates_missing_topics(kafka_bootstrap: str, namespace: str) -> None:
    topics = Topics(namespace).all()
    await ensure_topics(kafka_bootstrap, topics, 3)
    assert await _partitions(kafka_bootstrap, topics) == dict.fromkeys(topics, 3)


async def test_ensure_topics_is_idempotent(kafka_bootstrap: str, namespace: str) -> None:
    topics = Topics(namespace).all()
    await ensure_topics(kafka_bootstrap, topics[:2], 2)
    # again, with more topics and another partition count: existing ones are left alone
    await ensure_topics(kafka_bootstrap, topics, 4)
    await ensure_topics(kafka_bootstrap, topics, 4)
    found = await _partitions(kafka_bootstrap, topics)
    assert found == {**dict.fromkeys(topics, 4), topics[0]: 2, topics[1]: 2}


async def test_ensure_topics_with_nothing_to_do(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap, [], 3)


@pytest.mark.kafka_only("the idempotent producer (InitProducerId v0)")
async def test_idempotent_producer(kafka_bootstrap: str, namespace: str) -> None:
    topic = Topics(namespace).notices
    await ensure_topics(kafka_bootstrap, [topic], 3)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, b"once", key=b"k")
    finally:
        await producer.stop()
    assert meta.offset == 0


@pytest.mark.kafka_only("durable storage (it keeps everything in memory)")
async def test_topics_and_events_survive_a_broker_restart(
    broker_kind: str, tmp_path: Path, namespace: str
) -> None:
    """scripts/kafka start on an existing dir restarts on the same log dirs."""
    if broker_kind != "apache-kafka":
        pytest.skip("restarts a broker of its own with scripts/kafka: needs java and mvn")
    directory = tmp_path / "kafka"
    topic = Topics(namespace).notices

    async def kafka(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(KAFKA_SCRIPT),
            *args,
            "--dir",
            str(directory),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return out.decode().strip()

    bootstrap = await kafka("start", "--port", str(free_port()))
    try:
        await ensure_topics(bootstrap, [topic], 2)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"kept", partition=1)
        finally:
            await producer.stop()
        await kafka("stop")
        assert await kafka("start") == bootstrap  # same port, same log dirs
        assert await _partitions(bootstrap, [topic]) == {topic: 2}
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=10_000)
        finally:
            await consumer.stop()
        assert [m.value for msgs in batch.values() for m in msgs] == [b"kept"]
    finally:
        await kafka("stop")
