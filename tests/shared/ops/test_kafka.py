"""Where the ops commands find the broker, and what short topic names mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import InputError
from shared.ops.kafka import dlq_topic, resolve_broker, resolve_topic
from shared.runtime_file import write_runtime_file
from shared.settings import Settings


def test_short_names_and_full_names() -> None:
    settings = Settings(topic_namespace="ns")
    assert resolve_topic(settings, "notices") == "ns.regwatch.notices.v1"
    assert resolve_topic(settings, "watchlist") == "ns.regwatch.watchlist.v1"
    assert resolve_topic(settings, "matches.dlq") == "ns.regwatch.matches.v1.dlq"
    assert resolve_topic(settings, "some.other.topic") == "some.other.topic"
    assert dlq_topic(settings, "notices") == "ns.regwatch.notices.v1.dlq"
    assert dlq_topic(settings, "ns.regwatch.notices.v1.dlq") == "ns.regwatch.notices.v1.dlq"
    with pytest.raises(InputError, match="empty"):
        resolve_topic(settings, " ")


def test_broker_from_settings_then_from_the_running_regwatch(tmp_path: Path) -> None:
    configured = resolve_broker(Settings(kafka_bootstrap="kafka:9092", data_dir=tmp_path))
    assert (configured.bootstrap, configured.source) == ("kafka:9092", "REGWATCH_KAFKA_BOOTSTRAP")
    assert configured.idempotent

    with pytest.raises(InputError, match="REGWATCH_KAFKA_BOOTSTRAP or start `regwatch run`"):
        resolve_broker(Settings(data_dir=tmp_path))

    write_runtime_file(tmp_path, {"kafka_bootstrap": "127.0.0.1:40001"})
    embedded = resolve_broker(Settings(data_dir=tmp_path))
    assert embedded.bootstrap == "127.0.0.1:40001"
    assert not embedded.idempotent
    assert "runtime.json" in embedded.source
