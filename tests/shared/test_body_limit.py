"""Bodies FastAPI reads whole (JSON, forms) stop at the limit: 413, without reading the rest."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.types import Message

from shared.body_limit import BodyLimit


class Item(BaseModel):
    name: str


def make_app(limit: int) -> FastAPI:
    app = FastAPI()

    @app.post("/items")
    async def add(item: Item) -> dict[str, str]:
        return {"name": item.name}

    app.add_middleware(BodyLimit, limit=limit)
    return app


async def post(app: FastAPI, body: bytes, content_type: str = "application/json") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/items", content=body, headers={"content-type": content_type})


async def test_a_body_within_the_limit_goes_through() -> None:
    answer = await post(make_app(1000), json.dumps({"name": "抖音"}).encode())
    assert answer.status_code == 200 and answer.json() == {"name": "抖音"}


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    answer = await post(make_app(100), json.dumps({"name": "x" * 500}).encode())
    assert answer.status_code == 413
    assert answer.json()["detail"] == "body too large: 512 bytes declared, limit 100 bytes"


async def test_a_streamed_body_stops_at_the_limit() -> None:
    """No Content-Length: the middleware counts the chunks as they come and stops pulling."""
    chunk = b" " * 1000
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 10_000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/items",
        "raw_path": b"/items",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("t", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
        "headers": [(b"content-type", b"application/json")],
    }
    await make_app(5_000)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["detail"] == "body too large: over the limit of 5000 bytes"
    assert pulled == 6  # 6,000 bytes read of 10 MB


async def test_other_content_types_are_left_to_their_routes() -> None:
    """Raw bodies (CSV, files) are bounded by the route itself (``read_body``)."""
    answer = await post(make_app(10), b"x" * 100, content_type="text/csv")
    assert answer.status_code == 422  # the route's own answer: not JSON for its model
