"""The portal's delivery page: channel settings (saved, and each bad field explained next to
it in both languages; the chat language chosen, spoken by a chat target that names none, and
cleared), webhook secret rotation (shown once), a signed test event against a real receiver,
the delivery log with attempts, replay of a failed delivery, and another subscriber's delivery
is a 404."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.notifier.models import PreferencesRow, TargetRow
from services.notifier.preferences import get_preferences
from services.notifier.signing import verify
from shared.accounts import Subscriber
from tests.services.notifier.portal_support import (
    BASE,
    client,
    delivery,
    delivery_row,
    portal,
    signed_in,
)
from tests.support.chat import FakeDingTalk
from tests.support.portal import Portal, add_subscriber, client_for, csrf_of, portal_app, sign_in
from tests.support.receivers import Reply, WebhookReceiver

SECRET_SHOWN = re.compile(r'<code class="secret wrap" id="secret-value">(whsec_[^<]+)</code>')

__all__ = ["client", "portal"]  # fixtures


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(default=Reply(200, body=b'{"received": true}')) as found:
        yield found


def settings_form(html: str, **changes: str) -> dict[str, str]:
    values = {
        "csrf_token": csrf_of(html),
        "email": "risk@example.com",
        "webhook_url": "",
        "reminders": "7d,3d,1d",
        "timezone": "Asia/Shanghai",
        "digest": "immediate",
        "digest_hour": "9",
        "quiet_start": "",
        "quiet_end": "",
        "email_alerts": "on",
        "remind_due_day": "on",
        "remind_overdue": "on",
        "reminder_time": "",
        "chat_language": "",
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value != "-"}


async def test_settings_are_saved(portal: Portal, client: httpx.AsyncClient) -> None:
    subscriber_id = await signed_in(portal, client)
    page = await client.get("/portal/delivery")
    assert page.status_code == 200
    assert 'aria-current="page">Delivery<' in page.text
    answer = await client.post(
        "/portal/delivery/settings",
        data=settings_form(
            page.text,
            email="desk@example.com",
            reminders="14d, 2d",
            timezone="Europe/Berlin",
            digest="daily",
            digest_hour="8",
            quiet_start="22:00",
            quiet_end="07:30",
            remind_overdue="-",
            reminder_time="08:15",
        ),
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/delivery?saved=1"
    saved = await client.get(answer.headers["location"])
    assert "Your settings are saved." in saved.text
    assert 'value="desk@example.com"' in saved.text and 'value="14d,2d"' in saved.text
    assert 'value="22:00"' in saved.text and 'value="07:30"' in saved.text
    assert 'name="reminder_time" value="08:15"' in saved.text
    async with portal.db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        prefs = await session.get(PreferencesRow, subscriber_id)
        assert subscriber is not None and prefs is not None
        assert (subscriber.email, subscriber.reminders, subscriber.timezone) == (
            "desk@example.com",
            "14d,2d",
            "Europe/Berlin",
        )
        assert (prefs.digest, prefs.digest_hour) == ("daily", 8)
        assert (prefs.quiet_start, prefs.quiet_end) == ("22:00", "07:30")
        assert prefs.remind_overdue is False and prefs.remind_due_day is True
        assert prefs.reminder_time == "08:15"
    back = await client.post(  # left empty: the server's reminder time again
        "/portal/delivery/settings", data=settings_form(saved.text, reminder_time="")
    )
    assert back.status_code == 303
    again = await client.get(back.headers["location"])
    assert 'name="reminder_time" value="" placeholder="09:00"' in again.text
    async with portal.db.session() as session:
        prefs = await session.get(PreferencesRow, subscriber_id, populate_existing=True)
        assert prefs is not None and prefs.reminder_time is None
    api = await client.get("/v1/notifications/settings")  # no API key: the portal is not the API
    assert api.status_code == 401


async def test_bad_fields_are_explained_next_to_them_in_both_languages(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    page = await client.get("/portal/delivery")
    bad = settings_form(
        page.text,
        email="not an address",
        reminders="7 days",
        timezone="Mars/Olympus",
        quiet_start="22:00",
        quiet_end="",
        digest_hour="31",
        reminder_time="25:99",
        chat_language="fr",
    )
    answer = await client.post("/portal/delivery/settings", data=bad)
    assert answer.status_code == 400
    html = answer.text
    for field, message in (
        ("email", "Enter a valid email address"),
        ("reminders", "Write the offsets like 7d,3d,1d"),
        ("timezone", "Unknown time zone"),
        ("quiet", "Give both times as HH:MM"),
        ("digest_hour", "Choose an hour from 00:00 to 23:00"),
        ("reminder_time", "Give the time as HH:MM"),
        ("chat_language", "Choose Chinese, English or each platform&#39;s own."),
    ):
        assert re.search(rf'<p class="field-error" id="{field}-error">{message}', html), field
    assert 'id="email" name="email" value="not an address"' in html  # what was typed stays
    assert 'aria-invalid="true"' in html
    async with portal.db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        assert subscriber is not None and subscriber.reminders == "7d,3d,1d"  # nothing saved
    chinese = await client.post(
        "/portal/delivery/settings?lang=zh", data={**bad, "csrf_token": csrf_of(html)}
    )
    assert chinese.status_code == 400
    assert "请输入有效的电子邮箱" in chinese.text and "未知时区" in chinese.text
    assert "请按 7d,3d,1d 的格式填写" in chinese.text
    assert "请以 HH:MM（00:00 至 23:59）填写，或留空" in chinese.text
    assert re.search(
        r'<p class="field-error" id="chat_language-error">请选择中文、英文或各平台默认。',
        chinese.text,
    )
    none_left = settings_form(html, email="", webhook_url="")
    answer = await client.post("/portal/delivery/settings?lang=en", data=none_left)
    assert answer.status_code == 400 and "Keep at least one channel" in answer.text


async def test_the_chat_language_is_chosen_used_by_chat_targets_and_cleared(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    page = await client.get("/portal/delivery")
    assert '<select id="chat_language" name="chat_language"' in page.text
    assert '<option value="" selected>Each platform&#39;s own</option>' in page.text
    assert '<option value="en">English</option>' in page.text
    answer = await client.post(
        "/portal/delivery/settings", data=settings_form(page.text, chat_language="en")
    )
    assert answer.status_code == 303
    saved = await client.get(answer.headers["location"])
    assert '<option value="en" selected>English</option>' in saved.text
    async with portal.db.session() as session:
        prefs = await session.get(PreferencesRow, subscriber_id)
        assert prefs is not None and prefs.chat_language == "en"

    async with FakeDingTalk() as platform:  # a robot naming no language speaks the chosen one
        robot = platform.robot("t-desk")
        channels = await client.get("/portal/channels")
        added = await client.post(
            "/portal/channels/add",
            data={
                "csrf_token": csrf_of(channels.text),
                "channel": "dingtalk",
                "address": platform.url("t-desk"),
                "language": "",
            },
        )
        assert added.status_code == 303
        async with portal.db.read_session() as session:
            [target] = (
                await session.scalars(
                    select(TargetRow).where(
                        TargetRow.subscriber_id == subscriber_id, TargetRow.channel == "dingtalk"
                    )
                )
            ).all()
        assert target.language is None
        sent = await client.post(
            f"/portal/channels/{target.id}/test", data={"csrf_token": csrf_of(channels.text)}
        )
        assert sent.status_code == 200 and "The platform accepted the test message" in sent.text
        [message] = robot.messages
    assert "This is a test message" in message["markdown"]["text"]

    back = await client.post(  # each platform's own again: DingTalk's is Chinese
        "/portal/delivery/settings?lang=zh", data=settings_form(saved.text, chat_language="")
    )
    assert back.status_code == 303
    again = await client.get("/portal/delivery?lang=zh")
    assert "群聊消息语言" in again.text
    assert '<option value="" selected>各平台默认</option>' in again.text
    async with portal.db.session() as session:
        prefs = await session.get(PreferencesRow, subscriber_id, populate_existing=True)
        assert prefs is not None and prefs.chat_language is None


async def test_a_first_webhook_shows_its_secret_once(
    portal: Portal, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await signed_in(portal, client)
    page = await client.get("/portal/delivery")
    assert "You have no webhook." in page.text
    answer = await client.post(
        "/portal/delivery/settings", data=settings_form(page.text, webhook_url=receiver.url)
    )
    assert answer.status_code == 200
    assert SECRET_SHOWN.search(answer.text)
    assert "it is shown this once" in answer.text
    again = await client.get("/portal/delivery")
    assert not SECRET_SHOWN.search(again.text) and "whsec_" not in again.text


async def test_rotating_the_secret_shows_it_once_and_the_test_event_is_signed_with_it(
    portal: Portal, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await signed_in(portal, client, webhook_url=receiver.url)
    page = await client.get("/portal/delivery")
    rotated = await client.post("/portal/delivery/secret", data={"csrf_token": csrf_of(page.text)})
    assert rotated.status_code == 200
    found = SECRET_SHOWN.search(rotated.text)
    assert found, rotated.text
    secret = found.group(1)
    assert "The previous secret keeps signing beside it until" in rotated.text
    assert secret not in (await client.get("/portal/delivery")).text

    sent = await client.post("/portal/delivery/test", data={"csrf_token": csrf_of(rotated.text)})
    assert sent.status_code == 200
    [request] = await receiver.wait_for(1)
    assert verify(secret, request.headers, request.body)  # checked where it arrived
    body = json.loads(request.body)
    assert body["type"] == "test" and body["data"]["subscriber_id"]
    html = sent.text
    assert "Your endpoint accepted the test event." in html
    assert '<dd class="test-status">200</dd>' in html
    assert "{&#34;received&#34;: true}" in html or '{"received": true}' in html
    assert request.headers["webhook-id"] in html
    log = await client.get("/portal/delivery")
    assert "Nothing has been sent yet." in log.text  # a test event is not an alert


async def test_a_test_event_the_receiver_refuses_shows_its_answer(
    portal: Portal, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    receiver.set_plan([Reply(400, body=b"bad signature, says the receiver")])
    await signed_in(portal, client, webhook_url=receiver.url)
    page = await client.get("/portal/delivery")
    sent = await client.post(
        "/portal/delivery/test?lang=zh", data={"csrf_token": csrf_of(page.text)}
    )
    assert sent.status_code == 200
    assert "测试事件未被接受。" in sent.text and '<dd class="test-status">400</dd>' in sent.text
    assert "bad signature, says the receiver" in sent.text
    assert "HTTP 400 Bad Request" in sent.text


async def test_a_test_event_to_an_address_refused_by_the_ssrf_check(tmp_path: Path) -> None:
    async with portal_app(tmp_path) as portal, client_for(portal.app, BASE) as client:
        subscriber_id, key = await add_subscriber(portal.db)
        async with portal.db.session() as session:  # stored before the rule: sending checks again
            row = await session.get(Subscriber, subscriber_id)
            assert row is not None
            row.webhook_url = "http://127.0.0.1:9/hook"
            row.webhook_secret = None
        await sign_in(client, key)
        page = await client.get("/portal/delivery")
        rotated = await client.post(
            "/portal/delivery/secret", data={"csrf_token": csrf_of(page.text)}
        )
        sent = await client.post(
            "/portal/delivery/test", data={"csrf_token": csrf_of(rotated.text)}
        )
        assert sent.status_code == 200
        assert "The test event was not accepted." in sent.text
        assert "no answer" in sent.text and "127.0.0.1" in sent.text


async def test_without_a_webhook_there_is_nothing_to_test_or_rotate(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    await signed_in(portal, client)
    page = await client.get("/portal/delivery")
    for path in ("/portal/delivery/test", "/portal/delivery/secret"):
        answer = await client.post(path, data={"csrf_token": csrf_of(page.text)})
        assert answer.status_code == 409 and "You have no webhook" in answer.text


async def test_the_log_shows_attempts_and_replays_a_failed_delivery(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    await delivery(
        portal.db,
        subscriber_id,
        "msg_failed",
        attempts=[(503, "HTTP 503 Service Unavailable"), (None, "ConnectError: refused")],
    )
    await delivery(portal.db, subscriber_id, "msg_done", status="delivered", attempts=[(200, None)])
    page = await client.get("/portal/delivery")
    html = page.text
    assert "HTTP 503" in html and "HTTP 503 Service Unavailable" in html
    assert "ConnectError: refused" in html and "HTTP 200" in html and "accepted" in html
    assert "Attempts: 2" in html and "Attempts: 1" in html
    assert 'action="/portal/delivery/msg_failed/replay"' in html
    assert 'action="/portal/delivery/msg_done/replay"' not in html  # only failed ones

    answer = await client.post(
        "/portal/delivery/msg_failed/replay", data={"csrf_token": csrf_of(html)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/delivery?replayed=msg_failed#log"
    row = await delivery_row(portal.db, "msg_failed")
    assert row.status == "pending" and row.replayed_at is not None and row.retry_base == 2
    after = await client.get("/portal/delivery?replayed=msg_failed")
    assert "Delivery msg_failed is queued to be sent again." in after.text
    again = await client.post(
        "/portal/delivery/msg_failed/replay", data={"csrf_token": csrf_of(after.text)}
    )
    assert again.status_code == 409 and "Only a failed delivery" in again.text
    done = await client.post(
        "/portal/delivery/msg_done/replay", data={"csrf_token": csrf_of(after.text)}
    )
    assert done.status_code == 409


async def test_another_subscribers_delivery_is_a_404(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    other_id, _ = await add_subscriber(portal.db, "Other", "other@example.com")
    await delivery(portal.db, other_id, "msg_theirs")
    await signed_in(portal, client)
    page = await client.get("/portal/delivery")
    assert "msg_theirs" not in page.text
    answer = await client.post(
        "/portal/delivery/msg_theirs/replay", data={"csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 404 and "There is nothing here" in answer.text
    assert (await delivery_row(portal.db, "msg_theirs")).status == "failed"
    missing = await client.post(
        "/portal/delivery/msg_nobody/replay", data={"csrf_token": csrf_of(page.text)}
    )
    assert missing.status_code == 404


async def test_the_page_in_chinese(portal: Portal, client: httpx.AsyncClient) -> None:
    subscriber_id = await signed_in(portal, client, webhook_url="http://127.0.0.1:1/hook")
    await delivery(portal.db, subscriber_id, "msg_failed")
    html = (await client.get("/portal/delivery?lang=zh")).text
    assert '<html lang="zh-CN">' in html
    for text in (
        "推送设置",
        "推送渠道与时间",
        "免打扰时段",
        "发送测试事件",
        "轮换签名密钥",
        "推送记录",
        "重新发送",
        "失败",
    ):
        assert text in html, text


async def test_a_webhook_disabled_after_410_is_turned_back_on(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client, webhook_url="http://127.0.0.1:1/hook")
    async with portal.db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        prefs.webhook_disabled_url = "http://127.0.0.1:1/hook"
        prefs.webhook_disabled_reason = "410 Gone"
    page = await client.get("/portal/delivery")
    assert "was turned off after it answered 410 Gone" in page.text
    answer = await client.post(
        "/portal/delivery/webhook/enable", data={"csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/delivery?enabled=1"
    after = await client.get(answer.headers["location"])
    assert "Your webhook is on again." in after.text and "410 Gone" not in after.text
    async with portal.db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        assert prefs.webhook_disabled_url is None
