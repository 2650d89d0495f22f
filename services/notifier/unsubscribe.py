"""The email unsubscribe link: ``/v1/unsubscribe/{token}`` (in every alert email).

``GET`` shows where the subscriber stands and never changes anything (mail scanners follow
links): the unsubscribe form while email alerts are on, "you are unsubscribed" with a
resubscribe button while they are off. ``POST`` unsubscribes (the form, or RFC 8058 one-click
from a mail app); ``POST .../resubscribe`` turns email alerts back on. The token is the secret.

A link that is not a known token gets one and the same 404 page, whatever its shape (too short
or long, characters a token never has, percent-encoded junk, more path segments): the answer
does not tell a guessed token's shape from an unknown one, and never FastAPI's 422 JSON.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from services.notifier.models import PreferencesRow
from services.notifier.preferences import by_token, unsubscribe_email
from services.notifier.render import render_unsubscribe_page
from shared.accounts import Subscriber
from shared.db import Database
from shared.http import Responses, app_db

TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{8,64}")
PAGE: Responses = {
    200: {"description": "the page, saying where email alerts stand", "content": {"text/html": {}}},
    404: {"description": "unknown or replaced link", "content": {"text/html": {}}},
}
DbDep = Annotated[Database, Depends(app_db)]
# ``:path``: a token with slashes (or encoded ones) reaches the handler too, for the same 404
Token = Annotated[
    str, Path(description="the token of the link in the email (any text: unknown ones get 404)")
]


def _now() -> datetime:
    return datetime.now(UTC)


def _unknown() -> HTMLResponse:
    return HTMLResponse(render_unsubscribe_page("unknown"), status_code=404)


async def _found(db: Database, token: str) -> tuple[PreferencesRow, Subscriber] | None:
    if TOKEN_SHAPE.fullmatch(token) is None:
        return None
    async with db.session() as session:
        return await by_token(session, "unsubscribe_token", token)


def _page(state: str, subscriber: Subscriber, link: str) -> HTMLResponse:
    """``link``: the path of the unsubscribe link (the forms post there, or below it)."""
    return HTMLResponse(
        render_unsubscribe_page(
            state,
            email=subscriber.email,
            action=link,
            resubscribe_action=f"{link}/resubscribe",
        )
    )


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["notifications"])

    @router.post("/unsubscribe/{token}/resubscribe", response_class=HTMLResponse, responses=PAGE)
    async def resubscribe(token: Token, request: Request, db: DbDep) -> HTMLResponse:
        """Turn email alerts back on (the button on the unsubscribed page)."""
        if TOKEN_SHAPE.fullmatch(token) is None:
            return _unknown()
        async with db.session() as session:
            found = await by_token(session, "unsubscribe_token", token)
            if found is None:
                return _unknown()
            prefs, subscriber = found
            if prefs.email_unsubscribed_at is not None:
                prefs.email_unsubscribed_at = None
                prefs.updated_at = _now()
        link = request.url.path.removesuffix("/resubscribe")
        return _page("resubscribed", subscriber, link)

    @router.get("/unsubscribe/{token:path}", response_class=HTMLResponse, responses=PAGE)
    async def unsubscribe_page(token: Token, request: Request, db: DbDep) -> HTMLResponse:
        """Where email alerts stand: the unsubscribe form, or "unsubscribed" with a resubscribe
        button. A GET never changes anything (mail scanners follow links)."""
        found = await _found(db, token)
        if found is None:
            return _unknown()
        prefs, subscriber = found
        state = "confirm" if prefs.email_unsubscribed_at is None else "unsubscribed"
        return _page(state, subscriber, request.url.path)

    @router.post("/unsubscribe/{token:path}", response_class=HTMLResponse, responses=PAGE)
    async def unsubscribe(token: Token, request: Request, db: DbDep) -> HTMLResponse:
        """Unsubscribe from email alerts (the form, or RFC 8058 one-click from a mail app);
        pending email alerts are cancelled. The answer offers to resubscribe."""
        if TOKEN_SHAPE.fullmatch(token) is None:
            return _unknown()
        async with db.session() as session:
            found = await by_token(session, "unsubscribe_token", token)
            if found is None:
                return _unknown()
            prefs, subscriber = found
            await unsubscribe_email(session, prefs, _now())
        return _page("unsubscribed", subscriber, request.url.path)

    return router
