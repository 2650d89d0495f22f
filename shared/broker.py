"""Broker factory: FastStream ``KafkaBroker`` with commit-after-success and a dead-letter topic.

Ack policy: a message's offset is committed only after its handler returned. A handler that
fails with a :class:`TransientError` (or a database connection error) is nacked, so the
message is redelivered; any other failure sends the message to ``<topic>.dlq`` with error
headers and commits it, so the partition keeps moving and nothing is dropped silently.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from faststream import AckPolicy, BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.errors import TransientError
from shared.logging import get_logger
from shared.settings import Settings
from shared.topics import Topics

log = get_logger("regwatch.broker")

ACK_POLICY = AckPolicy.NACK_ON_ERROR


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass
class BrokerHandle:
    """Lets middlewares reach the broker they belong to (set once the broker exists)."""

    broker: KafkaBroker | None = None
    dead_lettered: list[str] = field(default_factory=list)


def dlq_headers(msg: StreamMessage[Any], exc: BaseException, group: str | None) -> dict[str, str]:
    raw = msg.raw_message
    headers = {
        "x-regwatch-error": f"{type(exc).__name__}: {exc}"[:2000],
        "x-regwatch-error-type": type(exc).__name__,
        "x-regwatch-dead-lettered-at": datetime.now(UTC).isoformat(),
        "x-regwatch-trace": "".join(traceback.format_exception_only(type(exc), exc))[:2000],
    }
    if group:
        headers["x-regwatch-consumer-group"] = group
    topic = getattr(raw, "topic", None)
    if topic is not None:
        headers["x-regwatch-original-topic"] = str(topic)
        headers["x-regwatch-original-partition"] = str(getattr(raw, "partition", ""))
        headers["x-regwatch-original-offset"] = str(getattr(raw, "offset", ""))
    return headers


def make_dlq_middleware(handle: BrokerHandle) -> Callable[..., BaseMiddleware]:
    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
        ) -> Any:
            try:
                return await call_next(msg)
            except Exception as exc:
                if is_transient(exc) or handle.broker is None:
                    log.warning("transient failure, message will be redelivered: %s", exc)
                    raise
                raw = msg.raw_message
                topic = getattr(raw, "topic", None)
                if not isinstance(topic, str):
                    raise
                group = getattr(getattr(raw, "consumer", None), "_group_id", None)
                target = Topics.dlq(topic)
                await handle.broker.publish(
                    msg.body,
                    topic=target,
                    key=getattr(raw, "key", None),
                    headers=dlq_headers(msg, exc, group),
                )
                handle.dead_lettered.append(target)
                log.error(
                    "message dead-lettered",
                    extra={"topic": topic, "dlq": target, "error": f"{type(exc).__name__}: {exc}"},
                )
                return None

    return DeadLetterMiddleware


def make_broker(settings: Settings, bootstrap: str, *, idempotent: bool = True) -> KafkaBroker:
    """One broker per process. ``idempotent`` is off for the embedded Tansu broker."""
    handle = BrokerHandle()
    broker = KafkaBroker(
        bootstrap,
        acks="all",
        enable_idempotence=idempotent,
        client_id="regwatch",
        middlewares=[make_dlq_middleware(handle)],
        graceful_timeout=15.0,
        logger=get_logger("regwatch.faststream"),
    )
    handle.broker = broker
    return broker


def encode(payload: dict[str, Any]) -> bytes:
    """Plain UTF-8 JSON, readable by kcat."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
