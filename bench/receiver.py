"""A minimal webhook receiver for benchmarks: answers 204 and remembers (path, id, time).

    python -m bench.receiver HTTP_PORT [SMTP_PORT]

With an SMTP port it is also a mail sink: every message accepted is remembered once per
recipient as (``smtp:<recipient>``, Message-ID, time). ``GET /stats`` returns everything
remembered, ``GET /count`` only how many (cheap to poll).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from email.parser import BytesHeaderParser
from typing import Any

import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

seen: list[tuple[str, str, float]] = []


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "GET" and scope["path"] in ("/stats", "/count"):
        body = json.dumps(seen if scope["path"] == "/stats" else len(seen)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    headers = dict(scope["headers"])
    ident = headers.get(b"webhook-id", b"").decode()
    seen.append((scope["path"], ident, time.time()))
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class MailSink:
    """aiosmtpd handler: accept every message, remember it per recipient."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.original_content or envelope.content)
        ident = str(headers.get("Message-ID", ""))
        now = time.time()
        seen.extend((f"smtp:{rcpt}", ident, now) for rcpt in envelope.rcpt_tos)
        return "250 OK"


async def serve(port: int, smtp_port: int | None) -> None:
    if smtp_port is not None:
        from aiosmtpd.smtp import SMTP

        sink = MailSink()
        await asyncio.get_running_loop().create_server(
            lambda: SMTP(sink, hostname="bench-sink"), "127.0.0.1", smtp_port
        )
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None))
