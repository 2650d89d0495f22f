"""A real HTTP server for feed tests (tests/support/http_server.py) and builders of feeds and
notice pages.

Each path serves a :class:`Page`; a page with an ``etag`` or ``last_modified`` answers a
matching conditional GET with 304. ``fail`` holds status codes to answer first (e.g. ``[500]``
for one failure). Every request is recorded with the status it got.

    async with FeedServer() as server:
        server.pages["/rss.xml"] = Page(rss([...]), "application/rss+xml", etag='"v1"')
        ...  # fetch server.url("/rss.xml")
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from html import escape

import h11

from tests.support.http_server import HOST, Answer, H11Server


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    fail: deque[int] = field(default_factory=deque)
    """Statuses to answer (one per request) before the page itself."""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Served:
    path: str
    headers: dict[str, str]
    status: int


class FeedServer(H11Server):
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Served] = []
        self._served = asyncio.Event()
        super().__init__()

    async def __aenter__(self) -> FeedServer:
        await self.start_serving()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop_serving()

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def hits(self, path: str) -> list[Served]:
        return [r for r in self.requests if r.path == path]

    async def wait_for_hits(self, path: str, count: int, timeout: float = 10.0) -> list[Served]:  # noqa: ASYNC109
        """Wait until ``path`` was requested ``count`` times (AssertionError after timeout)."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.hits(path)) < count:
                    self._served.clear()
                    await self._served.wait()
        except TimeoutError:
            raise AssertionError(
                f"{path} requested {len(self.hits(path))} times, expected {count}"
            ) from None
        return self.hits(path)

    def _answer(
        self, path: str, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        page = self.pages.get(path)
        if page is None:
            return 404, [("content-type", "text/plain")], b"not found"
        if page.fail:
            return page.fail.popleft(), [("content-type", "text/plain")], b"server error"
        validators = [("etag", page.etag), ("last-modified", page.last_modified)]
        out = [(k, v) for k, v in validators if v is not None]
        out += list(page.headers.items())
        if (page.etag is not None and headers.get("if-none-match") == page.etag) or (
            page.last_modified is not None
            and headers.get("if-modified-since") == page.last_modified
        ):
            return 304, out, b""
        return 200, [("content-type", page.content_type), *out], page.body

    async def answer(self, request: h11.Request, body: bytes) -> Answer:
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
        path = request.target.decode("latin-1")
        status, extra, content = self._answer(path, headers)
        self.requests.append(Served(path, headers, status))
        self._served.set()
        return Answer(status, extra, content)


# --- builders ----------------------------------------------------------------------------


def rss(items: list[tuple[str, str]], *, title: str = "通知公告") -> bytes:
    """An RSS 2.0 feed of (title, link) items, newest first; the link is the guid."""
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid></item>"
        for t, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>"
        f"<description>feed</description>{entries}</channel></rss>"
    ).encode()


def atom(items: list[tuple[str, str]]) -> bytes:
    """An Atom feed of (title, link) items, newest first."""
    entries = "".join(
        f'<entry><title>{escape(t)}</title><link href="{escape(link)}"/>'
        f"<id>{escape(link)}</id><updated>2021-05-10T00:00:00Z</updated></entry>"
        for t, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>公告</title><id>urn:feed</id><updated>2021-05-10T00:00:00Z</updated>"
        f"{entries}</feed>"
    ).encode()


def list_page(links: list[tuple[str, str]]) -> bytes:
    """An HTML list page: navigation links, then (text, href) links."""
    rows = "".join(f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for text, href in links)
    return (
        "<html><head><meta charset='utf-8'><title>工作动态</title></head><body>"
        "<a href='/'>首页</a> <a href='/about.html'>机构职能</a> <a href='/app.html'>APP下载</a>"
        f"<ul>{rows}</ul></body></html>"
    ).encode()


def notice_page(day: str, apps: list[tuple[str, str]], *, regulator: str = "CAC") -> bytes:
    """A made-up notice as an HTML page: ``day`` like ``2021年5月10日``, (app, developer)s."""
    issuer = {"CAC": "国家互联网信息办公室", "MIIT": "工业和信息化部信息通信管理局"}[regulator]
    items = "".join(
        f"<p>{n}. {escape(app)}（{escape(dev)}）</p>" for n, (app, dev) in enumerate(apps, 1)
    )
    title = f"关于{apps[0][0]}等{len(apps)}款App违法违规收集使用个人信息情况的通报"
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<h1>{title}</h1><p>{issuer}</p><p>{day}</p>"
        "<p>近期，有关部门对部分App收集使用个人信息的情况进行了检测，发现下列App存在问题。</p>"
        "<p>相关App运营者应当自本通报发布之日起15个工作日内完成整改。</p>"
        f"{items}</body></html>"
    ).encode()
