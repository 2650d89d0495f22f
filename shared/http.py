"""HTTP edges shared by the services: auth dependencies and error bodies."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.accounts import Subscriber, subscriber_by_api_key
from shared.db import Database
from shared.settings import Settings

Responses = dict[int | str, dict[str, Any]]


class ErrorBody(BaseModel):
    detail: str | list[dict[str, Any]] = Field(
        description="what is wrong, in one line (a list of field errors for malformed bodies)"
    )


def error_response(description: str) -> dict[str, Any]:
    """An ``responses=`` entry of a route: an ``ErrorBody`` and what it means there."""
    return {"model": ErrorBody, "description": description}


# Answers routes give besides their own, for the OpenAPI document (``responses=``).
AUTH: Responses = {401: error_response("missing or unknown API key")}
ADMIN: Responses = {
    401: error_response("this route needs the operator token (REGWATCH_ADMIN_TOKEN)")
}
INVALID: Responses = {
    422: error_response("invalid input: the message names the field and the problem")
}
# Routes that take a JSON body: FastAPI answers 400 when it is not JSON at all.
JSON_BODY: Responses = {400: error_response("the body is not well-formed JSON"), **INVALID}


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


async def require_admin(
    settings: Annotated[Settings, Depends(app_settings)],
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> None:
    """Operator-only routes: open when ``REGWATCH_ADMIN_TOKEN`` is unset (local runs)."""
    if settings.admin_token is None:
        return
    token = bearer(authorization, x_api_key)
    if token is None or not hmac.compare_digest(token, settings.admin_token):
        raise HTTPException(401, "this route needs the admin token (REGWATCH_ADMIN_TOKEN)")


async def current_subscriber(
    db: Annotated[Database, Depends(app_db)],
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Subscriber:
    token = bearer(authorization, x_api_key)
    if token is None:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <api_key>'")
    session: AsyncSession
    async with db.session() as session:
        subscriber = await subscriber_by_api_key(session, token)
    if subscriber is None:
        raise HTTPException(401, "unknown API key")
    return subscriber
