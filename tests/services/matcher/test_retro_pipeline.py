"""Retroactive matching end to end on a real broker: a watch item added after a notice alerts
through the normal path (matcher -> regwatch.matches.v1 -> notifier -> webhook), once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from services.runtime import Runtime
from shared.events import NoticeEvent
from shared.settings import Settings
from tests.support.receivers import SmtpReceiver, WebhookReceiver

pytestmark = pytest.mark.broker

KUAISHOU_DEV = "北京快手科技有限公司"
DOUYIN_DEV = "北京微播视界科技有限公司"


@pytest.fixture
async def hooks() -> AsyncIterator[tuple[WebhookReceiver, SmtpReceiver]]:
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        yield hook, smtp


@pytest.fixture
async def runtime(
    kafka_bootstrap: str,
    broker_kind: str,
    namespace: str,
    tmp_path: Path,
    hooks: tuple[WebhookReceiver, SmtpReceiver],
) -> AsyncIterator[Runtime]:
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_idempotence=broker_kind != "tansu",
        topic_namespace=namespace,
        data_dir=tmp_path,
        database_url=None,
        http_port=0,
        smtp_host="127.0.0.1",
        smtp_port=hooks[1].port,
        webhook_allow_private=True,
        retry_schedule="200ms,200ms",
        dispatch_interval=0.2,
        kafka_partitions=2,
    )
    rt = Runtime(settings)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


async def test_a_watch_added_later_alerts_on_open_notices_once(
    runtime: Runtime,
    hooks: tuple[WebhookReceiver, SmtpReceiver],
    make_notice: Callable[..., NoticeEvent],
) -> None:
    hook, _ = hooks
    both = (("抖音", DOUYIN_DEV), ("快手", KUAISHOU_DEV))
    open_notice = make_notice("cac-20991001-open", *both)
    closed_notice = make_notice(
        "cac-20200101-closed",
        *both,
        due_on=date(2020, 1, 22),
        published_on=date(2020, 1, 2),
    )
    async with httpx.AsyncClient(base_url=runtime.http_url, timeout=10) as client:
        created = (
            await client.post("/v1/subscribers", json={"name": "Legal", "webhook_url": hook.url})
        ).json()
        auth = {"Authorization": f"Bearer {created['api_key']}"}
        douyin = (
            await client.post("/v1/watches", json={"kind": "app", "name": "Douyin"}, headers=auth)
        ).json()
        for notice in (closed_notice, open_notice):
            posted = await client.post(
                "/v1/notices",
                content=json.dumps(notice.dump()),
                headers={"content-type": "application/json"},
            )
            assert posted.status_code == 201, posted.text
        await hook.wait_for(2, timeout=30)  # Douyin in both notices

        # later: a company watch that both notices match; only the open one alerts
        added = await client.post(
            "/v1/watches", json={"kind": "company", "name": "Kuaishou"}, headers=auth
        )
        assert added.status_code == 201
        [*_, retro] = await hook.wait_for(3, timeout=30)
        # the same again, and a watch removed and added again: nothing new to tell
        again = await client.post(
            "/v1/watches", json={"kind": "company", "name": "Kuaishou"}, headers=auth
        )
        assert again.status_code == 200
        await client.delete(f"/v1/watches/{douyin['id']}", headers=auth)
        await client.post("/v1/watches", json={"kind": "app", "name": "Douyin"}, headers=auth)
        await asyncio.sleep(3)  # anything more would have arrived by now

        assert len(hook.requests) == 3
        body = Webhook(created["webhook_secret"]).verify(retro.body, retro.headers)
        assert body["data"]["notice"]["notice_id"] == open_notice.notice_id
        assert [(m["watch"]["name"], m["entity"]["name"]) for m in body["data"]["matches"]] == [
            ("Kuaishou", "快手")
        ]
        assert len({r.webhook_id for r in hook.requests}) == 3

        alerts = (await client.get("/v1/alerts", headers=auth)).json()
        by_notice = {a["notice"]["notice_id"]: a for a in alerts}
        assert set(by_notice) == {open_notice.notice_id, closed_notice.notice_id}
        lines = [
            (m["watch"]["name"], m["alert_reason"], m["cause"])
            for m in by_notice[open_notice.notice_id]["matches"]
        ]
        assert lines == [("Douyin", "match", "notice"), ("Kuaishou", "match-2", "watch")]
        assert [m["watch"]["name"] for m in by_notice[closed_notice.notice_id]["matches"]] == [
            "Douyin"
        ]
