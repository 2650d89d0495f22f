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
from tests.support.chat import FakeDingTalk, FakeFeishu, FakeSlack, FakeTeams, FakeWeCom
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
    # 09:00 Asia/Shanghai (the subscriber's zone, the default reminder time) 7 days earlier
    assert reminders[0]["fire_at"].startswith("2099-10-15T01:00:00")
    assert reminders[0]["fire_at_local"] == "2099-10-15T09:00:00+08:00"


async def test_every_channel_gets_each_alert_once_per_target(
    runtime: Runtime, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, smtp = receivers
    async with (
        FakeDingTalk() as dingtalk,
        FakeWeCom() as wecom,
        FakeFeishu() as feishu,
        FakeSlack() as slack,
        FakeTeams() as teams,
        httpx.AsyncClient(base_url=runtime.http_url, timeout=10) as client,
    ):
        robots = [
            dingtalk.robot("dt-legal", secret="SEClegal", keyword="合规"),
            dingtalk.robot("dt-ops"),  # a second group on the same channel
            wecom.robot("wc-key"),
            feishu.robot("fs-hook", secret="fs-secret"),
            slack.robot("T1/B1/x"),
            teams.robot("wf-1"),
        ]
        targets = [
            {
                "channel": "dingtalk",
                "address": dingtalk.url("dt-legal"),
                "secret": "SEClegal",
                "keyword": "合规",
            },
            {"channel": "dingtalk", "address": dingtalk.url("dt-ops")},
            {"channel": "wecom", "address": wecom.url("wc-key")},
            {"channel": "feishu", "address": feishu.url("fs-hook"), "secret": "fs-secret"},
            {"channel": "slack", "address": slack.url("T1/B1/x")},
            {"channel": "teams", "address": teams.url("wf-1")},
        ]
        created = (
            await client.post(
                "/v1/subscribers",
                json={"name": "Group", "email": "group@example.com", "webhook_url": hook.url},
            )
        ).json()
        auth = {"Authorization": f"Bearer {created['api_key']}"}
        for target in targets:
            added = await client.post("/v1/channels", json=target, headers=auth)
            assert added.status_code == 201, added.text
        await client.post("/v1/watches", json={"kind": "app", "name": "抖音"}, headers=auth)
        posted = await client.post(
            "/v1/notices", content=MIIT_TABLE.encode(), headers={"content-type": "text/html"}
        )
        assert posted.status_code == 201, posted.text
        await hook.wait_for(1, timeout=30)
        await smtp.wait_for(1, timeout=30)
        for _ in range(300):
            if all(robot.messages for robot in robots):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # anything sent twice would arrive by now
    assert [len(robot.messages) for robot in robots] == [1] * len(robots)
    assert all(robot.refused == [] for robot in robots)  # signed right, keyword carried
    assert len(hook.requests) == 1 and len(smtp.messages) == 1


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


# --- one notice however the press retells it ---------------------------------------------------

REGULATORS_TEXT = """关于抖音等5款App违法违规收集使用个人信息情况的通报

近期，国家互联网信息办公室对部分App进行了检测，发现抖音等5款App存在违法违规收集使用个人信息情况。
相关App运营者应当自本通报发布之日起15个工作日内完成整改。

附件：违法违规收集使用个人信息的App名单
1. 抖音（北京微播视界科技有限公司）
2. 快手（北京快手科技有限公司）
3. 领英（领英网络技术（北京）有限公司）
4. 云朵阅读（杭州云朵文化科技有限公司）
5. 晴空相机（厦门晴空影像有限公司）

国家互联网信息办公室
2099年3月2日
"""
NEWS_STORY = """China's internet regulator names 5 apps including Douyin and LinkedIn

March 3, 2099

BEIJING - China's cyberspace regulator said on Tuesday that 5 apps, including ByteDance's \
Douyin and Microsoft's LinkedIn, had collected personal data illegally. The Cyberspace \
Administration of China gave the operators 15 days to fix the problems.
"""
CHINESE_STORY = """网信办通报抖音、领英等5款App违法违规收集使用个人信息

2099年3月4日 来源：某某日报

国家网信办近日通报抖音、领英等5款App存在违法违规收集使用个人信息问题，要求相关运营者整改。
"""


async def _post_text(client: httpx.AsyncClient, text: str, source_url: str) -> dict[str, object]:
    posted = await client.post(
        "/v1/notices",
        content=text.encode(),
        params={"source_url": source_url},
        headers={"content-type": "text/plain"},
    )
    assert posted.status_code == 201, posted.text
    answer: dict[str, object] = posted.json()
    return answer


async def _subscriber_watching(
    client: httpx.AsyncClient, hook: WebhookReceiver, *apps: str
) -> tuple[dict[str, str], dict[str, str]]:
    created = (
        await client.post(
            "/v1/subscribers", json={"name": "Risk", "webhook_url": hook.url, "reminders": "1d"}
        )
    ).json()
    auth = {"Authorization": f"Bearer {created['api_key']}"}
    for app in apps:
        answer = await client.post("/v1/watches", json={"kind": "app", "name": app}, headers=auth)
        assert answer.status_code == 201, answer.text
    return created, auth


async def test_a_press_story_after_the_regulators_notice_sends_nothing_more(
    runtime: Runtime, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, _ = receivers
    async with httpx.AsyncClient(base_url=runtime.http_url, timeout=10) as client:
        await _subscriber_watching(client, hook, "Douyin")
        own = await _post_text(client, REGULATORS_TEXT, "https://www.cac.gov.cn/n/1.htm")
        await hook.wait_for(1, timeout=30)
        for text, url in (
            (NEWS_STORY, "https://news.example.com/a"),
            (CHINESE_STORY, "https://paper.example.cn/b"),
        ):
            story = await _post_text(client, text, url)
            assert story["outcome"] == "unchanged"
            assert story["notice"]["notice_id"] == own["notice"]["notice_id"]  # type: ignore[index]
        await asyncio.sleep(3)  # a second alert would have arrived by now
    assert len(hook.requests) == 1


async def test_the_regulators_text_upgrades_a_press_story_and_alerts_only_what_is_new(
    runtime: Runtime, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, _ = receivers
    async with httpx.AsyncClient(base_url=runtime.http_url, timeout=10) as client:
        created, auth = await _subscriber_watching(client, hook, "Douyin", "快手")
        press = await _post_text(client, NEWS_STORY, "https://news.example.com/a")
        [first] = await hook.wait_for(1, timeout=30)
        own = await _post_text(client, REGULATORS_TEXT, "https://www.cac.gov.cn/n/1.htm")
        assert own["outcome"] == "updated"
        assert own["notice"]["notice_id"] == press["notice"]["notice_id"]  # type: ignore[index]
        [_, second] = await hook.wait_for(2, timeout=30)
        for _ in range(100):  # the new deadline reaches the reminders
            reminders = (await client.get("/v1/reminders", headers=auth)).json()
            if reminders and {r["due_on"] for r in reminders} == {"2099-03-23"}:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # anything more would have arrived by now

    webhook = Webhook(created["webhook_secret"])
    one, two = (webhook.verify(r.body, r.headers)["data"] for r in (first, second))
    assert (one["reason"], [m["entity"]["name"] for m in one["matches"]]) == ("match", ["Douyin"])
    assert one["notice"]["deadline"]["due_on"] == "2099-03-18"  # the press's "15 days"
    assert (two["reason"], [m["entity"]["name"] for m in two["matches"]]) == ("match-2", ["快手"])
    assert two["notice"]["deadline"]["due_on"] == "2099-03-23"  # 15 working days
    assert two["notice"]["title"].startswith("关于抖音等5款App")
    assert len(hook.requests) == 2
    assert {r["due_on"] for r in reminders} == {"2099-03-23"}


IMAGE_ONLY_PAGE = """<html><head><meta charset='utf-8'>
<title>关于抖音等3款App违法违规收集使用个人信息情况的通报</title></head><body>
<h1>关于抖音等3款App违法违规收集使用个人信息情况的通报</h1>
<p>国家互联网信息办公室</p><p>2099年4月6日</p>
<p>经检测，抖音等3款App存在违法违规收集使用个人信息问题，相关App运营者应当自本通报发布之日起15个工作日内完成整改。</p>
<p>附件：App名单</p>LIST</body></html>"""
THE_IMAGE = '<p><img src="/upload/list.png" alt="App名单"></p>'
THE_TABLE = (
    "<table><tr><td>序号</td><td>应用名称</td><td>应用开发者</td></tr>"
    "<tr><td>1</td><td>抖音</td><td>北京微播视界科技有限公司</td></tr>"
    "<tr><td>2</td><td>快手</td><td>北京快手科技有限公司</td></tr>"
    "<tr><td>3</td><td>云朵阅读</td><td>杭州云朵文化科技有限公司</td></tr></table>"
)


async def test_an_incomplete_list_is_said_and_its_completion_alerts_only_what_is_new(
    runtime: Runtime, receivers: tuple[WebhookReceiver, SmtpReceiver]
) -> None:
    hook, smtp = receivers
    async with httpx.AsyncClient(base_url=runtime.http_url, timeout=10) as client:
        created = (
            await client.post(
                "/v1/subscribers",
                json={"name": "Risk", "email": "risk@example.com", "webhook_url": hook.url},
            )
        ).json()
        auth = {"Authorization": f"Bearer {created['api_key']}"}
        for app in ("Douyin", "Kuaishou"):
            await client.post("/v1/watches", json={"kind": "app", "name": app}, headers=auth)
        for listed in (THE_IMAGE, THE_TABLE):
            posted = await client.post(
                "/v1/notices",
                content=IMAGE_ONLY_PAGE.replace("LIST", listed).encode(),
                headers={"content-type": "text/html"},
            )
            assert posted.status_code == 201, posted.text
            await hook.wait_for(1 if listed == THE_IMAGE else 2, timeout=30)
        await smtp.wait_for(2, timeout=30)
        await asyncio.sleep(2)  # anything more would have arrived by now

    webhook = Webhook(created["webhook_secret"])
    first, second = (webhook.verify(r.body, r.headers)["data"] for r in hook.requests)
    notice = first["notice"]
    assert (notice["list_incomplete"], notice["declared_count"], notice["entities_read"]) == (
        True,
        3,
        1,
    )
    assert notice["list_note"].startswith(
        "This notice names 3 apps; 1 read from the text; the rest are in an image"
    )
    assert [m["entity"]["name"] for m in first["matches"]] == ["抖音"]
    assert (second["reason"], [m["entity"]["name"] for m in second["matches"]]) == (
        "match-2",
        ["快手"],
    )
    assert second["notice"]["list_incomplete"] is False and second["notice"]["list_note"] is None
    assert len(hook.requests) == 2
    texts = [
        part.get_content()
        for part in smtp.messages[0].walk()
        if part.get_content_type() == "text/plain"
    ]
    assert "names 3 apps; 1 read from the text" in texts[0]
