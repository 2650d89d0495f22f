"""GET /v1/notices and GET /v1/notices/{notice_id} over HTTP (ASGI, real database): who may
read, filters, pages across a notice posted between them, 422s naming the parameter, and the
OpenAPI document (POST /v1/notices beside them unchanged)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.ingestor import notices_api
from services.ingestor.api import build_router as intake_router
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import Entity, NoticeEvent, Regulator
from shared.http import operator_routes
from shared.settings import Settings

ADMIN = "op-token-notices"
OPERATOR = {"Authorization": f"Bearer {ADMIN}"}


def make_app(db: Database, admin_token: str | None = ADMIN) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(admin_token=admin_token, max_notice_bytes=200_000)
    app.include_router(intake_router(None))
    app.include_router(notices_api.build_router())
    return app


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        yield http


async def subscriber_key(db: Database) -> dict[str, str]:
    async with db.session() as session:
        made = await register_subscriber(
            session,
            name="Risk",
            email="risk@example.com",
            webhook_url=None,
            reminders=None,
            default_reminders="7d",
            allow_private=False,
        )
    return {"X-API-Key": made.api_key}


def event(notice_id: str, day: date, *entities: Entity, code: str = "CAC") -> dict[str, Any]:
    names = {"CAC": "国家互联网信息办公室", "MIIT": "工业和信息化部"}
    return NoticeEvent(
        notice_id=notice_id,
        regulator=Regulator(code=code, name=names[code]),
        kind="rectification",
        title=f"关于{entities[0].name}等App的通报",
        published_on=day,
        entities=list(entities),
    ).dump()


async def post(client: httpx.AsyncClient, notice: dict[str, Any]) -> None:
    answer = await client.post("/v1/notices", json=notice, headers=OPERATOR)
    assert answer.status_code == 201, answer.text


async def test_reading_needs_a_subscriber_key_or_the_operator_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    await post(client, event("cac-1", date(2021, 5, 10), Entity(name="抖音")))
    for path in ("/v1/notices", "/v1/notices/cac-1"):
        missing = await client.get(path)
        assert missing.status_code == 401
        assert "missing API key" in missing.json()["detail"]
        wrong = await client.get(path, headers={"Authorization": "Bearer rw_nope"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown API key"
        assert (await client.get(path, headers=await subscriber_key(db))).status_code == 200
        assert (await client.get(path, headers=OPERATOR)).status_code == 200


async def test_not_anonymous_when_no_operator_token_is_set(db: Database) -> None:
    transport = httpx.ASGITransport(app=make_app(db, admin_token=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        assert (await http.get("/v1/notices")).status_code == 401
        assert (await http.get("/v1/notices", headers=await subscriber_key(db))).status_code == 200


async def test_filters_and_the_list_item(client: httpx.AsyncClient, db: Database) -> None:
    key = await subscriber_key(db)
    await post(
        client,
        event(
            "cac-douyin",
            date(2021, 5, 10),
            Entity(name="抖音", developer="北京微播视界科技有限公司"),
            Entity(name="快手"),
        ),
    )
    await post(client, event("miit-wechat", date(2021, 6, 1), Entity(name="微信"), code="MIIT"))

    async def found(**params: str) -> list[str]:
        answer = await client.get("/v1/notices", params=params, headers=key)
        assert answer.status_code == 200, answer.text
        return [item["notice_id"] for item in answer.json()["items"]]

    assert await found() == ["miit-wechat", "cac-douyin"]
    assert await found(regulator="cac") == ["cac-douyin"]
    assert await found(regulator="MIIT*") == ["miit-wechat"]
    assert await found(since="2021-05-11") == ["miit-wechat"]
    assert await found(until="2021-05-10") == ["cac-douyin"]
    for name in ("抖音", "Douyin", "北京微播视界科技有限公司"):
        assert await found(app=name) == ["cac-douyin"], name
    assert await found(app="WeChat", regulator="MIIT") == ["miit-wechat"]
    assert await found(q="快手 通报") == []  # the title names 抖音 only
    assert await found(q="抖音 通报") == ["cac-douyin"]

    body = (await client.get("/v1/notices", params={"app": "Douyin"}, headers=key)).json()
    assert body["next_cursor"] is None
    (item,) = body["items"]
    assert item["regulator"] == {
        "code": "CAC",
        "name": "国家互联网信息办公室",
        "recognised": True,
    }
    assert item["published_on"] == "2021-05-10" and item["published_on_estimated"] is False
    assert item["entity_count"] == 2 and item["deadline"] is None
    assert item["entities"][0] == {
        "kind": "app",
        "name": "抖音",
        "developer": "北京微播视界科技有限公司",
    }


async def test_pages_across_a_notice_posted_between_them(
    client: httpx.AsyncClient, db: Database
) -> None:
    key = await subscriber_key(db)
    for n in range(5):
        await post(client, event(f"cac-{n}", date(2021, 3, 10 - n), Entity(name=f"应用{n}")))
    first = (await client.get("/v1/notices", params={"limit": 2}, headers=key)).json()
    assert [i["notice_id"] for i in first["items"]] == ["cac-0", "cac-1"]
    await post(client, event("cac-newest", date(2021, 4, 1), Entity(name="新应用")))
    await post(client, event("cac-older", date(2021, 3, 7), Entity(name="旧应用")))
    seen: list[str] = [i["notice_id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = await client.get("/v1/notices", params={"limit": 2, "cursor": cursor}, headers=key)
        assert page.status_code == 200, page.text
        seen += [i["notice_id"] for i in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert seen == ["cac-0", "cac-1", "cac-2", "cac-3", "cac-older", "cac-4"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2021-13-01"}, "since: '2021-13-01' is not a date (YYYY-MM-DD)"),
        ({"until": "2021/05/01"}, "until: '2021/05/01' is not a date (YYYY-MM-DD)"),
        ({"since": "2021-06-02", "until": "2021-06-01"}, "until: 2021-06-01 is before since"),
        ({"regulator": "CAC;DROP"}, "regulator: 'CAC;DROP' is not a regulator code"),
        ({"app": "???"}, "app: '???' has no letters or digits to look for"),
        ({"cursor": "garbage"}, "cursor: not a cursor this list gave (start again without it)"),
    ],
)
async def test_bad_parameters_answer_422_naming_them(
    client: httpx.AsyncClient, db: Database, params: dict[str, str], message: str
) -> None:
    answer = await client.get("/v1/notices", params=params, headers=await subscriber_key(db))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(message)


@pytest.mark.parametrize("limit", ["0", "201", "many"])
async def test_limit_out_of_range_is_422_naming_limit(
    client: httpx.AsyncClient, db: Database, limit: str
) -> None:
    answer = await client.get("/v1/notices", params={"limit": limit}, headers=OPERATOR)
    assert answer.status_code == 422
    assert [error["loc"] for error in answer.json()["detail"]] == [["query", "limit"]]


async def test_one_notice_with_where_it_was_seen(client: httpx.AsyncClient) -> None:
    notice = event("cac-one", date(2021, 5, 10), Entity(name="抖音"))
    answer = await client.post(
        "/v1/notices", json=notice, headers=OPERATOR, params={"source_url": "ignored-for-json"}
    )
    assert answer.status_code == 201, answer.text
    one = await client.get("/v1/notices/cac-one", headers=OPERATOR)
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["notice"] == notice  # the whole NoticeEvent, "schema" and all
    assert [s["source"] for s in body["sources"]] == ["request body"]
    assert body["sources"][0]["parsed_id"] == "cac-one" and body["sources"][0]["times_seen"] == 1
    assert {"stored_at", "updated_at"} <= set(body)
    missing = await client.get("/v1/notices/nope", headers=OPERATOR)
    assert missing.status_code == 404 and missing.json()["detail"] == "no stored notice 'nope'"


async def test_openapi_shows_the_routes_and_keeps_the_intake(db: Database) -> None:
    app = make_app(db)
    document = app.openapi()
    listing = document["paths"]["/v1/notices"]["get"]
    assert [p["name"] for p in listing["parameters"] if p["in"] == "query"] == [
        "regulator",
        "since",
        "until",
        "app",
        "q",
        "limit",
        "cursor",
    ]
    assert {"200", "401", "422", "429"} <= set(listing["responses"])
    page = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/NoticePage"}
    assert set(document["components"]["schemas"]["NoticeItem"]["properties"]) >= {
        "notice_id",
        "regulator",
        "title",
        "published_on",
        "published_on_estimated",
        "deadline",
        "batch",
        "entity_count",
        "entities",
        "source_url",
        "notes",
    }
    one = document["paths"]["/v1/notices/{notice_id}"]["get"]
    assert {"200", "401", "404", "422"} <= set(one["responses"])
    schema = one["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/NoticeDetail"}
    intake = document["paths"]["/v1/notices"]["post"]
    assert {"201", "401", "413", "415", "422"} <= set(intake["responses"])
    assert "multipart/form-data" in intake["requestBody"]["content"]
    # reading notices is not an operator route: never opened by an unset operator token
    assert operator_routes(app) == ["POST /v1/notices"]
