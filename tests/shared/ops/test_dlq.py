"""Dead letters on a real broker: listed with their error headers, replayed to their topic."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from shared.broker import ACK_POLICY, make_broker
from shared.errors import InputError
from shared.events import NoticeEvent
from shared.kafka_admin import ensure_topics
from shared.ops.dlq import REPLAYED_FROM, dlq_topics, list_dead_letters, replay
from shared.ops.records import read_topic
from shared.settings import Settings
from shared.topics import Topics

pytestmark = pytest.mark.broker


def notice(notice_id: str) -> bytes:
    return json.dumps(
        {
            "schema": "regwatch.notice/v1",
            "notice_id": notice_id,
            "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
            "title": "关于某App违法违规收集使用个人信息情况的通报",
            "published_on": "2021-05-10",
            "entities": [{"name": "某App"}],
        }
    ).encode()


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(300):  # 30 s
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_dead_letters_are_listed_and_replayed(kafka_bootstrap: str, namespace: str) -> None:
    settings = Settings(kafka_bootstrap=kafka_bootstrap, topic_namespace=namespace)
    topic = settings.topics.notices
    dlq = Topics.dlq(topic)
    await ensure_topics(kafka_bootstrap, [topic, dlq], partitions=2)
    group = settings.group_id("dlqtest")
    broker = make_broker(settings, kafka_bootstrap, idempotent=False)
    handled: list[str] = []
    refuse = {"n-flaky"}

    @broker.subscriber(topic, group_id=group, auto_offset_reset="earliest", ack_policy=ACK_POLICY)
    async def handle(event: NoticeEvent) -> None:
        if event.notice_id in refuse:
            raise InputError(f"{event.notice_id}: refused for the test")
        handled.append(event.notice_id)

    dead_before = (
        REGISTRY.get_sample_value(
            "regwatch_dead_lettered_messages_total", {"topic": topic, "error_type": "InputError"}
        )
        or 0.0
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for notice_id in ("n-flaky", "n-good"):
            await producer.send_and_wait(
                topic,
                notice(notice_id),
                key=notice_id.encode(),
                headers=[("x-regwatch-notice-id", notice_id.encode())],
            )
    finally:
        await producer.stop()

    async with broker:
        await broker.start()
        await wait_until(lambda: "n-good" in handled, "the good notice")
        await wait_until(
            lambda: (
                (
                    REGISTRY.get_sample_value(
                        "regwatch_dead_lettered_messages_total",
                        {"topic": topic, "error_type": "InputError"},
                    )
                    or 0.0
                )
                > dead_before
            ),
            "the dead letter",
        )

        assert await dlq_topics(kafka_bootstrap, settings.topics.all()) == [dlq]
        [entry] = await list_dead_letters(kafka_bootstrap, [dlq])
        assert entry["error"] == "InputError: n-flaky: refused for the test"
        assert entry["error_type"] == "InputError"
        assert entry["original_topic"] == topic
        assert entry["consumer_group"] == group
        assert entry["key"] == "n-flaky"
        assert entry["headers"]["x-regwatch-notice-id"] == "n-flaky"  # kept from the original
        assert entry["value"]["notice_id"] == "n-flaky"

        with pytest.raises(InputError, match="either --offset N or --all"):
            await replay(kafka_bootstrap, dlq, idempotent=False)
        with pytest.raises(InputError, match="no message at offset 99"):
            await replay(kafka_bootstrap, dlq, offset=99, idempotent=False)

        refuse.clear()  # the cause is fixed: the replayed message goes through
        [done] = await replay(
            kafka_bootstrap,
            dlq,
            offset=entry["offset"],
            partition=entry["partition"],
            idempotent=False,
        )
        assert done["from"] == {
            "topic": dlq,
            "partition": entry["partition"],
            "offset": entry["offset"],
        }
        assert done["to"]["topic"] == topic
        await wait_until(lambda: "n-flaky" in handled, "the replayed notice")

    replayed = [
        m
        async for m in read_topic(kafka_bootstrap, topic, from_beginning=True)
        if REPLAYED_FROM in m["headers"]
    ]
    assert [m["headers"][REPLAYED_FROM] for m in replayed] == [
        f"{dlq}:{entry['partition']}:{entry['offset']}"
    ]
    headers = replayed[0]["headers"]
    assert headers["x-regwatch-notice-id"] == "n-flaky"
    assert not any(h.startswith("x-regwatch-error") for h in headers)
