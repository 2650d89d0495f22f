"""A real HTTP server for feed tests (asyncio + h11 on 127.0.0.1) and builders of feeds and
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
import contextlib
from collections import deque
from dataclasses import dataclass, field
from html import escape
from typing import Any

import h11

HOST = "127.0.0.1"


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


class FeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Served] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._served = asyncio.Event()
        self.port = 0

    async def __aenter__(self) -> FeedServer:
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

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

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await self._next(conn, reader)
                if not isinstance(request, h11.Request):
                    break
                while not isinstance(await self._next(conn, reader), h11.EndOfMessage):
                    pass
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
                path = request.target.decode("latin-1")
                status, extra, body = self._answer(path, headers)
                self.requests.append(Served(path, headers, status))
                self._served.set()
                response_headers = [("content-length", str(len(body))), *extra]
                writer.write(conn.send(h11.Response(status_code=status, headers=response_headers)))
                if body:
                    writer.write(conn.send(h11.Data(data=body)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (h11.ProtocolError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _next(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
                continue
            return event


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
