"""End to end on a real broker: notice in over HTTP -> signed webhook and email out, once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from services.ingestor.intake import ingest_bytes
from services.matcher.store import add_watch
from services.runtime import Runtime
from shared.accounts import register_subscriber
from shared.db import Database
from shared.settings import Settings
from tests.support.receivers import SmtpReceiver, WebhookReceiver
from tests.support.settings import fast_settings

pytestmark = pytest.mark.broker

MIIT_TABLE = """<html><head><title>关于侵害用户权益行为的APP通报（2021年第9批，总第18批）</title></head>
<body><h1>关于侵害用户权益行为的APP通报（2021年第9批，总第18批）</h1>
<p>工业和信息化部信息通信管理局</p><p>2021年8月3日</p>
<p>上述APP应在8月10日前完成整改落实工作。</p>
<table>
<tr><td>序号</td><td>应用名称</td><td>应用开发者</td><td>应用来源</td><td>应用版本</td><td>所涉问题</td></tr>
<tr><td>1</td><td>腾讯地图</td><td>深圳市腾讯计算机系统有限公司</td><td>小米</td><td>9.9.1</td><td>超范围收集个人信息</td></tr>
<tr><td>2</td><td>抖音</td><td>北京微播视界科技有限公司</td><td>华为</td><td>16.2.0</td><td>APP强制、频繁、过度索取权限</td></tr>
<tr><td>3</td><td>某某天气</td><td>某某信息技术有限公司</td><td>vivo</td><td>2.1</td><td>违规收集个人信息</td></tr>
</table></body></html>"""


@pytest.fixture
def pipeline_env(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> dict[str, object]:
    """Settings that put a test's runtime on the session broker, in its own namespace."""
    return {
        "kafka_bootstrap": kafka_bootstrap,
        "kafka_idempotence": broker_kind != "tansu",
        "topic_namespace": namespace,
        "data_dir": tmp_path,
    }


def pipeline_settings(env: dict[str, object], smtp: SmtpReceiver) -> Settings:
    return fast_settings(
        str(env["kafka_bootstrap"]),
        "tansu" if env["kafka_idempotence"] is False else "apache-kafka",
        str(env["topic_namespace"]),
        Path(str(env["data_dir"])),
        smtp_port=smtp.port,
    )


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[WebhookReceiver, SmtpReceiver]]:
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        yield hook, smtp


@pytest.fixture
async def runtime(
    pipeline_env: dict[str, object],
    receivers: tuple[WebhookReceiver, SmtpReceiver],
) -> AsyncIterator[Runtime]:
    settings = pipeline_settings(pipeline_env, receivers[1])
    rt = Runtime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


async def test_notice_to_signed_webhook_and_email_once(
    runtime: Runtime, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, smtp = receivers
    async with httpx.AsyncClient(base_url=runtime.http_url, timeout=10) as client:
        created = (
            await client.post(
                "/v1/subscribers",
                json={"name": "Compliance", "email": "risk@example.com", "webhook_url": hook.url},
            )
        ).json()
        auth = {"Authorization": f"Bearer {created['api_key']}"}
        for watch in ({"kind": "app", "name": "Douyin"}, {"kind": "company", "name": "Tencent"}):
            answer = await client.post("/v1/watches", json=watch, headers=auth)
            assert answer.status_code == 201, answer.text
        posted = await client.post(
            "/v1/notices", content=MIIT_TABLE.encode(), headers={"content-type": "text/html"}
        )
        assert posted.status_code == 201, posted.text
        notice_id = posted.json()["notice"]["notice_id"]
        again = await client.post(
            "/v1/notices", content=MIIT_TABLE.encode(), headers={"content-type": "text/html"}
        )
        assert again.json()["outcome"] == "unchanged"

        await hook.wait_for(1, timeout=30)
        await smtp.wait_for(1, timeout=30)
        await asyncio.sleep(2)  # anything duplicated would arrive by now

        assert len(hook.requests) == 1
        request = hook.requests[0]
        body = Webhook(created["webhook_secret"]).verify(request.body, request.headers)
        assert body["type"] == "notice.matched"
        data = body["data"]
        assert data["notice"]["notice_id"] == notice_id
        assert data["notice"]["deadline"]["due_on"] == "2021-08-10"
        names = sorted(m["entity"]["name"] for m in data["matches"])
        assert names == ["抖音", "腾讯地图"]
        assert {m["watch"]["name"] for m in data["matches"]} == {"Douyin", "Tencent"}

        assert len(smtp.messages) == 1
        mail = smtp.messages[0]
        assert mail["To"] == "risk@example.com"
        types = {part.get_content_type() for part in mail.walk()}
        assert {"text/plain", "text/html"} <= types

        deliveries = (await client.get("/v1/deliveries", headers=auth)).json()
        assert sorted(d["channel"] for d in deliveries) == ["email", "webhook"]
        assert all(d["status"] == "delivered" for d in deliveries)


async def test_future_deadline_schedules_reminders(
    runtime: Runtime, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, _ = receivers
    notice = {
        "schema": "regwatch.notice/v1",
        "notice_id": "cac-20991001-test",
        "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
        "kind": "rectification",
        "title": "关于抖音等2款App违法违规收集使用个人信息情况的通报",
        "published_on": "2099-10-01",
        "deadline": {
            "due_on": "2099-10-22",
            "rule": "working_days",
            "amount": 15,
            "source_text": "15个工作日内",
        },
        "entities": [
            {"kind": "app", "name": "抖音", "developer": "北京微播视界科技有限公司"},
            {"kind": "app", "name": "快手", "developer": "北京快手科技有限公司"},
        ],
    }
    async with httpx.AsyncClient(base_url=runtime.http_url, timeout=10) as client:
        created = (
            await client.post(
                "/v1/subscribers",
                json={"name": "Legal", "webhook_url": hook.url, "reminders": "7d,1d"},
            )
        ).json()
        auth = {"Authorization": f"Bearer {created['api_key']}"}
        await client.post("/v1/watches", json={"kind": "app", "name": "抖音"}, headers=auth)
        posted = await client.post(
            "/v1/notices", content=json.dumps(notice), headers={"content-type": "application/json"}
        )
        assert posted.status_code == 201, posted.text
        await hook.wait_for(1, timeout=30)
        for _ in range(50):
            reminders = (await client.get("/v1/reminders", headers=auth)).json()
            if reminders:
                break
            await asyncio.sleep(0.1)
    assert [(r["offset"], r["due_on"], r["status"]) for r in reminders] == [
        ("7d", "2099-10-22", "scheduled"),
        ("1d", "2099-10-22", "scheduled"),
        ("due", "2099-10-22", "scheduled"),  # 09:00 Asia/Shanghai on the due day
        ("overdue", "2099-10-22", "scheduled"),  # 09:00 the day after
    ]
    # end of 2099-10-22 in Asia/Shanghai is 15:59:59 UTC; 7 days earlier:
    assert reminders[0]["fire_at"].startswith("2099-10-15T15:59:59")


async def test_services_run_alone_and_stored_notices_are_published_on_start(
    pipeline_env: dict[str, object],
    receivers: tuple[WebhookReceiver, SmtpReceiver],
) -> None:
    hook, smtp = receivers
    settings = pipeline_settings(pipeline_env, smtp)
    # Stored while no broker ran (as `regwatch notices ingest` does): only the outbox has it.
    db = Database(settings.sqlalchemy_url)
    await db.migrate()
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name="Ops",
            email=None,
            webhook_url=hook.url,
            reminders=None,
            default_reminders="7d",
            allow_private=True,
        )
        await add_watch(session, created.id, "company", "腾讯")
    saved = await ingest_bytes(db, MIIT_TABLE.encode(), name="miit.html")
    await db.dispose()

    runtimes = [Runtime(settings, only=(name,)) for name in ("matcher", "notifier", "ingestor")]
    try:
        for rt in runtimes:
            await rt.start()
        [request] = await hook.wait_for(1, timeout=30)
    finally:
        for rt in reversed(runtimes):
            await rt.stop()
    body = Webhook(created.webhook_secret or "").verify(request.body, request.headers)
    assert body["data"]["notice"]["notice_id"] == saved.notice.notice_id
    assert [m["entity"]["name"] for m in body["data"]["matches"]] == ["腾讯地图"]
    assert [s.name for rt in runtimes for s in rt.services] == ["matcher", "notifier", "ingestor"]
