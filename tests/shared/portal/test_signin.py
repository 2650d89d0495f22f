"""Signing in and out over HTTP (regwatch's whole app, in-process): API key, one-time link,
CSRF, cookies, the failed-credential limit, and that a session shows only its subscriber."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from shared.portal.auth import safe_next, signin_url
from shared.portal.models import PortalSession
from shared.portal.tokens import create_link
from tests.support.portal import Portal, add_subscriber, client_for, csrf_of, portal_app, sign_in

BASE = "http://127.0.0.1:8080"


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path, auth_failures_per_minute=3) as found:
        yield found


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(portal.app, BASE) as found:
        yield found


async def sessions(portal: Portal) -> int:
    async with portal.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(PortalSession)) or 0)


async def test_pages_need_a_session_and_come_back_after_signing_in(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    answer = await client.get("/portal/?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/signin?next=/portal/%3Fx%3D1"
    page = await client.get(answer.headers["location"])
    assert 'name="next" value="/portal/?x=1"' in page.text
    signed = await client.post(
        "/portal/signin",
        data={"csrf_token": csrf_of(page.text), "api_key": key, "next": "/portal/?x=1"},
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/portal/?x=1"
    account = await client.get("/portal/")
    assert account.status_code == 200
    assert "Risk team" in account.text and "risk@example.com" in account.text


async def test_the_session_cookie_is_httponly_lax_and_scoped_to_the_portal(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    signed = await sign_in(client, key)
    cookie = next(c for c in signed.headers.get_list("set-cookie") if "regwatch_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/portal" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert "expires" not in cookie.lower() and "max-age" not in cookie.lower()


async def test_the_cookie_is_secure_behind_an_https_proxy(tmp_path: Path) -> None:
    async with portal_app(tmp_path, trusted_proxies="127.0.0.1") as portal:
        _, key = await add_subscriber(portal.db)
        transport = httpx.ASGITransport(app=portal.app, client=("127.0.0.1", 5000))
        headers = {"origin": "https://regwatch.example", "x-forwarded-proto": "https"}
        headers["x-forwarded-host"] = "regwatch.example"
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE, headers=headers
        ) as proxied:
            page = await proxied.get("/portal/signin")
            csrf_cookie = page.headers["set-cookie"]
            assert "Secure" in csrf_cookie
            signed = await proxied.post(
                "/portal/signin",
                data={"csrf_token": csrf_of(page.text), "api_key": key},
                headers={"cookie": csrf_cookie.split(";")[0]},  # the browser sends it over https
            )
        assert signed.status_code == 303, signed.text
        cookie = next(c for c in signed.headers.get_list("set-cookie") if "regwatch_session" in c)
        assert "Secure" in cookie
        untrusted = httpx.ASGITransport(app=portal.app, client=("10.1.2.3", 5000))
        async with httpx.AsyncClient(
            transport=untrusted, base_url=BASE, headers={"x-forwarded-proto": "https"}
        ) as direct:
            page = await direct.get("/portal/signin")
        assert "Secure" not in page.headers["set-cookie"]


async def test_a_wrong_key_says_so_and_counts_as_a_failed_credential(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    page = await client.get("/portal/signin")
    token = csrf_of(page.text)
    for _ in range(3):
        wrong = await client.post("/portal/signin", data={"csrf_token": token, "api_key": "rw_x"})
        assert wrong.status_code == 401
        assert "That API key is not known" in wrong.text
        assert 'aria-invalid="true"' in wrong.text
    blocked = await client.post("/portal/signin", data={"csrf_token": token, "api_key": key})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many failed attempts" in blocked.text
    assert await sessions(portal) == 0
    api = await client.get("/v1/subscribers/me", headers={"Authorization": f"Bearer {key}"})
    assert api.status_code == 429  # one limit for the API and the portal


async def test_an_empty_key_is_asked_for(client: httpx.AsyncClient) -> None:
    page = await client.get("/portal/signin?lang=zh")
    answer = await client.post(
        "/portal/signin", data={"csrf_token": csrf_of(page.text), "api_key": " "}
    )
    assert answer.status_code == 400
    assert "请输入您的 API 密钥。" in answer.text


async def test_posts_without_the_token_or_from_another_site_are_refused(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    page = await client.get("/portal/signin")
    token = csrf_of(page.text)
    no_token = await client.post("/portal/signin", data={"api_key": key})
    assert no_token.status_code == 403
    assert "This form has expired" in no_token.text
    wrong = await client.post("/portal/signin", data={"csrf_token": token + "x", "api_key": key})
    assert wrong.status_code == 403
    elsewhere = await client.post(
        "/portal/signin",
        data={"csrf_token": token, "api_key": key},
        headers={"origin": "http://evil.example"},
    )
    assert elsewhere.status_code == 403
    no_origin = httpx.AsyncClient(transport=httpx.ASGITransport(app=portal.app), base_url=BASE)
    async with no_origin:
        no_origin.cookies = client.cookies
        answer = await no_origin.post("/portal/signin", data={"csrf_token": token, "api_key": key})
        assert answer.status_code == 403
        referred = await no_origin.post(
            "/portal/signin",
            data={"csrf_token": token, "api_key": key},
            headers={"referer": f"{BASE}/portal/signin"},
        )
        assert referred.status_code == 303
    assert await sessions(portal) == 1


async def test_a_signed_in_form_needs_the_sessions_token(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    before = csrf_of((await client.get("/portal/signin")).text)
    await sign_in(client, key)
    account = await client.get("/portal/")
    session_token = csrf_of(account.text)
    assert session_token != before
    refused = await client.post("/portal/signout", data={"csrf_token": before})
    assert refused.status_code == 403
    assert await sessions(portal) == 1
    out = await client.post("/portal/signout", data={"csrf_token": session_token})
    assert out.status_code == 303
    assert out.headers["location"] == "/portal/signin?signed_out=1"
    assert 'regwatch_session=""' in out.headers["set-cookie"]
    assert await sessions(portal) == 0
    again = await client.get("/portal/")
    assert again.status_code == 303
    page = await client.get("/portal/signin?signed_out=1")
    assert "You are signed out." in page.text


def portal_routes(router: object) -> list[APIRoute]:
    """Every APIRoute of a router, the included routers' too."""
    found: list[APIRoute] = []
    for route in getattr(router, "routes", []):
        if isinstance(route, APIRoute):
            found.append(route)
        inner = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if inner is not None:
            found.extend(portal_routes(inner))
    return found


async def test_every_post_under_the_portal_refuses_a_missing_token_or_another_site(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    """Whatever its router: signed in, a POST without the token (as a form or as an upload),
    or with it from another site, never reaches the route."""
    _, key = await add_subscriber(portal.db)
    await sign_in(client, key)
    token = csrf_of((await client.get("/portal/")).text)
    posts = sorted(
        {
            route.path
            for route in portal_routes(portal.app.router)
            if route.path.startswith("/portal") and route.methods - {"GET", "HEAD"}
        }
    )
    assert {"/portal/signin", "/portal/signout", "/portal/signin/email"} <= set(posts)
    for path in posts:
        url = re.sub(r"\{[^}]+\}", "1", path)
        form = await client.post(url, data={"email": "a@example.com", "api_key": "x"})
        upload = await client.post(
            url, data={"kind": "app"}, files={"file": ("w.csv", b"app,Douyin\n", "text/csv")}
        )
        elsewhere = await client.post(
            url, data={"csrf_token": token}, headers={"origin": "http://evil.example"}
        )
        for answer in (form, upload, elsewhere):
            assert answer.status_code in (403, 415), (path, answer.status_code)
    assert await sessions(portal) == 1  # still signed in: sign-out was refused too


async def test_routers_made_by_portal_router_check_csrf(portal: Portal) -> None:
    from shared.portal.csrf import CsrfCheck

    ours = [
        route
        for route in portal_routes(portal.app.router)
        if route.path in ("/portal/signin", "/portal/signout", "/portal/signin/email")
    ]
    assert ours
    for route in ours:
        assert any(isinstance(dep.call, CsrfCheck) for dep in route.dependant.dependencies)


async def test_a_one_time_link_confirms_then_signs_in_once(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id, _ = await add_subscriber(portal.db)
    async with portal.db.session() as session:
        token = await create_link(session, subscriber_id, now=datetime.now(UTC))
    confirm = await client.get(f"/portal/link/{token}")
    assert confirm.status_code == 200
    assert f'action="/portal/link/{token}"' in confirm.text
    assert await client.get(f"/portal/link/{token}") is not None  # looking again uses nothing
    used = await client.post(f"/portal/link/{token}", data={"csrf_token": csrf_of(confirm.text)})
    assert used.status_code == 303 and used.headers["location"] == "/portal/"
    assert "Risk team" in (await client.get("/portal/")).text
    async with client_for(portal.app, BASE) as other:
        again = await other.get(f"/portal/link/{token}")
        assert again.status_code == 410
        assert "already been used" in again.text
        assert "csrf_token" not in again.text  # no button
        form = csrf_of((await other.get("/portal/signin")).text)
        second = await other.post(f"/portal/link/{token}", data={"csrf_token": form})
        assert second.status_code == 410
        assert (await other.get("/portal/")).status_code == 303


async def test_expired_and_unknown_links_say_so(portal: Portal, client: httpx.AsyncClient) -> None:
    subscriber_id, _ = await add_subscriber(portal.db)
    async with portal.db.session() as session:
        token = await create_link(
            session, subscriber_id, now=datetime.now(UTC) - timedelta(minutes=16)
        )
    expired = await client.get(f"/portal/link/{token}?lang=zh")
    assert expired.status_code == 410
    assert "此登录链接已过期" in expired.text
    unknown = await client.get("/portal/link/" + "a" * 43)
    assert unknown.status_code == 404 and "此登录链接无效" in unknown.text  # zh is kept
    odd = await client.get("/portal/link/%3Cscript%3E")
    assert odd.status_code == 404 and "<script>" not in odd.text


async def test_a_session_shows_its_own_subscriber_only(portal: Portal) -> None:
    alpha_id, alpha_key = await add_subscriber(portal.db, "Alpha Ltd", "alpha@example.com")
    beta_id, beta_key = await add_subscriber(portal.db, "Beta Ltd", "beta@example.com")
    async with client_for(portal.app, BASE) as alpha, client_for(portal.app, BASE) as beta:
        await sign_in(alpha, alpha_key)
        await sign_in(beta, beta_key)
        mine = (await alpha.get("/portal/")).text
        theirs = (await beta.get("/portal/")).text
    assert alpha_id in mine and "alpha@example.com" in mine and beta_id not in mine
    assert "Beta Ltd" not in mine and "beta@example.com" not in mine
    assert beta_id in theirs and alpha_id not in theirs


async def test_signing_in_again_replaces_the_session(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    await sign_in(client, key)
    first = client.cookies.get("regwatch_session", path="/portal")
    await sign_in(client, key)
    assert client.cookies.get("regwatch_session", path="/portal") != first
    assert await sessions(portal) == 1


async def test_rotating_the_api_key_signs_out_every_browser_and_voids_unused_links(
    portal: Portal,
) -> None:
    subscriber_id, key = await add_subscriber(portal.db)
    other_id, other_key = await add_subscriber(portal.db, "Other Ltd", "other@example.com")
    async with portal.db.session() as session:
        link = await create_link(session, subscriber_id, now=datetime.now(UTC))
    async with (
        client_for(portal.app, BASE) as laptop,
        client_for(portal.app, BASE) as phone,
        client_for(portal.app, BASE) as other,
    ):
        await sign_in(laptop, key)
        await sign_in(phone, key)
        await sign_in(other, other_key)
        rotated = await laptop.post(
            "/v1/subscribers/me/api-keys/rotate", headers={"Authorization": f"Bearer {key}"}
        )
        assert rotated.status_code == 200
        for browser in (laptop, phone):
            assert (await browser.get("/portal/")).status_code == 303  # to the sign-in page
        assert (await laptop.get(f"/portal/link/{link}")).status_code in (404, 410)
        assert (await sign_in(phone, key)).status_code == 401  # the old key is refused
        assert (await phone.get("/portal/")).status_code == 303
        assert (await sign_in(phone, rotated.json()["api_key"])).status_code == 303
        assert (await phone.get("/portal/")).status_code == 200
        mine = (await other.get("/portal/")).text  # someone else's session is untouched
        assert other_id in mine


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/portal/alerts?x=1", "/portal/alerts?x=1"),
        ("/portal", "/portal"),
        ("https://evil.example/portal/", "/portal/"),
        ("//evil.example/portal/", "/portal/"),
        ("/\\evil.example", "/portal/"),
        ("/v1/subscribers/me", "/portal/"),
        ("/portal/signout", "/portal/"),
        ("/portal/link/abc", "/portal/"),
        ("/portal/\nx", "/portal/"),
        ("", "/portal/"),
        (None, "/portal/"),
    ],
)
def test_only_portal_paths_are_returned_to(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


def test_the_sign_in_url_carries_where_to_return() -> None:
    assert signin_url("/portal/") == "/portal/signin"
    assert signin_url("/portal/alerts") == "/portal/signin?next=/portal/alerts"
