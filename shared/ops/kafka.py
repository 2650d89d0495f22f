"""Where the broker is, what the short topic names mean, and offsets of topic partitions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.errors import InputError
from shared.kafka_admin import wait_for_broker
from shared.kafka_client_id import process_client_id
from shared.runtime_file import read_runtime_file
from shared.settings import Settings
from shared.topics import DLQ_SUFFIX

SHORT_NAMES = ("notices", "matches", "deliveries", "watchlist")


@dataclass(frozen=True)
class BrokerRef:
    bootstrap: str
    source: str  # "REGWATCH_KAFKA_BOOTSTRAP" or "embedded broker of the running regwatch"
    idempotent: bool


def resolve_broker(settings: Settings) -> BrokerRef:
    """The broker in settings, else the embedded one of a running ``regwatch run``."""
    if settings.kafka_bootstrap:
        return BrokerRef(
            settings.kafka_bootstrap, "REGWATCH_KAFKA_BOOTSTRAP", settings.kafka_idempotence
        )
    running = read_runtime_file(settings.data_dir)
    bootstrap = running.get("kafka_bootstrap") if running else None
    if not bootstrap:
        raise InputError(
            "no Kafka broker: set REGWATCH_KAFKA_BOOTSTRAP or start `regwatch run` "
            f"(no runtime.json in {settings.data_dir})"
        )
    return BrokerRef(str(bootstrap), "runtime.json of the running regwatch (embedded)", False)


def broker_in_use(settings: Settings) -> BrokerRef | None:
    """:func:`resolve_broker`, or None when no broker is set and no regwatch runs here."""
    try:
        return resolve_broker(settings)
    except InputError:
        return None


def resolve_topic(settings: Settings, name: str) -> str:
    """``notices`` -> ``[ns.]regwatch.notices.v1``; ``notices.dlq`` -> its dead-letter topic;
    anything else is taken as a full topic name."""
    name = name.strip()
    if not name:
        raise InputError("topic name is empty")
    base, dlq = (name[: -len(DLQ_SUFFIX)], True) if name.endswith(DLQ_SUFFIX) else (name, False)
    if base in SHORT_NAMES:
        full = getattr(settings.topics, base)
        return str(full) + DLQ_SUFFIX if dlq else str(full)
    return name


def dlq_topic(settings: Settings, name: str) -> str:
    """The dead-letter topic for ``name`` (short or full; with or without ``.dlq``)."""
    topic = resolve_topic(settings, name)
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


async def reachable(bootstrap: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Raise ``InputError`` naming the broker when it does not answer within ``timeout``."""
    try:
        await wait_for_broker(bootstrap, timeout=timeout)
    except (TimeoutError, ValueError) as exc:
        raise InputError(f"Kafka broker {bootstrap} is not reachable: {exc}") from None


@contextlib.asynccontextmanager
async def admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id=process_client_id("regwatch-ops"),
        request_timeout_ms=10_000,
    )
    await admin.start()
    try:
        yield admin
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


@contextlib.asynccontextmanager
async def plain_consumer(
    bootstrap: str, group_id: str | None = None
) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer that never joins a group (manual assignment, no commits)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        client_id=process_client_id("regwatch-ops"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=10_000,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


async def partitions_of(admin: AIOKafkaAdminClient, topics: Iterable[str]) -> dict[str, list[int]]:
    """Partitions of each topic that exists (missing topics are left out)."""
    wanted = list(dict.fromkeys(topics))
    if not wanted:
        return {}
    existing = set(await admin.list_topics())
    present = [t for t in wanted if t in existing]
    found: dict[str, list[int]] = {}
    if not present:
        return found
    for meta in await admin.describe_topics(present):
        if meta.get("error_code", 0) == 0:
            found[meta["topic"]] = sorted(p["partition"] for p in meta.get("partitions") or [])
    return {t: found[t] for t in present if t in found}


async def offsets(
    consumer: AIOKafkaConsumer, partitions: dict[str, list[int]]
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """(beginning offsets, end offsets) of every partition."""
    tps = [TopicPartition(t, p) for t, parts in partitions.items() for p in parts]
    if not tps:
        return {}, {}
    begin = await consumer.beginning_offsets(tps)
    end = await consumer.end_offsets(tps)
    return dict(begin), dict(end)
