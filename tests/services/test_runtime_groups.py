"""On an external broker, the notifier's watchlist consumer, moved to a group of its own, starts
where the group it shared before had got to (an upgrade neither skips nor replays changes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from services.notifier.service import WATCHLIST_GROUP
from services.runtime import Runtime, build_services
from shared.broker import make_broker
from shared.db import Database
from shared.kafka_admin import ensure_topics
from shared.settings import Settings
from shared.topics import Topics


async def committed(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        offset: int | None = await consumer.committed(tp)
        return offset
    finally:
        await consumer.stop()


async def test_the_watchlist_group_starts_where_the_notifier_group_had_got_to(
    kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_partitions=1,
        topic_namespace=namespace,
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'regwatch.db'}",
    )
    topic = settings.topics.watchlist
    tp = TopicPartition(topic, 0)
    await ensure_topics(kafka_bootstrap, [topic], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for _ in range(3):  # what the old version read (not valid events: never read again)
            await producer.send_and_wait(topic, b"read before the upgrade", partition=0)
    finally:
        await producer.stop()
    old = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=settings.group_id("notifier"),
        enable_auto_commit=False,
    )
    await old.start()
    try:
        old.assign([tp])
        await old.commit({tp: OffsetAndMetadata(3, "")})
    finally:
        await old.stop()

    db = Database(settings.sqlalchemy_url)
    broker = make_broker(settings, kafka_bootstrap, idempotent=False)
    services = build_services(settings, db, broker, ("127.0.0.1", 1), only=("notifier",))
    runtime = Runtime(settings, only=("notifier",), services=services, db=db, broker=broker)
    runtime.bootstrap = kafka_bootstrap
    try:
        await runtime._start_consumers()  # the groups join; nothing is left to read
        await asyncio.sleep(2)  # time to read (and dead-letter) the 3 records, were it to
    finally:
        await broker.stop()
        for service in services:
            await service.stop()
        await db.dispose()
    assert await committed(kafka_bootstrap, settings.group_id(WATCHLIST_GROUP), tp) == 3
    assert await committed(kafka_bootstrap, settings.group_id("notifier"), tp) == 3
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await reader.start()
    try:
        dlq = TopicPartition(Topics.dlq(topic), 0)
        assert (await reader.end_offsets([dlq]))[dlq] == 0  # nothing was read again
    finally:
        await reader.stop()
