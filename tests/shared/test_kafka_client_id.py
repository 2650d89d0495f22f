"""Kafka client ids name the service, the host and the process; the setting is checked."""

from __future__ import annotations

import os
import re

import pytest
from pydantic import ValidationError

from shared.broker import make_broker
from shared.kafka_client_id import check_client_id, client_id, process_client_id, sanitize
from shared.settings import Settings

KAFKA_CHARS = re.compile(r"[a-zA-Z0-9._-]+")


def test_a_hostname_is_sanitized_to_what_kafka_takes() -> None:
    assert sanitize("web-1.example.com") == "web-1.example.com"
    assert sanitize("José's laptop (2)") == "Jos-s-laptop-2"
    assert sanitize("--.host.--") == "host"
    assert sanitize("Ünïcødé") == "n-c-d"
    assert sanitize("ПК") == "unknown"  # nothing left
    assert sanitize("a" * 100) == "a" * 63
    assert sanitize("a" * 62 + ".b") == "a" * 62  # no trailing dot after the cut


def test_the_default_id_names_service_host_and_pid() -> None:
    assert client_id("notifier", host="box 7", pid=4242) == "regwatch-notifier-box-7-4242"
    assert client_id("matcher-notifier", host="h", pid=1) == "regwatch-matcher-notifier-h-1"
    assert client_id(None, host="h", pid=1) == "regwatch-h-1"
    mine = client_id("matcher")
    assert mine.endswith(f"-{os.getpid()}") and mine.startswith("regwatch-matcher-")
    assert KAFKA_CHARS.fullmatch(mine)
    assert KAFKA_CHARS.fullmatch(process_client_id("regwatch-ops"))
    assert process_client_id("regwatch-ops").endswith(f"-{os.getpid()}")


def test_the_setting_replaces_prefix_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    assert client_id("notifier", "eu-1.notify_a", host="h", pid=9) == "eu-1.notify_a-notifier-9"
    monkeypatch.setenv("REGWATCH_KAFKA_CLIENT_ID", " eu-1 ")
    settings = Settings()
    assert settings.kafka_client_id == "eu-1"
    assert settings.client_id("notifier") == f"eu-1-notifier-{os.getpid()}"
    monkeypatch.setenv("REGWATCH_KAFKA_CLIENT_ID", "")
    assert Settings().kafka_client_id is None
    assert Settings().client_id("notifier").startswith("regwatch-notifier-")


def test_a_setting_with_characters_kafka_refuses_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match=r"\('/@'\)"):
        check_client_id("eu/1@x")
    monkeypatch.setenv("REGWATCH_KAFKA_CLIENT_ID", "eu 1/a")
    with pytest.raises(ValidationError) as caught:
        Settings()
    [error] = caught.value.errors()
    assert error["loc"] == ("kafka_client_id",)
    assert "has characters Kafka refuses (' /')" in error["msg"]


def test_the_cli_names_the_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from typer import Exit

    from shared.cli import load_settings

    monkeypatch.setenv("REGWATCH_KAFKA_CLIENT_ID", "node:1")
    with pytest.raises(Exit):
        load_settings()
    assert "invalid setting REGWATCH_KAFKA_CLIENT_ID:" in capsys.readouterr().err


def test_the_broker_builds_its_producer_and_consumers_with_the_id() -> None:
    settings = Settings(kafka_client_id="node-a")
    broker = make_broker(settings, "127.0.0.1:9", service="notifier")

    @broker.subscriber("t", group_id="g")
    async def handle(body: dict[str, object]) -> None: ...

    expected = f"node-a-notifier-{os.getpid()}"
    assert broker.config.broker_config.client_id == expected
    [subscriber] = broker.subscribers
    assert getattr(subscriber, "client_id", None) == expected
