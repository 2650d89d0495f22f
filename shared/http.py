"""HTTP edges shared by the services: auth dependencies, error bodies, bounded raw bodies.

Credentials come in one of two headers, ``Authorization: Bearer <key>`` or ``X-API-Key:
<key>``, and are either a subscriber's API key or the operator token
(``REGWATCH_ADMIN_TOKEN``). Each way is a security scheme (:class:`HeaderScheme`) that the
auth dependencies declare with ``Security``, so the OpenAPI document names the schemes and
lists on every operation the ones it accepts (:data:`SCHEMES`) instead of two optional header
parameters. The schemes only read their header: the dependencies judge the credential and
answer 401 or 429 themselves.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.openapi.models import APIKey, APIKeyIn, HTTPBearer
from fastapi.openapi.models import SecurityBase as SecuritySchemeModel
from fastapi.routing import APIRoute, _IncludedRouter
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from shared.accounts import Subscriber, subscriber_by_api_key
from shared.auth_limit import AuthFailureLimiter, client_address
from shared.db import Database
from shared.exposure import ExposedOperatorRoutes as ExposedOperatorRoutes
from shared.exposure import check_admin_exposure as check_admin_exposure
from shared.exposure import is_loopback_host as is_loopback_host
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("regwatch.http")

Responses = dict[int | str, dict[str, Any]]


class ErrorBody(BaseModel):
    detail: str | list[dict[str, Any]] = Field(
        description="what is wrong, in one line (a list of field errors for malformed bodies)"
    )


def error_response(description: str) -> dict[str, Any]:
    """An ``responses=`` entry of a route: an ``ErrorBody`` and what it means there."""
    return {"model": ErrorBody, "description": description}


# Answers routes give besides their own, for the OpenAPI document (``responses=``).
TOO_MANY_FAILURES: Responses = {
    429: error_response(
        "too many failed API key or operator token attempts from this address "
        "(REGWATCH_AUTH_FAILURES_PER_MINUTE): every request with a credential is refused until "
        "the Retry-After header's seconds have passed"
    )
}
AUTH: Responses = {401: error_response("missing or unknown API key"), **TOO_MANY_FAILURES}
ADMIN: Responses = {
    401: error_response("this route needs the operator token (REGWATCH_ADMIN_TOKEN)"),
    **TOO_MANY_FAILURES,
}
INVALID: Responses = {
    422: error_response("invalid input: the message names the field and the problem")
}
# Routes that take a JSON body: FastAPI answers 400 when it is not JSON at all.
JSON_BODY: Responses = {
    400: error_response("the body is not well-formed JSON"),
    413: error_response(
        "the body is over REGWATCH_MAX_NOTICE_BYTES (refused as soon as it passes the limit)"
    ),
    **INVALID,
}


async def read_body(request: Request, limit: int, what: str = "body") -> bytes:
    """The raw request body, read chunk by chunk as it arrives and refused with 413 as soon as
    it passes ``limit`` bytes, chunked or not, so a huge upload costs at most ``limit`` bytes
    of memory; a Content-Length above the limit is refused before anything is read. Every
    route that reads a raw body (not a JSON model) reads it with this."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(
            413, f"{what} too large: {int(declared)} bytes declared, limit {limit} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"{what} too large: over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class HeaderScheme(SecurityBase):
    """A security scheme of the OpenAPI document that hands the raw value of its header to
    the dependency using it (None when absent), whatever it holds: never answers itself."""

    def __init__(self, scheme_name: str, header: str, model: SecuritySchemeModel) -> None:
        self.scheme_name = scheme_name
        self.header = header
        self.model = model

    async def __call__(self, request: Request) -> str | None:
        return request.headers.get(self.header)


def _bearer_scheme(name: str, what: str, placeholder: str) -> HeaderScheme:
    described = f"{what}, sent as `Authorization: Bearer <{placeholder}>`"
    return HeaderScheme(name, "authorization", HTTPBearer(description=described))


def _header_scheme(name: str, what: str, placeholder: str) -> HeaderScheme:
    described = f"{what}, sent as `X-API-Key: <{placeholder}>`"
    model = APIKey.model_validate(
        {"in": APIKeyIn.header, "name": "X-API-Key", "description": described}
    )
    return HeaderScheme(name, "x-api-key", model)


SUBSCRIBER_KEY = "a subscriber's API key (`api_key` from `POST /v1/subscribers`)"
OPERATOR_TOKEN = "the operator token, `REGWATCH_ADMIN_TOKEN`"
API_KEY: Final = _bearer_scheme("apiKey", SUBSCRIBER_KEY, "api_key")
API_KEY_HEADER: Final = _header_scheme("apiKeyHeader", SUBSCRIBER_KEY, "api_key")
OPERATOR: Final = _bearer_scheme("operatorToken", OPERATOR_TOKEN, "token")
OPERATOR_HEADER: Final = _header_scheme("operatorTokenHeader", OPERATOR_TOKEN, "token")
SCHEMES: Final = (API_KEY, API_KEY_HEADER, OPERATOR, OPERATOR_HEADER)

# What an auth dependency declares: the Authorization and X-API-Key headers, as the schemes
# of a subscriber's key or of the operator token.
ApiKeyBearer = Annotated[str | None, Security(API_KEY)]
ApiKeyHeader = Annotated[str | None, Security(API_KEY_HEADER)]
OperatorBearer = Annotated[str | None, Security(OPERATOR)]
OperatorHeader = Annotated[str | None, Security(OPERATOR_HEADER)]


def bearer(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def app_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def auth_limiter(request: Request) -> AuthFailureLimiter:
    """The app's failed-credential limiter, made from its settings on first use."""
    state = request.app.state
    limiter: AuthFailureLimiter | None = getattr(state, "auth_limiter", None)
    if limiter is None:
        settings: Settings = state.settings
        limiter = state.auth_limiter = AuthFailureLimiter(settings.auth_failures_per_minute)
    return limiter


class AuthGate:
    """Where one request's credential is judged: refused with 429 while its client address is
    blocked (shared/auth_limit.py), failures recorded for it."""

    def __init__(self, request: Request, settings: Settings) -> None:
        self.limiter = auth_limiter(request)
        self.client = client_address(request, settings.trusted_proxy_networks)

    def check(self) -> None:
        wait = self.limiter.retry_after(self.client)
        if wait is not None:
            raise HTTPException(
                429,
                f"too many failed API key or operator token attempts from {self.client}; "
                f"try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    def failed(self) -> None:
        if self.limiter.failed(self.client):
            log.warning(
                "failed credentials from %s reached %d in %gs: further attempts get 429",
                self.client,
                self.limiter.limit,
                self.limiter.window,
                extra={"client": self.client},
            )


async def auth_gate(
    request: Request, settings: Annotated[Settings, Depends(app_settings)]
) -> AuthGate:
    # async: runs on the event loop (a plain def would run in a worker thread), like every
    # use of the limiter, so it needs no lock.
    return AuthGate(request, settings)


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison (as UTF-8 bytes: header values need not be ASCII)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


async def require_admin(
    settings: Annotated[Settings, Depends(app_settings)],
    gate: Annotated[AuthGate, Depends(auth_gate)],
    authorization: OperatorBearer,
    x_api_key: OperatorHeader,
) -> None:
    """Operator-only routes: open when ``REGWATCH_ADMIN_TOKEN`` is unset (loopback only, see
    :func:`check_admin_exposure`). A wrong token counts as a failed attempt."""
    if settings.admin_token is None:
        return
    token = bearer(authorization, x_api_key)
    if token is None:
        raise HTTPException(401, "this route needs the admin token (REGWATCH_ADMIN_TOKEN)")
    gate.check()
    if not same_secret(token, settings.admin_token):
        gate.failed()
        raise HTTPException(401, "this route needs the admin token (REGWATCH_ADMIN_TOKEN)")


async def current_subscriber(
    db: Annotated[Database, Depends(app_db)],
    gate: Annotated[AuthGate, Depends(auth_gate)],
    authorization: ApiKeyBearer,
    x_api_key: ApiKeyHeader,
) -> Subscriber:
    """The subscriber whose API key the request carries. An unknown key counts as a failed
    attempt; a blocked client address gets 429 whatever key it sends."""
    token = bearer(authorization, x_api_key)
    if token is None:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <api_key>'")
    gate.check()
    session: AsyncSession
    async with db.session() as session:
        subscriber = await subscriber_by_api_key(session, token)
    if subscriber is None:
        gate.failed()
        raise HTTPException(401, "unknown API key")
    return subscriber


# --- start-up: operator routes without a token ----------------------------------------------


def _schema_routes(
    routes: Iterable[BaseRoute], prefix: str = "", responses: Responses | None = None
) -> Iterator[tuple[str, set[str], Responses]]:
    """``(path, methods, answers)`` of every route the OpenAPI document lists, in its order,
    each with what the routers including it add (prefix, answers), read from the routes as
    declared: FastAPI prepares an included router's routes (their dependencies and models)
    when a request or ``app.openapi()`` first needs them."""
    for route in routes:
        if isinstance(route, _IncludedRouter):
            context = route.include_context
            if context.include_in_schema:
                yield from _schema_routes(
                    route.original_router.routes,
                    prefix + context.prefix,
                    {**(responses or {}), **context.responses},
                )
        elif isinstance(route, APIRoute) and route.include_in_schema:
            answers = {**(responses or {}), **route.responses}
            yield prefix + route.path_format, set(route.methods or ()), answers


def operator_routes(app: FastAPI) -> list[str]:
    """``METHOD /path`` of every operator route: those whose OpenAPI answers include
    :data:`ADMIN`'s 401 (every route behind :func:`require_admin` declares it), in the OpenAPI
    document's order. Read from the routes, not from ``app.openapi()``: generating the
    document took 0.5 s CPU of ``regwatch run``'s start (issue 14)."""
    wanted = ADMIN[401]["description"]
    paths: dict[str, list[str]] = {}  # grouped as in the document: by path, first seen first
    for path, methods, answers in _schema_routes(app.routes):
        answer = answers.get(401) or answers.get("401") or {}
        found = paths.setdefault(path, [])
        if answer.get("description") == wanted:
            found.extend(sorted(methods))
    return [f"{method} {path}" for path, methods in paths.items() for method in methods]


def warn_open_operator_routes(settings: Settings, app: FastAPI) -> None:
    """One warning at start when REGWATCH_ADMIN_TOKEN is unset, naming the open routes."""
    if settings.admin_token is not None:
        return
    routes = operator_routes(app)
    if routes:
        log.warning(
            "REGWATCH_ADMIN_TOKEN is not set: operator routes (%s) are open to anyone who "
            "reaches %s:%s",
            ", ".join(routes),
            settings.http_host,
            settings.http_port,
            extra={"routes": routes},
        )
