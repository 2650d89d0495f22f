"""Kafka admin helpers: wait until a broker answers, create missing topics.

Works against Apache Kafka and the embedded Tansu broker alike (both verified): only the
Metadata and CreateTopics APIs are used, through aiokafka's ``AIOKafkaAdminClient``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from shared.kafka_client_id import process_client_id

__all__ = ["ensure_topics", "wait_for_broker"]

_RETRY_DELAY = 0.2


def _admin(bootstrap: str, request_timeout: float) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id=process_client_id("regwatch-admin"),
        request_timeout_ms=max(1000, int(request_timeout * 1000)),
    )


async def _close(admin: AIOKafkaAdminClient) -> None:
    with contextlib.suppress(Exception):  # closing a half-started client
        await admin.close()


def _address(server: str) -> tuple[str, int]:
    address = server.strip().split("://", 1)[-1]
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"bootstrap servers must be host:port[,host:port...], got {server!r}")
    return host.strip("[]"), int(port)


async def _accepts_tcp(bootstrap: str, limit: float) -> bool:
    """Cheap pre-check, so a broker that is not up yet does not make aiokafka log errors."""
    for server in bootstrap.split(","):
        host, port = _address(server)
        try:
            async with asyncio.timeout(limit):
                _reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError):
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


async def wait_for_broker(bootstrap: str, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
    """Wait until the Kafka API at ``bootstrap`` answers a metadata request.

    A TCP connect is not enough (a starting broker accepts connections before it serves
    requests). Returns the cluster description; raises ``TimeoutError`` naming the last error.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(
                f"Kafka broker at {bootstrap} did not answer within {timeout:g}s"
                + (f" (last error: {type(last).__name__}: {last})" if last else "")
            )
        if not await _accepts_tcp(bootstrap, min(2.0, remaining)):
            last = ConnectionRefusedError(f"nothing accepts connections at {bootstrap}")
            await asyncio.sleep(min(_RETRY_DELAY, max(0.0, deadline - time.monotonic())))
            continue
        admin = _admin(bootstrap, min(5.0, max(1.0, remaining)))
        try:
            async with asyncio.timeout(max(remaining, 0.5)):
                await admin.start()
                cluster = await admin.describe_cluster()
            if cluster.get("brokers"):
                return cluster
            last = RuntimeError("metadata lists no brokers yet")
        except (KafkaError, OSError, TimeoutError) as exc:
            last = exc
        finally:
            await _close(admin)
        await asyncio.sleep(min(_RETRY_DELAY, max(0.0, deadline - time.monotonic())))


def _topic_errors(response: Any) -> Iterable[tuple[str, int, str | None]]:
    for entry in response.topic_errors:
        topic, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        yield topic, code, message


async def _ready_topics(admin: AIOKafkaAdminClient, topics: list[str]) -> set[str]:
    """Topics whose metadata lists every partition with a leader."""
    ready: set[str] = set()
    for meta in await admin.describe_topics(topics):
        partitions = meta.get("partitions") or []
        if (
            meta.get("error_code", 0) == 0
            and partitions
            and all(p.get("leader", -1) >= 0 for p in partitions)
        ):
            ready.add(meta["topic"])
    return ready


async def ensure_topics(
    bootstrap: str,
    topics: list[str],
    partitions: int,
    *,
    replication: int = 1,
    configs: dict[str, str] | None = None,
    timeout: float = 30,  # noqa: ASYNC109 - public signature; applies to the whole call
) -> None:
    """Create the topics that do not exist yet and wait until all of them have leaders.

    ``configs`` are topic configs for the created topics (e.g. ``{"retention.ms": "-1"}``).
    Existing topics are left as they are (their partition count and configs are not changed);
    ``TopicAlreadyExists`` from a concurrent creator is ignored. Any other broker error is
    raised as the matching ``aiokafka.errors`` exception.
    """
    wanted = list(dict.fromkeys(topics))
    if not wanted:
        return
    deadline = time.monotonic() + timeout
    await wait_for_broker(bootstrap, timeout)
    admin = _admin(bootstrap, min(timeout, 30.0))
    try:
        async with asyncio.timeout(max(0.5, deadline - time.monotonic())):
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                response = await admin.create_topics(
                    [
                        NewTopic(t, partitions, replication, topic_configs=dict(configs or {}))
                        for t in missing
                    ],
                    timeout_ms=max(1000, int((deadline - time.monotonic()) * 1000)),
                )
                for topic, code, message in _topic_errors(response):
                    if code == 0 or code == TopicAlreadyExistsError.errno:
                        continue
                    error_cls = for_code(code)
                    raise error_cls(f"creating topic {topic!r}: {message or error_cls.__name__}")
            while True:
                pending = set(wanted) - await _ready_topics(admin, wanted)
                if not pending:
                    return
                await asyncio.sleep(_RETRY_DELAY)
    except TimeoutError:
        raise TimeoutError(
            f"topics not ready on {bootstrap} within {timeout:g}s: {', '.join(wanted)}"
        ) from None
    finally:
        await _close(admin)
