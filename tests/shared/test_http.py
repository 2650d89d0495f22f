"""Auth edges (shared/http.py): failed API keys and operator tokens are limited per client
address (429 with Retry-After), and operator routes without a token are refused off loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from services.ingestor.api import build_router as notices_router
from services.matcher.api import build_router as subscribers_router
from services.notifier.api import build_router as deliveries_router
from shared.auth_limit import AuthFailureLimiter
from shared.db import Database
from shared.http import (
    ADMIN,
    ExposedOperatorRoutes,
    check_admin_exposure,
    is_loopback_host,
    operator_routes,
    warn_open_operator_routes,
)
from shared.settings import Settings

TOKEN = "operator-token-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Api:
    app: FastAPI
    clock: Clock
    api_key: str

    def client(self, address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://regwatch")


def make_app(db: Database, **settings: object) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(**settings)  # type: ignore[arg-type]
    for router in (notices_router(None), subscribers_router(), deliveries_router()):
        app.include_router(router)
    return app


@pytest.fixture
async def api(db: Database) -> AsyncIterator[Api]:
    clock = Clock()
    app = make_app(db, admin_token=TOKEN, trusted_proxies="10.9.9.9")
    app.state.auth_limiter = AuthFailureLimiter(10, 60, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 1)), base_url="http://rw"
    ) as operator:
        made = await operator.post(
            "/v1/subscribers",
            json={"name": "A", "email": "a@example.com"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert made.status_code == 201, made.text
    yield Api(app, clock, made.json()["api_key"])


async def test_the_eleventh_bad_key_from_one_address_gets_429(api: Api) -> None:
    async with api.client("203.0.113.5") as attacker, api.client("198.51.100.7") as other:
        for number in range(10):
            bad = await attacker.get("/v1/watches", headers={"X-API-Key": f"rw_guess{number}"})
            assert bad.status_code == 401, number
        eleventh = await attacker.get("/v1/watches", headers={"X-API-Key": "rw_guess10"})
        assert eleventh.status_code == 429
        assert eleventh.headers["retry-after"] == "60"
        assert "too many failed" in eleventh.json()["detail"]
        # blocked for the window: the right key too, from that address
        right = {"Authorization": f"Bearer {api.api_key}"}
        assert (await attacker.get("/v1/watches", headers=right)).status_code == 429
        # no key at all: not an attempt, a plain 401
        assert (await attacker.get("/v1/watches")).status_code == 401
        # another address is not affected
        assert (await other.get("/v1/watches", headers=right)).status_code == 200
        assert (await other.get("/v1/watches", headers={"X-API-Key": "x"})).status_code == 401

        api.clock.now += 30
        later = await attacker.get("/v1/watches", headers=right)
        assert later.status_code == 429 and later.headers["retry-after"] == "30"
        api.clock.now += 30  # the window has passed
        assert (await attacker.get("/v1/watches", headers=right)).status_code == 200


async def test_successful_keys_do_not_count(api: Api) -> None:
    right = {"X-API-Key": api.api_key}
    async with api.client("203.0.113.6") as client:
        for _ in range(9):
            assert (await client.get("/v1/watches", headers={"X-API-Key": "no"})).status_code == 401
        for _ in range(20):
            assert (await client.get("/v1/watches", headers=right)).status_code == 200
        assert (await client.get("/v1/watches", headers={"X-API-Key": "no"})).status_code == 401
        assert (await client.get("/v1/watches", headers=right)).status_code == 429


async def test_wrong_operator_tokens_count_too(api: Api) -> None:
    body = {"name": "B", "email": "b@example.com"}
    async with api.client("203.0.113.8") as client:
        for number in range(10):
            wrong = {"Authorization": f"Bearer guess-{number}"}
            answer = await client.post("/v1/subscribers", json=body, headers=wrong)
            assert answer.status_code == 401
        right = {"Authorization": f"Bearer {TOKEN}"}
        blocked = await client.post("/v1/subscribers", json=body, headers=right)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        # the same address's subscriber routes are blocked as well: one count per address
        key = {"X-API-Key": api.api_key}
        assert (await client.get("/v1/watches", headers=key)).status_code == 429


async def test_a_non_ascii_operator_token_is_a_401_not_a_crash(api: Api) -> None:
    async with api.client("203.0.113.9") as client:
        wrong = [(b"authorization", "Bearer caf\u00e9".encode("latin-1"))]
        answer = await client.post("/v1/notices", content=b"x", headers=wrong)
    assert answer.status_code == 401


async def test_a_trusted_proxy_s_forwarded_address_is_the_client(api: Api) -> None:
    async with api.client("10.9.9.9") as proxy, api.client("203.0.113.10") as direct:
        for number in range(10):
            forwarded = {"X-Forwarded-For": "192.0.2.1", "X-API-Key": f"rw_{number}"}
            assert (await proxy.get("/v1/watches", headers=forwarded)).status_code == 401
        key = {"X-API-Key": api.api_key}
        from_192 = await proxy.get("/v1/watches", headers={**key, "X-Forwarded-For": "192.0.2.1"})
        from_193 = await proxy.get("/v1/watches", headers={**key, "X-Forwarded-For": "192.0.2.2"})
        assert (from_192.status_code, from_193.status_code) == (429, 200)
        # an untrusted peer's X-Forwarded-For is ignored: it cannot pick someone else's count
        spoofed = await direct.get("/v1/watches", headers={**key, "X-Forwarded-For": "192.0.2.1"})
        assert spoofed.status_code == 200


async def test_the_limit_comes_from_the_setting(db: Database) -> None:
    app = make_app(db, auth_failures_per_minute=2)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.11", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://rw") as client:
        codes = [
            (await client.get("/v1/watches", headers={"X-API-Key": "x"})).status_code
            for _ in range(3)
        ]
    assert codes == [401, 401, 429]


def test_429_is_in_the_openapi_document(db: Database) -> None:
    paths = make_app(db).openapi()["paths"]
    assert "429" in paths["/v1/watches"]["get"]["responses"]
    assert "429" in paths["/v1/notices"]["post"]["responses"]


# --- start-up ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.5", False),
        ("regwatch.internal", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_without_a_token_a_public_listener_is_refused() -> None:
    with pytest.raises(ExposedOperatorRoutes) as refused:
        check_admin_exposure(Settings(http_host="0.0.0.0", admin_token=None))
    message = str(refused.value)
    assert "REGWATCH_ADMIN_TOKEN" in message and "REGWATCH_HTTP_HOST=0.0.0.0" in message
    assert "\n" not in message
    check_admin_exposure(Settings(http_host="0.0.0.0", admin_token=TOKEN))
    check_admin_exposure(Settings(http_host="127.0.0.1", admin_token=None))
    check_admin_exposure(Settings(http_host="::1", admin_token=None))


def test_without_a_token_the_open_operator_routes_are_named(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(db)
    assert operator_routes(app) == ["POST /v1/notices", "POST /v1/subscribers"]
    settings = Settings(http_host="127.0.0.1", http_port=8080)
    with caplog.at_level(logging.WARNING, logger="regwatch.http"):
        warn_open_operator_routes(settings, app)
        warn_open_operator_routes(Settings(admin_token=TOKEN), app)
    (record,) = caplog.records
    assert "REGWATCH_ADMIN_TOKEN is not set" in record.getMessage()
    assert "POST /v1/notices, POST /v1/subscribers" in record.getMessage()
    assert "127.0.0.1:8080" in record.getMessage()


def test_operator_routes_are_those_the_openapi_document_lists_behind_the_token() -> None:
    """Read from the routes (not the generated document): the answers and prefixes the
    including routers add count, a route or router left out of the schema does not."""
    inner = APIRouter()

    @inner.post("/rotate")
    async def rotate() -> None: ...

    @inner.get("/state")
    async def state() -> None: ...

    nested = APIRouter(prefix="/keys")
    nested.include_router(inner, prefix="/v2", responses=ADMIN)
    hidden = APIRouter()

    @hidden.delete("/hidden", responses=ADMIN)
    async def gone() -> None: ...

    app = FastAPI()

    @app.get("/open")
    async def open_route() -> None: ...

    @app.put("/guarded", responses=ADMIN)
    async def guarded() -> None: ...

    @app.get("/unlisted", responses=ADMIN, include_in_schema=False)
    async def unlisted() -> None: ...

    app.include_router(nested, prefix="/admin")
    app.include_router(hidden, include_in_schema=False)
    wanted = ADMIN[401]["description"]
    from_document = [
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if operation["responses"].get("401", {}).get("description") == wanted
    ]
    assert operator_routes(app) == from_document
    assert from_document == [
        "PUT /guarded",
        "POST /admin/keys/v2/rotate",
        "GET /admin/keys/v2/state",
    ]
