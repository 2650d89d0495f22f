"""Putting the portal on an app: its static files, its own pages, error pages and headers.

``install_portal(app)`` (called by ``services/runtime.py`` after the services' routers are
included) adds:

- ``/portal/static/...``: the portal's CSS and script, served by regwatch (no CDN, no web
  fonts: the stylesheet names system fonts);
- the sign-in, link and sign-out routes and the account page;
- error pages: under ``/portal`` an ``HTTPException`` (404, 405, ...), a ``PortalError`` or a
  malformed request is answered with the portal's error page in the request's language, and
  a page that needs a signed-in subscriber redirects (303) to the sign-in page; elsewhere the
  API's JSON errors are unchanged;
- security headers on every ``/portal`` response: ``Content-Security-Policy`` (``'self'``
  only, no inline script or style), ``X-Frame-Options: DENY``, ``Referrer-Policy:
  same-origin``, ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logging import get_logger
from shared.portal import account, signin
from shared.portal.auth import SignInRequired, signin_url
from shared.portal.errors import PortalError
from shared.portal.i18n import Translator, request_language
from shared.portal.templating import STATIC_PREFIX, render

log = get_logger("regwatch.portal")

STATIC: Final = Path(__file__).parent / "static"
PORTAL_PATH: Final = "/portal"
SECURITY_HEADERS: Final = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'; object-src 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
)
STATUS_MESSAGES: Final = {
    400: "error.bad_request",
    403: "error.forbidden",
    404: "error.not_found",
    405: "error.method",
    413: "error.too_large",
    415: "error.unsupported",
    422: "error.bad_request",
    503: "error.unavailable",
}


def in_portal(path: str) -> bool:
    return path == PORTAL_PATH or path.startswith(PORTAL_PATH + "/")


class PortalHeadersMiddleware:
    """Adds the security headers to every response under ``/portal``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not in_portal(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


async def error_page(
    request: Request, status: int, key: str, headers: dict[str, str] | None = None, **values: object
) -> Response:
    """The portal's error page; a plain one if even that fails (the database is down)."""
    try:
        message = Translator(request_language(request))(key, **values)
        page = await render(
            request, "portal/error.html", {"status": status, "message": message}, status_code=status
        )
    except Exception:
        log.exception("portal error page failed", extra={"status": status})
        page = HTMLResponse(f"<!DOCTYPE html><title>{status}</title><p>{status}", status)
    for name, value in (headers or {}).items():
        page.headers[name] = value
    return page


async def on_portal_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalError)
    return await error_page(request, exc.status, exc.key, **exc.values)


async def on_sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(signin_url(exc.next_path), status_code=303)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not in_portal(request.url.path):
        return await http_exception_handler(request, exc)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 429:
        return await error_page(
            request, status, "error.too_many", headers, seconds=headers.get("Retry-After", "60")
        )
    return await error_page(request, status, STATUS_MESSAGES.get(status, "error.generic"), headers)


async def on_invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not in_portal(request.url.path):
        return await request_validation_exception_handler(request, exc)
    return await error_page(request, 400, "error.bad_request")


def install_portal(app: FastAPI) -> None:
    """Serve the portal on ``app`` (see the module's doc). Service pages come with the
    services' routers; call this after including them."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="portal-static")
    app.include_router(signin.router)
    app.include_router(account.router)
    app.add_exception_handler(PortalError, on_portal_error)
    app.add_exception_handler(SignInRequired, on_sign_in_required)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_middleware(PortalHeadersMiddleware)
