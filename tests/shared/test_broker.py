"""Dead-lettering on a real broker: a bad message goes to <topic>.dlq, the consumer goes on."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.broker import ACK_POLICY, make_broker
from shared.events import NoticeEvent
from shared.kafka_admin import ensure_topics
from shared.settings import Settings
from shared.topics import Topics

pytestmark = pytest.mark.broker

GOOD = {
    "schema": "regwatch.notice/v1",
    "notice_id": "miit-20210803-abc",
    "regulator": {"code": "MIIT", "name": "工业和信息化部"},
    "title": "关于侵害用户权益行为的APP通报",
    "published_on": "2021-08-03",
    "entities": [{"name": "抖音"}],
}


async def read_all(bootstrap: str, topic: str, count: int, wait: float = 20) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[object] = []
    try:
        async with asyncio.timeout(wait):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for items in batch.values():
                    records.extend(items)
    finally:
        await consumer.stop()
    return records


@pytest.mark.parametrize(
    "bad",
    [b"this is not json", json.dumps({**GOOD, "published_on": "yesterday"}).encode()],
    ids=["not-json", "invalid-field"],
)
async def test_bad_message_is_dead_lettered_and_consumer_continues(
    kafka_bootstrap: str, namespace: str, bad: bytes
) -> None:
    settings = Settings(kafka_bootstrap=kafka_bootstrap, topic_namespace=namespace)
    topic = settings.topics.notices
    await ensure_topics(kafka_bootstrap, [topic, Topics.dlq(topic)], partitions=1)
    broker = make_broker(settings, kafka_bootstrap, idempotent=False)
    seen: list[str] = []
    done = asyncio.Event()

    @broker.subscriber(
        topic,
        group_id=settings.group_id("test"),
        auto_offset_reset="earliest",
        ack_policy=ACK_POLICY,
    )
    async def handle(notice: NoticeEvent) -> None:
        seen.append(notice.notice_id)
        done.set()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, bad, key=b"k1")
        await producer.send_and_wait(topic, json.dumps(GOOD).encode(), key=b"k1")
    finally:
        await producer.stop()
    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), 30)
    assert seen == ["miit-20210803-abc"]
    [dead] = await read_all(kafka_bootstrap, Topics.dlq(topic), 1)
    headers = {k: v.decode() for k, v in dead.headers}  # type: ignore[attr-defined]
    assert dead.value == bad  # type: ignore[attr-defined]
    assert headers["x-regwatch-original-topic"] == topic
    assert headers["x-regwatch-original-offset"] == "0"
    assert headers["x-regwatch-error"]
