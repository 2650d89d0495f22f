"""Operations of a running regwatch on a real broker: /metrics families move during a pipeline
run, /readyz names what is down, the AsyncAPI routes, ``status``, raw JSON values, log ids."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from services.runtime import Runtime, all_subscriptions
from shared.broker import make_broker
from shared.db import Database
from shared.embedded.ports import free_port
from shared.ops.kafka import BrokerRef
from shared.ops.status import gather_status
from shared.settings import Settings
from tests.support.receivers import SmtpReceiver, WebhookReceiver

pytestmark = pytest.mark.broker

NOTICE = """国家互联网信息办公室
关于抖音等2款App违法违规收集使用个人信息情况的通报
2021年5月10日
相关App运营者应当自本通报发布之日起15个工作日内完成整改。
1. 抖音（北京微播视界科技有限公司）
2. 快手（北京快手科技有限公司）
"""


@dataclass
class Running:
    runtime: Runtime
    hook: WebhookReceiver
    smtp: SmtpReceiver
    settings: Settings


def make_settings(
    bootstrap: str, kind: str, data_dir: Path, smtp_port: int, **extra: Any
) -> Settings:
    return Settings(
        kafka_bootstrap=bootstrap,
        kafka_idempotence=kind != "tansu",
        topic_namespace=f"t{uuid.uuid4().hex[:12]}",
        data_dir=data_dir,
        http_port=0,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        webhook_allow_private=True,
        retry_schedule="200ms,200ms",
        dispatch_interval=0.2,
        reminder_interval=1,
        kafka_partitions=2,
        lag_interval=0.5,
        **extra,
    )


@pytest.fixture(scope="module")
async def running(
    kafka_bootstrap: str, broker_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        settings = make_settings(
            kafka_bootstrap, broker_kind, tmp_path_factory.mktemp("ops"), smtp.port
        )
        runtime = Runtime(settings)
        await runtime.start()
        try:
            yield Running(runtime, hook, smtp, settings)
        finally:
            await runtime.stop()


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


async def metrics(
    client: httpx.AsyncClient,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return scrape(answer.text)


PUBLISHED = "regwatch_published_messages_total"


async def test_metrics_move_during_a_pipeline_run(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="regwatch.faststream")
    topics = running.settings.topics
    async with httpx.AsyncClient(base_url=running.runtime.http_url, timeout=10) as client:
        before = await metrics(client)
        created = (
            await client.post(
                "/v1/subscribers",
                json={"name": "Ops", "email": "ops@example.com", "webhook_url": running.hook.url},
            )
        ).json()
        auth = {"Authorization": f"Bearer {created['api_key']}"}
        assert (
            await client.post("/v1/watches", json={"kind": "app", "name": "Douyin"}, headers=auth)
        ).status_code == 201
        posted = await client.post(
            "/v1/notices", content=NOTICE.encode(), headers={"content-type": "text/plain"}
        )
        assert posted.status_code == 201, posted.text
        notice_id = posted.json()["notice"]["notice_id"]
        refused = await client.post(
            "/v1/notices", content=b"nothing to see", headers={"content-type": "text/plain"}
        )
        assert refused.status_code == 422
        await running.hook.wait_for(1, timeout=30)
        await running.smtp.wait_for(1, timeout=30)
        groups = {
            running.settings.group_id(name)
            for name in ("matcher", "notifier", "notifier-watchlist")
        }

        def lag_groups(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> set[str]:
            return {dict(ls)["group"] for (n, ls) in samples if n == "regwatch_consumer_lag"}

        def settled(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> bool:
            sent = total(samples, "regwatch_deliveries_total", type="notice.matched")
            sent -= total(before, "regwatch_deliveries_total", type="notice.matched")
            # each outcome is counted before its event is published to the deliveries topic
            told = total(samples, PUBLISHED, destination=topics.deliveries)
            told -= total(before, PUBLISHED, destination=topics.deliveries)
            return sent >= 2 and told >= 2 and groups <= lag_groups(samples)

        after = await metrics(client)
        async with asyncio.timeout(20):  # outcomes are recorded after sending; lag every 0.5 s
            while not settled(after):
                await asyncio.sleep(0.2)
                after = await metrics(client)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert (
        delta("regwatch_notices_ingested_total", source="http", regulator="CAC", outcome="new") == 1
    )
    assert delta("regwatch_notices_rejected_total", source="http") == 1
    assert delta("regwatch_matcher_notices_total") >= 1
    assert delta("regwatch_match_events_total") >= 1
    assert delta("regwatch_matches_total") >= 1
    for channel in ("email", "webhook"):
        assert delta("regwatch_delivery_attempts_total", channel=channel, outcome="delivered") == 1
        assert delta("regwatch_deliveries_total", channel=channel, status="delivered") == 1
        assert delta("regwatch_e2e_latency_seconds_count", channel=channel) == 1
        assert delta("regwatch_delivery_attempt_duration_seconds_count", channel=channel) == 1
    assert delta("regwatch_received_messages_total", handler=topics.notices) >= 1
    assert delta("regwatch_received_messages_total", handler=topics.matches) >= 1
    assert delta("regwatch_published_messages_total", destination=topics.deliveries) >= 2
    assert ("regwatch_reminder_backlog", (("window", "overdue"),)) in after

    # correlation ids on FastStream's own lines ("Received", "Processed")
    lines = [
        r
        for r in caplog.records
        if r.name == "regwatch.faststream" and r.getMessage() == "Received"
    ]
    assert any(getattr(r, "notice_id", None) == notice_id for r in lines)
    assert any(getattr(r, "alert_id", "").startswith("match_") for r in lines)

    # the notice on Kafka is plain JSON to any client
    consumer = AIOKafkaConsumer(
        topics.notices,
        bootstrap_servers=running.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        records = []
        async with asyncio.timeout(20):
            while not records:
                batch = await consumer.getmany(timeout_ms=500)
                records = [r for items in batch.values() for r in items]
    finally:
        await consumer.stop()
    value = json.loads(records[0].value)
    assert value["schema"] == "regwatch.notice/v1" and value["notice_id"] == notice_id
    assert dict(records[0].headers)["x-regwatch-notice-id"] == notice_id.encode()


async def test_readyz_and_asyncapi_routes(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.runtime.http_url, timeout=10) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"broker": "ok", "database": "ok", "smtp": "ok"}
        assert (await client.get("/healthz")).json()["status"] == "ok"
        doc = (await client.get("/docs/asyncapi.json")).json()
        addresses = {c["address"] for c in doc["channels"].values()}
        topics = running.settings.topics
        assert {topics.notices, topics.matches, topics.deliveries, topics.watchlist} <= addresses
        page = await client.get("/docs/asyncapi")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]


async def test_readyz_is_503_naming_what_is_down(tmp_path: Path) -> None:
    """A notifier whose SMTP server and broker do not answer (nothing listens there)."""
    settings = make_settings(f"127.0.0.1:{free_port()}", "apache-kafka", tmp_path, free_port())
    runtime = Runtime(settings, only=("notifier",))
    runtime.db = Database(settings.sqlalchemy_url)
    runtime.broker = make_broker(settings, str(settings.kafka_bootstrap))
    runtime.smtp = ("127.0.0.1", settings.smtp_port)
    try:
        transport = httpx.ASGITransport(app=runtime.http_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as client:
            answer = await client.get("/readyz")
    finally:
        await runtime.db.dispose()
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["broker", "smtp"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["smtp"].startswith("error: ConnectionRefusedError")


async def test_status_names_the_broker_groups_and_backlog(running: Running) -> None:
    settings = running.settings
    assert settings.kafka_bootstrap
    status = await gather_status(
        settings,
        BrokerRef(settings.kafka_bootstrap, "test", True),
        await all_subscriptions(settings),
    )
    assert status["kafka_bootstrap"] == settings.kafka_bootstrap
    assert status["cluster"]["brokers"]
    assert "password" not in json.dumps(status["database"])
    names = {t["name"]: t for t in status["topics"]}
    assert names[settings.topics.notices]["exists"]
    assert len(names[settings.topics.notices]["partitions"]) == 2
    groups = {g["group"]: g for g in status["consumer_groups"]}
    assert settings.group_id("matcher") in groups and settings.group_id("notifier") in groups
    matcher = groups[settings.group_id("matcher")]
    assert {p["topic"] for p in matcher["partitions"]} == {settings.topics.notices}
    [member] = matcher["members"]  # this process, named by its services, host and pid
    assert member["client_id"].startswith("regwatch-ingestor-matcher-notifier-")
    assert member["client_id"].endswith(f"-{os.getpid()}")
    assert set(status["dead_letters"]) == {t for t in settings.topics.all() if t.endswith(".dlq")}
    assert set(status["reminder_backlog"]) == {"overdue", "next_24h", "scheduled"}


@pytest.mark.kafka_only("retention (retention.ms is stored, never applied)")
async def test_topics_are_created_with_retention_from_settings(
    kafka_bootstrap: str, broker_kind: str, tmp_path: Path
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    settings = make_settings(kafka_bootstrap, broker_kind, tmp_path, 1, kafka_retention="2d")
    runtime = Runtime(settings, only=("ingestor",))
    await runtime.start()
    await runtime.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, settings.topics.notices, None)]
        )
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
    assert configs["retention.ms"] == str(2 * 24 * 3600 * 1000)


@pytest.mark.kafka_only("librdkafka clients such as kcat")
async def test_kcat_reads_notice_events_as_json(running: Running) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is None:
        pytest.skip("kcat is not installed (apt-get install kcat)")
    topic = running.settings.topics.notices
    async with httpx.AsyncClient(base_url=running.runtime.http_url, timeout=10) as client:
        posted = await client.post(
            "/v1/notices",
            content=NOTICE.replace("2021年5月10日", "2021年6月1日").encode(),
            headers={"content-type": "text/plain"},
        )
        assert posted.status_code == 201, posted.text
    notice_id = posted.json()["notice"]["notice_id"]
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while not any(v.get("notice_id") == notice_id for v in found):
            proc = await asyncio.to_thread(
                subprocess.run,
                [
                    kcat,
                    "-b",
                    str(running.settings.kafka_bootstrap),
                    "-C",
                    "-t",
                    topic,
                    "-e",
                    "-q",
                    "-f",
                    "%s\n",
                ],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr
            found = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
            await asyncio.sleep(0.2)
    assert all(v["schema"] == "regwatch.notice/v1" for v in found)
