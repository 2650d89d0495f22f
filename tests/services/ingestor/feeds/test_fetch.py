"""The feed fetcher's SSRF guard against a real HTTP server on 127.0.0.1, with names under
``.test`` answered by tests/support/dns.py: DNS rebinding and redirects to internal addresses
are refused before any request reaches them; private addresses work where allowed."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpcore
import pytest

from services.ingestor.feeds import Fetcher
from shared import ssrf
from shared.errors import InputError, TransientError
from tests.support.dns import FakeDNS, fake_dns
from tests.support.feeds import FeedServer, Page, rss

__all__ = ["fake_dns"]  # the fixture, used by name

PUBLIC = "93.184.216.34"
_real_reason = ssrf.refusal_reason


class RedirectingServer(FeedServer):
    """A feed server whose ``redirects`` paths answer 302 to the URL given."""

    def __init__(self) -> None:
        super().__init__()
        self.redirects: dict[str, str] = {}

    def _answer(
        self, path: str, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if path in self.redirects:
            return 302, [("location", self.redirects[path])], b""
        return super()._answer(path, headers)


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server on 127.0.0.1 counts as a public address; all others as usual."""

    def reason(address: ssrf.IPAddress) -> str | None:
        return None if address == ipaddress.ip_address("127.0.0.1") else _real_reason(address)

    monkeypatch.setattr(ssrf, "refusal_reason", reason)


async def test_dns_rebinding_is_refused_for_feeds(fake_dns: FakeDNS) -> None:
    """The check sees a public address, the connection would go to 127.0.0.1."""
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=False) as fetcher,
    ):
        server.pages["/rss.xml"] = Page(rss([]), "application/rss+xml")
        fake_dns.answer("rebind.test", [PUBLIC], ["127.0.0.1"])
        with pytest.raises(InputError) as refused:
            await fetcher.get(f"http://rebind.test:{server.port}/rss.xml")
        assert server.requests == []
    message = str(refused.value)
    assert "feed host 'rebind.test' refused: 127.0.0.1 is a loopback address" in message
    assert "REGWATCH_FEEDS_ALLOW_PRIVATE" in message and "webhook" not in message


@pytest.mark.usefixtures("loopback_is_public")
async def test_the_checked_host_is_fetched_by_name(fake_dns: FakeDNS) -> None:
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=False) as fetcher,
    ):
        server.pages["/rss.xml"] = Page(rss([]), "application/rss+xml")
        fake_dns.answer("feed.test", ["127.0.0.1"])
        fetched = await fetcher.get(f"http://feed.test:{server.port}/rss.xml")
    assert fetched.status == 200 and fetched.url == f"http://feed.test:{server.port}/rss.xml"
    assert server.requests[0].headers["host"] == f"feed.test:{server.port}"


@pytest.mark.usefixtures("loopback_is_public")
async def test_a_redirect_to_a_private_address_is_refused(fake_dns: FakeDNS) -> None:
    async with (
        RedirectingServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=False) as fetcher,
    ):
        fake_dns.answer("feed.test", ["127.0.0.1"])
        server.redirects["/meta.xml"] = "http://169.254.169.254/latest/meta-data/"
        with pytest.raises(
            ssrf.SsrfRefused, match=r"169\.254\.169\.254 is a cloud metadata address"
        ):
            await fetcher.get(f"http://feed.test:{server.port}/meta.xml")
        assert [r.path for r in server.requests] == ["/meta.xml"]


@pytest.mark.usefixtures("loopback_is_public")
async def test_a_redirect_hop_that_rebinds_is_refused(fake_dns: FakeDNS) -> None:
    async with (
        RedirectingServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=False) as fetcher,
    ):
        fake_dns.answer("feed.test", ["127.0.0.1"])
        fake_dns.answer("moved.test", ["127.0.0.1"], ["10.0.0.7"])
        server.redirects["/old.xml"] = f"http://moved.test:{server.port}/rss.xml"
        server.pages["/rss.xml"] = Page(rss([]), "application/rss+xml")
        with pytest.raises(InputError, match=r"10\.0\.0\.7 is a private address"):
            await fetcher.get(f"http://feed.test:{server.port}/old.xml")
        assert [r.path for r in server.requests] == ["/old.xml"]


async def test_private_addresses_work_where_allowed() -> None:
    async with (
        RedirectingServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=True) as fetcher,
    ):
        server.redirects["/old.xml"] = server.url("/rss.xml")
        server.pages["/rss.xml"] = Page(rss([]), "application/rss+xml")
        fetched = await fetcher.get(server.url("/old.xml"))
    assert fetched.status == 200 and fetched.url == server.url("/rss.xml")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """TCP connections go to loopback only: any other address is recorded and refused here,
    so a guard that failed could not reach a real metadata endpoint either."""
    real = httpcore.AnyIOBackend.connect_tcp
    refused: list[str] = []

    async def connect_tcp(
        self: httpcore.AnyIOBackend, host: str, port: int, **kwargs: Any
    ) -> httpcore.AsyncNetworkStream:
        if not ipaddress.ip_address(host).is_loopback:
            refused.append(host)
            raise httpcore.ConnectError(f"test: no connections to {host}")
        return await real(self, host, port, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    return refused


@pytest.mark.parametrize(
    "target", ["169.254.169.254", "[fd00:ec2::254]", "100.100.100.200", "[fe80::1]"]
)
async def test_allow_private_still_refuses_redirects_to_metadata(
    target: str, loopback_only: list[str]
) -> None:
    async with (
        RedirectingServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=True) as fetcher,
    ):
        server.redirects["/old.xml"] = f"http://{target}/latest/meta-data/"
        with pytest.raises(InputError, match="REGWATCH_FEEDS_ALLOW_LINK_LOCAL=true") as refused:
            await fetcher.get(server.url("/old.xml"))
    assert "feed host" in str(refused.value)
    assert loopback_only == []


async def test_allow_private_refuses_a_name_rebound_to_metadata(
    fake_dns: FakeDNS, loopback_only: list[str]
) -> None:
    async with (
        FeedServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=True) as fetcher,
    ):
        server.pages["/rss.xml"] = Page(rss([]), "application/rss+xml")
        fake_dns.answer("feed.test", ["127.0.0.1"], ["169.254.169.254"])
        with pytest.raises(ssrf.SsrfRefused, match="cloud metadata"):
            await fetcher.get(f"http://feed.test:{server.port}/rss.xml")
        assert server.requests == []
    assert loopback_only == []


async def test_the_link_local_setting_lets_feeds_reach_them(loopback_only: list[str]) -> None:
    async with (
        RedirectingServer() as server,
        Fetcher(timeout=5, max_bytes=10_000, allow_private=True, allow_link_local=True) as fetcher,
    ):
        server.redirects["/old.xml"] = "http://169.254.169.254/latest/meta-data/"
        with pytest.raises(TransientError, match="cannot fetch"):
            await fetcher.get(server.url("/old.xml"))
    assert loopback_only == ["169.254.169.254"]  # tried (and stopped by the test)
