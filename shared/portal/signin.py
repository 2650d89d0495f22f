"""Signing in and out of the portal: with an API key, with a one-time link, and signing out.

- ``GET /portal/signin`` the page; ``POST /portal/signin`` with ``api_key`` (and ``next``).
  A wrong key counts toward the per-address limit of failed credentials
  (``REGWATCH_AUTH_FAILURES_PER_MINUTE``, shared with the API); a blocked address gets the page
  with the wait, status 429.
- ``GET /portal/link/{token}`` a confirmation page (mail scanners that open links use
  nothing up); its button POSTs to the same URL, which uses the link and signs in.
- ``POST /portal/signout`` ends the session.

The "email me a link" form posts to ``/portal/signin/email``, served by the notifier (it owns
SMTP): ``services/notifier/portal_signin.py``.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.accounts import subscriber_by_api_key
from shared.auth_limit import client_address
from shared.http import auth_limiter
from shared.portal.auth import (
    HOME_PATH,
    SIGNIN_PATH,
    begin_session,
    finish_session,
    now,
    portal_db,
    portal_settings,
    safe_next,
)
from shared.portal.forms import read_form
from shared.portal.i18n import Translator, request_language
from shared.portal.links import link_path
from shared.portal.pages import served
from shared.portal.router import portal_router
from shared.portal.templating import render
from shared.portal.tokens import LinkState, link_state, redeem_link

EMAIL_SIGNIN_PATH = "/portal/signin/email"
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{20,100}$")
LINK_STATUS = {
    LinkState.VALID: 200,
    LinkState.UNKNOWN: 404,
    LinkState.USED: 410,
    LinkState.EXPIRED: 410,
}


def message(
    request: Request, kind: str, key: str, field: str = "", **values: Any
) -> dict[str, str]:
    """A message box for the sign-in page: ``kind`` is ``error`` or ``info``."""
    text = Translator(request_language(request))(key, **values)
    return {"kind": kind, "text": text, "field": field}


async def signin_page(
    request: Request,
    *,
    next_path: str = HOME_PATH,
    note: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The sign-in page (also answered by the notifier's email form)."""
    return await render(
        request,
        "portal/signin.html",
        {
            "next": safe_next(next_path),
            "message": note,
            "serves_email": _serves_email(request),
        },
        status_code=status_code,
    )


def _serves_email(request: Request) -> bool:
    """Is the notifier's "email me a link" route served by this process?"""
    return served(request.app, EMAIL_SIGNIN_PATH, "POST")


router = portal_router()


@router.get("/signin")
async def signin_form(request: Request) -> HTMLResponse:
    note = None
    if request.query_params.get("signed_out"):
        note = message(request, "info", "signin.signed_out")
    return await signin_page(request, next_path=request.query_params.get("next", ""), note=note)


@router.post("/signin")
async def signin_with_key(request: Request) -> Response:
    form = await read_form(request)
    next_path = safe_next(form.text("next", 500))
    key = form.text("api_key", 300)
    if not key:
        note = message(request, "error", "signin.missing_key", "api_key")
        return await signin_page(request, next_path=next_path, note=note, status_code=400)
    settings = portal_settings(request)
    limiter = auth_limiter(request)
    client = client_address(request, settings.trusted_proxy_networks)
    wait = limiter.retry_after(client)
    if wait is not None:
        note = message(request, "error", "signin.too_many", "api_key", seconds=wait)
        page = await signin_page(request, next_path=next_path, note=note, status_code=429)
        page.headers["Retry-After"] = str(wait)
        return page
    async with portal_db(request).session() as session:
        subscriber = await subscriber_by_api_key(session, key)
        subscriber_id = subscriber.id if subscriber is not None else None
    if subscriber_id is None:
        limiter.failed(client)
        note = message(request, "error", "signin.wrong_key", "api_key")
        return await signin_page(request, next_path=next_path, note=note, status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    await begin_session(request, response, subscriber_id)
    return response


@router.get("/link/{token}")
async def link_confirm(request: Request, token: str) -> HTMLResponse:
    state = LinkState.UNKNOWN
    if _TOKEN.match(token):
        async with portal_db(request).read_session() as session:
            state = await link_state(session, token, now=now())
    return await render(
        request,
        "portal/link.html",
        {"state": state.value, "action": link_path(token)},
        status_code=LINK_STATUS[state],
    )


@router.post("/link/{token}")
async def link_use(request: Request, token: str) -> Response:
    state, subscriber_id = LinkState.UNKNOWN, None
    if _TOKEN.match(token):
        async with portal_db(request).session() as session:
            state, subscriber_id = await redeem_link(session, token, now=now())
    if state is not LinkState.VALID or subscriber_id is None:
        return await render(
            request,
            "portal/link.html",
            {"state": state.value, "action": link_path(token)},
            status_code=LINK_STATUS[state],
        )
    response = RedirectResponse(HOME_PATH, status_code=303)
    await begin_session(request, response, subscriber_id)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    response = RedirectResponse(f"{SIGNIN_PATH}?signed_out=1", status_code=303)
    await finish_session(request, response)
    return response
