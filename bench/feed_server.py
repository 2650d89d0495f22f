"""A local feed server for benchmarks: an RSS 2.0 feed at ``/rss.xml`` (conditional GET by
ETag) of notice pages at ``/n/<id>.html``, published while it runs, and a log of when each
item appeared and was read.

    python -m bench.feed_server PORT

``POST /publish`` ``{"id", "title", "html"}`` adds an item (newest first) and answers
``{"at": <time it appeared>}``; ``GET /log`` answers ``{"published": {id: t}, "feed": [[t,
[ids listed]], ...], "pages": {id: t first read}}``. Times are ``time.time()``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

items: list[dict[str, str]] = []  # newest first
published: dict[str, float] = {}
feed_reads: list[tuple[float, list[str]]] = []
page_reads: dict[str, float] = {}
base = ""


def rss() -> bytes:
    entries = "".join(
        f"<item><title>{escape(i['title'])}</title><link>{base}/n/{i['id']}.html</link>"
        f"<guid>{base}/n/{i['id']}.html</guid></item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>通知公告</title><link>{base}/</link><description>bench</description>"
        f"{entries}</channel></rss>"
    ).encode()


async def answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    path, method = scope["path"], scope["method"]
    headers = dict(scope["headers"])
    if method == "POST" and path == "/publish":
        item = json.loads(body)
        items.insert(0, {k: item[k] for k in ("id", "title", "html")})
        published[item["id"]] = time.time()
        reply = json.dumps({"at": published[item["id"]]}).encode()
        await answer(send, 200, reply, [(b"content-type", b"application/json")])
    elif path == "/log":
        log = {"published": published, "feed": feed_reads, "pages": page_reads}
        await answer(send, 200, json.dumps(log).encode(), [(b"content-type", b"application/json")])
    elif path == "/rss.xml":
        now = time.time()
        etag = f'"{len(items)}"'.encode()
        if headers.get(b"if-none-match") == etag:
            await answer(send, 304, b"", [(b"etag", etag)])
            return
        feed_reads.append((now, [i["id"] for i in items]))
        await answer(send, 200, rss(), [(b"content-type", b"application/rss+xml"), (b"etag", etag)])
    elif path.startswith("/n/") and path.endswith(".html"):
        ident = path[3:-5]
        page = next((i for i in items if i["id"] == ident), None)
        if page is None:
            await answer(send, 404, b"", [])
            return
        page_reads.setdefault(ident, time.time())
        await answer(
            send, 200, page["html"].encode(), [(b"content-type", b"text/html; charset=utf-8")]
        )
    else:
        await answer(send, 404, b"", [])


if __name__ == "__main__":
    port = int(sys.argv[1])
    base = f"http://127.0.0.1:{port}"
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
