"""A size limit on request bodies that FastAPI reads whole: JSON and urlencoded forms.

Routes that take a raw body read it with :func:`shared.http.read_body` and their own limit;
bodies parsed for a route's model (JSON) or a form were read whole, however large. This ASGI
middleware refuses them with 413 once they pass the limit: at once when Content-Length says so,
else as soon as the streamed bytes do, so a huge body costs at most the limit in memory.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PARSED_WHOLE = ("application/json", "application/x-www-form-urlencoded")


def _parsed_whole(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in PARSED_WHOLE or media.endswith("+json")


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not _parsed_whole(headers.get("content-type", "")):
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(
                send, f"body too large: {int(declared)} bytes declared, limit {self.limit} bytes"
            )
            return
        seen = 0
        limit = self.limit

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"body too large: over the limit of {limit} bytes")
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
