"""A poison message on every consumed topic, with the whole Runtime running.

The consumers (every ``broker.subscriber(`` in services/):

- ``notices.v1``: the matcher (group ``regwatch-matcher``), dead-letter middleware;
- ``matches.v1``: the notifier (group ``regwatch-notifier``), dead-letter middleware;
- ``watchlist.v1``: the notifier (group ``regwatch-notifier-watchlist``, dead-letter
  middleware), the retroactive matcher (group ``regwatch-matcher-retro``, a batch consumer
  that dead-letters itself) and each matcher's live index (no group; it ignores what it
  cannot read).

Each test writes poison (bytes that are not JSON, or JSON that is not the topic's event) with
aiokafka, then a valid message with the same key, so on the same partition, after it. The
poison must land on the topic's ``.dlq`` with the error headers, once per consumer group that
read it, and the valid message after it must still be handled: its alert reaches the webhook
receiver exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, RecordMetadata
from sqlalchemy import select

from services.matcher.models import AlertRow, StoredNoticeRow
from services.runtime import Runtime
from shared.settings import Settings
from shared.topics import Topics
from tests.support.factories import match_event
from tests.support.receivers import RecordedRequest, WebhookReceiver
from tests.support.settings import fast_settings

pytestmark = pytest.mark.broker

NOT_JSON = b"\xff\xfe{ this is not json"
KINDS = ["not-json", "invalid"]


def notice_json(notice_id: str, app: str, batch: str) -> dict[str, Any]:
    return {
        "schema": "regwatch.notice/v1",
        "notice_id": notice_id,
        "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
        "kind": "rectification",
        "title": f"关于{app}等App违法违规收集使用个人信息情况的通报（{batch}）",
        "published_on": "2099-05-01",
        "batch": batch,
        "deadline": {
            "due_on": "2099-05-22",
            "rule": "working_days",
            "amount": 15,
            "source_text": "15个工作日内",
        },
        "entities": [{"kind": "app", "name": app}],
    }


@dataclass
class Pipeline:
    rt: Runtime
    settings: Settings
    hook: WebhookReceiver
    client: httpx.AsyncClient
    subscriber_id: str
    auth: dict[str, str]
    bootstrap: str

    @property
    def topics(self) -> Topics:
        return self.settings.topics

    def group(self, service: str) -> str:
        return self.settings.group_id(service)

    async def produce(self, topic: str, value: bytes, key: str) -> RecordMetadata:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            return await producer.send_and_wait(topic, value, key=key.encode())
        finally:
            await producer.stop()

    def alerts_for(self, notice_id: str) -> list[RecordedRequest]:
        return [
            r for r in self.hook.requests if r.json()["data"]["notice"]["notice_id"] == notice_id
        ]

    async def one_alert(self, notice_id: str, timeout: float = 25) -> RecordedRequest:  # noqa: ASYNC109
        """The single alert about ``notice_id``: waits for it, then long enough for a second
        one to show up, and fails on none or more than one."""
        deadline = time.monotonic() + timeout
        while not self.alerts_for(notice_id):
            assert time.monotonic() < deadline, f"no alert about {notice_id} within {timeout}s"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
        [alert] = self.alerts_for(notice_id)
        assert alert.json()["data"]["subscriber_id"] == self.subscriber_id
        return alert


@pytest.fixture
async def pipeline(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> AsyncIterator[Pipeline]:
    async with WebhookReceiver() as hook:
        settings = fast_settings(
            kafka_bootstrap,
            broker_kind,
            namespace,
            tmp_path,
            smtp_port=1,  # subscribers here have no email address
        )
        rt = Runtime(settings)
        await rt.start()
        try:
            async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
                created = await client.post(
                    "/v1/subscribers", json={"name": "Risk", "webhook_url": hook.url}
                )
                assert created.status_code == 201, created.text
                auth = {"Authorization": f"Bearer {created.json()['api_key']}"}
                watch = await client.post(
                    "/v1/watches", json={"kind": "app", "name": "抖音"}, headers=auth
                )
                assert watch.status_code == 201, watch.text
                yield Pipeline(
                    rt, settings, hook, client, created.json()["id"], auth, kafka_bootstrap
                )
        finally:
            await rt.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    count: int,
    timeout: float = 20,  # noqa: ASYNC109
    settle: float = 1.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` from the beginning: waits for at least ``count``, then
    ``settle`` seconds more so that any extra record is in the answer too."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout
        settled: float | None = None
        while True:
            batch = await consumer.getmany(timeout_ms=200)
            for items in batch.values():
                records.extend(items)
            now = time.monotonic()
            if settled is None and len(records) >= count:
                settled = now + settle
            if settled is not None and now >= settled:
                break
            if settled is None and now >= deadline:
                raise AssertionError(f"{topic}: {len(records)} records, expected {count}")
    finally:
        await consumer.stop()
    return records


def headers_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def check_dead_letter(
    record: ConsumerRecord[bytes, bytes],
    poison: bytes,
    sent: RecordMetadata,
    key: str,
    group: str,
) -> dict[str, str]:
    """The dead-lettered copy: the original bytes and key, where it came from, the error."""
    assert record.value == poison
    assert record.key == key.encode()
    headers = headers_of(record)
    assert headers["x-regwatch-original-topic"] == sent.topic
    assert headers["x-regwatch-original-partition"] == str(sent.partition)
    assert headers["x-regwatch-original-offset"] == str(sent.offset)
    assert headers["x-regwatch-consumer-group"] == group
    assert headers["x-regwatch-error-type"] == "ValidationError", headers
    assert headers["x-regwatch-error"].startswith("ValidationError: ")
    lettered = datetime.fromisoformat(headers["x-regwatch-dead-lettered-at"])
    assert abs((datetime.now(UTC) - lettered).total_seconds()) < 120
    return headers


# --- notices.v1: the matcher --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_poison_notice_is_dead_lettered_and_the_next_notice_matched(
    pipeline: Pipeline, kind: str
) -> None:
    topic = pipeline.topics.notices
    good = notice_json("cac-20990501-poison-next", "抖音", "第1批")
    invalid = {**good, "published_on": "yesterday"}  # JSON, but no NoticeEvent
    poison = NOT_JSON if kind == "not-json" else json.dumps(invalid).encode()
    key = good["notice_id"]

    sent = await pipeline.produce(topic, poison, key)
    after = await pipeline.produce(topic, json.dumps(good, ensure_ascii=False).encode(), key)
    assert (after.partition, after.offset) == (sent.partition, sent.offset + 1)

    alert = await pipeline.one_alert(key)
    assert [m["entity"]["name"] for m in alert.json()["data"]["matches"]] == ["抖音"]
    [dead] = await read_topic(pipeline.bootstrap, Topics.dlq(topic), 1)
    check_dead_letter(dead, poison, sent, key, pipeline.group("matcher"))


# --- matches.v1: the notifier --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_poison_match_is_dead_lettered_and_the_next_match_delivered(
    pipeline: Pipeline, kind: str
) -> None:
    topic = pipeline.topics.matches
    event = match_event(pipeline.subscriber_id, date(2099, 8, 22))
    event.match_id = "match_poison_next"
    event.notice.notice_id = "miit-20990801-poison-next"
    event.matched_at = datetime.now(UTC)
    good = event.dump()
    invalid = {**good, "matches": []}  # a MatchEvent names at least one match
    poison = NOT_JSON if kind == "not-json" else json.dumps(invalid).encode()
    key = pipeline.subscriber_id

    sent = await pipeline.produce(topic, poison, key)
    after = await pipeline.produce(topic, json.dumps(good, ensure_ascii=False).encode(), key)
    assert (after.partition, after.offset) == (sent.partition, sent.offset + 1)

    alert = await pipeline.one_alert(event.notice.notice_id)
    assert alert.json()["type"] == "notice.matched"
    [dead] = await read_topic(pipeline.bootstrap, Topics.dlq(topic), 1)
    check_dead_letter(dead, poison, sent, key, pipeline.group("notifier"))


# --- watchlist.v1: the notifier, the retroactive matcher, the live index -------------------


async def stored_by_matcher(pipeline: Pipeline, notice_id: str, timeout: float = 20) -> None:  # noqa: ASYNC109
    assert pipeline.rt.db is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with pipeline.rt.db.session() as session:
            if await session.get(StoredNoticeRow, notice_id) is not None:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the matcher did not store {notice_id} within {timeout}s")


async def reminders_of(pipeline: Pipeline, notice_id: str) -> list[dict[str, Any]]:
    answer = await pipeline.client.get("/v1/reminders", headers=pipeline.auth)
    assert answer.status_code == 200, answer.text
    return [r for r in answer.json() if r["notice_id"] == notice_id]


@pytest.mark.parametrize("kind", KINDS)
async def test_poison_watchlist_event_is_dead_lettered_by_each_group_and_both_go_on(
    pipeline: Pipeline, kind: str
) -> None:
    topic = pipeline.topics.watchlist
    client, auth = pipeline.client, pipeline.auth
    # a notice naming an app nobody watches yet: stored by the matcher, no alert
    notice = notice_json("cac-20990501-retro", "快手", "第2批")
    posted = await client.post("/v1/notices", json=notice)
    assert posted.status_code == 201, posted.text
    await stored_by_matcher(pipeline, notice["notice_id"])

    invalid = {
        "schema": "regwatch.watchlist/v1",
        "op": "renamed",  # not an operation
        "subscriber_id": pipeline.subscriber_id,
        "watch": {"id": 1, "kind": "app", "name": "抖音"},
        "at": datetime.now(UTC).isoformat(),
    }
    poison = NOT_JSON if kind == "not-json" else json.dumps(invalid).encode()
    key = pipeline.subscriber_id
    sent = await pipeline.produce(topic, poison, key)

    # then real changes, published by the matcher's outbox under the same key: after the poison
    added = await client.post("/v1/watches", json={"kind": "app", "name": "快手"}, headers=auth)
    assert added.status_code == 201, added.text

    # the retroactive matcher went on: the stored notice matches the new watch, alerted once
    alert = await pipeline.one_alert(notice["notice_id"])
    assert [m["entity"]["name"] for m in alert.json()["data"]["matches"]] == ["快手"]
    assert pipeline.rt.db is not None
    async with pipeline.rt.db.session() as session:
        causes = (
            await session.scalars(
                select(AlertRow.cause).where(AlertRow.notice_id == notice["notice_id"])
            )
        ).all()
    assert causes == ["watch"]

    # the notifier's watchlist consumer went on: removing the watch cancels its reminders
    scheduled = await reminders_of(pipeline, notice["notice_id"])
    assert scheduled and {r["status"] for r in scheduled} == {"scheduled"}
    removed = await client.delete(f"/v1/watches/{added.json()['id']}", headers=auth)
    assert removed.status_code == 204, removed.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        statuses = {r["status"] for r in await reminders_of(pipeline, notice["notice_id"])}
        if statuses == {"cancelled"}:
            break
        await asyncio.sleep(0.1)
    assert statuses == {"cancelled"}, "the notifier did not get past the poison"

    events = await read_topic(pipeline.bootstrap, topic, 3)
    ours = [r for r in events if r.key == key.encode()]
    assert [r.offset for r in ours if r.value == poison] == [sent.offset]
    assert all(r.partition == sent.partition for r in ours)
    assert [json.loads(r.value)["op"] for r in ours if r.offset > sent.offset] == [
        "added",
        "removed",
    ]

    # dead-lettered once by each consumer group that read it; the live index has no group
    dead = await read_topic(pipeline.bootstrap, Topics.dlq(topic), 2)
    assert len(dead) == 2, [headers_of(r) for r in dead]
    groups = {pipeline.group("notifier-watchlist"), pipeline.group("matcher-retro")}
    assert {headers_of(r)["x-regwatch-consumer-group"] for r in dead} == groups
    for record in dead:
        check_dead_letter(
            record, poison, sent, key, headers_of(record)["x-regwatch-consumer-group"]
        )
