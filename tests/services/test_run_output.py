"""``regwatch run``'s output: the summary, human lines on stderr, JSON in the log file, and
aiokafka's rebalance heartbeat kept out of the warnings."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.run_output import (
    COORDINATOR_LOGGER,
    HumanFormatter,
    choose_log_format,
    setup_run_logging,
    summary_lines,
)
from shared.settings import Settings


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    coordinator = logging.getLogger(COORDINATOR_LOGGER)
    handlers, level, filters = root.handlers[:], root.level, coordinator.filters[:]
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:], coordinator.filters[:] = handlers, filters
    root.setLevel(level)


def record(name: str, level: int, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_a_human_line_is_one_line_with_the_error_but_no_traceback() -> None:
    try:
        raise ConnectionError("refused\nby peer")
    except ConnectionError:
        failing = logging.LogRecord(
            "regwatch.notifier", logging.ERROR, __file__, 1, "send failed\n  retrying", (), None
        )
        failing.exc_info = sys.exc_info()
    line = HumanFormatter().format(failing)
    assert line == "error: send failed retrying (ConnectionError: refused by peer)"
    other = HumanFormatter().format(record("apscheduler.x", logging.WARNING, "late by %ds", 3))
    assert other == "warning: apscheduler.x: late by 3s"
    attempt = record("regwatch.notifier.dispatcher", logging.WARNING, "delivery attempt")
    attempt.__dict__.update(
        channel="webhook", status_code=None, error="timed out after 10s", routes=["POST /v1/x"]
    )
    assert HumanFormatter().format(attempt) == (
        "warning: delivery attempt (channel=webhook, error=timed out after 10s)"
    )


def test_log_format_comes_from_the_option_then_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REGWATCH_LOG_FORMAT", raising=False)
    assert choose_log_format(None, Settings()) == "human"
    assert choose_log_format("json", Settings()) == "json"
    monkeypatch.setenv("REGWATCH_LOG_FORMAT", "text")
    assert choose_log_format(None, Settings()) == "text"
    assert choose_log_format("human", Settings()) == "human"


def test_human_logging_keeps_warnings_on_stderr_and_everything_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    settings = Settings(data_dir=tmp_path, log_level="INFO")
    log_file = setup_run_logging(settings, "human")
    assert log_file == tmp_path / "regwatch.log"
    logging.getLogger("regwatch.runtime").info("regwatch started")
    logging.getLogger("regwatch.http").warning("REGWATCH_ADMIN_TOKEN is not set")
    coordinator = logging.getLogger(COORDINATOR_LOGGER)
    coordinator.warning("Heartbeat failed for group %s because it is rebalancing", "g1")
    coordinator.warning("Marking the coordinator dead (node %s)for group %s.", 1, "g1")
    for handler in logging.getLogger().handlers:
        handler.flush()

    err = capsys.readouterr().err.splitlines()
    assert err == [
        "warning: REGWATCH_ADMIN_TOKEN is not set",
        f"warning: {COORDINATOR_LOGGER}: Marking the coordinator dead (node 1)for group g1.",
    ]
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [(line["level"], line["msg"]) for line in lines] == [
        ("info", "regwatch started"),
        ("warning", "REGWATCH_ADMIN_TOKEN is not set"),
        ("info", "Heartbeat failed for group g1 because it is rebalancing"),
        ("warning", "Marking the coordinator dead (node 1)for group g1."),
    ]


def test_json_logging_writes_json_lines_to_stderr_and_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    settings = Settings(data_dir=tmp_path, log_level="INFO")
    assert setup_run_logging(settings, "json") is None
    logging.getLogger("regwatch.runtime").info("regwatch started")
    (line,) = capsys.readouterr().err.splitlines()
    assert json.loads(line)["msg"] == "regwatch started"
    assert not (tmp_path / "regwatch.log").exists()


def test_the_summary_says_where_everything_is() -> None:
    info = {
        "services": ["ingestor", "matcher", "notifier"],
        "kafka_bootstrap": "127.0.0.1:40001",
        "kafka": "embedded Tansu (in memory; the outboxes keep events until consumed)",
        "database": "sqlite+aiosqlite:////srv/var/regwatch.db",
        "http": "http://127.0.0.1:8080",
        "smtp": "embedded mail sink 127.0.0.1:40002",
        "mail_dir": "/srv/var/mail",
    }
    lines = summary_lines(info, Path("/srv/var/regwatch.log"), all_services=True)
    assert lines == [
        "regwatch is running (Ctrl-C stops it)",
        "  portal    http://127.0.0.1:8080/portal/",
        "  API       http://127.0.0.1:8080/v1/",
        "  docs      http://127.0.0.1:8080/docs",
        "  mail      /srv/var/mail (embedded mail sink 127.0.0.1:40002)",
        "  broker    embedded Tansu at 127.0.0.1:40001 (in memory)",
        "  database  /srv/var/regwatch.db",
        "  logs      /srv/var/regwatch.log",
    ]


def test_the_summary_of_one_service_on_external_parts() -> None:
    info = {
        "services": ["notifier"],
        "kafka_bootstrap": "kafka:9092",
        "kafka": "external",
        "database": "postgresql+asyncpg://regwatch@db/regwatch",
        "http": "http://0.0.0.0:8083",
        "smtp": "smtp.example.com:587",
        "mail_dir": None,
    }
    lines = summary_lines(info, None, all_services=False)
    assert lines[1] == "  services  notifier"
    assert "  mail      sent through SMTP smtp.example.com:587" in lines
    assert "  broker    Kafka at kafka:9092" in lines
    assert lines[-1] == "  database  postgresql+asyncpg://regwatch@db/regwatch"
