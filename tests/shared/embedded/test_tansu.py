"""The embedded Tansu broker starts, carries a message end to end, and stops."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.broker import ACK_POLICY, make_broker
from shared.embedded.tansu import CONSUMER_OPTIONS, TansuBroker, TansuError
from shared.kafka_admin import ensure_topics
from shared.settings import Settings


async def test_produce_and_consume_one_message(tmp_path: Path) -> None:
    broker = TansuBroker(log_dir=tmp_path)
    with pytest.raises(TansuError):
        _ = broker.bootstrap
    async with broker:
        assert broker.running
        assert broker.bootstrap.startswith("127.0.0.1:")
        topic = "tansu-smoke"
        await ensure_topics(broker.bootstrap, [topic], 1)

        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b'{"hello":"tansu"}', key=b"k1")
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=broker.bootstrap,
            group_id="tansu-smoke-group",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            msg = await asyncio.wait_for(consumer.getone(), timeout=30)
            await consumer.commit()
        finally:
            await consumer.stop()
        assert (msg.key, msg.value) == (b"k1", b'{"hello":"tansu"}')
        pid = broker.pid
        assert pid is not None

    assert not broker.running
    assert broker.log_path is not None and broker.log_path.exists()
    with socket.socket() as sock:  # the port is released
        assert sock.connect_ex(("127.0.0.1", int(broker.bootstrap.rsplit(":", 1)[1]))) != 0


async def test_start_fails_fast_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        broker = TansuBroker(port=port, log_dir=tmp_path, start_timeout=10)
        with pytest.raises(TansuError):
            await broker.start()
        assert not broker.running


async def test_spawn_gives_the_address_at_once_and_wait_ready_waits(tmp_path: Path) -> None:
    broker = TansuBroker(log_dir=tmp_path)
    with pytest.raises(TansuError):
        await broker.wait_ready()  # nothing spawned yet
    broker.spawn()
    try:
        assert broker.running and broker.bootstrap.startswith("127.0.0.1:")
        await broker.wait_ready()
        await ensure_topics(broker.bootstrap, ["tansu-spawned"], 1)  # it answers
    finally:
        await broker.stop()
    assert not broker.running


async def test_consumer_options_reach_every_subscriber(tmp_path: Path) -> None:
    """make_broker's consumer_options (the embedded broker's short group session timeout) are
    what each subscriber's aiokafka consumer is built with; without them aiokafka's defaults."""
    settings = Settings(kafka_bootstrap="unused:9092")
    async with TansuBroker(log_dir=tmp_path) as tansu:
        await ensure_topics(tansu.bootstrap, ["tansu-options-a", "tansu-options-b"], 1)
        for options, expected in ((CONSUMER_OPTIONS, (2000, 500)), (None, (10000, 3000))):
            broker = make_broker(
                settings, tansu.bootstrap, idempotent=False, consumer_options=options
            )
            subscribers = [
                broker.subscriber(topic, group_id=f"{topic}-{expected[0]}", ack_policy=ACK_POLICY)
                for topic in ("tansu-options-a", "tansu-options-b")
            ]
            for subscriber in subscribers:
                subscriber(_ignore)
            await broker.start()
            try:
                for subscriber in subscribers:
                    consumer = subscriber.consumer
                    assert consumer is not None
                    timeouts = (consumer._session_timeout_ms, consumer._heartbeat_interval_ms)
                    assert timeouts == expected
            finally:
                await broker.stop()


async def _ignore(body: bytes) -> None:
    return None
