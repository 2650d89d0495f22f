"""The portal in a real browser (headless Chromium, tests/support/browser.py), as a subscriber
uses it: signing in with the key and with a link from ``regwatch portal link``, both
languages, the keyboard, a phone's width, CSRF, the cookie, and one subscriber's session next
to another's. No request may leave the machine."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.browser import browser, browser_test, context, local_context, page
from tests.support.portal import Site, add_subscriber, portal_site

__all__ = ["browser", "context", "page"]  # fixtures
pytestmark = browser_test
ROOT = Path(__file__).parents[3]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with portal_site(tmp_path) as found:
        yield found


async def sign_in_with_key(page: Page, site: Site, key: str) -> None:
    await page.goto(f"{site.url}/portal/")
    await expect(page).to_have_url(re.compile(r"/portal/signin$"))
    await page.get_by_label("API key", exact=True).fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site.url}/portal/")


async def test_sign_in_with_the_key_in_english_and_chinese_then_sign_out(
    page: Page, context: BrowserContext, site: Site
) -> None:
    subscriber_id, key = await add_subscriber(site.portal.db, "Risk team", "risk@example.com")
    await sign_in_with_key(page, site, key)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_text(subscriber_id)).to_be_visible()
    await expect(page.get_by_text("risk@example.com")).to_be_visible()
    nav = page.get_by_role("navigation", name="Portal")
    await expect(nav.get_by_role("link", name="Account")).to_have_attribute("aria-current", "page")

    await page.get_by_role("link", name="中文").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.get_by_role("heading", level=1)).to_have_text("您的账户")
    await expect(page.get_by_text("门户语言")).to_be_visible()
    await page.reload()  # the choice is remembered
    await expect(page.get_by_role("heading", level=1)).to_have_text("您的账户")

    await page.get_by_role("button", name="退出登录").click()
    await expect(page).to_have_url(re.compile(r"/portal/signin\?signed_out=1$"))
    await expect(page.get_by_role("status")).to_have_text("您已退出登录。")
    await page.goto(f"{site.url}/portal/")
    await expect(page).to_have_url(re.compile(r"/portal/signin$"))
    assert not [c for c in await context.cookies() if c["name"] == "regwatch_session"]


async def test_a_wrong_key_shows_an_error(page: Page, site: Site) -> None:
    await add_subscriber(site.portal.db)
    await page.goto(f"{site.url}/portal/signin")
    await page.get_by_label("API key", exact=True).fill("rw_not-a-key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "That API key is not known. Check it and try again."
    )
    await expect(page.get_by_label("API key", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(page).to_have_url(f"{site.url}/portal/signin")


async def test_the_sign_in_form_works_with_the_keyboard(page: Page, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db)
    await page.goto(f"{site.url}/portal/signin")
    await expect(page.get_by_label("API key", exact=True)).to_be_focused()  # autofocus
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("API key", exact=True)).to_be_focused()
    await page.keyboard.type(key)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Show the key")).to_be_focused()
    await page.keyboard.press("Space")  # the little script: show the key
    await expect(page.get_by_label("API key", exact=True)).to_have_attribute("type", "text")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/portal/")

    # the first Tab stop is the skip link, visible once focused; Enter goes to the content
    await page.locator("body").focus()
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    box = await skip.bounding_box()
    assert box is not None and box["y"] >= 0
    outline = await skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()

    for _ in range(12):  # Tab on to the sign-out button, Enter signs out
        await page.keyboard.press("Tab")
        if await page.get_by_role("button", name="Sign out").evaluate(
            "e => e === document.activeElement"
        ):
            break
    else:
        await page.locator("body").focus()
        for _ in range(12):
            await page.keyboard.press("Tab")
            if await page.get_by_role("button", name="Sign out").evaluate(
                "e => e === document.activeElement"
            ):
                break
    await expect(page.get_by_role("button", name="Sign out")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/portal/signin\?signed_out=1$"))


async def regwatch_portal_link(site: Site, subscriber_id: str) -> str:
    """``regwatch portal link SUBSCRIBER_ID``, the real command (the ``regwatch`` entry point,
    run from this tree), in its own process, against the site's data dir."""
    env = {**os.environ, "REGWATCH_DATA_DIR": str(site.data_dir), "REGWATCH_LOG_LEVEL": "ERROR"}
    for name in ("REGWATCH_PUBLIC_URL", "REGWATCH_DATABASE_URL", "REGWATCH_KAFKA_BOOTSTRAP"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from services.cli import main; main()",
        "portal",
        "link",
        subscriber_id,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    url: str = json.loads(out)["url"]
    return url


async def test_a_link_from_the_cli_signs_in_once(browser: Browser, page: Page, site: Site) -> None:
    subscriber_id, _ = await add_subscriber(site.portal.db, "Risk team", "risk@example.com")
    url = await regwatch_portal_link(site, subscriber_id)
    assert url.startswith(f"{site.url}/portal/link/")
    await page.goto(url)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with a link")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site.url}/portal/")
    await expect(page.get_by_text(subscriber_id)).to_be_visible()

    async with local_context(browser, locale="zh-CN") as other:
        second = await other.new_page()
        await second.goto(url)
        await expect(second.locator("html")).to_have_attribute("lang", "zh-CN")
        await expect(second.get_by_role("alert")).to_have_text(
            "此登录链接已被使用。每个链接只能使用一次。"
        )
        await expect(second.get_by_role("button", name="登录", exact=True)).to_have_count(0)
        await second.goto(f"{site.url}/portal/")
        await expect(second).to_have_url(re.compile(r"/portal/signin$"))


async def test_a_post_without_its_csrf_token_gets_403(page: Page, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db)
    await sign_in_with_key(page, site, key)
    await page.locator("form.signout input[name=csrf_token]").evaluate("e => e.remove()")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Error 403")
    await expect(page.get_by_role("alert")).to_contain_text("This form has expired")
    await page.goto(f"{site.url}/portal/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your account")  # still in


async def test_a_form_on_another_site_cannot_post_to_the_portal(
    page: Page, context: BrowserContext, site: Site
) -> None:
    _, key = await add_subscriber(site.portal.db)
    await sign_in_with_key(page, site, key)
    token = await page.locator("form.signout input[name=csrf_token]").get_attribute("value")
    other_origin = site.url.replace("127.0.0.1", "localhost")  # another site, same machine
    evil = f"""<!DOCTYPE html><form method="post" action="{site.url}/portal/signout">
        <input name="csrf_token" value="{token}"><button>go</button></form>"""

    async def serve_evil(route: object) -> None:
        await route.fulfill(status=200, content_type="text/html", body=evil)  # type: ignore[attr-defined]

    await context.route(f"{other_origin}/evil", serve_evil)
    await page.goto(f"{other_origin}/evil")
    await page.get_by_role("button", name="go").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Error 403")
    await page.goto(f"{site.url}/portal/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your account")


async def test_the_session_cookie_is_httponly_and_samesite(
    page: Page, context: BrowserContext, site: Site
) -> None:
    _, key = await add_subscriber(site.portal.db)
    await sign_in_with_key(page, site, key)
    [cookie] = [c for c in await context.cookies() if c["name"] == "regwatch_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/portal"
    assert cookie["secure"] is False  # plain http on loopback
    assert cookie["expires"] == -1  # a browser-session cookie; the server ends idle sessions
    assert "regwatch_session" not in await page.evaluate("document.cookie")


async def test_one_subscribers_session_never_shows_anothers_data(
    browser: Browser, page: Page, site: Site
) -> None:
    alpha_id, alpha_key = await add_subscriber(site.portal.db, "Alpha Ltd", "alpha@example.com")
    beta_id, beta_key = await add_subscriber(site.portal.db, "Beta Ltd", "beta@example.com")
    await sign_in_with_key(page, site, alpha_key)
    async with local_context(browser) as other:
        second = await other.new_page()
        await sign_in_with_key(second, site, beta_key)
        await expect(second.get_by_text(beta_id)).to_be_visible()
        beta_text = await second.locator("main").inner_text()
    await page.reload()
    alpha_text = await page.locator("main").inner_text()
    assert alpha_id in alpha_text and "alpha@example.com" in alpha_text
    assert beta_id not in alpha_text and "Beta Ltd" not in alpha_text
    assert alpha_id not in beta_text and "Alpha Ltd" not in beta_text


async def test_pages_fit_a_phone(browser: Browser, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db, "A team with a rather long name", "a@example.com")
    screen = {"width": 360, "height": 740}
    async with local_context(
        browser, locale="zh-CN", viewport=screen, is_mobile=True, has_touch=True
    ) as phone:
        small = await phone.new_page()
        await small.goto(f"{site.url}/portal/signin")
        await expect(small.locator("html")).to_have_attribute("lang", "zh-CN")
        for path in ("/portal/signin", "/portal/"):
            if path == "/portal/":
                await small.get_by_label("API 密钥", exact=True).fill(key)
                await small.get_by_role("button", name="登录", exact=True).click()
                await expect(small).to_have_url(f"{site.url}/portal/")
            # measured once the page's stylesheet applies: under load the check could run
            # on the unstyled page (650 px wide at 360) before it had loaded
            await small.wait_for_load_state("load")
            width = await small.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
            font = await small.locator("body").evaluate(
                "e => parseFloat(getComputedStyle(e).fontSize)"
            )
            assert font >= 16


async def test_the_api_docs_load_without_internet(page: Page, site: Site) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{site.url}/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("regwatch")
    await expect(page.get_by_text("/v1/subscribers/me").first).to_be_visible()
    await page.goto(f"{site.url}/redoc")
    await expect(page.get_by_role("heading", level=1).first).to_contain_text("regwatch")
    await expect(page.get_by_text("/v1/subscribers/me").first).to_be_attached()
    await expect(page.get_by_alt_text("redocly logo")).to_have_count(0)  # refused, then hidden
    unexpected = [e for e in errors if "cdn.redoc.ly" not in e]
    assert not unexpected, unexpected
