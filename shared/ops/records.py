"""Kafka records as JSON-ready dicts, and reading a topic's partitions up to their end."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.errors import InputError
from shared.ops.kafka import admin_client, offsets, partitions_of, plain_consumer

STALL_SECONDS = 10.0


def text_of(data: bytes | None) -> str | None:
    """UTF-8 text, or ``base64:...`` for bytes that are not."""
    if data is None:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data).decode()


def value_of(data: bytes | None) -> Any:
    """The parsed JSON value (regwatch's values are plain UTF-8 JSON), else the text."""
    text = text_of(data)
    if text is None or text.startswith("base64:"):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def headers_of(record: ConsumerRecord[Any, Any]) -> dict[str, str | None]:
    return {str(k): text_of(v) for k, v in (record.headers or ())}


def timestamp_of(record: ConsumerRecord[Any, Any]) -> str | None:
    if not record.timestamp or record.timestamp < 0:
        return None
    moment = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    return moment.isoformat(timespec="milliseconds")


def record_dict(record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": timestamp_of(record),
        "key": text_of(record.key),
        "headers": headers_of(record),
        "value": value_of(record.value),
    }


def _order(record: ConsumerRecord[Any, Any]) -> tuple[int, int, int]:
    return (record.timestamp or 0, record.partition, record.offset)


async def _existing_partitions(bootstrap: str, topic: str) -> list[int]:
    async with admin_client(bootstrap) as admin:
        found = await partitions_of(admin, [topic])
    if topic not in found:
        raise InputError(f"topic {topic!r} does not exist on {bootstrap}")
    return found[topic]


async def read_to_end(
    consumer: AIOKafkaConsumer, end: dict[TopicPartition, int], start: dict[TopicPartition, int]
) -> list[ConsumerRecord[Any, Any]]:
    """Records from ``start`` up to the ``end`` offsets (gives up after a stall)."""
    records: list[ConsumerRecord[Any, Any]] = []
    remaining = {tp for tp in end if start[tp] < end[tp]}
    last_progress = time.monotonic()
    while remaining:
        batch = await consumer.getmany(*remaining, timeout_ms=500)
        for tp, items in batch.items():
            records.extend(r for r in items if r.offset < end[tp])
        for tp in list(remaining):
            if await consumer.position(tp) >= end[tp]:
                remaining.discard(tp)
        if batch:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > STALL_SECONDS:
            break
    return records


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    from_beginning: bool = False,
    limit: int | None = None,
    follow: bool = False,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Messages of ``topic`` as dicts: from the beginning (the first ``limit``), or the last
    ``limit`` (default 10) when not ``from_beginning``; then, with ``follow``, new messages
    until ``stop`` is set (or forever)."""
    if limit is not None and limit < 0:
        raise InputError(f"--limit must be 0 or more, not {limit}")
    if not from_beginning and limit is None:
        limit = 10
    partitions = await _existing_partitions(bootstrap, topic)
    async with plain_consumer(bootstrap) as consumer:
        tps = [TopicPartition(topic, p) for p in partitions]
        begin, end = await offsets(consumer, {topic: partitions})
        start: dict[TopicPartition, int] = {}
        consumer.assign(tps)
        for tp in tps:  # no await between assign and seek: nothing is fetched from elsewhere
            first = begin[tp] if from_beginning else max(begin[tp], end[tp] - (limit or 0))
            start[tp] = first
            consumer.seek(tp, first)
        backlog = sorted(await read_to_end(consumer, end, start), key=_order)
        if limit is not None:
            backlog = backlog[:limit] if from_beginning else backlog[max(0, len(backlog) - limit) :]
        for record in backlog:
            yield record_dict(record)
        for tp in tps:
            consumer.seek(tp, end[tp])
        while follow and not (stop is not None and stop.is_set()):
            batch = await consumer.getmany(timeout_ms=200)
            for record in sorted((r for items in batch.values() for r in items), key=_order):
                yield record_dict(record)
