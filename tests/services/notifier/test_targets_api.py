"""``/v1/channels``: chat targets added, listed (robot token masked, secret never shown, stored
encrypted), refused with the field named, and removed only by their subscriber."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.matcher.api import build_router as subscribers_router
from services.notifier.targets import masked
from services.notifier.targets_api import build_targets_router
from shared.db import Database
from shared.settings import Settings

ROBOT = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(webhook_allow_private=True)
    app.include_router(subscribers_router())
    app.include_router(build_targets_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        yield http


async def subscribe(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    created = await client.post(
        "/v1/subscribers", json={"name": name, "email": f"{name.lower()}@example.com"}
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['api_key']}"}


async def test_a_target_is_added_listed_masked_and_removed(
    client: httpx.AsyncClient, db: Database
) -> None:
    me = await subscribe(client, "Risk")
    body = {"channel": "dingtalk", "address": ROBOT, "secret": "SECabc123", "keyword": "合规"}
    added = await client.post("/v1/channels", json=body, headers=me)
    assert added.status_code == 201, added.text
    target = added.json()
    assert target["has_secret"] is True and "secret" not in target
    assert target["address"].endswith("access_token=…cdef")
    second = await client.post(
        "/v1/channels", json={"channel": "dingtalk", "address": ROBOT + "99"}, headers=me
    )
    assert second.status_code == 201  # a second group on the same channel
    listed = (await client.get("/v1/channels", headers=me)).json()
    assert [t["id"] for t in listed] == [target["id"], second.json()["id"]]
    assert "0123456789abcdef0123456789ab" not in str(listed)
    async with db.read_session() as session:
        stored = (await session.execute(text("SELECT secret FROM notifier_targets"))).all()
    assert {value for (value,) in stored if value} and all(
        value.startswith("fernet:") for (value,) in stored if value
    )
    again = await client.post("/v1/channels", json=body, headers=me)
    assert again.status_code == 422 and "already there" in again.json()["detail"]

    other = await subscribe(client, "Other")
    assert (await client.get("/v1/channels", headers=other)).json() == []
    assert (await client.delete(f"/v1/channels/{target['id']}", headers=other)).status_code == 404
    assert (await client.delete(f"/v1/channels/{target['id']}", headers=me)).status_code == 204
    assert len((await client.get("/v1/channels", headers=me)).json()) == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"channel": "pager", "address": ROBOT}, "unknown chat channel 'pager'"),
        ({"channel": "email", "address": ROBOT}, "unknown chat channel 'email'"),
        ({"channel": "dingtalk", "address": "ftp://x.example/r"}, "http"),
        ({"channel": "dingtalk", "address": ROBOT, "language": "fr"}, "language must be"),
    ],
)
async def test_bad_targets_are_refused_naming_the_problem(
    client: httpx.AsyncClient, body: dict[str, str], words: str
) -> None:
    me = await subscribe(client, "Risk")
    answer = await client.post("/v1/channels", json=body, headers=me)
    assert answer.status_code == 422
    assert words in answer.json()["detail"]


async def test_routes_need_an_api_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/channels")).status_code == 401
    assert (await client.post("/v1/channels", json={})).status_code == 401
    assert (await client.delete("/v1/channels/tgt_x")).status_code == 401


def test_token_like_parameters_are_masked_and_others_kept() -> None:
    assert (
        masked("https://h.example/send?key=abcdef123&x=1") == "https://h.example/send?key=…f123&x=1"
    )
    assert masked("https://h.example/hook/abc") == "https://h.example/hook/abc"
