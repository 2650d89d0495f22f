"""Reading topics on a real broker: the last N, from the beginning, follow mode; raw JSON."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer

from shared.errors import InputError
from shared.kafka_admin import ensure_topics
from shared.ops.records import read_topic, record_dict, value_of

pytestmark = pytest.mark.broker


async def produce(bootstrap: str, topic: str, values: list[dict[str, object]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for index, item in enumerate(values):
            await producer.send_and_wait(
                topic,
                json.dumps(item, ensure_ascii=False).encode(),
                key=f"k{index % 3}".encode(),
                headers=[("x-regwatch-notice-id", f"n{index}".encode())],
            )
            await asyncio.sleep(0.005)  # distinct timestamps: "the last N" is by time
    finally:
        await producer.stop()


async def collect(**kwargs: object) -> list[dict[str, object]]:
    return [m async for m in read_topic(**kwargs)]  # type: ignore[arg-type]


async def test_last_n_and_from_beginning(kafka_bootstrap: str, namespace: str) -> None:
    topic = f"{namespace}.tail"
    await ensure_topics(kafka_bootstrap, [topic], partitions=3)
    await produce(kafka_bootstrap, topic, [{"i": i, "name": "抖音"} for i in range(7)])

    everything = await collect(bootstrap=kafka_bootstrap, topic=topic, from_beginning=True)
    assert sorted(m["value"]["i"] for m in everything) == list(range(7))  # type: ignore[index]
    first = everything[0]
    assert set(first) == {"topic", "partition", "offset", "timestamp", "key", "headers", "value"}
    assert first["headers"]["x-regwatch-notice-id"].startswith("n")  # type: ignore[index]
    assert first["value"]["name"] == "抖音"  # type: ignore[index]

    last = await collect(bootstrap=kafka_bootstrap, topic=topic, limit=2)
    assert sorted(m["value"]["i"] for m in last) == [5, 6]  # type: ignore[index]
    head = await collect(bootstrap=kafka_bootstrap, topic=topic, from_beginning=True, limit=3)
    assert len(head) == 3


async def test_follow_prints_new_messages_until_stopped(
    kafka_bootstrap: str, namespace: str
) -> None:
    topic = f"{namespace}.follow"
    await ensure_topics(kafka_bootstrap, [topic], partitions=2)
    await produce(kafka_bootstrap, topic, [{"i": 0}])
    stop = asyncio.Event()
    seen: list[int] = []

    async def follow() -> None:
        async for message in read_topic(kafka_bootstrap, topic, limit=5, follow=True, stop=stop):
            seen.append(message["value"]["i"])
            if len(seen) == 3:
                stop.set()

    task = asyncio.create_task(follow())
    await asyncio.sleep(1)
    await produce(kafka_bootstrap, topic, [{"i": 1}, {"i": 2}])
    await asyncio.wait_for(task, 30)
    assert sorted(seen) == [0, 1, 2]


async def test_missing_topic_is_a_clear_error(kafka_bootstrap: str, namespace: str) -> None:
    with pytest.raises(InputError, match="does not exist"):
        await collect(bootstrap=kafka_bootstrap, topic=f"{namespace}.nothing")


def test_values_that_are_not_json_or_utf8_still_print() -> None:
    assert value_of(b'{"a": 1}') == {"a": 1}
    assert value_of(b"plain text") == "plain text"
    assert value_of(b"\xff\xfe").startswith("base64:")
    assert value_of(None) is None

    class Record:
        topic, partition, offset, timestamp = "t", 0, 5, 0
        key, value, headers = None, b"{}", [("h", None)]

    assert record_dict(Record()) == {  # type: ignore[arg-type]
        "topic": "t",
        "partition": 0,
        "offset": 5,
        "timestamp": None,
        "key": None,
        "headers": {"h": None},
        "value": {},
    }
