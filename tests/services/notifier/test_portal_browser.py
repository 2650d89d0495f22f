"""The notifier's portal pages in a real browser (headless Chromium, tests/support/browser.py):
marking a deadline dealt with (by keyboard), copying the .ics URL, sending the test event to a
real receiver, replaying a failed delivery, chat targets added, tested on local DingTalk and
Slack stand-ins and removed, the chat language chosen and spoken by the targets that name none,
both languages and a phone's width. No request may leave the machine."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from services.notifier.preferences import get_preferences
from services.notifier.signing import verify
from tests.services.notifier.portal_support import (
    delivery,
    delivery_row,
    reminder_statuses,
    track,
)
from tests.support.browser import browser, browser_test, context, local_context, page
from tests.support.chat import FakeDingTalk, FakeSlack
from tests.support.portal import Site, add_subscriber, portal_site
from tests.support.receivers import Reply, WebhookReceiver

__all__ = ["browser", "context", "page"]  # fixtures
pytestmark = browser_test


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with portal_site(tmp_path, webhook_allow_private=True) as found:
        yield found


async def sign_in(page: Page, site: Site, key: str, next_path: str) -> None:
    await page.goto(f"{site.url}{next_path}")
    await page.get_by_label("API key", exact=True).fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site.url}{next_path}")


async def test_a_deadline_is_marked_dealt_with_from_the_keyboard(
    page: Page, context: BrowserContext, site: Site
) -> None:
    subscriber_id, key = await add_subscriber(site.portal.db)
    await track(site.portal.db, site.portal.settings, subscriber_id, notice_id="miit-a", due_in=9)
    await sign_in(page, site, key, "/portal/deadlines")
    await expect(page.get_by_text("9 days left")).to_be_visible()
    due = await page.locator("li[id^=deadline-] time").first.get_attribute("datetime")
    assert due
    await page.goto(f"{site.url}/portal/deadlines?month={due[:7]}")
    await expect(page.locator("td.due a")).to_have_text(f"{int(due[8:])} (deadlines: 1)")
    await page.locator("td.due a").click()  # the day links to the deadline in the list
    await expect(page).to_have_url(re.compile(r"#deadline-\d+$"))

    # the .ics URL: the copy button is there once the script ran, and copies
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    copy = page.get_by_role("button", name="Copy", exact=True)
    await expect(copy).to_be_visible()
    await copy.click()
    await expect(page.get_by_role("status").filter(has_text="Copied.")).to_be_visible()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(rf"{re.escape(site.url)}/v1/calendar/[A-Za-z0-9_\-]+\.ics", copied)

    button = page.get_by_role("button", name=re.compile(r"^Dealt with"))
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/portal/deadlines?dealt=1")
    await expect(page.get_by_text("Marked as dealt with")).to_be_visible()
    await expect(page.get_by_text("No open deadlines.")).to_be_visible()
    assert await reminder_statuses(site.portal.db, subscriber_id, "miit-a") == {"cancelled"}


async def test_the_test_event_reaches_the_receiver_signed(page: Page, site: Site) -> None:
    async with WebhookReceiver(default=Reply(202, body=b"thanks")) as receiver:
        _, key = await add_subscriber(site.portal.db, webhook_url=receiver.url)
        await sign_in(page, site, key, "/portal/delivery")
        await page.get_by_role("button", name="Rotate the signing secret").click()
        secret = (await page.locator("#secret-value").inner_text()).strip()
        assert secret.startswith("whsec_")
        await page.get_by_role("button", name="Send a test event").click()
        await expect(page.get_by_text("Your endpoint accepted the test event.")).to_be_visible()
        await expect(page.locator(".test-status")).to_have_text("202")
        await expect(page.get_by_text("thanks", exact=True)).to_be_visible()
        [request] = await receiver.wait_for(1)
        assert verify(secret, request.headers, request.body)
        await expect(page.get_by_text(request.headers["webhook-id"])).to_be_visible()


async def test_a_failed_delivery_is_replayed_in_chinese_on_a_phone(
    browser: Browser, site: Site
) -> None:
    subscriber_id, key = await add_subscriber(site.portal.db)
    await delivery(site.portal.db, subscriber_id, "msg_failed")
    screen = {"width": 360, "height": 740}
    async with local_context(
        browser, locale="zh-CN", viewport=screen, is_mobile=True, has_touch=True
    ) as phone:
        small = await phone.new_page()
        await small.goto(f"{site.url}/portal/delivery")
        await small.get_by_label("API 密钥", exact=True).fill(key)
        await small.get_by_role("button", name="登录", exact=True).click()
        await expect(small).to_have_url(f"{site.url}/portal/delivery")
        await expect(small.get_by_text("HTTP 503 Service Unavailable").first).to_be_visible()
        for path in ("/portal/delivery", "/portal/deadlines"):
            await small.goto(f"{site.url}{path}")
            width = await small.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
        await small.goto(f"{site.url}/portal/delivery")
        await small.get_by_role("button", name=re.compile("^重新发送")).click()
        await expect(small).to_have_url(f"{site.url}/portal/delivery?replayed=msg_failed#log")
        await expect(small.get_by_text("推送 msg_failed 已重新排队发送。")).to_be_visible()
        await expect(small.get_by_role("button", name=re.compile("^重新发送"))).to_have_count(0)
    assert (await delivery_row(site.portal.db, "msg_failed")).status == "pending"


async def add_target(page: Page, platform: str, url: str, **fields: str) -> None:
    """Fill the add form as a person does (labels) and send it."""
    await page.get_by_label("Platform", exact=True).select_option(label=platform)
    await page.get_by_label("Webhook URL", exact=True).fill(url)
    for label, value in fields.items():
        await page.get_by_label(label, exact=True).fill(value)
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.get_by_text("Added: alerts go to it from now on.")).to_be_visible()


async def test_chat_targets_are_added_tested_and_removed(page: Page, site: Site) -> None:
    secret, token = "SEC0c1d2e3f4a5b6c7d8e9f", "dt0123456789abcd"
    async with FakeDingTalk() as dingtalk, FakeSlack() as slack:
        group = dingtalk.robot(token, secret=secret, keyword="合规")
        hook = slack.robot("T01/B02/risk-desk")
        _, key = await add_subscriber(site.portal.db)
        await sign_in(page, site, key, "/portal/channels")
        await expect(page.get_by_text("No chat targets yet: add one below.")).to_be_visible()
        await add_target(
            page,
            "DingTalk",
            dingtalk.url(token),
            **{
                "Signing secret (optional)": secret,
                "Keyword (optional)": "合规",
                "Name (optional)": "Compliance group",
            },
        )
        await add_target(page, "Slack", slack.url("T01/B02/risk-desk"))

        robot = page.locator("li[id^=target-]").filter(has_text="Compliance group")
        await expect(robot).to_contain_text("access_token=…abcd")  # the token masked
        await expect(robot).to_contain_text("set (never shown)")
        await expect(robot).to_contain_text("合规")
        webhook = page.locator("li[id^=target-]").filter(has_text="Slack")
        await expect(webhook).to_contain_text("/services/T01/B02/risk-desk")
        await expect(webhook.locator("dd").nth(3)).to_have_text("none")  # no secret
        assert secret not in await page.content() and token[:-4] not in await page.content()

        await robot.get_by_role("button", name=re.compile("^Send a test message")).click()
        result = page.locator("section[aria-labelledby=test-result]")
        await expect(result).to_contain_text("The platform accepted the test message")
        await expect(result).to_contain_text("DingTalk · Compliance group")
        await expect(result.locator(".test-status")).to_have_text("200")
        [message] = group.messages  # signed with the secret typed, carrying the keyword
        assert message["markdown"]["title"].startswith("合规")
        assert "测试消息" in message["markdown"]["text"]

        await webhook.get_by_role("button", name=re.compile("^Send a test message")).click()
        await expect(result).to_contain_text("The platform accepted the test message")
        await expect(result).to_contain_text("Slack")
        await expect(result.locator(".test-status")).to_have_text("200")
        [posted] = hook.messages
        assert posted["blocks"][0]["type"] == "header"

        await robot.get_by_role("button", name=re.compile("^Remove")).click()
        await expect(page.get_by_text("Removed: nothing more goes to it.")).to_be_visible()
        await expect(
            page.locator("li[id^=target-]").filter(has_text="Compliance group")
        ).to_have_count(0)
        await expect(page.locator("li[id^=target-]").filter(has_text="Slack")).to_have_count(1)
    assert group.refused == [] and hook.refused == []


async def test_the_chat_language_is_chosen_and_chat_targets_speak_it(
    page: Page, site: Site
) -> None:
    subscriber_id, key = await add_subscriber(site.portal.db)
    await sign_in(page, site, key, "/portal/delivery")
    language = page.get_by_label("Chat message language", exact=True)
    await expect(language).to_have_value("")
    await expect(language.locator("option:checked")).to_have_text("Each platform's own")
    await language.select_option(label="English")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("Your settings are saved.")).to_be_visible()
    await expect(language).to_have_value("en")

    # a value no option offers (a tampered form), in Chinese: explained next to the field
    await page.goto(f"{site.url}/portal/delivery?lang=zh")
    chinese = page.get_by_label("群聊消息语言", exact=True)
    await chinese.evaluate("select => select.add(new Option('Français', 'fr', true, true))")
    await page.get_by_role("button", name="保存设置").click()
    await expect(page.locator("#chat_language-error")).to_have_text(
        "请选择中文、英文或各平台默认。"
    )
    await expect(chinese).to_have_attribute("aria-invalid", "true")
    async with site.portal.db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        assert prefs.chat_language == "en"  # nothing saved

    async with FakeDingTalk() as dingtalk, FakeSlack() as slack:
        group = dingtalk.robot("dt-desk")
        hook = slack.robot("T01/B02/desk")
        await page.goto(f"{site.url}/portal/channels?lang=en")
        choice = page.get_by_label("Message language", exact=True)
        await expect(choice.locator("option:checked")).to_have_text("Use my chat language")
        await expect(page.locator("#language-help")).to_contain_text(
            "Your chat language is now: English."
        )
        await add_target(
            page, "DingTalk", dingtalk.url("dt-desk"), **{"Name (optional)": "Compliance"}
        )
        await page.get_by_label("Message language", exact=True).select_option(label="Chinese")
        await add_target(page, "Slack", slack.url("T01/B02/desk"))

        robot = page.locator("li[id^=target-]").filter(has_text="Compliance")
        webhook = page.locator("li[id^=target-]").filter(has_text="Slack")
        await expect(robot.locator(".target-language")).to_have_text("English (your chat language)")
        await expect(webhook.locator(".target-language")).to_have_text("Chinese")

        result = page.locator("section[aria-labelledby=test-result]")
        await robot.get_by_role("button", name=re.compile("^Send a test message")).click()
        await expect(result).to_contain_text("The platform accepted the test message")
        await webhook.get_by_role("button", name=re.compile("^Send a test message")).click()
        await expect(result).to_contain_text("Slack")
        await expect(result.locator(".test-status")).to_have_text("200")
        [message] = group.messages
        [posted] = hook.messages
    assert "This is a test message" in message["markdown"]["text"]  # the subscriber's English
    assert "测试消息" in json.dumps(posted, ensure_ascii=False)  # the target's own Chinese
