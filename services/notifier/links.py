"""Absolute links regwatch puts in emails and API answers (unsubscribe, calendar feed)."""

from __future__ import annotations

from shared.settings import Settings


def public_base(settings: Settings) -> str:
    """``REGWATCH_PUBLIC_URL`` without a trailing slash, else the HTTP listener's address."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.http_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    return f"{public_base(settings)}/v1/unsubscribe/{token}"


def calendar_url(settings: Settings, token: str, base: str | None = None) -> str:
    """The calendar feed's URL, under ``base`` when given (the portal: the site the browser
    used), else :func:`public_base`."""
    return f"{base or public_base(settings)}/v1/calendar/{token}.ics"
