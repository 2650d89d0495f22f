"""Broker factory: FastStream ``KafkaBroker`` with commit-after-success and a dead-letter topic.

Ack policy: a message's offset is committed only after its handler returned. A handler that
fails with a :class:`TransientError` (or a database connection error) is nacked, so the
message is redelivered; any other failure sends the message to ``<topic>.dlq`` with error
headers and commits it, so the partition keeps moving and nothing is dropped silently.

Middlewares, outermost first: correlation (puts the ``x-regwatch-*-id`` headers of the consumed
message into the log context and remembers when its notice was published), dead-letter, and
FastStream's own Prometheus middleware (generic ``regwatch_received_messages_*`` /
``regwatch_published_messages_*`` families).
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import MappingProxyType
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from faststream import AckPolicy, BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from pydantic import BaseModel, ValidationError

from shared.errors import TransientError
from shared.logging import get_logger, log_context
from shared.metrics import PREFIX, REGISTRY, observe_dead_letter, remember_notice_published
from shared.settings import Settings
from shared.topics import NOTICES, Topics

log = get_logger("regwatch.broker")

E = TypeVar("E", bound=BaseModel)

ACK_POLICY = AckPolicy.NACK_ON_ERROR

NOTICE_ID_HEADER = "x-regwatch-notice-id"
MATCH_ID_HEADER = "x-regwatch-match-id"
ALERT_ID_HEADER = "x-regwatch-alert-id"
SUBSCRIBER_ID_HEADER = "x-regwatch-subscriber-id"
PUBLISHED_AT_HEADER = "x-regwatch-notice-published-at"
DLQ_HEADER_PREFIXES = (
    "x-regwatch-error",
    "x-regwatch-original-",
    "x-regwatch-dead-lettered-at",
    "x-regwatch-trace",
    "x-regwatch-consumer-group",
)


def is_transient(exc: BaseException) -> bool:
    # imported here: ``regwatch run`` starts its consumers before the database layer is loaded
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, TransientError | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass
class BrokerHandle:
    """Lets middlewares reach the broker they belong to (set once the broker exists)."""

    broker: KafkaBroker | None = None
    dead_lettered: list[str] = field(default_factory=list)


def dlq_headers(msg: StreamMessage[Any], exc: BaseException, group: str | None) -> dict[str, str]:
    return record_dlq_headers(msg.raw_message, exc, group)


def record_dlq_headers(raw: Any, exc: BaseException, group: str | None) -> dict[str, str]:
    """The error headers of a dead-lettered record: the error, when, the consumer group and
    where the record was (topic, partition, offset)."""
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


def correlation_ids(headers: Mapping[str, Any]) -> dict[str, str]:
    """Log fields from a message's headers: ``notice_id``, ``alert_id`` (or the match id) and
    ``subscriber_id``."""
    fields: dict[str, str] = {}
    notice = headers.get(NOTICE_ID_HEADER)
    alert = headers.get(ALERT_ID_HEADER) or headers.get(MATCH_ID_HEADER)
    subscriber = headers.get(SUBSCRIBER_ID_HEADER)
    if notice:
        fields["notice_id"] = str(notice)
    if alert:
        fields["alert_id"] = str(alert)
    if subscriber:
        fields["subscriber_id"] = str(subscriber)
    return fields


def _parse_time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def notice_time(msg: StreamMessage[Any]) -> tuple[datetime, bool] | None:
    return record_notice_time(msg.headers or {}, msg.raw_message)


def record_notice_time(headers: Mapping[str, Any], raw: Any) -> tuple[datetime, bool] | None:
    """When the notice behind ``msg`` was published, and whether that is exact.

    Exact: the ``x-regwatch-notice-published-at`` header, or the Kafka timestamp of a record on
    the notices topic (the NoticeEvent itself). Otherwise the record timestamp of a message
    that names the notice (a MatchEvent): an upper bound."""
    if PUBLISHED_AT_HEADER in headers:
        parsed = _parse_time(headers[PUBLISHED_AT_HEADER])
        return (parsed, True) if parsed is not None else None
    timestamp = getattr(raw, "timestamp", None)
    if NOTICE_ID_HEADER not in headers or not isinstance(timestamp, int) or timestamp <= 0:
        return None
    topic = str(getattr(raw, "topic", ""))
    return datetime.fromtimestamp(timestamp / 1000, UTC), topic.endswith(NOTICES)


def remember(headers: Mapping[str, Any], raw: Any) -> None:
    """Note when the notice a record names was published (for the end-to-end latency)."""
    notice_id = headers.get(NOTICE_ID_HEADER)
    known = record_notice_time(headers, raw) if notice_id else None
    if known is not None:
        remember_notice_published(str(notice_id), known[0], exact=known[1])


class CorrelationMiddleware(BaseMiddleware):
    """Correlation ids from headers into every log line inside the handler; remembers when the
    notice behind a message was published (for ``regwatch_e2e_latency_seconds``)."""

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        headers = msg.headers or {}
        raw = msg.raw_message
        if isinstance(raw, tuple):  # a batch: each record's notice
            for record, each in zip(raw, getattr(msg, "batch_headers", ()), strict=False):
                remember(each, record)
        else:
            remember(headers, raw)
        with log_context(**correlation_ids(headers)):
            return await call_next(msg)


_contexts: weakref.WeakSet[Any] = weakref.WeakSet()


class FastStreamCorrelationFilter(logging.Filter):
    """Adds ``notice_id``/``alert_id`` to FastStream's own lines ("Received", "Processed"),
    which are logged outside the broker middlewares, from the message being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        for context in list(_contexts):
            message = context.get_local("message")
            if message is None:
                continue
            for key, value in correlation_ids(getattr(message, "headers", None) or {}).items():
                if not hasattr(record, key):
                    setattr(record, key, value)
            break
        return True


_FASTSTREAM_LOGGER = "regwatch.faststream"


def _faststream_logger() -> logging.Logger:
    logger = get_logger(_FASTSTREAM_LOGGER)
    if not any(isinstance(f, FastStreamCorrelationFilter) for f in logger.filters):
        logger.addFilter(FastStreamCorrelationFilter())
    return logger


def consumer_group(subscriber: Any, raw: Any) -> str | None:
    """The group of the subscriber handling a message (FastStream keeps it in the context)."""
    group = getattr(subscriber, "group_id", None)
    if not group:
        group = getattr(getattr(raw, "consumer", None), "_group_id", None)
    return str(group) if group else None


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
                group = consumer_group(self.context.get_local("handler_"), raw)
                target = Topics.dlq(topic)
                kept = {  # the original headers (correlation ids, content type), not old errors
                    k: v
                    for k, v in (msg.headers or {}).items()
                    if not k.startswith(DLQ_HEADER_PREFIXES)
                }
                await handle.broker.publish(
                    msg.body,
                    topic=target,
                    key=getattr(raw, "key", None),
                    headers={**kept, **dlq_headers(msg, exc, group)},
                )
                handle.dead_lettered.append(target)
                observe_dead_letter(topic, type(exc).__name__)
                log.error(
                    "message dead-lettered",
                    extra={"topic": topic, "dlq": target, "error": f"{type(exc).__name__}: {exc}"},
                )
                return None

    return DeadLetterMiddleware


async def dead_letter_record(
    broker: KafkaBroker, topic: str, group: str, raw: Any, body: Any, exc: BaseException
) -> None:
    """One record of a batch that cannot be handled goes to ``<topic>.dlq`` with the error
    headers and its own headers (a batch consumer cannot use the dead-letter middleware,
    which works per message; the rest of the batch is handled)."""
    value = getattr(raw, "value", None)
    if value is None:
        value = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    kept = {  # the record's own headers (correlation ids, content type), not old errors
        name: bytes(text).decode("utf-8", "replace")
        for name, text in (getattr(raw, "headers", None) or ())
        if not name.startswith(DLQ_HEADER_PREFIXES)
    }
    headers = {**kept, **record_dlq_headers(raw, exc, group)}
    headers.setdefault("x-regwatch-original-topic", topic)
    await broker.publish(
        value, topic=Topics.dlq(topic), key=getattr(raw, "key", None), headers=headers
    )
    observe_dead_letter(topic, type(exc).__name__)
    log.error(
        "message dead-lettered",
        extra={"topic": topic, "dlq": Topics.dlq(topic), "error": headers["x-regwatch-error"]},
    )


async def validated_batch(
    broker: KafkaBroker,
    topic: str,
    group: str,
    model: type[E],
    bodies: Sequence[Any],
    message: StreamMessage[Any],
) -> list[tuple[E, Any]]:
    """A batch's records that are ``model``, each with its Kafka record; a record that is not
    goes to ``<topic>.dlq`` on its own (:func:`dead_letter_record`). Bodies may be bytes or
    text (validated as JSON) or already decoded."""
    records = message.raw_message
    raws: tuple[Any, ...] = records if isinstance(records, tuple) else (records,)
    valid: list[tuple[E, Any]] = []
    for position, body in enumerate(bodies):
        raw = raws[position] if position < len(raws) else None
        try:
            if isinstance(body, bytes | str):
                valid.append((model.model_validate_json(body), raw))
            else:
                valid.append((model.model_validate(body), raw))
        except ValidationError as exc:
            await dead_letter_record(broker, topic, group, raw, body, exc)
    return valid


async def raw_bodies(msg: StreamMessage[Any]) -> list[bytes]:
    """A batch subscriber's decoder: each record's bytes as they are, so one record that is
    not JSON never fails the others (each is validated, and dead-lettered, on its own)."""
    body = msg.body
    return [bytes(b) for b in body] if isinstance(body, list) else [bytes(body)]


def _consumer_with(
    builder: Callable[..., AIOKafkaConsumer], options: dict[str, Any], **kwargs: Any
) -> AIOKafkaConsumer:
    return builder(**{**kwargs, **options})


class EarlyConsumerMismatch(RuntimeError):
    """A consumer declared to start early is not the one a service registers, or no service
    registers it (its group would hold partitions nobody reads)."""


class ConcurrentStartBroker(KafkaBroker):
    """FastStream's ``KafkaBroker`` whose subscribers start together, some before their
    handlers exist.

    aiokafka's ``AIOKafkaConsumer.start()`` returns once its group has assigned partitions,
    which takes a join round (about 5 s on the embedded broker at aiokafka's defaults, 1 s at
    its ``CONSUMER_OPTIONS``); FastStream starts subscribers one after another, so five
    subscribers cost five rounds. Started together they cost one.

    :meth:`declare_early` and :meth:`start_early` start a group's consumer before the code that
    handles its messages is imported (``regwatch run`` on the embedded broker: the join round
    overlaps the imports). The service's own ``subscriber(...)`` call with the same topics and
    options then gets that subscriber, and :meth:`start` starts its one consume loop, unless
    FastStream's own start did (a handler registered while the group was joining, see
    :func:`_consuming`): on the embedded broker nothing is there to read before the services
    start.
    """

    consumer_options: Mapping[str, Any] = MappingProxyType({})
    """aiokafka consumer settings every subscriber gets over its own (``make_broker``'s
    ``consumer_options``: the embedded broker's short group session timeout)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._declared: dict[tuple[tuple[str, ...], str | None], tuple[dict[str, Any], Any]] = {}
        self._claimed: set[tuple[tuple[str, ...], str | None]] = set()
        self._started_early: list[Any] = []
        self._options_applied = False

    def declare_early(self, *topics: str, **options: Any) -> None:
        """A subscriber of ``topics`` in ``options["group_id"]`` that :meth:`start_early`
        starts before any handler is registered; a later ``subscriber(*topics, **options)``
        must repeat exactly these arguments (:class:`EarlyConsumerMismatch` otherwise)."""
        key = (topics, options.get("group_id"))
        if key in self._declared:
            raise EarlyConsumerMismatch(f"{topics} in group {key[1]} is declared twice")
        subscriber = super().subscriber(*topics, **options)
        self._declared[key] = (dict(options), subscriber)

    def subscriber(self, *topics: Any, **options: Any) -> Any:
        key = (topics, options.get("group_id"))
        declared = self._declared.get(key)
        if declared is None:
            return super().subscriber(*topics, **options)
        expected, subscriber = declared
        if key in self._claimed or options != expected:
            raise EarlyConsumerMismatch(
                f"{topics} in group {key[1]} registered with {options!r}, declared to start "
                f"early with {expected!r} (shared by one handler only)"
            )
        self._claimed.add(key)
        return subscriber

    def _apply_consumer_options(self) -> None:
        if self.consumer_options and not self._options_applied:
            config = self.config.broker_config
            config.builder = partial(_consumer_with, config.builder, dict(self.consumer_options))
        self._options_applied = True

    async def start_early(self) -> None:
        """Connect and start the declared subscribers together (their groups join); their
        messages wait until :meth:`start`."""
        await self.connect()
        self._apply_consumer_options()
        early = [subscriber for _, subscriber in self._declared.values()]
        self._started_early = early
        await asyncio.gather(*(subscriber.start() for subscriber in early))

    def unclaimed(self) -> list[str]:
        """The subscribers declared to start early that no ``subscriber(...)`` call claimed."""
        return sorted(f"{k[0]} in group {k[1]}" for k in set(self._declared) - self._claimed)

    async def start(self) -> None:
        unclaimed = self.unclaimed()
        if unclaimed:
            raise EarlyConsumerMismatch(
                f"declared to start early but registered by no service: {', '.join(unclaimed)}"
            )
        await self.connect()
        self._apply_consumer_options()
        early = self._started_early
        for subscriber in early:  # started without handlers: their consume loops start now
            subscriber._build_fastdepends_model()
            if subscriber.calls and not _consuming(subscriber):
                subscriber.add_task(subscriber._run_consume_loop, (subscriber.consumer,))
        started = {id(subscriber) for subscriber in early}
        later = [subscriber for subscriber in self.subscribers if id(subscriber) not in started]
        await asyncio.gather(*(subscriber.start() for subscriber in later))
        for publisher in self.publishers:
            await publisher.start()
        self.running = True


def _consuming(subscriber: Any) -> bool:
    """Whether the subscriber's consume loop already runs. FastStream's own ``start()`` starts
    it when a handler is registered by the time the group's join returns: a service built while
    :meth:`ConcurrentStartBroker.start_early` was joining (a warm start imports quickly). A
    second loop on the same consumer would handle two records at once, and each one's commit
    (aiokafka commits every position the consumer has read) would pass the other before it was
    handled: a kill then lost it. On the embedded broker that loop has read nothing yet (its log
    is empty until the services start)."""
    return any(not task.done() for task in getattr(subscriber, "tasks", ()))


def make_broker(
    settings: Settings,
    bootstrap: str,
    *,
    idempotent: bool = True,
    app_name: str = "regwatch",
    service: str | None = None,
    consumer_options: Mapping[str, Any] | None = None,
) -> ConcurrentStartBroker:
    """One broker per process. ``idempotent`` is off for the embedded Tansu broker;
    ``app_name`` is the ``app_name`` label of FastStream's Prometheus families; ``service``
    names what the process runs in its Kafka client id (``Settings.client_id``: every producer
    and consumer of the broker shows as ``regwatch-<service>-<host>-<pid>``);
    ``consumer_options`` override every subscriber's aiokafka consumer settings."""
    handle = BrokerHandle()
    prometheus = KafkaPrometheusMiddleware(
        registry=REGISTRY, app_name=app_name, metrics_prefix=PREFIX
    )
    broker = ConcurrentStartBroker(
        bootstrap,
        acks="all",
        enable_idempotence=idempotent,
        client_id=settings.client_id(service),
        middlewares=[CorrelationMiddleware, make_dlq_middleware(handle), prometheus],
        graceful_timeout=15.0,
        logger=_faststream_logger(),
    )
    broker.consumer_options = MappingProxyType(dict(consumer_options or {}))
    handle.broker = broker
    _contexts.add(broker.context)
    return broker


def encode(payload: dict[str, Any]) -> bytes:
    """Plain UTF-8 JSON, readable by kcat."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
