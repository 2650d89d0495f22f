"""Pinned connections (shared/pinned_http.py) against a real HTTP server on 127.0.0.1, with
names under ``.test`` answered by tests/support/dns.py: the connection goes to the address
that was checked, never to a second DNS answer, and still speaks to the host name."""

from __future__ import annotations

from typing import Any

import httpcore
import httpx
import pytest

from shared import ssrf
from shared.pinned_http import PinnedBackend, pinned_transport
from tests.support.dns import PUBLIC, FakeDNS, allow_loopback_only, fake_dns
from tests.support.feeds import FeedServer, Page

__all__ = ["fake_dns"]  # the fixture, used by name


async def test_the_fake_dns_really_rebinds(fake_dns: FakeDNS) -> None:
    """The control: without pinning, the check sees a public address and httpx's own
    resolution then connects to 127.0.0.1 (what the pinned transport prevents)."""
    async with FeedServer() as server:
        server.pages["/x"] = Page(b"secret")
        fake_dns.answer("rebind.test", [PUBLIC], ["127.0.0.1"])
        url = f"http://rebind.test:{server.port}/x"
        await ssrf.check_url(url, allow_private=False)
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.get(url)
    assert response.content == b"secret"


async def test_a_second_dns_answer_is_checked_and_refused(fake_dns: FakeDNS) -> None:
    async with FeedServer() as server:
        server.pages["/x"] = Page(b"secret")
        fake_dns.answer("rebind.test", [PUBLIC], ["127.0.0.1"])
        url = f"http://rebind.test:{server.port}/x"
        await ssrf.check_url(url, allow_private=False)
        transport = pinned_transport(allow_private=False)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            with pytest.raises(ssrf.SsrfRefused, match=r"127\.0\.0\.1 is a loopback address"):
                await client.get(url)
        assert server.requests == []
    assert fake_dns.lookups == ["rebind.test", "rebind.test"]


async def test_every_address_of_the_answer_must_be_global(fake_dns: FakeDNS) -> None:
    fake_dns.answer("mixed.test", [PUBLIC, "10.0.0.7"])
    async with httpx.AsyncClient(transport=pinned_transport(allow_private=False)) as client:
        with pytest.raises(ssrf.SsrfRefused, match=r"10\.0\.0\.7 is a private address"):
            await client.get("http://mixed.test/")


async def test_the_host_name_is_still_sent(
    fake_dns: FakeDNS, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_loopback_only(monkeypatch)
    async with FeedServer() as server:
        server.pages["/x"] = Page(b"ok")
        fake_dns.answer("feed.test", ["127.0.0.1"])
        transport = pinned_transport(allow_private=False)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            response = await client.get(f"http://feed.test:{server.port}/x")
    assert response.content == b"ok"
    assert server.requests[0].headers["host"] == f"feed.test:{server.port}"


class _Recording(httpcore.AsyncNetworkBackend):
    """Records where connections go and the TLS server name; fails the TLS handshake."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[str] = []
        self.server_names: list[str | None] = []

    async def connect_tcp(self, host: str, port: int, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        self.connected.append(host)
        stream = await self.inner.connect_tcp(host, port, **kwargs)
        recording = self

        class Stream(httpcore.AsyncNetworkStream):
            async def start_tls(
                self,
                ssl_context: Any,
                server_hostname: str | None = None,
                timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
            ) -> httpcore.AsyncNetworkStream:
                recording.server_names.append(server_hostname)
                await stream.aclose()
                raise httpcore.ConnectError("handshake stopped by the test")

            async def aclose(self) -> None:
                await stream.aclose()

        return Stream()

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def test_tls_names_the_host_while_tcp_goes_to_the_checked_address(
    fake_dns: FakeDNS, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_loopback_only(monkeypatch)
    recording = _Recording()
    pool = httpcore.AsyncConnectionPool(network_backend=PinnedBackend(recording))
    async with FeedServer() as server:
        fake_dns.answer("tls.test", ["127.0.0.1"])
        with pytest.raises(httpcore.ConnectError, match="handshake stopped"):
            await pool.request("GET", f"https://tls.test:{server.port}/x")
        await pool.aclose()
    assert recording.connected == ["127.0.0.1"]
    assert recording.server_names == ["tls.test"]


async def test_allow_private_reaches_loopback_through_the_checked_connection() -> None:
    async with FeedServer() as server:
        server.pages["/x"] = Page(b"local")
        transport = pinned_transport(allow_private=True)
        assert isinstance(transport._pool._network_backend, PinnedBackend)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            response = await client.get(server.url("/x"))
    assert response.content == b"local"


async def test_allow_private_still_refuses_a_name_answering_metadata(
    fake_dns: FakeDNS, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_connection(*args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise AssertionError("the guard let a connection through")

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", no_connection)
    fake_dns.answer("imds.test", ["169.254.169.254"])
    transport = pinned_transport(allow_private=True)
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        with pytest.raises(ssrf.SsrfRefused, match="REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL=true"):
            await client.get("http://imds.test/latest/meta-data/")


async def test_both_settings_use_httpx_s_own_connections() -> None:
    async with FeedServer() as server:
        server.pages["/x"] = Page(b"local")
        transport = pinned_transport(allow_private=True, allow_link_local=True)
        assert not isinstance(transport._pool._network_backend, PinnedBackend)
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            response = await client.get(server.url("/x"))
    assert response.content == b"local"


async def test_unix_sockets_are_refused() -> None:
    with pytest.raises(ssrf.SsrfRefused, match="unix sockets"):
        await PinnedBackend().connect_unix_socket("/run/docker.sock")
