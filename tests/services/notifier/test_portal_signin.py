"""The portal's "email me a sign-in link": sent by the notifier, in English and Chinese, to a
subscription's address only, with the same answer for any address, and limited."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from services.notifier.portal_signin import PER_ADDRESS, render_link_email
from tests.support.portal import Portal, add_subscriber, client_for, csrf_of, portal_app
from tests.support.receivers import SmtpReceiver

BASE = "http://127.0.0.1:8080"
LINK = re.compile(r"http://127\.0\.0\.1:8080/portal/link/[A-Za-z0-9_\-]{43}")


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpReceiver]:
    async with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
async def portal(tmp_path: Path, smtp: SmtpReceiver) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path, smtp_port=smtp.port) as found:
        yield found


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(portal.app, BASE) as found:
        yield found


async def ask(client: httpx.AsyncClient, address: str) -> httpx.Response:
    page = await client.get("/portal/signin")
    return await client.post(
        "/portal/signin/email", data={"csrf_token": csrf_of(page.text), "email": address}
    )


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_a_known_address_gets_a_link_that_signs_in_once(
    portal: Portal, client: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    subscriber_id, _ = await add_subscriber(portal.db, "Risk team", "Risk@Example.com")
    answer = await ask(client, "  risk@EXAMPLE.com ")
    assert answer.status_code == 200
    assert "If that address belongs to a subscription" in answer.text
    [message] = await smtp.wait_for(1)
    assert message["To"] == "Risk@example.com"  # the address stored for the subscription
    assert "sign-in link" in message["Subject"] and "登录链接" in message["Subject"]
    text = text_of(message)
    assert "Sign in as Risk team" in text and "以 Risk team" in text and subscriber_id in text
    [url] = set(LINK.findall(text))
    html = message.get_body(("html",))
    assert html is not None and url in str(html.get_content())

    async with client_for(portal.app, BASE) as browser:
        confirm = await browser.get(url)
        assert confirm.status_code == 200
        signed = await browser.post(url, data={"csrf_token": csrf_of(confirm.text)})
        assert signed.status_code == 303
        account = await browser.get("/portal/")
        assert subscriber_id in account.text
        used = await browser.post(url, data={"csrf_token": csrf_of(account.text)})
        assert used.status_code == 410


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    portal: Portal, client: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    await add_subscriber(portal.db, "Risk team", "risk@example.com")
    known = await ask(client, "risk@example.com")
    unknown = await ask(client, "nobody@example.com")
    assert unknown.status_code == known.status_code == 200

    def message_box(html: str) -> str:
        found = re.search(r'<p class="notice[^>]*>(.*?)</p>', html, re.S)
        assert found
        return found.group(1)

    assert message_box(known.text) == message_box(unknown.text)
    await smtp.wait_for(1)
    await asyncio.sleep(0.3)
    assert [m["To"] for m in smtp.messages] == ["risk@example.com"]


async def test_one_email_lists_every_subscription_of_the_address(
    portal: Portal, client: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    first, _ = await add_subscriber(portal.db, "Team A", "shared@example.com")
    second, _ = await add_subscriber(portal.db, "Team B", "shared@example.com")
    await ask(client, "shared@example.com")
    [message] = await smtp.wait_for(1)
    text = text_of(message)
    assert first in text and second in text
    assert len(set(LINK.findall(text))) == 2


async def test_asking_too_often_sends_no_more(
    portal: Portal, client: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    await add_subscriber(portal.db, "Risk team", "risk@example.com")
    for _ in range(PER_ADDRESS + 2):
        answer = await ask(client, "risk@example.com")
        assert answer.status_code == 200
        assert "If that address belongs to a subscription" in answer.text
    await smtp.wait_for(PER_ADDRESS)
    await asyncio.sleep(0.3)
    assert len(smtp.messages) == PER_ADDRESS


async def test_a_malformed_address_is_asked_again(
    client: httpx.AsyncClient, smtp: SmtpReceiver
) -> None:
    answer = await ask(client, "not an address")
    assert answer.status_code == 400
    assert "Enter an email address." in answer.text
    assert smtp.messages == []


async def test_the_form_needs_its_csrf_token(client: httpx.AsyncClient, smtp: SmtpReceiver) -> None:
    await client.get("/portal/signin")
    answer = await client.post("/portal/signin/email", data={"email": "risk@example.com"})
    assert answer.status_code == 403
    assert smtp.messages == []


def test_the_email_is_in_both_languages_and_escapes_names() -> None:
    subject, text, html = render_link_email(
        [("<b>Risk</b>", "sub_1", "http://127.0.0.1:8080/portal/link/abc")]
    )
    assert subject == "Your regwatch sign-in link / 您的 regwatch 登录链接"
    assert "Each link works once, for 15 minutes." in text
    assert "每个链接只能使用一次，15 分钟内有效。" in text
    assert "&lt;b&gt;Risk&lt;/b&gt;" in html and "<b>Risk" not in html
    assert '<div lang="zh-CN">' in html
