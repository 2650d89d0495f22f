"""Watchlist changes reach running matchers without a restart, on a real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from typer.testing import CliRunner

from services.cli import app as cli_app
from services.matcher.relay import OutboxRelay
from services.matcher.store import put_watch, remove_watch, update_watch
from services.matcher.watchlist import LiveWatchlist, register_live_updates
from services.runtime import Runtime
from shared.accounts import register_subscriber
from shared.broker import make_broker
from shared.db import Database
from shared.events import NoticeEvent
from shared.kafka_admin import ensure_topics
from shared.settings import Settings

pytestmark = pytest.mark.broker

KUAISHOU_DEV = "北京快手科技有限公司"
DOUYIN_DEV = "北京微播视界科技有限公司"


@pytest.fixture
def settings(kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path) -> Settings:
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_idempotence=broker_kind != "tansu",
        topic_namespace=namespace,
        data_dir=tmp_path,
        database_url=None,
        http_port=0,
        webhook_allow_private=True,
        kafka_partitions=2,
    )


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


def run_cli(settings: Settings, *args: str) -> Awaitable[dict[str, Any]]:
    """``regwatch ...`` in a thread (it runs its own event loop), on the runtime's database."""

    def invoke() -> dict[str, Any]:
        env = {
            "REGWATCH_DATA_DIR": str(settings.data_dir),
            "REGWATCH_DATABASE_URL": "",
            "REGWATCH_LOG_FORMAT": "text",
        }
        result = CliRunner().invoke(cli_app, list(args), env=env)
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    return asyncio.to_thread(invoke)


def first_alert(values: list[dict[str, Any]], notice_id: str) -> dict[str, Any] | None:
    return next(
        (v for v in values if v["notice"]["notice_id"] == notice_id and v["reason"] == "match"),
        None,
    )


def watches_in(event: dict[str, Any]) -> set[str]:
    return {m["watch"]["name"] for m in event["matches"]}


async def test_http_and_cli_changes_reach_the_running_matcher(
    settings: Settings,
    producer: AIOKafkaProducer,
    topic_reader: Callable[[str], Awaitable[Any]],
    make_notice: Callable[..., NoticeEvent],
) -> None:
    rt = Runtime(settings, only=("matcher",))
    await rt.start()
    try:
        matches = await topic_reader(settings.topics.matches)

        async def publish(notice: NoticeEvent) -> dict[str, Any]:
            await producer.send_and_wait(
                settings.topics.notices,
                json.dumps(notice.dump()).encode(),
                key=notice.notice_id.encode(),
            )
            values = await matches.wait_for(
                lambda vs: first_alert(vs, notice.notice_id) is not None
            )
            found = first_alert(values, notice.notice_id)
            assert found is not None
            return found

        both = (("抖音", DOUYIN_DEV), ("快手", KUAISHOU_DEV))
        async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
            created = (
                await client.post(
                    "/v1/subscribers", json={"name": "Risk", "email": "r@example.com"}
                )
            ).json()
            sub = created["id"]
            auth = {"Authorization": f"Bearer {created['api_key']}"}
            douyin = await client.post(
                "/v1/watches", json={"kind": "app", "name": "Douyin"}, headers=auth
            )
            assert douyin.status_code == 201, douyin.text

            first = await publish(make_notice("n1", *both))
            assert watches_in(first) == {"Douyin"}
            assert matches.keys[-1] == sub.encode()

            # a change made by another process (the CLI) while the matcher runs
            added = await run_cli(settings, "watch", "add", sub, "--company", "Kuaishou")
            second = await publish(make_notice("n2", *both))
            assert watches_in(second) == {"Douyin", "Kuaishou"}

            gone = await client.delete(f"/v1/watches/{douyin.json()['id']}", headers=auth)
            assert gone.status_code == 204
            third = await publish(make_notice("n3", *both))
            assert watches_in(third) == {"Kuaishou"}

            await run_cli(settings, "watch", "remove", sub, str(added["id"]))
            await client.post("/v1/watches", json={"kind": "app", "name": "快手"}, headers=auth)
            fourth = await publish(make_notice("n4", *both))
            assert watches_in(fourth) == {"快手"}
            assert all(e["subscriber_id"] == sub for e in matches.values)

        # a message on the watchlist topic that is no WatchlistEvent: dead-lettered once (by
        # the retroactive matcher's group), and the matcher carries on
        dlq = await topic_reader(settings.topics.dlq(settings.topics.watchlist))
        await producer.send_and_wait(
            settings.topics.watchlist, b'{"op": "exploded"}', key=sub.encode()
        )
        [bad] = await dlq.wait_for(lambda vs: len(vs) == 1)
        assert bad == {"op": "exploded"}
        assert dlq.headers[0]["x-regwatch-consumer-group"] == settings.group_id("matcher-retro")
        assert "validation error" in dlq.headers[0]["x-regwatch-error"]
        fifth = await publish(make_notice("n5", *both))
        assert watches_in(fifth) == {"快手"}
    finally:
        await rt.stop()


async def _ready(broker: KafkaBroker) -> None:
    """Wait until the broker's group-less consumers know their start positions, so that what
    is published next is read (they start at the end of the topic)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    for subscriber in broker.subscribers:
        consumer = subscriber.consumer  # type: ignore[attr-defined]
        while not consumer.assignment():
            assert loop.time() < deadline, "consumer got no partitions"
            await asyncio.sleep(0.05)
        for tp in consumer.assignment():
            await consumer.position(tp)


async def _until(check: Callable[[], bool], what: str, within: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_every_instance_applies_watchlist_events_in_order(
    settings: Settings, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Two matcher instances, each with its own index, follow the changelog topic (the periodic
    database look-up is set to an hour, so only the events can move them)."""
    topics = settings.topics
    await ensure_topics(kafka_bootstrap, topics.all(), 2)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'two.db'}")
    await db.migrate()
    idempotent = settings.kafka_idempotence
    brokers = [make_broker(settings, kafka_bootstrap, idempotent=idempotent) for _ in range(3)]
    lives = [LiveWatchlist(db, interval=3600) for _ in range(2)]
    for broker, live in zip(brokers, lives, strict=False):
        register_live_updates(broker, topics, live)
    relay = OutboxRelay(db, brokers[2], topics)
    try:
        async with db.session() as session:
            sub = (
                await register_subscriber(
                    session,
                    name="Ops",
                    email="ops@example.com",
                    webhook_url=None,
                    reminders=None,
                    default_reminders="7d",
                    allow_private=True,
                )
            ).id
        for broker in brokers:
            await broker.start()
        for live in lives:
            await live.load()
            live.start()
        for broker in brokers[:2]:
            await _ready(broker)

        def names(live: LiveWatchlist) -> list[str]:
            return sorted(item.name for item in live.items_of(sub))

        async with db.session() as session:
            first = (await put_watch(session, sub, "app", "抖音")).row
            await put_watch(session, sub, "company", "腾讯")
        assert await relay.publish_pending() == 2
        for live in lives:
            await _until(lambda live=live: names(live) == ["抖音", "腾讯"], "two watch items")

        # several changes to one subscriber in a row: every instance ends at the last state
        async with db.session() as session:
            await update_watch(session, sub, first.id, name="Douyin")
        async with db.session() as session:
            await remove_watch(session, sub, first.id)
        async with db.session() as session:
            await put_watch(session, sub, "app", "快手")
        assert await relay.publish_pending() == 3
        for live in lives:
            await _until(lambda live=live: names(live) == ["快手", "腾讯"], "the last state")
    finally:
        for live in lives:
            await live.stop()
        for broker in brokers:
            await broker.stop()
        await db.dispose()
