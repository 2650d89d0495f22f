"""The portal's chat channels page: targets added, listed (token masked, secret never shown
again, not even after a refusal; the language each one's messages are in) and removed in both
languages, each bad field explained next to it, CSRF on every button, another subscriber's
target a 404, and a test message to a local DingTalk showing the platform's answer (or when to
try again)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select, update

from services.notifier import portal_channels
from services.notifier.models import DeliveryRow, TargetRow
from services.notifier.preferences import get_preferences
from services.notifier.target_probe import TooSoon
from tests.services.notifier.portal_support import BASE, client, delivery, portal, signed_in
from tests.support.chat import FakeDingTalk
from tests.support.portal import Portal, client_for, csrf_of

TOKEN = "0123456789abcdef0123456789abcdef"
ROBOT = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
SECRET = "SEC0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"

__all__ = ["client", "portal"]  # fixtures


def target_form(html: str, **changes: str) -> dict[str, str]:
    values = {
        "csrf_token": csrf_of(html),
        "channel": "dingtalk",
        "address": ROBOT,
        "secret": "",
        "keyword": "",
        "language": "",
        "label": "",
    }
    values.update(changes)
    return values


async def stored(portal: Portal, subscriber_id: str) -> list[TargetRow]:
    async with portal.db.read_session() as session:
        rows = await session.scalars(
            select(TargetRow)
            .where(TargetRow.subscriber_id == subscriber_id, TargetRow.account.is_(False))
            .order_by(TargetRow.created_at)
        )
        return list(rows)


async def add(
    client: httpx.AsyncClient, query: str = "", **changes: str
) -> tuple[httpx.Response, httpx.Response]:
    """POST the add form; (its answer, the page it leads to, or the answer itself)."""
    page = await client.get(f"/portal/channels{query}")
    answer = await client.post(
        f"/portal/channels/add{query}", data=target_form(page.text, **changes)
    )
    if answer.status_code != 303:
        return answer, answer
    return answer, await client.get(answer.headers["location"])


async def test_targets_are_added_listed_and_removed(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    page = await client.get("/portal/channels")
    assert page.status_code == 200
    assert 'aria-current="page">Chat channels<' in page.text
    nav = re.findall(r'<li><a href="(/portal/[a-z]*)"', page.text)
    assert nav.index("/portal/channels") == nav.index("/portal/delivery") + 1
    assert "No chat targets yet" in page.text
    assert 'type="password" id="secret" name="secret" autocomplete="off"' in page.text
    for hint in (
        "https://oapi.dingtalk.com/robot/send?access_token=...",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...",
        "https://open.feishu.cn/open-apis/bot/v2/hook/...",
        "https://hooks.slack.com/services/...",
        "When a Teams webhook request is received",
    ):
        assert hint in page.text, hint
    options = re.findall(r'<option value="([a-z]+)"', page.text)
    assert options[:5] == ["dingtalk", "wecom", "feishu", "slack", "teams"]

    answer, after = await add(
        client, secret=SECRET, keyword="合规", language="en", label="Compliance group"
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/channels?added=1#targets"
    assert "Added: alerts go to it from now on." in after.text
    _, after = await add(client, channel="wecom", address=WECOM)
    html = after.text
    assert SECRET not in html and TOKEN[:-4] not in html
    assert "access_token=…cdef" in html and "key=…5aaa" in html
    assert "DingTalk</strong> · Compliance group" in html and "WeCom</strong>" in html
    assert "合规" in html and "set (never shown)" in html and "English" in html
    assert re.search(r'<dd class="target-language">English</dd>', html)  # its own
    assert re.search(  # none of its own, none of the subscriber's: WeCom's
        r'<dd class="target-language">Chinese \(the platform&#39;s own: you have set no chat',
        html,
    )
    assert '<option value="" selected>Use my chat language</option>' in html
    assert "You have set no chat language: each platform&#39;s own applies." in html
    assert '<a href="/portal/delivery#chat_language">' in html
    first, second = await stored(portal, subscriber_id)
    assert re.findall(r'<li id="target-(tgt_\w+)">', html) == [first.id, second.id]  # newest last
    assert first.secret and first.secret.startswith("fernet:")  # encrypted at rest
    assert (first.keyword, first.language, first.label) == ("合规", "en", "Compliance group")
    assert second.secret is None and second.language is None

    duplicate, _ = await add(client)
    assert duplicate.status_code == 422
    assert re.search(
        r'<p class="field-error" id="address-error">This webhook is already one of your',
        duplicate.text,
    )

    removed = await client.post(
        f"/portal/channels/{first.id}/remove", data={"csrf_token": csrf_of(html)}
    )
    assert removed.status_code == 303
    assert removed.headers["location"] == "/portal/channels?removed=1&cancelled=0#targets"
    after = await client.get(removed.headers["location"])
    assert "Removed: nothing more goes to it." in after.text
    assert re.findall(r'<li id="target-(tgt_\w+)">', after.text) == [second.id]
    assert [row.id for row in await stored(portal, subscriber_id)] == [second.id]


async def test_the_page_in_chinese(portal: Portal, client: httpx.AsyncClient) -> None:
    subscriber_id = await signed_in(portal, client)
    answer, after = await add(
        client, "?lang=zh", secret=SECRET, keyword="合规", language="zh", label="合规群"
    )
    assert answer.status_code == 303
    html = after.text
    assert '<html lang="zh-CN">' in html
    for text in (
        "群聊推送",
        "已添加：此后的提醒都会发到这里。",
        "钉钉</strong> · 合规群",
        "已设置（不会显示）",
        "中文",
        "发送测试消息",
        "删除",
        "添加群聊推送目标",
        "加签密钥（可选）",
        "企业微信",
        "飞书",
    ):
        assert text in html, text
    assert SECRET not in html
    [row] = await stored(portal, subscriber_id)
    removed = await client.post(
        f"/portal/channels/{row.id}/remove?lang=zh", data={"csrf_token": csrf_of(html)}
    )
    after = await client.get(removed.headers["location"])
    assert "已删除：不会再向它发送消息。" in after.text
    assert "尚未添加群聊推送目标" in after.text
    assert await stored(portal, subscriber_id) == []


async def test_bad_fields_are_explained_next_to_them_and_the_secret_is_not_sent_back(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    answer, _ = await add(
        client, address="ftp://oapi.dingtalk.com/robot", secret=SECRET, label="Desk"
    )
    assert answer.status_code == 422
    html = answer.text
    assert re.search(
        r'<p class="field-error" id="address-error">Enter an http\(s\) URL of a public server.',
        html,
    )
    assert 'id="address" name="address" value="ftp://oapi.dingtalk.com/robot"' in html
    assert 'aria-invalid="true"' in html and 'value="Desk"' in html  # what was typed stays
    assert SECRET not in html  # but not the secret
    assert "the secret was not kept: type it again" in html
    assert await stored(portal, subscriber_id) == []

    answer, _ = await add(client, keyword="k" * 41, language="fr", channel="pager")
    assert answer.status_code == 422
    for field, message in (
        ("keyword", "Too long: at most 40 characters (this has 41)."),
        ("language", "Choose Chinese, English or “Use my chat language”."),
        ("channel", "Choose one of the platforms listed."),
    ):
        assert f'<p class="field-error" id="{field}-error">{message}</p>' in answer.text, field

    chinese, _ = await add(client, "?lang=zh", address="", secret=SECRET)
    assert chinese.status_code == 422 and "请粘贴机器人的 Webhook 地址。" in chinese.text
    assert SECRET not in chinese.text and "密钥未被保留，请重新输入" in chinese.text
    chinese, _ = await add(client, "?lang=zh", address="http://user:pw@example.com/hook")
    assert "请输入公网服务器的 http(s) 地址。" in chinese.text
    after = await client.get("/portal/channels")
    assert SECRET not in after.text and await stored(portal, subscriber_id) == []


async def test_each_target_lists_the_language_its_messages_are_in(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    """Its own language, else the subscriber's chat language, else the platform's own."""
    subscriber_id = await signed_in(portal, client)
    await add(client, label="Own language", language="en")
    await add(client, channel="wecom", address=WECOM, label="Mine")
    await add(client, channel="slack", address="https://hooks.slack.com/services/T0/B0/x")

    def languages(html: str) -> list[str]:
        return re.findall(r'<dd class="target-language">([^<]*)</dd>', html)

    html = (await client.get("/portal/channels")).text
    assert languages(html) == [
        "English",
        "Chinese (the platform&#39;s own: you have set no chat language)",
        "English (the platform&#39;s own: you have set no chat language)",
    ]
    async with portal.db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        prefs.chat_language = "zh"
    html = (await client.get("/portal/channels")).text
    assert languages(html) == [
        "English",
        "Chinese (your chat language)",
        "Chinese (your chat language)",
    ]
    assert "Your chat language is now: Chinese." in html
    chinese = (await client.get("/portal/channels?lang=zh")).text
    assert languages(chinese) == ["英文", "中文（您的群聊消息语言）", "中文（您的群聊消息语言）"]
    assert '<option value="" selected>使用我的群聊消息语言</option>' in chinese
    assert "您目前的群聊消息语言：中文。" in chinese


async def test_buttons_need_the_csrf_token(portal: Portal, client: httpx.AsyncClient) -> None:
    subscriber_id = await signed_in(portal, client)
    await add(client, secret=SECRET)
    [row] = await stored(portal, subscriber_id)
    for action in ("remove", "test"):
        answer = await client.post(f"/portal/channels/{row.id}/{action}", data={})
        assert answer.status_code == 403, action
        forged = await client.post(
            f"/portal/channels/{row.id}/{action}", data={"csrf_token": "forged"}
        )
        assert forged.status_code == 403, action
    answer = await client.post("/portal/channels/add", data={"channel": "dingtalk"})
    assert answer.status_code == 403
    assert len(await stored(portal, subscriber_id)) == 1


async def test_another_subscribers_target_is_a_404(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    async with client_for(portal.app, BASE) as other:
        theirs_id = await signed_in(portal, other, name="Other team", email="other@example.com")
        await add(other, label="Their group")
    [theirs] = await stored(portal, theirs_id)
    await signed_in(portal, client)
    page = await client.get("/portal/channels")
    assert "Their group" not in page.text and theirs.id not in page.text
    for action in ("remove", "test"):
        answer = await client.post(
            f"/portal/channels/{theirs.id}/{action}", data={"csrf_token": csrf_of(page.text)}
        )
        assert answer.status_code == 404, action
        assert "There is nothing here" in answer.text
    missing = await client.post(
        "/portal/channels/tgt_nobody/test", data={"csrf_token": csrf_of(page.text)}
    )
    assert missing.status_code == 404
    assert [row.id for row in await stored(portal, theirs_id)] == [theirs.id]


async def test_a_test_message_shows_the_platforms_answer(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    async with FakeDingTalk() as platform:
        robot = platform.robot("t-ok", secret="SECgood", keyword="regwatch")
        platform.robot("t-bad", secret="SECgood")
        await add(client, address=platform.url("t-ok"), secret="SECgood", keyword="regwatch")
        await add(client, address=platform.url("t-bad"), secret="SECwrong", label="Wrong")
        good, bad = await stored(portal, subscriber_id)
        page = await client.get("/portal/channels")
        sent = await client.post(
            f"/portal/channels/{good.id}/test", data={"csrf_token": csrf_of(page.text)}
        )
        refused = await client.post(
            f"/portal/channels/{bad.id}/test?lang=zh", data={"csrf_token": csrf_of(page.text)}
        )
    assert sent.status_code == 200
    [message] = robot.messages
    assert "测试消息" in message["markdown"]["text"]
    html = sent.text
    assert "The platform accepted the test message" in html
    assert '<dd class="test-outcome">ok</dd>' in html
    assert '<dd class="test-status">200</dd>' in html
    assert "&#34;errmsg&#34;: &#34;ok&#34;" in html or '"errmsg": "ok"' in html
    assert "access_token=…t-ok" in html and "SECgood" not in html

    assert refused.status_code == 200
    html = refused.text
    assert "平台未接受测试消息。" in html and "sign not match" in html
    assert "钉钉 · Wrong" in html and "SECwrong" not in html
    assert "成功（ok）" not in html


async def test_a_spent_rate_says_when_to_try_again(
    portal: Portal, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def spent(*args: object) -> None:
        raise TooSoon(41.2)

    monkeypatch.setattr(portal_channels, "send_test", spent)
    subscriber_id = await signed_in(portal, client)
    await add(client)
    [row] = await stored(portal, subscriber_id)
    page = await client.get("/portal/channels")
    answer = await client.post(
        f"/portal/channels/{row.id}/test", data={"csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 429
    assert "used up its sending rate for now" in answer.text and "Try again in 42 s." in answer.text
    chinese = await client.post(
        f"/portal/channels/{row.id}/test?lang=zh", data={"csrf_token": csrf_of(page.text)}
    )
    assert "请在 42 秒后重试" in chinese.text


async def test_removing_a_target_cancels_what_waits_for_it(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    await add(client)
    [row] = await stored(portal, subscriber_id)
    await delivery(portal.db, subscriber_id, "msg_waiting", status="pending", attempts=[])
    async with portal.db.session() as session:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == "msg_waiting")
            .values(channel="dingtalk", target=row.address, target_id=row.id)
        )
    page = await client.get("/portal/channels")
    removed = await client.post(
        f"/portal/channels/{row.id}/remove", data={"csrf_token": csrf_of(page.text)}
    )
    after = await client.get(removed.headers["location"])
    assert "Messages still waiting to go to it are cancelled: 1." in after.text
    log = await client.get("/portal/delivery")  # a chat delivery is named in the log
    assert log.status_code == 200 and "DingTalk" in log.text
