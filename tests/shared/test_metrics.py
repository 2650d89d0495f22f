"""The regwatch_* metric helpers: labels, once-only rejections, end-to-end latency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from shared.errors import InputError
from shared.metrics import (
    count_rejections,
    family_names,
    intake_source,
    notice_published_at,
    observe_consumer_lag,
    observe_dead_letter,
    observe_delivery,
    observe_notice_ingested,
    rejection_reason,
    remember_notice_published,
    render,
)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("a.txt: file is empty", "empty"),
        ("a.txt: cannot decode text (tried UTF-8, UTF-16, GB18030 and Big5)", "undecodable"),
        ("a.pdf: unsupported file type '.pdf'", "unsupported_type"),
        ("a.txt: no apps, SDKs or companies found in the notice", "no_entities"),
        ("a.txt: no publication date found", "no_date"),
        ("a.txt: cannot tell which regulator published this notice", "no_regulator"),
        ("body: invalid NoticeEvent: title: Field required", "invalid_event"),
        ("something else entirely", "invalid"),
    ],
)
def test_rejection_reasons_are_a_small_fixed_set(message: str, reason: str) -> None:
    assert rejection_reason(message) == reason


async def test_a_rejection_is_counted_once_with_its_intake_source() -> None:
    @count_rejections
    async def inner() -> None:
        raise InputError("x.txt: file is empty")

    @count_rejections
    async def outer() -> None:
        await inner()

    labels = {"source": "feed", "reason": "empty"}
    before = value("regwatch_notices_rejected_total", **labels)
    with intake_source("feed"), pytest.raises(InputError):
        await outer()
    assert value("regwatch_notices_rejected_total", **labels) == before + 1


def test_ingested_notices_are_counted_by_source_regulator_and_outcome() -> None:
    labels = {"source": "file", "regulator": "MIIT", "outcome": "new"}
    before = value("regwatch_notices_ingested_total", **labels)
    observe_notice_ingested("file", "new", "MIIT")
    assert value("regwatch_notices_ingested_total", **labels) == before + 1


def test_retries_record_their_delay_and_final_outcomes_their_attempts() -> None:
    channel = "webhook"
    delay_before = value("regwatch_delivery_retry_delay_seconds_count", channel=channel)
    failed_before = value(
        "regwatch_deliveries_total", channel=channel, type="deadline.reminder", status="failed"
    )
    observe_delivery(channel, "retrying", 1, 5.0, kind="deadline.reminder", duration_s=0.2)
    observe_delivery(channel, "failed", 2, None, kind="deadline.reminder", duration_s=0.1)
    assert value("regwatch_delivery_retry_delay_seconds_count", channel=channel) == delay_before + 1
    assert (
        value(
            "regwatch_deliveries_total", channel=channel, type="deadline.reminder", status="failed"
        )
        == failed_before + 1
    )
    assert (
        value(
            "regwatch_delivery_attempts_total",
            channel=channel,
            type="deadline.reminder",
            outcome="retrying",
        )
        >= 1
    )


def test_a_delivery_series_shows_once_it_has_a_value_and_counts_every_observation() -> None:
    """The delivery families' children are looked up once and kept: a retry alone makes no
    final-outcome series (as ``labels()`` at each observation did), and every later
    observation still lands in the registry."""
    channel, kind = "metrics-test-channel", "metrics.test"
    observe_delivery(channel, "retrying", 1, 5.0, kind=kind, duration_s=0.2)
    exposed = render().decode()
    assert f'regwatch_delivery_attempts_total{{channel="{channel}"' in exposed
    assert f'regwatch_deliveries_total{{channel="{channel}"' not in exposed
    assert f'regwatch_delivery_attempts_per_delivery_count{{channel="{channel}"' not in exposed
    for attempt in (2, 3):
        observe_delivery(channel, "retrying", attempt, 5.0, kind=kind, duration_s=0.2)
    observe_delivery(channel, "delivered", 4, kind=kind, duration_s=0.1)
    attempts = {"channel": channel, "type": kind}
    assert value("regwatch_delivery_attempts_total", **attempts, outcome="retrying") == 3
    assert value("regwatch_delivery_attempts_total", **attempts, outcome="delivered") == 1
    assert value("regwatch_deliveries_total", **attempts, status="delivered") == 1
    assert value("regwatch_delivery_retry_delay_seconds_count", channel=channel) == 3
    assert value("regwatch_delivery_attempt_duration_seconds_count", channel=channel) == 4
    assert (
        value("regwatch_delivery_attempts_per_delivery_sum", channel=channel, status="delivered")
        == 4
    )


def test_e2e_latency_prefers_the_notice_time_over_the_ledger_time() -> None:
    now = datetime.now(UTC)
    remember_notice_published("n-later", now - timedelta(seconds=2), exact=False)
    remember_notice_published("n-later", now - timedelta(seconds=30), exact=True)
    remember_notice_published("n-later", now - timedelta(seconds=1), exact=False)  # ignored
    assert notice_published_at("n-later") == now - timedelta(seconds=30)

    count = value("regwatch_e2e_latency_seconds_count", channel="email")
    total = value("regwatch_e2e_latency_seconds_sum", channel="email")
    observe_delivery("email", "delivered", 1, notice_id="n-later", queued_at=now)
    assert value("regwatch_e2e_latency_seconds_count", channel="email") == count + 1
    assert value("regwatch_e2e_latency_seconds_sum", channel="email") - total >= 29

    # unknown notice: the ledger row's time is the start
    observe_delivery("email", "delivered", 1, notice_id="n-unknown", queued_at=now)
    assert value("regwatch_e2e_latency_seconds_count", channel="email") == count + 2
    # reminders have no end-to-end latency
    observe_delivery("email", "delivered", 1, kind="deadline.reminder", queued_at=now)
    assert value("regwatch_e2e_latency_seconds_count", channel="email") == count + 2


def test_lag_gauge_is_replaced_and_everything_is_named_regwatch() -> None:
    observe_consumer_lag([("g", "t", 0, 5), ("g", "t", 1, 0)], 1.0)
    assert value("regwatch_consumer_lag", group="g", topic="t", partition="0") == 5
    observe_consumer_lag([("g", "t", 1, 2)], 2.0)
    assert (
        REGISTRY.get_sample_value(
            "regwatch_consumer_lag", {"group": "g", "topic": "t", "partition": "0"}
        )
        is None
    )
    observe_dead_letter("some.topic", "ValueError")
    names = family_names()
    for family in (
        "regwatch_notices_ingested",
        "regwatch_notices_rejected",
        "regwatch_match_events",
        "regwatch_delivery_attempts",
        "regwatch_e2e_latency_seconds",
        "regwatch_dead_lettered_messages",
        "regwatch_reminder_backlog",
        "regwatch_consumer_lag",
    ):
        assert family in names
    assert b"regwatch_dead_lettered_messages_total" in render()


def test_notice_time_comes_from_headers_or_the_notice_record() -> None:
    from types import SimpleNamespace

    from shared.broker import correlation_ids, notice_time

    stamp = int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp() * 1000)

    def msg(topic: str, headers: dict[str, str]) -> object:
        raw = SimpleNamespace(topic=topic, timestamp=stamp)
        return SimpleNamespace(headers=headers, raw_message=raw)

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    notice = msg("ns.regwatch.notices.v1", {"x-regwatch-notice-id": "n1"})
    assert notice_time(notice) == (moment, True)  # type: ignore[arg-type]
    match = msg("ns.regwatch.matches.v1", {"x-regwatch-notice-id": "n1"})
    assert notice_time(match) == (moment, False)  # type: ignore[arg-type]
    told = msg("x", {"x-regwatch-notice-published-at": "2026-01-01T00:00:00+00:00"})
    assert notice_time(told) == (datetime(2026, 1, 1, tzinfo=UTC), True)  # type: ignore[arg-type]
    assert notice_time(msg("x", {})) is None  # type: ignore[arg-type]
    assert correlation_ids(
        {"x-regwatch-notice-id": "n1", "x-regwatch-match-id": "m1", "x-regwatch-subscriber-id": "s"}
    ) == {"notice_id": "n1", "alert_id": "m1", "subscriber_id": "s"}
