"""The matcher's portal pages in a real browser (headless Chromium, tests/support/browser.py):
adding a watch with the keyboard (with the directory's answer while typing), an alert after a
notice is ingested, "not us", and the pages at a phone's width. No request leaves the machine."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from services.matcher.alerts import list_feedback
from tests.services.matcher.test_portal import TENCENT_DEV, ingest, notice
from tests.support.browser import browser, browser_test, context, local_context, page
from tests.support.portal import Site, add_subscriber, portal_site

__all__ = ["browser", "context", "page"]  # fixtures
pytestmark = browser_test


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with portal_site(tmp_path) as found:
        yield found


async def sign_in(page: Page, site: Site, key: str, label: str = "API key") -> None:
    await page.goto(f"{site.url}/portal/signin")
    await page.get_by_label(label, exact=True).fill(key)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/portal/")


async def tab_to(page: Page, selector: str, presses: int = 40) -> None:
    target = page.locator(selector)
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def test_add_a_watch_with_the_keyboard(page: Page, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db)
    await sign_in(page, site, key)
    await (
        page.get_by_role("navigation", name="Portal").get_by_role("link", name="Watchlist").click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your watchlist")

    await page.locator("main").focus()
    await tab_to(page, "input[name=kind][value=app]")
    await page.keyboard.press("ArrowDown")  # radio group: the next kind
    await expect(page.get_by_label("Company", exact=True)).to_be_checked()
    await page.keyboard.press("Tab")
    await expect(page.locator("#watch-name")).to_be_focused()
    await page.keyboard.type("Tencnet")
    # the script asks the directory while typing
    await expect(page.locator("#lookup")).to_contain_text(
        "Tencnet matches nothing regwatch knows: did you mean Tencent?"
    )
    await page.keyboard.press("Control+A")
    await page.keyboard.type("Tencent")
    await expect(page.locator("#lookup")).to_contain_text("Company: Tencent → 腾讯")
    await page.keyboard.press("Tab")
    await expect(page.locator("#watch-aliases")).to_be_focused()
    await page.keyboard.type("鹅厂")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Watch", exact=True)).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(page.get_by_role("status").first).to_have_text("You now watch Tencent.")
    row = page.locator("tbody tr", has_text="Tencent")
    await expect(row).to_contain_text("鹅厂")
    await expect(row).to_contain_text("Company")

    # removed with the keyboard too
    remove = page.get_by_role("button", name="Stop watching Tencent")
    await remove.focus()
    color, background = await remove.evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e.closest('td')).backgroundColor]"
    )
    assert color != "rgb(255, 255, 255)", (color, background)  # readable on the white table
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status").first).to_have_text("You no longer watch Tencent.")
    await expect(page.locator("tbody tr", has_text="Tencent")).to_have_count(0)


async def test_an_ingested_notice_is_an_alert_and_not_us_suppresses_it(
    page: Page, site: Site
) -> None:
    subscriber_id, key = await add_subscriber(site.portal.db)
    await sign_in(page, site, key)
    await page.goto(f"{site.url}/portal/watches")
    await page.get_by_label("Company", exact=True).check()
    await page.get_by_label("Name", exact=True).fill("Tencent")
    await page.get_by_role("button", name="Watch", exact=True).click()
    await expect(page.get_by_role("status").first).to_have_text("You now watch Tencent.")

    await ingest(site.portal, notice("b1", ("腾讯地图", TENCENT_DEV), ("抖音", None)))
    await page.get_by_role("link", name="Alerts").click()
    alert = page.locator("article.alert")
    await expect(alert).to_have_count(1)
    await expect(alert).to_contain_text("工业和信息化部 (MIIT)")
    await expect(alert).to_contain_text("腾讯地图")
    await expect(alert).to_contain_text("The developer belongs to the company you watch.")

    button = alert.get_by_role("button", name="Not us: 腾讯地图")
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/portal/alerts#match_"))
    await expect(page.locator("article.alert")).to_contain_text("You said: not us.")
    await expect(page.get_by_role("button", name="Not us: 腾讯地图")).to_have_attribute(
        "aria-pressed", "true"
    )
    async with site.portal.db.session() as session:
        [verdict] = await list_feedback(session, subscriber_id)
    assert verdict.verdict == "wrong"

    await page.get_by_role("link", name=re.compile("b1")).click()
    await expect(
        page.get_by_role("heading", name=re.compile("Every app the notice names"))
    ).to_be_visible()
    await expect(page.get_by_role("link", name="https://www.miit.gov.cn/b1.html")).to_be_visible()


async def test_the_pages_fit_a_phone_in_chinese(browser: Browser, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db)
    screen = {"width": 360, "height": 740}
    async with local_context(
        browser, locale="zh-CN", viewport=screen, is_mobile=True, has_touch=True
    ) as phone:
        small = await phone.new_page()
        await sign_in(small, site, key, "API 密钥")
        await small.goto(f"{site.url}/portal/watches")
        await small.get_by_label("名称", exact=True).fill("抖音")
        await small.get_by_role("button", name="关注", exact=True).click()
        await expect(small.get_by_role("status").first).to_have_text("已关注 抖音。")
        await ingest(site.portal, notice("p1", ("抖音", None)))
        for path in ("/portal/watches", "/portal/alerts"):
            await small.goto(f"{site.url}{path}")
            await expect(small.locator("html")).to_have_attribute("lang", "zh-CN")
            width = await small.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
        # the pages' own stylesheet loads under the CSP: a wide table scrolls in its box
        await small.goto(f"{site.url}/portal/watches")
        scroll = small.locator(".table-scroll").first
        assert await scroll.evaluate("e => getComputedStyle(e).overflowX") == "auto"


async def test_a_csv_file_is_imported_from_the_browser(page: Page, site: Site) -> None:
    _, key = await add_subscriber(site.portal.db)
    await sign_in(page, site, key)
    await page.goto(f"{site.url}/portal/watches")
    csv = (
        "\ufeffkind,name,aliases\r\napp,抖音,Douyin|TikTok China\r\nplanet,Mars\r\ncompany,腾讯\r\n"
    )
    await page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "watches.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    await page.get_by_role("button", name="Import").click()
    await expect(page.get_by_role("status").first).to_have_text(
        "3 rows: 2 added, 0 already watched, 1 with errors."
    )
    problems = page.get_by_role("table", name="Lines not imported")
    await expect(problems.locator("tbody tr")).to_have_count(1)
    await expect(problems.locator("tbody tr td").first).to_have_text("3")
    await expect(page.locator("tbody tr", has_text="抖音")).to_contain_text("Douyin, TikTok China")
