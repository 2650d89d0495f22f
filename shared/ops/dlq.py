"""Dead-lettered messages: list them with their error headers, replay them to their topic.

A replay republishes the original bytes and key to the topic named by the message's
``x-regwatch-original-topic`` header, with its original headers (correlation ids), minus the
error headers, plus ``x-regwatch-replayed-from: <dlq topic>:<partition>:<offset>`` and
``x-regwatch-replayed-at``. The consumers are idempotent (the notifier's ledger, stable match
ids), so replaying a message twice delivers nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

from shared.broker import DLQ_HEADER_PREFIXES
from shared.errors import InputError
from shared.kafka_client_id import process_client_id
from shared.ops.kafka import admin_client, offsets, partitions_of, plain_consumer
from shared.ops.records import headers_of, read_to_end, record_dict, text_of
from shared.topics import DLQ_SUFFIX

REPLAYED_FROM = "x-regwatch-replayed-from"
REPLAYED_AT = "x-regwatch-replayed-at"
_ERROR_FIELDS = {
    "x-regwatch-error": "error",
    "x-regwatch-error-type": "error_type",
    "x-regwatch-original-topic": "original_topic",
    "x-regwatch-original-partition": "original_partition",
    "x-regwatch-original-offset": "original_offset",
    "x-regwatch-consumer-group": "consumer_group",
    "x-regwatch-dead-lettered-at": "dead_lettered_at",
}


def dead_letter_dict(record: Any) -> dict[str, Any]:
    """A dead-lettered record: where it came from, the error, then the record itself."""
    headers = headers_of(record)
    entry: dict[str, Any] = {field: headers.get(name) for name, field in _ERROR_FIELDS.items()}
    entry.update(record_dict(record))
    return entry


async def dlq_topics(bootstrap: str, candidates: list[str]) -> list[str]:
    """The dead-letter topics among ``candidates`` that exist on the broker."""
    async with admin_client(bootstrap) as admin:
        found = await partitions_of(admin, [t for t in candidates if t.endswith(DLQ_SUFFIX)])
    return list(found)


async def _records(bootstrap: str, topic: str) -> list[Any]:
    async with admin_client(bootstrap) as admin:
        found = await partitions_of(admin, [topic])
    if topic not in found:
        raise InputError(f"dead-letter topic {topic!r} does not exist on {bootstrap}")
    async with plain_consumer(bootstrap) as consumer:
        tps = [TopicPartition(topic, p) for p in found[topic]]
        begin, end = await offsets(consumer, found)
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, begin[tp])
        records = await read_to_end(consumer, end, begin)
    return sorted(records, key=lambda r: (r.partition, r.offset))


async def list_dead_letters(bootstrap: str, topics: list[str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for topic in topics:
        entries.extend(dead_letter_dict(r) for r in await _records(bootstrap, topic))
    return entries


def replay_headers(record: Any, now: datetime) -> list[tuple[str, bytes]]:
    kept = [
        (str(k), v or b"")
        for k, v in (record.headers or ())
        if not str(k).startswith((*DLQ_HEADER_PREFIXES, REPLAYED_FROM, REPLAYED_AT))
    ]
    origin = f"{record.topic}:{record.partition}:{record.offset}"
    return [
        *kept,
        (REPLAYED_FROM, origin.encode()),
        (REPLAYED_AT, now.isoformat(timespec="milliseconds").encode()),
    ]


async def replay(
    bootstrap: str,
    topic: str,
    *,
    offset: int | None = None,
    partition: int | None = None,
    replay_all: bool = False,
    idempotent: bool = True,
) -> list[dict[str, Any]]:
    """Republish one message (``offset``, and ``partition`` when the offset is ambiguous) or
    all of them; returns what went where."""
    if replay_all == (offset is not None):
        raise InputError("give either --offset N or --all")
    records = await _records(bootstrap, topic)
    if offset is not None:
        chosen = [
            r
            for r in records
            if r.offset == offset and (partition is None or r.partition == partition)
        ]
        if not chosen:
            where = f" in partition {partition}" if partition is not None else ""
            raise InputError(f"{topic} has no message at offset {offset}{where}")
        if len(chosen) > 1:
            parts = ", ".join(str(r.partition) for r in chosen)
            raise InputError(f"{topic} has offset {offset} in partitions {parts}: give --partition")
    else:
        chosen = records
    missing = [r for r in chosen if not headers_of(r).get("x-regwatch-original-topic")]
    if missing and offset is not None:
        raise InputError(
            f"{topic}:{missing[0].partition}:{missing[0].offset} has no "
            "x-regwatch-original-topic header: cannot tell where to replay it"
        )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=process_client_id("regwatch-ops"),
        acks="all",
        enable_idempotence=idempotent,
    )
    await producer.start()
    done: list[dict[str, Any]] = []
    try:
        for record in chosen:
            source = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
            target = text_of(dict(record.headers or ()).get("x-regwatch-original-topic"))
            if not target:
                done.append({"from": source, "skipped": "no x-regwatch-original-topic header"})
                continue
            sent = await producer.send_and_wait(
                target,
                record.value,
                key=record.key,
                headers=replay_headers(record, datetime.now(UTC)),
            )
            done.append(
                {
                    "from": source,
                    "to": {"topic": sent.topic, "partition": sent.partition, "offset": sent.offset},
                }
            )
    finally:
        await producer.stop()
    return done
