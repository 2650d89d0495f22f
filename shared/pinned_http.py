"""HTTP connections pinned to checked addresses: the one way regwatch calls URLs it was given.

:func:`shared.ssrf.check_url` vets a URL before a request, but a client that then resolves the
host name again may be answered differently (DNS rebinding: a public address for the check,
127.0.0.1 for the connection). A transport from :func:`pinned_transport` closes that gap: its
network backend resolves the host itself, refuses (``ssrf.SsrfRefused``) unless every address
is global (``ssrf.resolve_checked``), and opens the TCP connection to one of those checked IP
addresses. Everything above TCP still uses the host name: the ``Host`` header comes from the
URL, and TLS sends SNI for and verifies the certificate of the host name.

Every new connection goes through the check, so a caller that follows redirects by hand (each
hop a new request) gets each hop's connection checked too. Pooled connections are reused only
for the same scheme, host and port, and were checked when they were opened.

Used by the feed fetcher, which also fetches attachments and list images
(``services/ingestor/feeds/fetch.py``); the webhook sender has the same guard for aiohttp
(:mod:`shared.pinned_aiohttp`). With
``allow_private`` (``REGWATCH_WEBHOOK_ALLOW_PRIVATE``, ``REGWATCH_FEEDS_ALLOW_PRIVATE``: tests
and local receivers) only link-local addresses and cloud metadata endpoints are still refused
(``ssrf.target_refusal``); with ``allow_link_local`` as well, addresses are not checked and the
transport is httpx's own.

Errors: ``ssrf.SsrfRefused`` (an ``InputError``) for a refused address, ``TransientError`` when
the name cannot be resolved now; both propagate out of ``httpx.AsyncClient.send`` unchanged.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import httpcore
import httpx

from shared import ssrf

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to checked addresses: the host is resolved here,
    every address checked (``ssrf.resolve_checked``) and the connection made to a checked IP,
    trying each in turn. Unix sockets are refused."""

    def __init__(
        self,
        inner: httpcore.AsyncNetworkBackend | None = None,
        *,
        allow_private: bool = False,
        allow_link_local: bool = False,
    ) -> None:
        self._inner = inner or httpcore.AnyIOBackend()
        self.allow_private = allow_private
        self.allow_link_local = allow_link_local

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await ssrf.resolve_checked(
            host, port, allow_private=self.allow_private, allow_link_local=self.allow_link_local
        )
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # resolve_checked returns at least one address
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ssrf.SsrfRefused("outgoing requests never connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pinned_transport(
    *,
    allow_private: bool,
    allow_link_local: bool = False,
    limits: httpx.Limits = DEFAULT_LIMITS,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncHTTPTransport:
    """An HTTP/1.1 transport (no retries, no proxies from the environment) whose connections
    go only to checked addresses (:func:`ssrf.target_refusal`), unless both ``allow_private``
    and ``allow_link_local``. ``ssl_context``: one to share between transports (building one
    reads the CA bundle, about 10 ms); by default each transport makes its own."""
    context = ssl_context or httpx.create_ssl_context(trust_env=False)
    transport = httpx.AsyncHTTPTransport(verify=context, limits=limits, trust_env=False, retries=0)
    if allow_private and allow_link_local:
        return transport
    # httpx has no public hook for the network backend; the pool is rebuilt with the same
    # settings plus the pinned backend.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        retries=0,
        network_backend=PinnedBackend(
            allow_private=allow_private, allow_link_local=allow_link_local
        ),
    )
    return transport
