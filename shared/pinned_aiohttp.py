"""aiohttp connections pinned to checked addresses: the webhook sender's HTTP client.

The same guard as :mod:`shared.pinned_http` (httpx, used by the feed fetcher), for aiohttp:

* a host name is resolved once, by :class:`CheckedResolver`, which refuses
  (``ssrf.SsrfRefused``) unless every address it resolves to may be called
  (``ssrf.resolve_checked``); aiohttp then connects to one of exactly those addresses, so a
  DNS answer cannot change between the check and the connection (DNS rebinding). aiohttp
  keeps resolved addresses for ``DNS_CACHE_S``: only checked answers are kept.
* aiohttp does not resolve an IP literal (``http://10.0.0.1/``), so :func:`literal_refusal`
  checks it before the request; aiohttp itself rejects the legacy numeric forms
  (``http://2130706433/``, ``http://127.1/``) that a resolver would map onto an address.
* everything above TCP uses the host name: the ``Host`` header comes from the URL, and TLS
  sends SNI for and verifies the certificate of the host name. Unix sockets are never used
  (a ``TCPConnector`` only opens TCP connections), and proxies from the environment are not
  read (``trust_env`` stays off).

With ``allow_private`` (``REGWATCH_WEBHOOK_ALLOW_PRIVATE``: tests and local receivers) only
link-local addresses and cloud metadata endpoints are still refused (``ssrf.target_refusal``);
with ``allow_link_local`` as well, addresses are not checked and the resolver is aiohttp's.

Why aiohttp for webhooks: with 100 requests in flight httpx costs 4-10 ms of CPU per request
(its pool scans every connection on each request and answer), aiohttp about 0.45 ms
(``python -m bench.webhooks``), and a fan-out sends one webhook per watching subscriber.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from shared import ssrf

DNS_CACHE_S = 10
"""How long a checked DNS answer is reused for new connections to the same host and port."""


class CheckedResolver(AbstractResolver):
    """Resolves with ``ssrf.resolve_checked``: every address of the host must be allowed, or
    the connection is refused (``ssrf.SsrfRefused``, propagated unchanged by aiohttp);
    ``TransientError`` when the name cannot be resolved now."""

    def __init__(self, *, allow_private: bool, allow_link_local: bool = False) -> None:
        self.allow_private = allow_private
        self.allow_link_local = allow_link_local

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await ssrf.resolve_checked(
            host, port, allow_private=self.allow_private, allow_link_local=self.allow_link_local
        )
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def target(url: str, *, allow_private: bool, allow_link_local: bool = False) -> URL:
    """The URL to request, parsed by yarl (aiohttp's parser, so the host checked is the host
    connected to), or InputError naming the problem: the syntax ``ssrf.validate_webhook_url``
    accepts (http or https, a host, no credentials, a valid port, at most 2048 characters,
    no whitespace or control characters) and, for an IP literal host, the address
    (``ssrf.SsrfRefused``; a host name is checked by :class:`CheckedResolver` when
    connecting). About 5 us, against 70 us for ``httpx.URL``."""
    text = ssrf.url_text(url)
    try:
        parsed = URL(text)
        port = parsed.port
    except (ValueError, TypeError) as exc:
        raise ssrf.invalid_url(exc) from exc
    host = ssrf.check_url_parts(
        text,
        parsed.scheme,
        parsed.host,
        credentials=parsed.user is not None or parsed.password is not None,
        port=port,
    )
    refusal = literal_refusal(host, allow_private=allow_private, allow_link_local=allow_link_local)
    if refusal is not None:
        raise ssrf.SsrfRefused(refusal)
    return parsed


def literal_refusal(
    host: str, *, allow_private: bool, allow_link_local: bool = False
) -> str | None:
    """Why a URL whose host is the IP literal ``host`` must not be called (the message names
    the setting that would allow it), or None: also None for a host name, which
    :class:`CheckedResolver` checks when it connects."""
    if ":" not in host and not host.replace(".", "").isdigit():
        return None  # a name (aiohttp's own test for "not an IP literal")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None  # not an address aiohttp would connect to: it refuses the URL itself
    reason = ssrf.target_refusal(
        address, allow_private=allow_private, allow_link_local=allow_link_local
    )
    return None if reason is None else f"webhook host {host!r} refused: {reason}"


def ssl_context() -> ssl.SSLContext:
    """Certificates verified against certifi's CA bundle, as the httpx clients do (building a
    context reads the bundle, about 10 ms: make one per client)."""
    return ssl.create_default_context(cafile=certifi.where())


def pinned_connector(
    *,
    allow_private: bool,
    allow_link_local: bool = False,
    limit: int = 100,
    keepalive_s: float = 15.0,
    context: ssl.SSLContext | None = None,
) -> aiohttp.TCPConnector:
    """A connector of at most ``limit`` connections (none per host: a dispatcher bounds each
    endpoint itself), idle ones closed after ``keepalive_s``, whose connections go only to
    checked addresses unless both ``allow_private`` and ``allow_link_local``. Must be made
    inside a running event loop."""
    resolver = (
        None
        if allow_private and allow_link_local
        else CheckedResolver(allow_private=allow_private, allow_link_local=allow_link_local)
    )
    return aiohttp.TCPConnector(
        limit=limit,
        limit_per_host=0,
        keepalive_timeout=keepalive_s,
        ttl_dns_cache=DNS_CACHE_S,
        resolver=resolver,
        ssl=context or ssl_context(),
    )
