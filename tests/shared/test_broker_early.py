"""``ConcurrentStartBroker``'s early start (shared/broker.py): a consumer group joins before
its handler exists and then reads everything, also what was published in between."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.broker import ACK_POLICY, ConcurrentStartBroker, EarlyConsumerMismatch, make_broker
from shared.embedded.tansu import CONSUMER_OPTIONS, TansuBroker
from shared.kafka_admin import ensure_topics
from shared.settings import Settings

OPTIONS: dict[str, Any] = {
    "group_id": "early-group",
    "auto_offset_reset": "earliest",
    "ack_policy": ACK_POLICY,
}


@contextlib.asynccontextmanager
async def declared(
    tmp_path: Path, topic: str, partitions: int
) -> AsyncIterator[ConcurrentStartBroker]:
    """A broker on a running embedded Tansu with a group on ``topic`` declared to start early;
    stopped afterwards."""
    async with TansuBroker(log_dir=tmp_path) as tansu:
        await ensure_topics(tansu.bootstrap, [topic], partitions)
        broker = make_broker(
            Settings(), tansu.bootstrap, idempotent=False, consumer_options=CONSUMER_OPTIONS
        )
        broker.declare_early(topic, **OPTIONS)
        try:
            yield broker
        finally:
            await broker.stop()


async def test_a_group_joined_before_its_handler_reads_what_was_published_meanwhile(
    tmp_path: Path,
) -> None:
    topic = "early-start"
    got: list[dict[str, str]] = []
    all_read = asyncio.Event()
    async with declared(tmp_path, topic, 3) as broker:
        await broker.start_early()  # returns once the group has its partitions
        [early] = broker.subscribers
        assert early.consumer is not None and early.consumer.assignment()
        for n in range(5):  # no handler yet: nothing reads these
            await broker.publish({"n": str(n)}, topic=topic, key=str(n).encode())

        @broker.subscriber(topic, **OPTIONS)
        async def handle(body: dict[str, str]) -> None:
            got.append(body)
            if len(got) == 5:
                all_read.set()

        assert broker.subscribers == [early]  # the declared subscriber, not a second one
        await broker.start()
        await asyncio.wait_for(all_read.wait(), 30)
    assert sorted(body["n"] for body in got) == ["0", "1", "2", "3", "4"]


async def test_a_declared_group_must_be_registered_once_with_the_same_arguments() -> None:
    broker = make_broker(Settings(), "127.0.0.1:9")
    broker.declare_early("t", **OPTIONS)
    with pytest.raises(EarlyConsumerMismatch, match="declared twice"):
        broker.declare_early("t", **OPTIONS)
    with pytest.raises(EarlyConsumerMismatch, match="declared to start early"):
        broker.subscriber("t", **{**OPTIONS, "auto_offset_reset": "latest"})
    assert broker.unclaimed() == ["('t',) in group early-group"]
    with pytest.raises(EarlyConsumerMismatch, match="registered by no service"):
        await broker.start()  # before connecting: a group nobody reads would hold partitions
    broker.subscriber("t", **OPTIONS)
    assert broker.unclaimed() == []
    with pytest.raises(EarlyConsumerMismatch):
        broker.subscriber("t", **OPTIONS)  # one handler per declared subscriber
    broker.subscriber("t", group_id="other", auto_offset_reset="earliest")  # not declared
    assert len(broker.subscribers) == 2


async def test_a_handler_registered_while_the_group_joins_gets_one_consume_loop(
    tmp_path: Path,
) -> None:
    """A warm start builds the services before the join returns: FastStream's own start then
    starts the consume loop, and :meth:`start` must not start a second one on the same
    consumer (two records handled at once, each commit passing the other: a kill lost one)."""
    topic = "early-race"
    got: list[str] = []
    busy = 0
    most = 0
    all_read = asyncio.Event()
    async with declared(tmp_path, topic, 1) as broker:
        joining = asyncio.create_task(broker.start_early())
        await asyncio.sleep(0.05)
        assert not joining.done(), "the join returned before the handler could be registered"

        @broker.subscriber(topic, **OPTIONS)
        async def handle(body: dict[str, str]) -> None:
            nonlocal busy, most
            busy += 1
            most = max(most, busy)
            await asyncio.sleep(0.02)
            busy -= 1
            got.append(body["n"])
            if len(got) == 20:
                all_read.set()

        await joining
        await broker.start()
        [early] = broker.subscribers
        assert len([t for t in early.tasks if not t.done()]) == 1
        for n in range(20):
            await broker.publish({"n": str(n)}, topic=topic, key=b"one-partition")
        await asyncio.wait_for(all_read.wait(), 30)
    assert most == 1, f"{most} records were handled at once"
    assert got == [str(n) for n in range(20)]
