"""HTTP edges without a broker: bad input gets a clear status and message; auth is enforced."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.ingestor.api import build_router as notices_router
from services.matcher.api import build_router as subscribers_router
from services.notifier.api import build_router as deliveries_router
from shared.db import Database
from shared.settings import Settings

NOTICE = "国家互联网信息办公室\n关于抖音等App的通报\n2021年5月10日\n1. 抖音（北京微播视界科技有限公司）\n"


def make_app(db: Database, **settings: object) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(max_notice_bytes=2000, **settings)  # type: ignore[arg-type]
    for router in (notices_router(None), subscribers_router(), deliveries_router()):
        app.include_router(router)
    return app


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        yield http


async def test_notice_text_is_stored_once(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "text/plain; charset=utf-8"}
    first = await client.post("/v1/notices", content=NOTICE.encode(), headers=headers)
    second = await client.post("/v1/notices", content=NOTICE.encode(), headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["notice"]["entities"][0]["name"] == "抖音"
    assert (first.json()["outcome"], second.json()["outcome"]) == ("new", "unchanged")


@pytest.mark.parametrize(
    ("content", "content_type", "status", "message"),
    [
        (b"", "text/plain", 422, "empty"),
        (b"x" * 2001, "text/plain", 413, "too large"),
        (b"%PDF-1.4", "application/pdf", 415, "unsupported content type"),
        (b"{not json", "application/json", 422, "invalid NoticeEvent"),
        (json.dumps({"notice_id": "x"}).encode(), "application/json", 422, "regulator"),
        (
            "国家互联网信息办公室\n关于App的通报\n2021年5月10日\n".encode(),
            "text/plain",
            422,
            "no apps",
        ),
    ],
)
async def test_bad_notices_are_refused_with_a_reason(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int, message: str
) -> None:
    answer = await client.post(
        "/v1/notices", content=content, headers={"content-type": content_type}
    )
    assert answer.status_code == status
    assert message in answer.json()["detail"]


async def test_a_streamed_notice_is_refused_as_soon_as_it_passes_the_limit(
    client: httpx.AsyncClient,
) -> None:
    """Every raw-body route reads through shared.http.read_body: chunked, no Content-Length."""
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 100_000_000:
            sent += 500
            yield b"x" * 500

    answer = await client.post(
        "/v1/notices", content=endless(), headers={"content-type": "text/plain"}
    )
    assert answer.status_code == 413
    assert answer.json()["detail"] == "notice too large: over the limit of 2000 bytes"
    assert sent <= 2500


async def test_subscriber_routes_need_their_own_key(client: httpx.AsyncClient) -> None:
    made = await client.post("/v1/subscribers", json={"name": "A", "email": "a@example.com"})
    other = await client.post("/v1/subscribers", json={"name": "B", "email": "b@example.com"})
    key_a = {"Authorization": f"Bearer {made.json()['api_key']}"}
    key_b = {"X-API-Key": other.json()["api_key"]}
    assert (await client.get("/v1/watches")).status_code == 401
    assert (await client.get("/v1/watches", headers={"X-API-Key": "rw_nope"})).status_code == 401
    watch = await client.post("/v1/watches", json={"kind": "app", "name": "抖音"}, headers=key_a)
    assert watch.status_code == 201
    assert (await client.get("/v1/watches", headers=key_b)).json() == []
    gone = await client.delete(f"/v1/watches/{watch.json()['id']}", headers=key_b)
    assert gone.status_code == 404
    assert len((await client.get("/v1/watches", headers=key_a)).json()) == 1
    me = (await client.get("/v1/subscribers/me", headers=key_a)).json()
    assert me["name"] == "A" and "api_key" not in me


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "A", "email": "nope"}, "invalid email address"),
        ({"name": "A", "webhook_url": "http://192.168.1.10/hook"}, "192.168.1.10"),
        ({"name": "A", "webhook_url": "file:///etc/passwd"}, "http or https"),
        ({"name": "A"}, "at least one channel"),
    ],
)
async def test_bad_subscribers_are_refused(
    client: httpx.AsyncClient, body: dict[str, str], message: str
) -> None:
    answer = await client.post("/v1/subscribers", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["detail"]


async def test_bad_watch_kind_is_refused(client: httpx.AsyncClient) -> None:
    made = await client.post("/v1/subscribers", json={"name": "A", "email": "a@example.com"})
    key = {"X-API-Key": made.json()["api_key"]}
    answer = await client.post("/v1/watches", json={"kind": "person", "name": "x"}, headers=key)
    assert answer.status_code == 422


async def test_admin_token_guards_operator_routes(db: Database) -> None:
    transport = httpx.ASGITransport(app=make_app(db, admin_token="s3cret"))
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        body = {"name": "A", "email": "a@example.com"}
        assert (await http.post("/v1/subscribers", json=body)).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await http.post("/v1/notices", content=b"x", headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert (await http.post("/v1/subscribers", json=body, headers=right)).status_code == 201
