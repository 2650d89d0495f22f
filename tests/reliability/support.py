"""Helpers of the infrastructure-loss tests (a broker restarted, database connections killed):
distinct notices, subscribers over HTTP, polling, and the exactly-once tally at the receivers."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from shared.metrics import REGISTRY
from tests.support.receivers import SmtpReceiver, WebhookReceiver

APPS = ("抖音", "快手")
FIRST_DAY = date(2099, 1, 4)


def notice(n: int, tag: str, apps: tuple[str, ...] = APPS) -> dict[str, object]:
    """The n-th of a run of distinct notices: its own id, batch label and a date a week after
    the previous one (more than the reprint window), so no two are merged into one."""
    published = FIRST_DAY + timedelta(days=7 * n)
    return {
        "schema": "regwatch.notice/v1",
        "notice_id": f"cac-{published:%Y%m%d}-{tag}-{n}",
        "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
        "kind": "rectification",
        "title": f"关于{'、'.join(apps)}等App违法违规收集使用个人信息情况的通报（{tag}第{n + 1}批）",
        "published_on": published.isoformat(),
        "batch": f"{tag}第{n + 1}批",
        "deadline": {
            "due_on": (published + timedelta(days=21)).isoformat(),
            "rule": "working_days",
            "amount": 15,
            "source_text": "15个工作日内",
        },
        "entities": [{"kind": "app", "name": app} for app in apps],
        "source_url": f"https://www.cac.gov.cn/{published:%Y-%m}/{published:%d}/c_{tag}_{n}.htm",
    }


@dataclass
class Subscribed:
    id: str
    secret: str
    auth: dict[str, str]


async def subscribe(
    client: httpx.AsyncClient, name: str, webhook_url: str, app: str = APPS[0]
) -> Subscribed:
    """A subscriber with a webhook and an email address, watching ``app``."""
    answer = await client.post(
        "/v1/subscribers",
        json={"name": name, "email": f"{name.lower()}@example.com", "webhook_url": webhook_url},
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    auth = {"Authorization": f"Bearer {created['api_key']}"}
    answer = await client.post("/v1/watches", json={"kind": "app", "name": app}, headers=auth)
    assert answer.status_code == 201, answer.text
    return Subscribed(created["id"], created["webhook_secret"], auth)


async def post_notice(client: httpx.AsyncClient, body: dict[str, object]) -> httpx.Response:
    return await client.post(
        "/v1/notices",
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={"content-type": "application/json"},
    )


async def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:  # noqa: ASYNC109
    """Poll ``check`` until it holds; returns the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def wait_until_async(check: Callable[[], Any], timeout: float, what: str) -> float:  # noqa: ASYNC109
    """As :func:`wait_until`, for a coroutine function."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def accepted_webhooks(hook: WebhookReceiver) -> Counter[str | None]:
    """webhook-id -> how many requests with it the receiver accepted (2xx)."""
    return Counter(r.webhook_id for r in hook.requests if 200 <= r.reply.status < 300)


def notices_of_webhooks(hook: WebhookReceiver) -> Counter[tuple[str, str]]:
    """(subscriber, notice) -> accepted ``notice.matched`` webhooks about it."""
    return Counter(
        (r.json()["data"]["subscriber_id"], r.json()["data"]["notice"]["notice_id"])
        for r in hook.requests
        if 200 <= r.reply.status < 300 and r.json()["type"] == "notice.matched"
    )


def notices_of_mails(smtp: SmtpReceiver) -> Counter[tuple[str, str]]:
    """(recipient, notice) -> accepted emails about it."""
    return Counter((str(m["To"]), str(m["X-Regwatch-Notice-Id"])) for m in smtp.messages)


def arrived(hook: WebhookReceiver, smtp: SmtpReceiver, alerts: int) -> bool:
    return len(accepted_webhooks(hook)) >= alerts and len(smtp.messages) >= alerts


def assert_each_alert_once(
    hook: WebhookReceiver,
    smtp: SmtpReceiver,
    subscribers: list[Subscribed],
    emails: dict[str, str],
    notice_ids: list[str],
) -> None:
    """Every (subscriber, notice) alert arrived once by webhook and once by email; nothing
    else arrived, and no webhook-id or Message-ID was accepted twice."""
    expected_hooks = {(s.id, n) for s in subscribers for n in notice_ids}
    expected_mails = {(emails[s.id], n) for s in subscribers for n in notice_ids}
    by_id = accepted_webhooks(hook)
    twice = {i: n for i, n in by_id.items() if n > 1}
    assert not twice, f"webhook-ids accepted more than once: {twice}"
    assert len(by_id) == len(expected_hooks), (len(by_id), len(expected_hooks))
    assert len(hook.requests) == len(expected_hooks), "a webhook was sent twice"
    per_notice = notices_of_webhooks(hook)
    missing = expected_hooks - set(per_notice)
    assert not missing, f"webhooks lost: {sorted(missing)}"
    assert set(per_notice) == expected_hooks and set(per_notice.values()) == {1}

    mail_ids = Counter(str(m["Message-ID"]) for m in smtp.messages)
    twice_mail = {i: n for i, n in mail_ids.items() if n > 1}
    assert not twice_mail, f"emails accepted more than once: {twice_mail}"
    mails = notices_of_mails(smtp)
    lost_mail = expected_mails - set(mails)
    assert not lost_mail, f"emails lost: {sorted(lost_mail)}"
    assert set(mails) == expected_mails and set(mails.values()) == {1}
    assert len(smtp.received) == len(expected_mails), "an email was sent twice"


def dead_lettered(namespace: str) -> dict[str, float]:
    """Messages of this namespace's topics sent to a dead-letter topic (process metrics)."""
    counts: dict[str, float] = {}
    for metric in REGISTRY.collect():
        if metric.name != "regwatch_dead_lettered_messages":
            continue
        for sample in metric.samples:
            topic = sample.labels.get("topic", "")
            if sample.name.endswith("_total") and topic.startswith(f"{namespace}."):
                counts[topic] = counts.get(topic, 0.0) + sample.value
    return {topic: n for topic, n in counts.items() if n}
