"""The email unsubscribe link against regwatch's whole HTTP app (tests/support/portal.py): the
page shows where email alerts stand and both buttons work; an unknown link of any shape gets
the same 404 page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from services.notifier.preferences import get_preferences
from tests.support.portal import Portal, add_subscriber, portal_app

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path / "var") as app:
        yield app


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    # a mail app or a browser: no Origin of this site
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=portal.app), base_url="http://127.0.0.1:8080"
    ) as http:
        yield http


async def unsubscribe_link(portal: Portal) -> tuple[str, str]:
    """A subscriber's unsubscribe path and their id."""
    subscriber_id, _key = await add_subscriber(portal.db, email="risk@example.com")
    async with portal.db.session() as session:
        token = (await get_preferences(session, subscriber_id)).unsubscribe_token
    return f"/v1/unsubscribe/{token}", subscriber_id


async def email_alerts_on(portal: Portal, subscriber_id: str) -> bool:
    async with portal.db.session() as session:
        return (await get_preferences(session, subscriber_id)).email_unsubscribed_at is None


async def test_the_page_shows_the_current_state_and_both_buttons_work(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    link, subscriber_id = await unsubscribe_link(portal)
    page = await client.get(link)
    assert page.status_code == 200
    assert "Stop regwatch email alerts?" in page.text
    assert f'<form method="post" action="{link}">' in page.text
    assert "risk@example.com" in page.text
    assert await email_alerts_on(portal, subscriber_id)  # a GET changes nothing

    # the page's button, as a browser posts it
    done = await client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert f'<form method="post" action="{link}/resubscribe">' in done.text
    assert not await email_alerts_on(portal, subscriber_id)

    # opened again later: the current state, with a resubscribe button
    again = await client.get(link)
    assert again.status_code == 200
    assert "You are unsubscribed" in again.text and "Resubscribe" in again.text
    assert "Stop regwatch email alerts?" not in again.text
    assert f'<form method="post" action="{link}/resubscribe">' in again.text

    back = await client.post(f"{link}/resubscribe")
    assert back.status_code == 200 and "You are subscribed again" in back.text
    assert f'<form method="post" action="{link}">' in back.text
    assert await email_alerts_on(portal, subscriber_id)
    assert "Stop regwatch email alerts?" in (await client.get(link)).text


async def test_one_click_from_a_mail_app(portal: Portal, client: httpx.AsyncClient) -> None:
    """RFC 8058: the mail app POSTs List-Unsubscribe=One-Click to the List-Unsubscribe URI."""
    link, subscriber_id = await unsubscribe_link(portal)
    done = await client.post(link, content="List-Unsubscribe=One-Click", headers=FORM)
    assert done.status_code == 200
    assert not await email_alerts_on(portal, subscriber_id)
    # a second one-click (mail apps retry) changes nothing and still answers 200
    assert (await client.post(link, content="List-Unsubscribe=One-Click", headers=FORM)).is_success
    assert not await email_alerts_on(portal, subscriber_id)


def unknown_links(known: str) -> list[str]:
    """Paths under /v1/unsubscribe/ that are no subscriber's link."""
    return [
        "",
        "a",
        "short",
        "1234567",  # one character short of the shortest token
        "x" * 65,  # one too long
        "x" * 2000,
        "A" * 32,  # a token's shape, nobody's token
        known[:-1],  # the real token less its last character
        known + "x",
        known.upper() if known.upper() != known else known.lower(),
        "abc$def!ghi~jkl",
        "abc.defghijk",
        "токен-токен-токен",
        "令牌令牌令牌令牌",
        "%F0%9F%98%80" * 8,
        "%00%00%00%00%00%00%00%00",
        "%ff%fe%fd%fc%fb%fa%f9%f8",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..%2F..%2F..%2Fhealthz",
        "%252e%252e%252f",
        "a%20b%20c%20d%20e",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "'%20OR%20'1'='1",
        "abc/def/ghi",
        f"{known}/extra",
        f"{known}%2Fextra",
        "..;",
        "%",
        "%zz%zz%zz%zz",
    ]


async def test_unknown_links_all_get_the_same_404_page(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    link, subscriber_id = await unsubscribe_link(portal)
    known = link.removeprefix("/v1/unsubscribe/")
    reference = await client.get("/v1/unsubscribe/" + "A" * 32)
    assert reference.status_code == 404
    assert reference.headers["content-type"].startswith("text/html")
    assert "Unknown link" in reference.text
    for tail in unknown_links(known):
        for method in ("GET", "POST"):
            answer = await client.request(method, "/v1/unsubscribe/" + tail)
            shown = f"{method} /v1/unsubscribe/{tail[:40]}"
            assert answer.status_code == 404, shown
            assert answer.headers["content-type"].startswith("text/html"), shown
            assert answer.text == reference.text, shown
        resubscribe = await client.post(f"/v1/unsubscribe/{tail}/resubscribe")
        assert resubscribe.status_code == 404, f"resubscribe {tail[:40]}"
        assert resubscribe.text == reference.text, f"resubscribe {tail[:40]}"
    assert await email_alerts_on(portal, subscriber_id)  # none of them touched the real one


async def raw_get(portal: Portal, raw_path: bytes) -> tuple[int, str]:
    """GET ``raw_path`` as a server hands it over, unnormalised (httpx would re-encode it)."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8080")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    await portal.app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return int(start["status"]), body.decode()


async def test_raw_bytes_in_the_path_get_the_same_404_page(portal: Portal) -> None:
    pages = [
        await raw_get(portal, raw)
        for raw in (
            b"/v1/unsubscribe/%C3%28%A0%A1",  # invalid UTF-8 once decoded
            b"/v1/unsubscribe/%E2%80%AE%E2%80%AEabcdefgh",  # right-to-left overrides
            b"/v1/unsubscribe/" + b"%41" * 32,  # 32 encoded letters: a token's shape decoded
            b"/v1/unsubscribe/%2F%2F%2F%2F%2F%2F%2F%2F",
        )
    ]
    assert {status for status, _ in pages} == {404}
    assert len({body for _, body in pages}) == 1 and "Unknown link" in pages[0][1]
