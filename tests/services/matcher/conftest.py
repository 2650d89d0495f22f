"""Fixtures of the matcher's tests (the pure matching package has its own tests below)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import Deadline, Entity, NoticeEvent, Regulator


def notice(
    notice_id: str,
    *entities: tuple[str, str | None],
    due_on: date | None = date(2099, 10, 22),
    published_on: date = date(2099, 10, 1),
) -> NoticeEvent:
    """A CAC notice naming ``entities`` (app name, developer)."""
    deadline = None
    if due_on is not None:
        deadline = Deadline(
            due_on=due_on, rule="working_days", amount=15, source_text="15个工作日内完成整改"
        )
    return NoticeEvent(
        notice_id=notice_id,
        regulator=Regulator(code="CAC", name="国家互联网信息办公室"),
        kind="rectification",
        title=f"关于{len(entities)}款App违法违规收集使用个人信息情况的通报",
        published_on=published_on,
        deadline=deadline,
        entities=[Entity(kind="app", name=name, developer=dev) for name, dev in entities],
    )


@pytest.fixture
def make_notice() -> Callable[..., NoticeEvent]:
    return notice


class TopicReader:
    """Reads a topic from its beginning (no consumer group) and keeps every JSON value."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.values: list[dict[str, Any]] = []
        self.keys: list[bytes | None] = []
        self.headers: list[dict[str, str]] = []
        self._consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for record in self._consumer:
            self.values.append(json.loads(record.value or b"null"))
            self.keys.append(record.key)
            self.headers.append({k: v.decode() for k, v in record.headers})

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], within: float = 30
    ) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate(self.values):
            if loop.time() > deadline:
                raise AssertionError(f"{self.topic}: condition not met; got {self.values}")
            await asyncio.sleep(0.05)
        return self.values

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


@pytest.fixture
async def topic_reader(kafka_bootstrap: str) -> AsyncIterator[Callable[[str], Any]]:
    readers: list[TopicReader] = []

    async def make(topic: str) -> TopicReader:
        reader = TopicReader(kafka_bootstrap, topic)
        await reader.start()
        readers.append(reader)
        return reader

    try:
        yield make
    finally:
        for reader in readers:
            await reader.stop()


@pytest.fixture
def make_subscriber() -> Callable[..., Awaitable[str]]:
    """``await make_subscriber(db, "A")`` -> the id of a new subscriber with an email."""

    async def make(db: Database, name: str = "A", **fields: Any) -> str:
        values: dict[str, Any] = {
            "name": name,
            "email": f"{name.lower()}@example.com",
            "webhook_url": None,
            "reminders": None,
            "default_reminders": "7d,3d,1d",
            "allow_private": True,
        }
        values.update(fields)
        async with db.session() as session:
            return (await register_subscriber(session, **values)).id

    return make
