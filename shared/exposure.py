"""Refusing to start with the operator routes open off loopback (``REGWATCH_ADMIN_TOKEN``
unset): checked before anything starts, so without the HTTP side's imports (``shared.http``
re-exports these)."""

from __future__ import annotations

import ipaddress

from shared.errors import RegwatchError
from shared.settings import Settings


class ExposedOperatorRoutes(RegwatchError):
    """REGWATCH_ADMIN_TOKEN is unset and the HTTP listener is not on a loopback address."""


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (also bracketed); anything else (0.0.0.0, ::, a name,
    a LAN address) may be reachable from other machines."""
    text = host.strip().strip("[]").rstrip(".").lower()
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def check_admin_exposure(settings: Settings) -> None:
    """Refuse (ExposedOperatorRoutes) to serve operator routes to anyone who reaches the port:
    without REGWATCH_ADMIN_TOKEN the HTTP host must be a loopback address."""
    if settings.admin_token is None and not is_loopback_host(settings.http_host):
        raise ExposedOperatorRoutes(
            f"REGWATCH_ADMIN_TOKEN is not set and REGWATCH_HTTP_HOST={settings.http_host} is not "
            "a loopback address: operator routes would be open to anyone who reaches the port; "
            "set REGWATCH_ADMIN_TOKEN or listen on 127.0.0.1"
        )
