"""Prometheus metrics of regwatch: every family is named ``regwatch_*``.

All metrics live in prometheus-client's default registry, so each process serves its own on
``/metrics`` (services/runtime.py). Services call the small ``observe_*`` helpers below; they
never touch the metric objects. FastStream's own Prometheus middleware (shared/broker.py) adds
the generic per-topic message families with the same ``regwatch`` prefix
(``regwatch_received_messages_total``, ``regwatch_published_messages_total``, ...).

End-to-end latency is measured from the moment the ``NoticeEvent`` was published to Kafka (the
Kafka timestamp of its record) to the moment its ``notice.matched`` alert was delivered. The
broker's correlation middleware remembers, per notice id, the time of every consumed record that
names the notice (:func:`remember_notice_published`): the NoticeEvent record itself when the
matcher runs in the same process (``regwatch run``), else the MatchEvent's record (a process
running only the notifier: the matcher's share is then left out), or the header
``x-regwatch-notice-published-at`` when a producer sets it. When the delivering process knows
neither (another notifier instance consumed the MatchEvent, or it was before a restart), the
ledger row's creation time is used.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from shared.errors import InputError

P = ParamSpec("P")
T = TypeVar("T")

__all__ = [
    "CONTENT_TYPE_LATEST",
    "PREFIX",
    "REGISTRY",
    "count_rejections",
    "current_intake_source",
    "intake_source",
    "notice_published_at",
    "observe_consumer_lag",
    "observe_dead_letter",
    "observe_delivery",
    "observe_e2e_latency",
    "observe_notice_ingested",
    "observe_notice_matched",
    "observe_notice_rejected",
    "observe_reminder_backlog",
    "rejection_reason",
    "remember_notice_published",
    "render",
]

PREFIX = "regwatch"
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)
_DELAY_BUCKETS = (0.1, 1, 5, 30, 60, 300, 1800, 3600, 7200, 18000, 36000, 86400)
_SEND_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_ATTEMPT_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10, 15)

NOTICES_INGESTED = Counter(
    "regwatch_notices_ingested",
    "Notices stored by the ingestor, by intake source, regulator and outcome "
    "(new, updated, unchanged)",
    ["source", "regulator", "outcome"],
)
NOTICES_REJECTED = Counter(
    "regwatch_notices_rejected",
    "Notices the ingestor refused, by intake source and reason",
    ["source", "reason"],
)
NOTICES_MATCHED = Counter(
    "regwatch_matcher_notices", "Notices the matcher processed (matching or not)"
)
MATCH_EVENTS = Counter(
    "regwatch_match_events",
    "MatchEvents published: one per (subscriber, notice) with at least one match",
)
MATCHES = Counter(
    "regwatch_matches", "Individual matches (watch item x named entity) in published MatchEvents"
)
DELIVERY_ATTEMPTS = Counter(
    "regwatch_delivery_attempts",
    "Delivery attempts by channel, alert type and outcome (delivered, retrying, failed)",
    ["channel", "type", "outcome"],
)
DELIVERIES = Counter(
    "regwatch_deliveries",
    "Deliveries that reached a final state, by channel, alert type and status (delivered, failed)",
    ["channel", "type", "status"],
)
DELIVERY_ATTEMPT_NUMBER = Histogram(
    "regwatch_delivery_attempts_per_delivery",
    "How many attempts a delivery took when it reached its final state",
    ["channel", "status"],
    buckets=_ATTEMPT_BUCKETS,
)
RETRY_DELAY = Histogram(
    "regwatch_delivery_retry_delay_seconds",
    "Delay before the next attempt of a delivery that will be retried",
    ["channel"],
    buckets=_DELAY_BUCKETS,
)
SEND_DURATION = Histogram(
    "regwatch_delivery_attempt_duration_seconds",
    "Time one delivery attempt took (SMTP conversation or webhook request)",
    ["channel"],
    buckets=_SEND_BUCKETS,
)
E2E_LATENCY = Histogram(
    "regwatch_e2e_latency_seconds",
    "Notice published to Kafka -> its notice.matched alert delivered, by channel",
    ["channel"],
    buckets=_LATENCY_BUCKETS,
)
DEAD_LETTERED = Counter(
    "regwatch_dead_lettered_messages",
    "Messages sent to a dead-letter topic, by original topic and error type",
    ["topic", "error_type"],
)
REMINDER_BACKLOG = Gauge(
    "regwatch_reminder_backlog",
    "Scheduled reminders: overdue (fire time passed, not fired yet) and due in the next 24 h",
    ["window"],
)
CONSUMER_LAG = Gauge(
    "regwatch_consumer_lag",
    "Messages not yet processed by a consumer group: end offset - committed offset",
    ["group", "topic", "partition"],
)
CONSUMER_LAG_UPDATED = Gauge(
    "regwatch_consumer_lag_updated_timestamp_seconds",
    "When this process last computed the consumer lag (Unix time)",
)

# --- ingestor -----------------------------------------------------------------------------------

_source: contextvars.ContextVar[str] = contextvars.ContextVar("regwatch_intake_source", default="")


@contextlib.contextmanager
def intake_source(source: str) -> Iterator[None]:
    """Label notices ingested inside this block with ``source`` (``http``, ``feed``, ...)."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def current_intake_source() -> str:
    """The intake source of the current context; ``file`` outside HTTP requests and feeds."""
    return _source.get() or "file"


_REASONS: tuple[tuple[str, str], ...] = (
    ("file is empty", "empty"),
    ("cannot decode", "undecodable"),
    ("unsupported file type", "unsupported_type"),
    ("no apps, sdks or companies", "no_entities"),
    ("no publication date", "no_date"),
    ("which regulator", "no_regulator"),
    ("invalid noticeevent", "invalid_event"),
    ("too large", "too_large"),
)


def rejection_reason(message: str) -> str:
    """A short, bounded reason label for an ``InputError`` message (``invalid`` otherwise)."""
    lowered = message.lower()
    for needle, reason in _REASONS:
        if needle in lowered:
            return reason
    return "invalid"


def observe_notice_ingested(source: str, outcome: str, regulator: str = "unknown") -> None:
    NOTICES_INGESTED.labels(source=source, regulator=regulator, outcome=outcome).inc()


def observe_notice_rejected(source: str, reason: str) -> None:
    NOTICES_REJECTED.labels(source=source, reason=reason).inc()


def count_rejections(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorate an intake function: an ``InputError`` it raises counts as a rejected notice
    (once, however many decorated functions it passes through)."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await func(*args, **kwargs)
        except InputError as exc:
            if not getattr(exc, "_regwatch_counted", False):
                observe_notice_rejected(current_intake_source(), rejection_reason(str(exc)))
                exc._regwatch_counted = True  # type: ignore[attr-defined]
            raise

    return wrapper


# --- matcher ------------------------------------------------------------------------------------


def observe_notice_matched(events: int, matches: int) -> None:
    """One notice processed by the matcher: ``events`` MatchEvents with ``matches`` in all."""
    NOTICES_MATCHED.inc()
    MATCH_EVENTS.inc(events)
    MATCHES.inc(matches)


# --- notifier -----------------------------------------------------------------------------------

_NOTICE_TIMES: OrderedDict[str, tuple[datetime, bool]] = OrderedDict()
_NOTICE_TIMES_MAX = 20_000


def remember_notice_published(notice_id: str, published_at: datetime, *, exact: bool) -> None:
    """Remember when a notice was published. ``exact``: the NoticeEvent's own record time (or
    a header saying it); otherwise the time of a later message naming the notice, kept only
    while nothing exact is known. Bounded: the oldest entries are forgotten."""
    known = _NOTICE_TIMES.get(notice_id)
    if known is not None and known[1] and not exact:
        return
    _NOTICE_TIMES[notice_id] = (published_at, exact)
    _NOTICE_TIMES.move_to_end(notice_id)
    while len(_NOTICE_TIMES) > _NOTICE_TIMES_MAX:
        _NOTICE_TIMES.popitem(last=False)


def notice_published_at(notice_id: str) -> datetime | None:
    known = _NOTICE_TIMES.get(notice_id)
    return known[0] if known else None


def observe_e2e_latency(seconds: float, channel: str = "unknown") -> None:
    E2E_LATENCY.labels(channel=channel).observe(max(0.0, seconds))


M = TypeVar("M", Counter, Histogram)
_CHILDREN: dict[tuple[object, tuple[str, ...]], Any] = {}
"""The children of the delivery families by family and label values, looked up once:
``labels()`` checks and joins its label values at every call (3-5 per delivery attempt). A
child is made at its first observation, as ``labels()`` would (so no series shows before it
has a value). Bounded: channels, alert types and outcomes are few. These families are never
cleared (``clear()`` would leave the remembered children outside the registry)."""


def _child(family: M, *values: str) -> M:
    """``family.labels(*values)``, remembered (values in the family's label order)."""
    key = (family, values)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = family.labels(*values)
    return cast("M", found)


def observe_delivery(
    channel: str,
    status: str,
    attempt: int,
    delay_s: float | None = None,
    *,
    kind: str = "notice.matched",
    duration_s: float | None = None,
    notice_id: str | None = None,
    queued_at: datetime | None = None,
) -> None:
    """One delivery attempt's outcome: ``delivered``, ``retrying`` (after ``delay_s``) or
    ``failed``. For a delivered ``notice.matched`` alert it also observes the end-to-end latency
    from the notice's publication (or from ``queued_at``, the ledger row's creation, when this
    process does not know when the notice was published)."""
    _child(DELIVERY_ATTEMPTS, channel, kind, status).inc()
    if duration_s is not None:
        _child(SEND_DURATION, channel).observe(max(0.0, duration_s))
    if status == "retrying":
        if delay_s is not None:
            _child(RETRY_DELAY, channel).observe(max(0.0, delay_s))
        return
    _child(DELIVERIES, channel, kind, status).inc()
    _child(DELIVERY_ATTEMPT_NUMBER, channel, status).observe(attempt)
    if status == "delivered" and kind == "notice.matched":
        start = (notice_published_at(notice_id) if notice_id else None) or queued_at
        if start is not None:
            seconds = (datetime.now(UTC) - start).total_seconds()
            _child(E2E_LATENCY, channel).observe(max(0.0, seconds))


def observe_reminder_backlog(overdue: int, next_24h: int) -> None:
    REMINDER_BACKLOG.labels(window="overdue").set(overdue)
    REMINDER_BACKLOG.labels(window="next_24h").set(next_24h)


# --- broker -------------------------------------------------------------------------------------


def observe_dead_letter(topic: str, error_type: str = "Exception") -> None:
    DEAD_LETTERED.labels(topic=topic, error_type=error_type).inc()


def observe_consumer_lag(lags: list[tuple[str, str, int, int]], updated_at: float) -> None:
    """Replace the lag gauge with ``(group, topic, partition, lag)`` rows."""
    CONSUMER_LAG.clear()
    for group, topic, partition, lag in lags:
        CONSUMER_LAG.labels(group=group, topic=topic, partition=str(partition)).set(lag)
    CONSUMER_LAG_UPDATED.set(updated_at)


_NAME = re.compile(r"^regwatch_[a-z0-9_]+$")


def render(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The Prometheus text exposition of ``registry``."""
    return generate_latest(registry)


def family_names(registry: CollectorRegistry = REGISTRY) -> list[str]:
    """Names of the ``regwatch_*`` metric families in ``registry`` (for tests and docs)."""
    return sorted(
        metric.name for metric in registry.collect() if _NAME.match(metric.name) is not None
    )
