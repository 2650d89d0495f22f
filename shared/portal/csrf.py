"""CSRF protection of every portal form.

Two checks on every POST (and other unsafe method) under ``/portal``, made by the router
dependency :func:`csrf_protect` that :func:`shared.portal.portal_router` puts on every portal
router:

1. **Same origin**: the ``Origin`` header (or, without one, ``Referer``) names this site: the
   ``Host`` the browser used (``X-Forwarded-Host`` from a trusted proxy) or
   ``REGWATCH_PUBLIC_URL``. Browsers send ``Origin`` with every form POST.
2. **Synchronizer token**: the form's ``csrf_token`` field equals the token of the signed-in
   session (a random value stored with it). Before signing in (the sign-in and link pages) it
   must equal the ``regwatch_csrf`` cookie instead, which the page set (HttpOnly, SameSite=Lax).

Either missing or wrong: 403 with the portal's error page. Templates put the field in every
form with ``{{ csrf_field }}``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Final
from urllib.parse import urlsplit

from markupsafe import Markup, escape
from starlette.requests import Request

from shared.portal.auth import from_trusted_proxy, portal_settings, signed_in
from shared.portal.errors import PortalError
from shared.portal.forms import FORM_LIMIT, read_form
from shared.settings import Settings

CSRF_FIELD: Final = "csrf_token"
CSRF_COOKIE: Final = "regwatch_csrf"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{32,100}$")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _host_port(netloc: str, scheme: str | None) -> tuple[str, int | None] | None:
    """(host, port) of ``host[:port]``; the port is the scheme's default when left out and a
    scheme is known, else None (any default)."""
    try:
        parts = urlsplit(f"//{netloc}")
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    if port is None and scheme is not None:
        port = _DEFAULT_PORTS.get(scheme)
    return host, port


def _same(origin: tuple[str, int | None], site: tuple[str, int | None]) -> bool:
    return origin[0] == site[0] and (site[1] is None or origin[1] == site[1])


def own_sites(request: Request, settings: Settings) -> list[tuple[str, int | None]]:
    """The origins this request may come from: the Host it was sent to, a trusted proxy's
    X-Forwarded-Host, and REGWATCH_PUBLIC_URL."""
    sites: list[tuple[str, int | None]] = []
    hosts = [request.headers.get("host", "")]
    if from_trusted_proxy(request, settings):
        hosts.append(request.headers.get("x-forwarded-host", "").split(",")[0].strip())
    for host in hosts:
        site = _host_port(host, None) if host else None
        if site is not None:
            sites.append(site)
    if settings.public_url:
        public = urlsplit(settings.public_url)
        site = _host_port(public.netloc, public.scheme)
        if site is not None:
            sites.append(site)
    return sites


def same_origin(request: Request, settings: Settings) -> bool:
    """Does the request's Origin (or Referer) name this site?"""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    if parts.scheme not in _DEFAULT_PORTS:
        return False
    origin = _host_port(parts.netloc, parts.scheme)
    if origin is None:
        return False
    return any(_same(origin, site) for site in own_sites(request, settings))


async def csrf_token(request: Request) -> str:
    """The token this request's forms carry: the session's when signed in, else the
    ``regwatch_csrf`` cookie's (a new one, set by :func:`shared.portal.render`, when absent)."""
    found = await signed_in(request)
    if found is not None:
        return found.csrf_token
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if _TOKEN_SHAPE.match(cookie):
        return cookie
    fresh: str | None = getattr(request.state, "portal_new_csrf", None)
    if fresh is None:
        fresh = request.state.portal_new_csrf = secrets.token_urlsafe(32)
    return fresh


def csrf_field(token: str) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


class CsrfCheck:
    """Router dependency: refuse (403) an unsafe request from another site or without the
    right token; safe methods pass. ``form_limit`` above 64 kB lets the router's forms be
    ``multipart/form-data`` uploads of up to that many bytes (``portal_router(form_limit=)``)."""

    def __init__(self, form_limit: int = FORM_LIMIT) -> None:
        self.form_limit = form_limit

    async def __call__(self, request: Request) -> None:
        if request.method in SAFE_METHODS:
            return
        if not same_origin(request, portal_settings(request)):
            raise PortalError(403, "error.csrf")
        form = await read_form(request, self.form_limit)
        given = form.get(CSRF_FIELD, "")
        found = await signed_in(request)
        expected = found.csrf_token if found is not None else request.cookies.get(CSRF_COOKIE, "")
        if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise PortalError(403, "error.csrf")


csrf_protect = CsrfCheck()
"""The check on every router made by :func:`shared.portal.portal_router` (urlencoded forms)."""
