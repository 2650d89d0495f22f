"""End to end with unreliable receivers: a webhook endpoint that answers 503 twice to every
message and an SMTP server that answers 451 once. Each alert still arrives exactly once,
signed, with both email parts, and the reminders are scheduled."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from services.runtime import Runtime
from tests.support.receivers import Reply, SmtpReceiver, WebhookReceiver
from tests.support.settings import fast_settings

pytestmark = pytest.mark.broker


class TwiceUnavailable(WebhookReceiver):
    """503 to the first two requests of every webhook-id, then 200."""

    def _next_reply(self, webhook_id: str | None) -> Reply:
        earlier = sum(1 for r in self.requests if r.webhook_id == webhook_id)
        return Reply(status=503) if earlier < 2 else Reply(status=200)


def notice(n: int, apps: list[str]) -> dict[str, object]:
    month = 4 + 3 * n  # months apart: two different notices, never merged as one
    return {
        "schema": "regwatch.notice/v1",
        "notice_id": f"cac-2099{month:02d}01-faults-{n}",
        "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
        "kind": "rectification",
        "title": f"关于{'、'.join(apps)}等App违法违规收集使用个人信息情况的通报（第{n + 1}批）",
        "published_on": f"2099-{month:02d}-01",
        "batch": f"第{n + 1}批",
        "deadline": {
            "due_on": f"2099-{month:02d}-22",
            "rule": "working_days",
            "amount": 15,
            "source_text": "15个工作日内",
        },
        "entities": [{"kind": "app", "name": app} for app in apps],
        "source_url": f"https://www.cac.gov.cn/2099-{month:02d}/01/c_{n}.htm",
    }


@pytest.fixture
async def runtime(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> AsyncIterator[tuple[Runtime, WebhookReceiver, SmtpReceiver]]:
    async with TwiceUnavailable() as hook, SmtpReceiver(plan=["451 4.3.0 try later"]) as smtp:
        settings = fast_settings(
            kafka_bootstrap,
            broker_kind,
            namespace,
            tmp_path,
            smtp_port=smtp.port,
            retry_schedule="300ms,300ms,300ms",
        )
        rt = Runtime(settings)
        await rt.start()
        try:
            yield rt, hook, smtp
        finally:
            await rt.stop()


async def test_503_twice_and_451_once_still_deliver_each_alert_once(
    runtime: tuple[Runtime, WebhookReceiver, SmtpReceiver],
) -> None:
    rt, hook, smtp = runtime
    async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
        subscribers = []
        for name, app in (("Legal", "抖音"), ("Risk", "快手")):
            created = (
                await client.post(
                    "/v1/subscribers",
                    json={
                        "name": name,
                        "email": f"{name.lower()}@example.com",
                        "webhook_url": hook.url,
                    },
                )
            ).json()
            auth = {"Authorization": f"Bearer {created['api_key']}"}
            answer = await client.post(
                "/v1/watches", json={"kind": "app", "name": app}, headers=auth
            )
            assert answer.status_code == 201, answer.text
            subscribers.append((created, auth))
        for n in range(2):
            posted = await client.post(
                "/v1/notices",
                content=json.dumps(notice(n, ["抖音", "快手"])),
                headers={"content-type": "application/json"},
            )
            assert posted.status_code == 201, posted.text

        alerts = 4  # 2 subscribers x 2 notices
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ok = [r for r in hook.requests if r.reply.status == 200]
            if len(ok) >= alerts and len(smtp.messages) >= alerts:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # anything duplicated would arrive by now

        attempts = Counter(r.webhook_id for r in hook.requests)
        accepted = Counter(r.webhook_id for r in hook.requests if r.reply.status == 200)
        assert len(attempts) == alerts and set(attempts.values()) == {3}
        assert set(accepted.values()) == {1} and len(accepted) == alerts
        secrets = {c["id"]: c["webhook_secret"] for c, _ in subscribers}
        for request in hook.requests:
            body = Webhook(secrets[request.json()["data"]["subscriber_id"]]).verify(
                request.body, request.headers
            )
            assert body["type"] == "notice.matched"

        mail_ids = Counter(m["Message-ID"] for m in smtp.messages)
        assert len(mail_ids) == alerts and set(mail_ids.values()) == {1}
        assert len(smtp.received) == alerts + 1  # the one 451, then each message once
        for mail in smtp.messages:
            types = {part.get_content_type() for part in mail.walk()}
            assert {"text/plain", "text/html"} <= types
            assert mail["List-Unsubscribe"]
            assert mail["List-Unsubscribe-Post"] is None  # http link: one-click needs https

        for created, auth in subscribers:
            deliveries = (await client.get("/v1/deliveries", headers=auth)).json()
            assert sorted(d["channel"] for d in deliveries) == [
                "email",
                "email",
                "webhook",
                "webhook",
            ]
            assert {d["status"] for d in deliveries} == {"delivered"}
            webhook = [d for d in deliveries if d["channel"] == "webhook"]
            assert [[a["status_code"] for a in d["history"]] for d in webhook] == [
                [503, 503, 200]
            ] * 2
            reminders = (await client.get("/v1/reminders", headers=auth)).json()
            assert {(r["notice_id"], r["offset"]) for r in reminders} == {
                (f"cac-2099{4 + 3 * n:02d}01-faults-{n}", offset)
                for n in range(2)
                for offset in ("7d", "3d", "1d", "due", "overdue")
            }
            assert all(r["status"] == "scheduled" for r in reminders)
            assert created["id"]
