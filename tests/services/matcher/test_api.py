"""The subscriber API over HTTP (ASGI, real database): settings, keys, watch items, CSV import,
alert history and feedback; tenant isolation on every route; the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.matcher.alerts import give_feedback, match_id, record_alerts
from services.matcher.api import build_router
from services.matcher.csvimport import MAX_IMPORT_BYTES
from services.matcher.handler import handle_notice
from services.matcher.store import put_watch
from services.matcher.watchlist import LiveWatchlist
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import (
    EntityRef,
    Match,
    NoticeEvent,
    NoticeSummary,
    Regulator,
    WatchRef,
)
from shared.settings import Settings
from tests.support.db import migrated_database_url

ADMIN = "op-token"
TENCENT_DEV = "深圳市腾讯计算机系统有限公司"


def make_app(db: Database, **settings: Any) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(admin_token=ADMIN, **settings)
    app.include_router(build_router())
    return app


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One database per backend for this module (each test makes its own subscribers), so the
    route-by-route tests do not pay for a migration each."""
    async for url in migrated_database_url(request.param, tmp_path_factory.mktemp("api")):
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(db))
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        yield http


async def new_subscriber(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body = {"name": "Risk", "email": "risk@example.com", **body}
    answer = await client.post(
        "/v1/subscribers", json=body, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    created["auth"] = {"Authorization": f"Bearer {created['api_key']}"}
    return created


# --- subscribers ----------------------------------------------------------------------------


async def test_subscriber_settings(client: httpx.AsyncClient) -> None:
    me = await new_subscriber(client, timezone="Europe/Berlin", reminders="3d, 24h")
    assert me["webhook_secret"] is None
    auth = me["auth"]
    got = (await client.get("/v1/subscribers/me", headers=auth)).json()
    assert (got["timezone"], got["reminders"], got["webhook_url"]) == (
        "Europe/Berlin",
        "3d,1d",
        None,
    )

    patched = await client.patch(
        "/v1/subscribers/me",
        json={
            "name": "Risk team",
            "timezone": "America/New_York",
            "reminders": "7d",
            "webhook_url": "https://hooks.example.com/regwatch",
        },
        headers=auth,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["webhook_secret"].startswith("whsec_")  # the first webhook: a secret, once
    assert (body["name"], body["timezone"], body["reminders"]) == (
        "Risk team",
        "America/New_York",
        "7d",
    )
    again = await client.patch("/v1/subscribers/me", json={"email": None}, headers=auth)
    assert again.status_code == 200
    assert (again.json()["email"], again.json()["webhook_secret"]) == (None, None)
    got = (await client.get("/v1/subscribers/me", headers=auth)).json()
    assert got["webhook_url"] == "https://hooks.example.com/regwatch" and got["email"] is None


BAD_SETTINGS = [
    ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"timezone": None}, "timezone cannot be null"),
    ({"email": None}, "at least one channel"),
    ({"email": "nope"}, "invalid email address"),
    ({"webhook_url": "http://169.254.169.254/latest"}, "169.254.169.254"),
    ({"webhook_url": "ftp://example.com/x"}, "http or https"),
    ({"reminders": "soon"}, "invalid reminders"),
    ({"api_key_hash": "x"}, "api_key_hash"),
]


async def test_bad_settings_are_refused(client: httpx.AsyncClient) -> None:
    me = await new_subscriber(client)
    for body, message in BAD_SETTINGS:
        answer = await client.patch("/v1/subscribers/me", json=body, headers=me["auth"])
        assert answer.status_code == 422, body
        assert message in str(answer.json()["detail"]), body
    assert (await client.get("/v1/subscribers/me", headers=me["auth"])).json()["email"]


async def test_bad_time_zone_at_creation(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v1/subscribers",
        json={"name": "A", "email": "a@example.com", "timezone": "Asia/Peking"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert answer.status_code == 422 and "unknown time zone" in answer.json()["detail"]


async def test_rotating_the_key_retires_the_old_one(client: httpx.AsyncClient) -> None:
    me = await new_subscriber(client)
    rotated = await client.post("/v1/subscribers/me/api-keys/rotate", headers=me["auth"])
    assert rotated.status_code == 200
    new_key = rotated.json()["api_key"]
    assert new_key.startswith("rw_") and new_key != me["api_key"]
    assert (await client.get("/v1/subscribers/me", headers=me["auth"])).status_code == 401
    fresh = {"X-API-Key": new_key}
    assert (await client.get("/v1/subscribers/me", headers=fresh)).json()["id"] == me["id"]


# --- watch items ----------------------------------------------------------------------------


async def test_watch_items(client: httpx.AsyncClient) -> None:
    auth = (await new_subscriber(client))["auth"]
    made = await client.post(
        "/v1/watches", json={"kind": "app", "name": "抖音", "aliases": ["Douyin"]}, headers=auth
    )
    assert made.status_code == 201
    watch = made.json()
    assert (watch["kind"], watch["name"], watch["aliases"]) == ("app", "抖音", ["Douyin"])
    same = await client.post("/v1/watches", json={"kind": "app", "name": "抖音"}, headers=auth)
    assert (same.status_code, same.json()["id"]) == (200, watch["id"])
    other = await client.post("/v1/watches", json={"kind": "company", "name": "腾讯"}, headers=auth)

    url = f"/v1/watches/{watch['id']}"
    assert (await client.get(url, headers=auth)).json()["name"] == "抖音"
    patched = await client.patch(url, json={"aliases": ["Douyin", "抖音短视频"]}, headers=auth)
    assert patched.json()["aliases"] == ["Douyin", "抖音短视频"]
    clash = await client.patch(url, json={"name": "腾讯"}, headers=auth)
    assert clash.status_code == 200  # another kind: no clash
    page = await client.get("/v1/watches", params={"limit": 1}, headers=auth)
    assert [w["id"] for w in page.json()] == [watch["id"]]
    rest = await client.get("/v1/watches", params={"after_id": watch["id"]}, headers=auth)
    assert [w["id"] for w in rest.json()] == [other.json()["id"]]
    assert (await client.delete(url, headers=auth)).status_code == 204
    assert (await client.get(url, headers=auth)).status_code == 404
    assert (await client.delete(url, headers=auth)).status_code == 404


async def test_bad_watch_items(client: httpx.AsyncClient) -> None:
    auth = (await new_subscriber(client))["auth"]
    for body in (
        {"kind": "person", "name": "x"},
        {"kind": "app", "name": ""},
        {"kind": "app", "name": "x", "aliases": ["y" * 301]},
        {"kind": "app", "name": "x", "color": "red"},
    ):
        assert (await client.post("/v1/watches", json=body, headers=auth)).status_code == 422
    assert (await client.get("/v1/watches", headers=auth)).json() == []


async def test_csv_import(client: httpx.AsyncClient) -> None:
    auth = (await new_subscriber(client))["auth"]
    csv_text = "kind,name,aliases\napp,抖音,Douyin|TikTok China\nrobot,x\ncompany,腾讯\napp,抖音\n"
    answer = await client.post(
        "/v1/watches/import",
        content=csv_text.encode(),
        headers={**auth, "content-type": "text/csv; charset=utf-8"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "rows": 4,
        "added": 2,
        "existing": 1,
        "failed": 1,
        "errors": [{"line": 3, "field": "kind", "message": "must be app or company, not 'robot'"}],
    }
    names = [w["name"] for w in (await client.get("/v1/watches", headers=auth)).json()]
    assert names == ["抖音", "腾讯"]
    wrong_type = await client.post("/v1/watches/import", json={"kind": "app"}, headers=auth)
    assert wrong_type.status_code == 415
    binary = await client.post(
        "/v1/watches/import", content=b"\xff\xfe\x00", headers={**auth, "content-type": "text/csv"}
    )
    assert binary.status_code == 422 and "UTF-8" in binary.json()["detail"]


class Stream:
    """A CSV body sent chunked (no Content-Length), counting what the server asked for."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        row = b"app,Douyin\n"
        block = row * (self.chunk // len(row))
        while self.sent < self.total:
            self.sent += len(block)
            yield block


async def test_an_oversize_csv_is_refused_without_being_read(client: httpx.AsyncClient) -> None:
    auth = {**(await new_subscriber(client))["auth"], "content-type": "text/csv"}
    body = Stream(total=2**30)  # 1 GiB, chunked
    answer = await client.post("/v1/watches/import", content=body, headers=auth)
    assert answer.status_code == 413
    assert answer.json()["detail"] == f"CSV too large: over the limit of {MAX_IMPORT_BYTES} bytes"
    assert body.sent < MAX_IMPORT_BYTES + 2 * body.chunk  # stopped right after the limit
    declared = Stream(total=2**30)
    answer = await client.post(
        "/v1/watches/import",
        content=declared,
        headers={**auth, "content-length": str(2**30)},
    )
    assert answer.status_code == 413
    assert answer.json()["detail"] == (
        f"CSV too large: {2**30} bytes declared, limit {MAX_IMPORT_BYTES} bytes"
    )
    assert declared.sent <= declared.chunk  # refused on the header alone
    assert (await client.get("/v1/watches", headers=auth)).json() == []


async def test_the_watch_limit_holds_for_single_adds_and_imports(db: Database) -> None:
    app = make_app(db, max_watches_per_subscriber=3)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as client:
        auth = (await new_subscriber(client))["auth"]
        csv_headers = {**auth, "content-type": "text/csv"}
        imported = await client.post(
            "/v1/watches/import", content="app,抖音\napp,快手\n".encode(), headers=csv_headers
        )
        assert imported.json()["added"] == 2
        too_many = await client.post(
            "/v1/watches/import",
            content="kind,name\napp,抖音\napp,微信\napp,微博\n".encode(),
            headers=csv_headers,
        )
        assert too_many.status_code == 422
        assert too_many.json()["detail"] == (
            "import refused, nothing imported: you watch 2 items and the file has 3 rows "
            "(2 new), which would pass the limit of 3 watch items per subscriber"
        )
        third = await client.post("/v1/watches", json={"kind": "app", "name": "微信"}, headers=auth)
        assert third.status_code == 201
        fourth = await client.post(
            "/v1/watches", json={"kind": "app", "name": "微博"}, headers=auth
        )
        assert fourth.status_code == 422
        assert fourth.json()["detail"] == (
            "watch limit reached: you watch 3 items and the limit is 3 per subscriber; "
            "remove some to add more"
        )
        # what is already watched can still be sent again (new aliases, no new item)
        again = await client.post(
            "/v1/watches", json={"kind": "app", "name": "抖音", "aliases": ["Douyin"]}, headers=auth
        )
        assert again.status_code == 200
        names = [w["name"] for w in (await client.get("/v1/watches", headers=auth)).json()]
        assert names == ["抖音", "快手", "微信"]


# --- alerts and feedback --------------------------------------------------------------------


def notice(notice_id: str, *entities: tuple[str, str | None], title: str = "通报") -> NoticeEvent:
    return NoticeEvent.model_validate(
        {
            "notice_id": notice_id,
            "regulator": {"code": "MIIT", "name": "工业和信息化部"},
            "title": title,
            "published_on": "2099-08-01",
            "deadline": {"due_on": "2099-08-10", "rule": "absolute", "source_text": "8月10日前"},
            "entities": [{"name": n, "developer": d} for n, d in entities],
        }
    )


async def test_alert_history_and_feedback(client: httpx.AsyncClient, db: Database) -> None:
    me = await new_subscriber(client)
    auth = me["auth"]
    await client.post("/v1/watches", json={"kind": "company", "name": "Tencent"}, headers=auth)
    live = LiveWatchlist(db, interval=3600)
    await live.load()
    await handle_notice(db, live, notice("h1", ("腾讯地图", TENCENT_DEV), ("抖音", None)))
    await client.post("/v1/watches", json={"kind": "app", "name": "Douyin"}, headers=auth)
    await handle_notice(db, live, notice("h1", ("腾讯地图", TENCENT_DEV), ("抖音", None)))

    [alert] = (await client.get("/v1/alerts", headers=auth)).json()
    assert alert["match_id"] == match_id(me["id"], "h1")
    assert alert["notice"]["deadline"]["due_on"] == "2099-08-10"
    lines = [
        (m["watch"]["name"], m["entity"]["name"], m["alert_reason"], m["cause"], m["feedback"])
        for m in alert["matches"]
    ]
    assert lines == [
        ("Tencent", "腾讯地图", "match", "notice", None),
        ("Douyin", "抖音", "match-2", "notice", None),
    ]
    assert all(m["reason"] and 0 < m["score"] <= 1 for m in alert["matches"])

    url = f"/v1/alerts/{alert['match_id']}/feedback"
    wrong = {
        "watch": {"kind": "company", "name": "Tencent"},
        "entity": {"name": "腾讯地图", "developer": TENCENT_DEV},
        "verdict": "wrong",
    }
    given = await client.post(url, json=wrong, headers=auth)
    assert given.status_code == 200, given.text
    assert given.json()["verdict"] == "wrong"
    missing = {**wrong, "entity": {"name": "微信"}}
    assert (await client.post(url, json=missing, headers=auth)).status_code == 422
    nowhere = await client.post("/v1/alerts/match_nope/feedback", json=wrong, headers=auth)
    assert nowhere.status_code == 404

    # from then on the wrong match is not alerted; the other watch still is
    events = await handle_notice(db, live, notice("h2", ("腾讯地图", TENCENT_DEV), ("抖音", None)))
    mine = [e for e in events if e.subscriber_id == me["id"]]
    assert [[m.watch.name for m in e.matches] for e in mine] == [["Douyin"]]
    shown = (await client.get(f"/v1/alerts/{alert['match_id']}", headers=auth)).json()
    assert [m["feedback"] for m in shown["matches"]] == ["wrong", None]
    [verdict] = (await client.get("/v1/feedback", headers=auth)).json()
    assert (verdict["watch"]["name"], verdict["entity"]["name"]) == ("Tencent", "腾讯地图")

    # withdrawn: alerted again in the next notice
    assert (await client.delete(f"/v1/feedback/{verdict['id']}", headers=auth)).status_code == 204
    events = await handle_notice(db, live, notice("h3", ("腾讯地图", TENCENT_DEV)))
    mine = [e for e in events if e.subscriber_id == me["id"]]
    assert [[m.watch.name for m in e.matches] for e in mine] == [["Tencent"]]
    only_h3 = await client.get("/v1/alerts", params={"notice_id": "h3"}, headers=auth)
    assert [a["notice"]["notice_id"] for a in only_h3.json()] == ["h3"]


# --- tenant isolation on every route --------------------------------------------------------


def api_routes() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in build_router().routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )


@dataclass(frozen=True)
class Case:
    """How subscriber B calls a route on subscriber A's resources, and what B must get."""

    status: int
    json: dict[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    owner_status: int | None = None  # A calling the same: proves the route works at all


FEEDBACK = {
    "watch": {"kind": "app", "name": "AlphaSecretWatch"},
    "entity": {"name": "AlphaSecretApp"},
    "verdict": "right",
}
CASES: dict[tuple[str, str], Case] = {
    ("POST", "/v1/subscribers"): Case(401, json={"name": "B2", "email": "b2@example.com"}),
    ("GET", "/v1/subscribers/me"): Case(200),
    ("PATCH", "/v1/subscribers/me"): Case(200, json={"name": "B renamed"}),
    ("POST", "/v1/subscribers/me/api-keys/rotate"): Case(200),
    ("POST", "/v1/watches"): Case(201, json={"kind": "app", "name": "AlphaSecretWatch"}),
    ("GET", "/v1/watches"): Case(200),
    ("POST", "/v1/watches/import"): Case(
        200, content=b"app,AlphaSecretWatch\n", headers={"content-type": "text/csv"}
    ),
    ("GET", "/v1/watches/{watch_id}"): Case(404, owner_status=200),
    ("PATCH", "/v1/watches/{watch_id}"): Case(404, json={"name": "pwned"}, owner_status=200),
    ("DELETE", "/v1/watches/{watch_id}"): Case(404, owner_status=204),
    ("GET", "/v1/alerts"): Case(200),
    ("GET", "/v1/alerts/{match_id}"): Case(404, owner_status=200),
    ("POST", "/v1/alerts/{match_id}/feedback"): Case(404, json=FEEDBACK, owner_status=200),
    ("GET", "/v1/feedback"): Case(200),
    ("DELETE", "/v1/feedback/{feedback_id}"): Case(404, owner_status=204),
}


def test_every_route_has_an_isolation_case() -> None:
    assert set(api_routes()) == set(CASES)


@dataclass
class Tenant:
    id: str
    key: str
    params: dict[str, str]
    secrets: list[str]  # what B must never see (ids B put in the URL may be echoed)


async def seed_alpha(db: Database) -> Tenant:
    async with db.session() as session:
        made = await register_subscriber(
            session,
            name="AlphaSecretCo",
            email="alpha-secret@example.com",
            webhook_url="https://alpha-secret.example.com/hook",
            reminders=None,
            default_reminders="7d",
            allow_private=False,
        )
        watch = (await put_watch(session, made.id, "app", "AlphaSecretWatch", ["AlphaAlias"])).row
    summary = NoticeSummary(
        notice_id="alpha-secret-notice",
        regulator=Regulator(code="CAC", name="国家互联网信息办公室"),
        title="AlphaSecretNotice",
        published_on=date(2099, 1, 1),
    )
    match = Match(
        watch=WatchRef(kind="app", name="AlphaSecretWatch"),
        entity=EntityRef(name="AlphaSecretApp"),
        score=1.0,
        reason="AlphaSecretReason",
    )
    await record_alerts(db, summary, {made.id: [match]}, cause="notice")
    alert = match_id(made.id, summary.notice_id)
    async with db.session() as session:
        verdict = await give_feedback(session, made.id, alert, match.watch, match.entity, "wrong")
        assert verdict is not None
    return Tenant(
        id=made.id,
        key=made.api_key,
        params={"watch_id": str(watch.id), "match_id": alert, "feedback_id": str(verdict.id)},
        secrets=[
            made.id,
            "AlphaSecretCo",
            "alpha-secret@example.com",
            "alpha-secret.example.com",
            "AlphaAlias",
            "alpha-secret-notice",
            "AlphaSecretNotice",
            "AlphaSecretReason",
        ],
    )


async def snapshot(client: httpx.AsyncClient, key: str) -> list[Any]:
    auth = {"Authorization": f"Bearer {key}"}
    paths = ("/v1/subscribers/me", "/v1/watches", "/v1/alerts", "/v1/feedback")
    answers = [await client.get(path, headers=auth) for path in paths]
    assert all(a.status_code == 200 for a in answers)
    return [a.json() for a in answers]


@pytest.mark.parametrize(("method", "path"), api_routes())
async def test_one_subscriber_never_reaches_anothers_data(
    client: httpx.AsyncClient, db: Database, method: str, path: str
) -> None:
    alpha = await seed_alpha(db)
    beta = await new_subscriber(client, name="Beta", email="beta@example.com")
    before = await snapshot(client, alpha.key)
    case = CASES[(method, path)]
    url = path.format(**alpha.params)

    answer = await client.request(
        method,
        url,
        json=case.json,
        content=case.content,
        headers={**case.headers, "Authorization": f"Bearer {beta['api_key']}"},
    )
    assert answer.status_code == case.status, answer.text
    assert not any(secret in answer.text for secret in alpha.secrets), answer.text
    assert await snapshot(client, alpha.key) == before  # nothing of A's changed

    if case.owner_status is not None:
        own = await client.request(
            method,
            url,
            json=case.json,
            content=case.content,
            headers={**case.headers, "Authorization": f"Bearer {alpha.key}"},
        )
        assert own.status_code == case.owner_status, own.text


# --- OpenAPI ----------------------------------------------------------------------------------


async def test_openapi_documents_every_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert (await client.get("/docs")).status_code == 200
    for method, path in api_routes():
        operation = spec["paths"][path][method.lower()]
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, (method, path)
        for code in success:
            if code != "204":
                assert "schema" in responses[code]["content"]["application/json"], (method, path)
        assert "401" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if method in ("POST", "PATCH") and path != "/v1/subscribers/me/api-keys/rotate":
            assert "422" in responses, (method, path)
        assert operation.get("tags"), (method, path)
    csv_body = spec["paths"]["/v1/watches/import"]["post"]["requestBody"]["content"]
    assert "text/csv" in csv_body
