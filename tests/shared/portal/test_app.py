"""The portal on regwatch's app: its files, headers, error pages and languages; the API's
answers are unchanged."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.portal.app import SECURITY_HEADERS
from shared.portal.templating import STATIC_PREFIX
from tests.support.portal import Portal, add_subscriber, client_for, portal_app, sign_in

BASE = "http://127.0.0.1:8080"


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path) as found:
        yield found


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(portal.app, BASE) as found:
        yield found


def assert_secure_headers(answer: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS:
        assert answer.headers[name.decode()] == value.decode(), name
    assert "'unsafe-inline'" not in answer.headers["content-security-policy"]


async def test_pages_files_and_errors_carry_the_security_headers(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    signin = await client.get("/portal/signin")
    assert_secure_headers(signin)
    assert signin.headers["cache-control"] == "no-store"
    assert_secure_headers(await client.get("/portal/"))  # the redirect
    assert_secure_headers(await client.get(f"{STATIC_PREFIX}/portal.css"))
    assert_secure_headers(await client.get("/portal/nothing-here"))
    await sign_in(client, key)
    assert_secure_headers(await client.get("/portal/"))
    api = await client.get("/healthz")
    assert "content-security-policy" not in api.headers


async def test_pages_use_only_their_own_files_and_no_inline_script(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    _, key = await add_subscriber(portal.db)
    await sign_in(client, key)
    for path in ("/portal/", "/portal/signin", "/portal/link/" + "x" * 43):
        html = (await client.get(path)).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "#")) and not url.startswith("//"), (path, url)
        assert "<script>" not in html and "style=" not in html and "<style" not in html
        for asset in re.findall(r'(?:src|href)="(/portal/static/[^"]+)"', html):
            answer = await client.get(asset)
            assert answer.status_code == 200, asset
    css = (await client.get(f"{STATIC_PREFIX}/portal.css")).text
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert (
        (await client.get(f"{STATIC_PREFIX}/portal.js"))
        .headers["content-type"]
        .startswith("text/javascript")
    )


async def test_portal_errors_are_pages_and_api_errors_stay_json(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/portal/nothing-here?lang=zh")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in missing.text and "错误 404" in missing.text
    wrong_method = await client.put("/portal/signin")
    assert wrong_method.status_code == 405 and "<h1>" in wrong_method.text
    api = await client.get("/v1/watches/123")
    assert api.status_code == 401 and api.json()["detail"].startswith("missing API key")
    unknown = await client.get("/v1/nothing")
    assert unknown.json() == {"detail": "Not Found"}
    invalid = await client.get("/v1/alerts?limit=abc", headers={"X-API-Key": "rw_x"})
    assert invalid.headers["content-type"].startswith("application/json")


async def test_a_form_that_is_not_a_form_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/portal/signin")
    answer = await client.post(
        "/portal/signin", content=b'{"api_key": "x"}', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 415
    huge = await client.post(
        "/portal/signin",
        content=b"a=" + b"x" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413


async def test_the_language_follows_the_browser_then_the_switch(client: httpx.AsyncClient) -> None:
    chinese = await client.get("/portal/signin", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text and "使用 API 密钥" in chinese.text
    english = await client.get("/portal/signin?lang=en", headers={"accept-language": "zh-CN"})
    assert '<html lang="en">' in english.text
    assert "regwatch_lang=en" in english.headers["set-cookie"]
    kept = await client.get("/portal/signin", headers={"accept-language": "zh-CN"})
    assert '<html lang="en">' in kept.text
    assert 'href="/portal/signin?lang=zh"' in kept.text


async def test_the_account_page_shows_the_subscription(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id, key = await add_subscriber(
        portal.db, "Risk <b>team</b>", "risk@example.com", "http://127.0.0.1:9/hook"
    )
    await sign_in(client, key)
    page = (await client.get("/portal/")).text
    assert subscriber_id in page
    assert "Risk &lt;b&gt;team&lt;/b&gt;" in page and "<b>team" not in page
    assert "http://127.0.0.1:9/hook" in page
    assert "7d,3d,1d" in page and "Asia/Shanghai" in page
    assert 'href="/docs"' in page and 'href="/redoc"' in page
    assert key not in page
    assert 'aria-current="page"' in page
    zh = (await client.get("/portal/?lang=zh")).text
    assert "您的账户" in zh and "门户语言" in zh and "中文" in zh


async def test_the_email_form_is_offered_only_where_the_notifier_runs(tmp_path: Path) -> None:
    from fastapi import FastAPI

    from shared.portal.app import install_portal

    async with portal_app(tmp_path) as portal:
        async with client_for(portal.app) as client:
            assert 'action="/portal/signin/email"' in (await client.get("/portal/signin")).text
        bare = FastAPI()
        bare.state.settings = portal.settings
        bare.state.db = portal.db
        install_portal(bare)
        async with client_for(bare) as client:
            page = (await client.get("/portal/signin")).text
        assert 'action="/portal/signin/email"' not in page
        assert 'action="/portal/signin"' in page
