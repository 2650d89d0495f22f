"""``regwatch status|topics tail|dlq|asyncapi`` through the real CLI, on the session broker."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from typer.testing import CliRunner

from services.cli import app
from shared.kafka_admin import ensure_topics
from shared.runtime_file import write_runtime_file
from shared.settings import Settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SMTP_HOST", "TOPIC_NAMESPACE"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    return CliRunner()


def one_line_error(result: object, text: str) -> None:
    assert result.exit_code == 1  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert text in stderr


def test_without_a_broker_the_commands_say_so(cli: CliRunner) -> None:
    for args in (["status"], ["topics", "tail", "notices"], ["dlq", "list"]):
        one_line_error(cli.invoke(app, args), "no Kafka broker: set REGWATCH_KAFKA_BOOTSTRAP")


def servers_named(doc: dict[str, Any]) -> set[str]:
    """Every server host the document names, and every server a channel refers to."""
    hosts = {server["host"] for server in doc.get("servers", {}).values()}
    refs = {ref["$ref"] for c in doc["channels"].values() for ref in c.get("servers", [])}
    return hosts | refs


def test_asyncapi_names_the_embedded_broker_of_the_running_regwatch(
    cli: CliRunner, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    # what a running `regwatch run` on its embedded broker writes (Runtime.describe)
    write_runtime_file(data_dir, {"kafka_bootstrap": "127.0.0.1:40529", "http": "http://x"})
    result = cli.invoke(app, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["host"] for s in doc["servers"].values()] == ["127.0.0.1:40529"]
    assert "localhost:9092" not in result.stdout


def test_asyncapi_names_the_broker_in_settings(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGWATCH_KAFKA_BOOTSTRAP", "kafka.internal:9093")
    (tmp_path / "var").mkdir()
    write_runtime_file(tmp_path / "var", {"kafka_bootstrap": "127.0.0.1:40529"})
    result = cli.invoke(app, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["host"] for s in doc["servers"].values()] == ["kafka.internal:9093"]


def test_asyncapi_without_a_broker_names_none(cli: CliRunner) -> None:
    result = cli.invoke(app, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert servers_named(doc) == set()
    assert "localhost:9092" not in result.stdout
    assert "no broker in use" in result.stderr and "names no server" in result.stderr


def test_asyncapi_prints_the_document_offline(cli: CliRunner) -> None:
    result = cli.invoke(app, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    addresses = {c["address"] for c in doc["channels"].values()}
    assert {
        "regwatch.notices.v1",
        "regwatch.matches.v1",
        "regwatch.deliveries.v1",
        "regwatch.watchlist.v1",
    } <= addresses


@pytest.mark.broker
def test_status_tail_and_dlq_on_the_broker(
    cli: CliRunner, kafka_bootstrap: str, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGWATCH_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("REGWATCH_TOPIC_NAMESPACE", namespace)
    settings = Settings(kafka_bootstrap=kafka_bootstrap, topic_namespace=namespace)

    async def prepare() -> None:
        await ensure_topics(kafka_bootstrap, settings.topics.all(), 2)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for i in range(3):
                await producer.send_and_wait(
                    settings.topics.notices,
                    json.dumps({"schema": "regwatch.notice/v1", "notice_id": f"n{i}"}).encode(),
                    key=f"n{i}".encode(),
                    headers=[("x-regwatch-notice-id", f"n{i}".encode())],
                )
        finally:
            await producer.stop()

    asyncio.run(prepare())

    status = cli.invoke(app, ["status"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["kafka_bootstrap"] == kafka_bootstrap
    assert data["kafka_source"] == "REGWATCH_KAFKA_BOOTSTRAP"
    notices = next(t for t in data["topics"] if t["name"] == settings.topics.notices)
    assert sum(p["end_offset"] for p in notices["partitions"]) == 3
    assert data["dead_letters"][settings.topics.notices + ".dlq"] == 0
    matcher = next(g for g in data["consumer_groups"] if g["group"] == settings.group_id("matcher"))
    assert matcher["lag"] == 3  # nothing consumed yet
    # this data dir's database was never migrated: said, not fatal
    assert "no such table: reminders" in data["reminder_backlog"]["error"]
    assert data["database"]["reachable"] is True

    tail = cli.invoke(app, ["topics", "tail", "notices", "--limit", "2"])
    assert tail.exit_code == 0, tail.output
    decoder = json.JSONDecoder()
    text, messages = tail.stdout.strip(), []
    while text:
        message, end = decoder.raw_decode(text)
        messages.append(message)
        text = text[end:].strip()
    assert len(messages) == 2
    assert all(m["value"]["schema"] == "regwatch.notice/v1" for m in messages)
    assert all(m["headers"]["x-regwatch-notice-id"] == m["key"] for m in messages)

    everything = cli.invoke(app, ["topics", "tail", settings.topics.notices, "--from-beginning"])
    assert everything.stdout.count('"offset"') == 3

    assert json.loads(cli.invoke(app, ["dlq", "list"]).stdout) == []
    one_line_error(cli.invoke(app, ["dlq", "replay", "notices"]), "give either --offset N or --all")
    one_line_error(
        cli.invoke(app, ["dlq", "replay", "notices", "--offset", "0"]), "no message at offset 0"
    )
    one_line_error(cli.invoke(app, ["topics", "tail", "nope.nothing"]), "does not exist")
