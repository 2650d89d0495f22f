"""The notices page in a real browser (headless Chromium, tests/support/browser.py): search by
an app name with the keyboard only, open a notice, and a phone's width in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from shared.events import Entity
from tests.services.ingestor.test_portal_notices import notice, store
from tests.support.browser import browser, browser_test, context, local_context, page
from tests.support.portal import Site, add_subscriber, portal_site

__all__ = ["browser", "context", "page"]  # fixtures
pytestmark = browser_test


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with portal_site(tmp_path) as found:
        await store(
            found.portal.db,
            notice(
                "cac-douyin",
                date(2021, 5, 10),
                Entity(name="抖音", developer="北京微播视界科技有限公司", source="table"),
                Entity(name="快手", source="text"),
            ),
            notice("miit-wechat", date(2021, 6, 1), Entity(name="微信"), code="MIIT"),
        )
        yield found


async def tab_to(page: Page, selector: str, presses: int = 40) -> None:
    target = page.locator(selector)
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def test_search_by_app_with_the_keyboard_and_open_a_notice(page: Page, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db)
    await page.goto(f"{site.url}/portal/notices")
    await page.get_by_label("API key", exact=True).fill(key)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/portal/notices")
    await expect(page.locator("table.notices tbody tr")).to_have_count(2)

    await tab_to(page, "#f-app")
    await page.keyboard.type("douyin")
    await page.keyboard.press("Enter")  # submits the search form
    await expect(page).to_have_url(
        f"{site.url}/portal/notices?regulator=&since=&until=&app=douyin&q="
    )
    rows = page.locator("table.notices tbody tr")
    await expect(rows).to_have_count(1)
    await tab_to(page, "table.notices a")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/portal/notices/cac-douyin")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "关于抖音等App侵害用户权益行为的通报"
    )
    await expect(page.get_by_role("cell", name="北京微播视界科技有限公司")).to_be_visible()
    await expect(page.get_by_role("cell", name="a table in the page")).to_be_visible()


async def test_a_phone_in_chinese(browser: Browser, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db)
    screen = {"width": 360, "height": 740}
    async with local_context(
        browser, locale="zh-CN", viewport=screen, is_mobile=True, has_touch=True
    ) as phone:
        small = await phone.new_page()
        await small.goto(f"{site.url}/portal/notices")
        await small.get_by_label("API 密钥", exact=True).fill(key)
        await small.get_by_role("button", name="登录", exact=True).click()
        await expect(small).to_have_url(f"{site.url}/portal/notices")
        await expect(small.get_by_role("heading", name="找到的通报")).to_be_visible()
        for path in ("/portal/notices", "/portal/notices/cac-douyin"):
            await small.goto(f"{site.url}{path}")
            width = await small.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
