from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.durations import format_duration, parse_duration, parse_durations
from shared.settings import Settings


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SMTP_HOST", "DATA_DIR"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    settings = Settings()
    assert settings.kafka_bootstrap is None
    assert settings.smtp_host is None
    assert settings.sqlalchemy_url.startswith("sqlite+aiosqlite:///")
    assert settings.sqlalchemy_url.endswith("var/regwatch.db")
    assert settings.retry_delays[0] == timedelta(seconds=5)
    assert settings.webhook_allow_private is False


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REGWATCH_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REGWATCH_RETRY_SCHEDULE", "1s,2m")
    monkeypatch.setenv("REGWATCH_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("REGWATCH_SMTP_HOST", "")
    settings = Settings()
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.retry_delays == [timedelta(seconds=1), timedelta(minutes=2)]
    assert settings.webhook_allow_private is True
    assert settings.smtp_host is None
    assert settings.mail_dir == tmp_path / "mail"


def test_bad_retry_schedule_names_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGWATCH_RETRY_SCHEDULE", "5s,soon")
    with pytest.raises(ValidationError, match="bad duration 'soon'"):
        Settings()


def test_reminder_time_is_hh_mm(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().reminder_clock == time(9, 0)
    monkeypatch.setenv("REGWATCH_REMINDER_TIME", " 7:30 ")
    assert (Settings().reminder_time, Settings().reminder_clock) == ("07:30", time(7, 30))
    for bad, problem in (("24:00", "between 00:00 and 23:59"), ("9am", "not HH:MM")):
        monkeypatch.setenv("REGWATCH_REMINDER_TIME", bad)
        with pytest.raises(ValidationError, match=problem):
            Settings()


def test_topics_and_groups_take_the_namespace() -> None:
    settings = Settings(topic_namespace="t1")
    assert settings.topics.notices == "t1.regwatch.notices.v1"
    assert settings.topics.dlq(settings.topics.matches) == "t1.regwatch.matches.v1.dlq"
    assert settings.group_id("matcher") == "t1.regwatch-matcher"
    assert Settings().topics.notices == "regwatch.notices.v1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5s", timedelta(seconds=5)),
        ("30m", timedelta(minutes=30)),
        ("7d", timedelta(days=7)),
        ("250ms", timedelta(milliseconds=250)),
        (" 2h ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_durations_round_trip() -> None:
    assert [format_duration(d) for d in parse_durations("7d,3d,1d,90m,14d")] == [
        "7d",
        "3d",
        "1d",
        "90m",
        "14d",
    ]
    assert parse_durations("") == []
    with pytest.raises(ValueError, match="bad duration ''"):
        parse_durations("5s,,5m")
