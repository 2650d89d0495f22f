"""A real browser for the portal's tests: Debian's Chromium (``/usr/bin/chromium``, installed by
``.ci/run``), headless, driven by Playwright from PyPI (``playwright install`` is never run: no
browser is downloaded).

Fixtures (import them into a test module):

- ``browser``: one Chromium for the session;
- ``context``: a fresh browser context per test (its own cookies), whose every request to a
  host other than this machine (127.0.0.0/8, ``localhost``, ``::1``) is aborted and recorded,
  and the test fails naming them: the portal must work without internet;
- ``page``: a page in that context;

and ``local_context(browser)`` for another person's browser (or a phone's screen), and
``sign_in(page, base_url, api_key)``.

Tests that use them carry the ``browser`` marker and are skipped, saying why, only where
``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--no-pings",
]
NO_CHROMIUM: Final = (
    f"needs Debian's chromium at {CHROMIUM} (.ci/run installs it: apt-get install chromium)"
)

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
browser_test = [pytest.mark.browser, needs_chromium]


def is_local(url: str) -> bool:
    """Does ``url`` stay on this machine (or inside the browser: data:, blob:, about:)?"""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def launch(playwright: object) -> Browser:
    """Debian's Chromium, headless."""
    chromium = playwright.chromium  # type: ignore[attr-defined]
    browser: Browser = await chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    return browser


class Offsite:
    """Requests that would have left the machine (aborted)."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def guard(self, route: Route) -> None:
        url = route.request.url
        if is_local(url):
            await route.continue_()
        else:
            self.requests.append(url)
            await route.abort("blockedbyclient")


async def local_only(context: BrowserContext) -> Offsite:
    """Abort and record every request of ``context`` that leaves the machine."""
    offsite = Offsite()
    await context.route("**/*", offsite.guard)
    return offsite


async def sign_in(page: Page, base_url: str, api_key: str) -> None:
    """Sign in on the sign-in page with an API key (in whatever language it shows)."""
    await page.goto(f"{base_url}/portal/signin")
    await page.locator("#api_key").fill(api_key)
    await page.locator("form[action='/portal/signin'] button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/portal/(\?.*)?$"))


@contextlib.asynccontextmanager
async def local_context(
    browser: Browser, locale: str = "en-US", **options: Any
) -> AsyncIterator[BrowserContext]:
    """Another context (another person's browser, a phone's screen: ``viewport=...``), held to
    the same rule as ``context``."""
    found = await browser.new_context(locale=locale, service_workers="block", **options)
    found.set_default_timeout(15_000)
    offsite = await local_only(found)
    try:
        yield found
    finally:
        await found.close()
    assert not offsite.requests, f"requests left the machine: {offsite.requests}"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    async with async_playwright() as playwright:
        found = await launch(playwright)
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    async with local_context(browser) as found:
        yield found


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()
