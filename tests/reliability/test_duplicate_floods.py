"""Duplicate floods, with the whole Runtime running.

One notice arrives many times at once: as NoticeEvent JSON (50 concurrent ``POST
/v1/notices``), as the regulator's HTML (``text/html`` and a ``multipart/form-data`` upload)
and as a NoticeEvent written straight to the notices topic. Then many distinct notices arrive
mixed with copies of themselves. Counted at the receivers: one alert per subscriber, channel
and notice, never two; and one stored notice per distinct notice.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from standardwebhooks import Webhook

from services.ingestor.intake import parse
from services.ingestor.models import NoticeRow
from services.matcher.models import AlertRow, StoredNoticeRow
from services.notifier.models import DeliveryRow
from services.runtime import Runtime
from shared.settings import Settings
from tests.support.receivers import SmtpReceiver, WebhookReceiver
from tests.support.settings import fast_settings

pytestmark = pytest.mark.broker

JSON_COPIES = 50
HTML_COPIES = 10
UPLOAD_COPIES = 5
KAFKA_COPIES = 5

NOTICE_HTML = """<html><head><title>关于侵害用户权益行为的APP通报（2099年第9批，总第18批）</title></head>
<body><h1>关于侵害用户权益行为的APP通报（2099年第9批，总第18批）</h1>
<p>工业和信息化部信息通信管理局</p><p>2099年8月3日</p>
<p>上述APP应在8月10日前完成整改落实工作。</p>
<table>
<tr><td>序号</td><td>应用名称</td><td>应用开发者</td><td>应用来源</td><td>应用版本</td><td>所涉问题</td></tr>
<tr><td>1</td><td>腾讯地图</td><td>深圳市腾讯计算机系统有限公司</td><td>小米</td><td>9.9.1</td><td>超范围收集个人信息</td></tr>
<tr><td>2</td><td>抖音</td><td>北京微播视界科技有限公司</td><td>华为</td><td>16.2.0</td><td>APP强制、频繁、过度索取权限</td></tr>
</table></body></html>""".encode()


@dataclass
class Subscriber:
    id: str
    email: str
    secret: str
    auth: dict[str, str]


@dataclass
class Pipeline:
    rt: Runtime
    settings: Settings
    hook: WebhookReceiver
    smtp: SmtpReceiver
    client: httpx.AsyncClient
    bootstrap: str

    async def subscribe(self, name: str, *watches: tuple[str, str]) -> Subscriber:
        email = f"{name.lower()}@example.com"
        created = await self.client.post(
            "/v1/subscribers", json={"name": name, "email": email, "webhook_url": self.hook.url}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        auth = {"Authorization": f"Bearer {body['api_key']}"}
        for kind, watch in watches:
            answer = await self.client.post(
                "/v1/watches", json={"kind": kind, "name": watch}, headers=auth
            )
            assert answer.status_code == 201, answer.text
        return Subscriber(body["id"], email, body["webhook_secret"], auth)

    async def post(self, content: bytes, content_type: str) -> dict[str, Any]:
        answer = await self.client.post(
            "/v1/notices", content=content, headers={"content-type": content_type}
        )
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def produce(self, notices: list[dict[str, Any]]) -> None:
        """NoticeEvents written straight to the notices topic, keyed like the ingestor's."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            sent = [
                await producer.send(
                    self.settings.topics.notices,
                    json.dumps(notice, ensure_ascii=False).encode(),
                    key=str(notice["notice_id"]).encode(),
                )
                for notice in notices
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    async def count(self, model: Any, *where: ColumnElement[bool]) -> int:
        assert self.rt.db is not None
        async with self.rt.db.session() as session:
            found = await session.scalar(select(func.count()).select_from(model).where(*where))
        return int(found or 0)

    async def settle(self, webhooks: int, emails: int, timeout: float = 30) -> None:  # noqa: ASYNC109
        """Wait for that many distinct webhook ids and email Message-IDs, then long enough for
        any duplicate to arrive as well."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ids = {r.webhook_id for r in self.hook.requests}
            mails = {m["Message-ID"] for m in self.smtp.messages}
            if len(ids) >= webhooks and len(mails) >= emails:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)


@pytest.fixture
async def pipeline(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> AsyncIterator[Pipeline]:
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        settings = fast_settings(
            kafka_bootstrap,
            broker_kind,
            namespace,
            tmp_path,
            smtp_port=smtp.port,
        )
        rt = Runtime(settings)
        await rt.start()
        try:
            limits = httpx.Limits(max_connections=100)
            async with httpx.AsyncClient(base_url=rt.http_url, timeout=30, limits=limits) as client:
                yield Pipeline(rt, settings, hook, smtp, client, kafka_bootstrap)
        finally:
            await rt.stop()


def multipart(data: bytes, filename: str) -> tuple[bytes, str]:
    boundary = "regwatch-flood-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/html\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def check_signed(hook: WebhookReceiver, secrets: dict[str, str]) -> list[dict[str, Any]]:
    bodies = []
    for request in hook.requests:
        body = request.json()
        verified = Webhook(secrets[body["data"]["subscriber_id"]]).verify(
            request.body, request.headers
        )
        assert verified["type"] == "notice.matched"
        bodies.append(body)
    return bodies


async def test_one_notice_flooded_every_way_alerts_once_per_subscriber_and_channel(
    pipeline: Pipeline,
) -> None:
    douyin = await pipeline.subscribe("Legal", ("app", "Douyin"))
    maps = await pipeline.subscribe("Maps", ("company", "Tencent"), ("app", "腾讯地图"))
    nobody = await pipeline.subscribe("Weather", ("app", "快手"))
    notice = parse(NOTICE_HTML, name="notice.html").dump()
    notice_id = str(notice["notice_id"])
    as_json = json.dumps(notice, ensure_ascii=False).encode()
    upload, upload_type = multipart(NOTICE_HTML, "notice.html")

    posts = [
        *(pipeline.post(as_json, "application/json") for _ in range(JSON_COPIES)),
        *(pipeline.post(NOTICE_HTML, "text/html; charset=utf-8") for _ in range(HTML_COPIES)),
        *(pipeline.post(upload, upload_type) for _ in range(UPLOAD_COPIES)),
    ]
    random.Random(7).shuffle(posts)
    results = await asyncio.gather(*posts, pipeline.produce([notice] * KAFKA_COPIES))
    answers = [r for r in results if r is not None]
    assert len(answers) == JSON_COPIES + HTML_COPIES + UPLOAD_COPIES
    assert {a["notice"]["notice_id"] for a in answers} == {notice_id}
    outcomes = Counter(a["outcome"] for a in answers)
    assert outcomes == {"new": 1, "unchanged": len(answers) - 1}, outcomes

    # 2 subscribers match, on 2 channels each; the third watches nothing in the notice
    await pipeline.settle(webhooks=2, emails=2)
    await pipeline.produce([notice] * KAFKA_COPIES)  # and once more after the alerts went out
    await asyncio.sleep(2.0)

    hooks = check_signed(pipeline.hook, {s.id: s.secret for s in (douyin, maps, nobody)})
    assert Counter(r.webhook_id for r in pipeline.hook.requests).most_common(1)[0][1] == 1
    assert Counter(b["data"]["subscriber_id"] for b in hooks) == {douyin.id: 1, maps.id: 1}
    assert {b["data"]["notice"]["notice_id"] for b in hooks} == {notice_id}
    recipients = Counter(rcpt for mail in pipeline.smtp.received for rcpt in mail.rcpt_tos)
    assert recipients == {douyin.email: 1, maps.email: 1}
    assert len(set(m["Message-ID"] for m in pipeline.smtp.messages)) == 2

    assert await pipeline.count(NoticeRow) == 1
    assert await pipeline.count(StoredNoticeRow) == 1
    assert await pipeline.count(AlertRow) == 2
    assert await pipeline.count(DeliveryRow) == 4
    assert await pipeline.count(DeliveryRow, DeliveryRow.status == "delivered") == 4


DISTINCT = 20


def distinct_notice(n: int) -> dict[str, Any]:
    """Notice ``n``: its own batch label (so never taken for a reprint of another), naming the
    watched app and one app of its own."""
    return {
        "schema": "regwatch.notice/v1",
        "notice_id": f"cac-20990601-flood-{n:02d}",
        "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
        "kind": "rectification",
        "title": f"关于抖音等App违法违规收集使用个人信息情况的通报（2099年第{n + 1}批）",
        "published_on": "2099-06-01",
        "batch": f"2099年第{n + 1}批",
        "deadline": {
            "due_on": "2099-06-22",
            "rule": "working_days",
            "amount": 15,
            "source_text": "15个工作日内",
        },
        "entities": [
            {"kind": "app", "name": "抖音"},
            {"kind": "app", "name": f"测试应用{n:02d}"},
        ],
    }


async def test_distinct_notices_mixed_with_duplicates_each_alert_once(
    pipeline: Pipeline,
) -> None:
    subscribers = [
        await pipeline.subscribe("Legal", ("app", "抖音")),
        await pipeline.subscribe("Risk", ("app", "Douyin")),
    ]
    notices = [distinct_notice(n) for n in range(DISTINCT)]
    rng = random.Random(11)
    copies = {str(n["notice_id"]): 1 + n_index % 4 for n_index, n in enumerate(notices)}
    posts = [
        pipeline.post(json.dumps(n, ensure_ascii=False).encode(), "application/json")
        for n in notices
        for _ in range(copies[str(n["notice_id"])])
    ]
    rng.shuffle(posts)
    straight = [n for i, n in enumerate(notices) if i % 3 == 0] * 2  # and some via Kafka
    rng.shuffle(straight)
    results = await asyncio.gather(*posts, pipeline.produce(straight))
    answers = [r for r in results if r is not None]
    assert len(answers) == sum(copies.values())
    new = Counter(a["notice"]["notice_id"] for a in answers if a["outcome"] == "new")
    assert new == dict.fromkeys(copies, 1)
    assert {a["outcome"] for a in answers} <= {"new", "unchanged"}

    alerts = DISTINCT * len(subscribers)
    await pipeline.settle(webhooks=alerts, emails=alerts)

    hooks = check_signed(pipeline.hook, {s.id: s.secret for s in subscribers})
    per_id = Counter(r.webhook_id for r in pipeline.hook.requests)
    assert len(per_id) == alerts and set(per_id.values()) == {1}
    per_alert = Counter(
        (b["data"]["subscriber_id"], b["data"]["notice"]["notice_id"]) for b in hooks
    )
    assert per_alert == {(s.id, notice_id): 1 for s in subscribers for notice_id in copies}

    mails = pipeline.smtp.messages
    assert Counter(m["Message-ID"] for m in mails).most_common(1)[0][1] == 1
    per_mail = Counter((m["To"], m["X-Regwatch-Notice-Id"]) for m in mails)
    assert per_mail == {(s.email, notice_id): 1 for s in subscribers for notice_id in copies}
    assert len(pipeline.smtp.received) == alerts

    assert await pipeline.count(NoticeRow) == DISTINCT
    assert await pipeline.count(StoredNoticeRow) == DISTINCT
    assert await pipeline.count(AlertRow) == alerts
    assert await pipeline.count(DeliveryRow, DeliveryRow.status == "delivered") == 2 * alerts
    assert await pipeline.count(DeliveryRow) == 2 * alerts
