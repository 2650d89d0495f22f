"""``make screenshots``: every portal page in English and Chinese, on a desktop and a phone.

Starts regwatch as ``make run`` does (embedded broker, SQLite and mail sink) on a temporary
data dir, makes a subscriber who watches Douyin and Tencent, posts a notice naming both (so
pages that list alerts have one), signs in with Debian's headless Chromium and saves a
full-page screenshot of the sign-in page and of every page in the portal's registry
(``shared/portal/pages.py``: pages added later are captured with no change here) as
``var/screenshots/<page>-<en|zh>[-phone].png``. Any request that would leave the machine
is refused and fails the run.

    python -m tests.support.screenshots [--out var/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, async_playwright

from services.runtime import Runtime
from shared.portal.i18n import LANGUAGES
from shared.portal.pages import PortalPage, registered_pages
from shared.settings import Settings
from tests.support.browser import CHROMIUM, NO_CHROMIUM, launch, local_only, sign_in

SCREENS: dict[str, dict[str, Any]] = {
    "": {"viewport": {"width": 1280, "height": 800}},
    "-phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
NOTICE = """<html><head><title>关于侵害用户权益行为的APP通报（2021年第9批，总第18批）</title></head>
<body><h1>关于侵害用户权益行为的APP通报（2021年第9批，总第18批）</h1>
<p>工业和信息化部信息通信管理局</p><p>2021年8月3日</p>
<p>上述APP应在8月10日前完成整改落实工作。</p>
<table>
<tr><td>序号</td><td>应用名称</td><td>应用开发者</td><td>应用来源</td><td>应用版本</td><td>所涉问题</td></tr>
<tr><td>1</td><td>腾讯地图</td><td>深圳市腾讯计算机系统有限公司</td><td>小米</td><td>9.9.1</td><td>超范围收集个人信息</td></tr>
<tr><td>2</td><td>抖音</td><td>北京微播视界科技有限公司</td><td>华为</td><td>16.2.0</td><td>APP强制、频繁、过度索取权限</td></tr>
</table></body></html>"""


def slug(page: PortalPage) -> str:
    return page.label.rsplit(".", 1)[-1].replace("_", "-")


async def seed(base: str, admin_token: str | None) -> str:
    """A subscriber with watches and an alert; returns its API key."""
    operator = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        created = await client.post(
            "/v1/subscribers",
            json={"name": "Risk team", "email": "risk@example.com", "reminders": "7d,3d,1d"},
            headers=operator,
        )
        created.raise_for_status()
        key: str = created.json()["api_key"]
        mine = {"Authorization": f"Bearer {key}"}
        for watch in ({"kind": "app", "name": "Douyin"}, {"kind": "company", "name": "Tencent"}):
            (await client.post("/v1/watches", json=watch, headers=mine)).raise_for_status()
        notice = await client.post(
            "/v1/notices",
            content=NOTICE.encode(),
            headers={"content-type": "text/html", **operator},
        )
        notice.raise_for_status()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            alerts = await client.get("/v1/alerts", headers=mine)
            if alerts.status_code == 200 and alerts.json():
                break
            await asyncio.sleep(0.5)
        else:
            print("warning: no alert within 60 s; pages show none", file=sys.stderr)
    return key


async def shoot(page: Page, url: str, path: Path) -> None:
    await page.goto(url)
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=str(path), full_page=True)
    print(path)


async def capture(base: str, key: str, out: Path) -> list[str]:
    """Screenshots into ``out``; returns the requests that tried to leave the machine."""
    offsite: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            for suffix, options in SCREENS.items():
                context: BrowserContext = await browser.new_context(**options)
                guard = await local_only(context)
                page = await context.new_page()
                for lang in LANGUAGES:
                    await shoot(
                        page,
                        f"{base}/portal/signin?lang={lang}",
                        out / f"signin-{lang}{suffix}.png",
                    )
                await sign_in(page, base, key)
                for portal_page in registered_pages():
                    for lang in LANGUAGES:
                        name = f"{slug(portal_page)}-{lang}{suffix}.png"
                        await shoot(page, f"{base}{portal_page.path}?lang={lang}", out / name)
                await context.close()
                offsite.extend(guard.requests)
        finally:
            await browser.close()
    return offsite


def has_chinese_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


async def main(out: Path, data_dir: Path) -> int:
    settings = Settings(data_dir=data_dir, http_port=0, log_level="WARNING", log_format="text")
    runtime = Runtime(settings)
    try:
        await runtime.start()
        key = await seed(runtime.http_url, settings.admin_token)
        offsite = await capture(runtime.http_url, key, out)
    finally:
        await runtime.stop()
    if offsite:
        print(f"error: requests tried to leave the machine: {offsite}", file=sys.stderr)
        return 1
    return 0


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("var/screenshots"))
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"error: {NO_CHROMIUM}")
    if not has_chinese_font():
        print(
            "warning: no Chinese font (fc-list :lang=zh is empty): Chinese text will show as "
            "boxes; install fonts-wqy-zenhei (.ci/run does)",
            file=sys.stderr,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="regwatch-screenshots-"))
    try:
        code = asyncio.run(main(args.out, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    cli()
