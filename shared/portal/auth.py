"""Who is signed in to the portal: the session cookie, and the ``portal_subscriber`` dependency.

The cookie ``regwatch_session`` holds a session token (``shared/portal/tokens.py``):
HttpOnly, SameSite=Lax, Path=/portal, and Secure when the request came over HTTPS (its own
scheme, ``X-Forwarded-Proto: https`` from a proxy in ``REGWATCH_TRUSTED_PROXIES``, or a
``REGWATCH_PUBLIC_URL`` that is https). It carries no expiry of its own: the session row
expires after ``REGWATCH_PORTAL_SESSION_HOURS`` without use.

A page that needs a signed-in subscriber takes ``subscriber: PortalSubscriber``; without a
live session the browser is sent (303) to ``/portal/signin?next=<this page>``.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final
from urllib.parse import quote, urlsplit

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from shared.accounts import Subscriber
from shared.db import Database
from shared.portal.tokens import SignedIn, create_session, end_session, find_session
from shared.settings import Settings

SESSION_COOKIE: Final = "regwatch_session"
COOKIE_PATH: Final = "/portal"
SIGNIN_PATH: Final = "/portal/signin"
HOME_PATH: Final = "/portal/"
_UNSET: Final = object()


def now() -> datetime:
    return datetime.now(UTC)


def portal_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def portal_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def session_ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.portal_session_hours)


def is_https(request: Request, settings: Settings) -> bool:
    """Did the browser reach us over HTTPS (so cookies get ``Secure``)?"""
    if request.url.scheme == "https":
        return True
    if settings.public_url and settings.public_url.lower().startswith("https://"):
        return True
    if not from_trusted_proxy(request, settings):
        return False
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https"


def from_trusted_proxy(request: Request, settings: Settings) -> bool:
    """Is the socket peer one of ``REGWATCH_TRUSTED_PROXIES`` (whose forwarded headers count)?"""
    if request.client is None or not settings.trusted_proxy_networks:
        return False
    try:
        peer = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(
        peer.version == net.version and peer in net for net in settings.trusted_proxy_networks
    )


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    httponly: bool = True,
) -> None:
    """A portal cookie: Path=/portal, SameSite=Lax, HttpOnly unless told, Secure over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=is_https(request, portal_settings(request)),
        httponly=httponly,
        samesite="lax",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        secure=is_https(request, portal_settings(request)),
        httponly=True,
        samesite="lax",
    )


async def signed_in(request: Request) -> SignedIn | None:
    """The live session of the request's cookie (looked up once per request), or None."""
    cached = getattr(request.state, "portal_signed_in", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    token = request.cookies.get(SESSION_COOKIE, "")
    found: SignedIn | None = None
    if token:
        settings = portal_settings(request)
        async with portal_db(request).session() as session:
            found = await find_session(session, token, now=now(), ttl=session_ttl(settings))
    request.state.portal_signed_in = found
    return found


def remember(request: Request, found: SignedIn | None) -> None:
    """Set the request's session (after signing in or out within it)."""
    request.state.portal_signed_in = found


async def begin_session(request: Request, response: Response, subscriber_id: str) -> SignedIn:
    """Sign ``subscriber_id`` in on ``response``: a new session (any session the browser had
    is ended first, so a session id is never carried across a sign-in) and its cookie."""
    settings = portal_settings(request)
    previous = await signed_in(request)
    async with portal_db(request).session() as session:
        if previous is not None:
            await end_session(session, previous.session_id)
        token, found = await create_session(
            session, subscriber_id, now=now(), ttl=session_ttl(settings)
        )
    set_cookie(response, request, SESSION_COOKIE, token)
    remember(request, found)
    return found


async def finish_session(request: Request, response: Response) -> None:
    """Sign out: the session row is deleted and the cookie cleared."""
    found = await signed_in(request)
    if found is not None:
        async with portal_db(request).session() as session:
            await end_session(session, found.session_id)
    clear_cookie(response, request, SESSION_COOKIE)
    remember(request, None)


class SignInRequired(Exception):
    """No live session: the browser goes to the sign-in page, then back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None) -> str:
    """A path to return to after signing in: only a path of the portal on this site (no
    scheme, no host, no ``//`` or backslash tricks); anything else is the account page."""
    if not value or len(value) > 500:
        return HOME_PATH
    if any(ord(char) < 0x20 or char == "\\" for char in value):
        return HOME_PATH
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return HOME_PATH
    if not (parts.path == "/portal" or parts.path.startswith("/portal/")):
        return HOME_PATH
    if parts.path.startswith((SIGNIN_PATH, "/portal/link/", "/portal/signout")):
        return HOME_PATH
    return value


def signin_url(next_path: str) -> str:
    target = safe_next(next_path)
    if target == HOME_PATH:
        return SIGNIN_PATH
    return f"{SIGNIN_PATH}?next={quote(target, safe='/')}"


async def portal_subscriber(request: Request) -> Subscriber:
    """The signed-in subscriber; without one, SignInRequired (a 303 to the sign-in page that
    comes back here). Every portal page that shows or changes a subscriber's data takes this:
    its queries filter by ``subscriber.id``, as the API's routes do."""
    found = await signed_in(request)
    if found is None:
        here = request.url.path
        if request.url.query and request.method == "GET":
            here += "?" + request.url.query
        raise SignInRequired(here if request.method == "GET" else HOME_PATH)
    return found.subscriber


PortalSubscriber = Annotated[Subscriber, Depends(portal_subscriber)]
