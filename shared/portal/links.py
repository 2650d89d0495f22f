"""Absolute URLs of the portal (one-time sign-in links in emails and from the CLI).

The base is ``REGWATCH_PUBLIC_URL`` when set. Otherwise: for a link made while answering a
request, the address of the socket the request came in on (never the ``Host`` header, which
the sender chooses: a link mailed to someone else must not point to a host an attacker named);
for the CLI, the ``http`` address the running regwatch wrote to ``runtime.json``, else
``http://127.0.0.1:<REGWATCH_HTTP_PORT>``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from shared.runtime_file import read_runtime_file
from shared.settings import Settings


def link_path(token: str) -> str:
    return f"/portal/link/{token}"


def _host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def request_base(request: Request, settings: Settings) -> str:
    """The base URL for links made while answering ``request``."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    server = request.scope.get("server")
    if server and server[1]:
        return f"http://{_host(str(server[0]))}:{server[1]}"
    return f"http://{_host(settings.http_host)}:{settings.http_port}"


def cli_base(settings: Settings) -> str:
    """The base URL for links the CLI prints."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    running = read_runtime_file(settings.data_dir) or {}
    http = running.get("http")
    if isinstance(http, str) and http.startswith(("http://", "https://")):
        parts = urlsplit(http)
        if parts.hostname and parts.port:
            return f"{parts.scheme}://{_host(parts.hostname)}:{parts.port}"
    return f"http://{_host(settings.http_host)}:{settings.http_port or 8080}"
