"""The webhook client's guard (shared/pinned_aiohttp.py) against a real HTTP server on
127.0.0.1, with names under ``.test`` answered by tests/support/dns.py: a name is resolved once
and connected to at the address that was checked, the host name is still what HTTP and TLS
see, and the sender's URL check agrees with the check at the edges (``ssrf``)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest

from shared import ssrf
from shared.errors import InputError
from shared.pinned_aiohttp import CheckedResolver, literal_refusal, pinned_connector, target
from tests.support.dns import PUBLIC, FakeDNS, allow_loopback_only, fake_dns
from tests.support.feeds import FeedServer, Page

__all__ = ["fake_dns"]  # the fixture, used by name


def session(
    *, allow_private: bool = False, allow_link_local: bool = False
) -> aiohttp.ClientSession:
    connector = pinned_connector(allow_private=allow_private, allow_link_local=allow_link_local)
    return aiohttp.ClientSession(connector=connector, trust_env=False)


async def test_a_name_is_resolved_once_and_its_checked_answer_reused(
    fake_dns: FakeDNS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second answer would be a public address nobody checked for this connection: it is
    never asked for, the connections use the first (checked) one."""
    allow_loopback_only(monkeypatch)
    async with FeedServer() as server:
        server.pages["/x"] = Page(b"ok")
        fake_dns.answer("hooks.test", ["127.0.0.1"], [PUBLIC])
        async with session() as client:
            for _ in range(3):
                async with client.get(f"http://hooks.test:{server.port}/x") as response:
                    assert await response.read() == b"ok"
    assert fake_dns.lookups == ["hooks.test"]
    assert server.requests[0].headers["host"] == f"hooks.test:{server.port}"


async def test_every_address_of_the_answer_must_be_allowed(fake_dns: FakeDNS) -> None:
    fake_dns.answer("mixed.test", [PUBLIC, "10.0.0.7"])
    async with session() as client:
        with pytest.raises(ssrf.SsrfRefused, match=r"10\.0\.0\.7 is a private address"):
            await client.get("http://mixed.test/")


async def test_allow_private_still_refuses_a_name_answering_metadata(fake_dns: FakeDNS) -> None:
    fake_dns.answer("meta.test", ["169.254.169.254"])
    async with session(allow_private=True) as client:
        with pytest.raises(ssrf.SsrfRefused, match="REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL=true"):
            await client.get("http://meta.test/latest/meta-data/")


async def test_tls_names_the_host_while_tcp_goes_to_the_checked_address(
    fake_dns: FakeDNS, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_loopback_only(monkeypatch)
    seen: list[tuple[Any, Any]] = []
    loop = asyncio.get_running_loop()

    async def create_connection(*args: Any, sock: socket.socket, **kwargs: Any) -> Any:
        seen.append((sock.getpeername()[0], kwargs.get("server_hostname")))
        sock.close()
        raise ConnectionResetError("handshake stopped by the test")

    monkeypatch.setattr(loop, "create_connection", create_connection)
    async with FeedServer() as server:
        fake_dns.answer("tls.test", ["127.0.0.1"])
        async with session() as client:
            with pytest.raises(aiohttp.ClientConnectorError):
                await client.get(f"https://tls.test:{server.port}/x")
    assert seen == [("127.0.0.1", "tls.test")]


async def test_without_both_settings_the_resolver_is_the_checked_one() -> None:
    for private, link_local, checked in ((False, False, True), (True, False, True)):
        connector = pinned_connector(allow_private=private, allow_link_local=link_local)
        assert isinstance(connector._resolver, CheckedResolver) is checked
        await connector.close()
    connector = pinned_connector(allow_private=True, allow_link_local=True)
    assert not isinstance(connector._resolver, CheckedResolver)
    await connector.close()


async def test_the_resolver_answers_in_aiohttp_terms(fake_dns: FakeDNS) -> None:
    fake_dns.answer("two.test", [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"])
    answer = await CheckedResolver(allow_private=False).resolve("two.test", 443)
    assert [(a["hostname"], a["host"], a["port"], a["family"]) for a in answer] == [
        ("two.test", PUBLIC, 443, socket.AF_INET),
        ("two.test", "2606:2800:220:1:248:1893:25c8:1946", 443, socket.AF_INET6),
    ]


# --- the URL check ---------------------------------------------------------------------

URLS = [
    "http://127.0.0.1:8080/hook",
    "https://hooks.example.com/a/b?c=d",
    "  https://hooks.example.com/padded  ",
    "https://例子.测试/钩子",
    "http://[::1]:9000/x",
    "ftp://example.com/x",
    "example.com/hook",
    "localhost:8080/hook",
    "http:///no-host",
    "http://user:pass@example.com/",
    "http://example.com:0/",
    "http://example.com:99999/",
    "http://exa mple.com/",
    "http://example.com/\tx",
    "http://example.com/\x7f",
    "",
    "   ",
    "https://example.com/" + "a" * 2100,
]


@pytest.mark.parametrize("url", URLS)
def test_the_sender_accepts_exactly_what_the_edges_accept(url: str) -> None:
    """Input validation (``ssrf.validate_webhook_url``, httpx's parser) and the sender's check
    (yarl's, aiohttp's parser) give the same verdict, so a stored URL is never refused later
    as malformed."""
    try:
        ssrf.validate_webhook_url(url)
    except InputError:
        edge_ok = False
    else:
        edge_ok = True
    try:
        target(url, allow_private=True, allow_link_local=True)
    except InputError as exc:
        assert not edge_ok, f"refused by the sender only: {exc}"
        assert "webhook URL" in str(exc)
    else:
        assert edge_ok, "accepted by the sender only"


def test_the_url_check_names_the_problem() -> None:
    cases = {
        "ftp://x/y": "scheme must be http or https, not 'ftp'",
        "localhost:8080/hook": "add http:// or https://",
        "http://u:p@h/": "must not contain a user name or password",
        "http:///x": "has no host",
        "http://a b/": "must not contain spaces or control characters",
        "": "is empty",
    }
    for url, message in cases.items():
        with pytest.raises(InputError, match=message):
            target(url, allow_private=False)


def test_an_ip_literal_is_checked_before_any_connection() -> None:
    with pytest.raises(ssrf.SsrfRefused, match=r"127\.0\.0\.1 is a loopback address"):
        target("http://127.0.0.1/x", allow_private=False)
    with pytest.raises(ssrf.SsrfRefused, match="REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL"):
        target("http://[fe80::1]/x", allow_private=True)
    assert str(target("http://10.1.2.3/x", allow_private=True)) == "http://10.1.2.3/x"
    assert literal_refusal("hooks.example.com", allow_private=False) is None


async def test_legacy_numeric_addresses_are_refused_by_aiohttp() -> None:
    """``2130706433`` and ``127.1`` are not IP literals to ``ipaddress``, and a resolver would
    map them onto 127.0.0.1: aiohttp refuses them before resolving."""
    async with session() as client:
        for url in ("http://2130706433/", "http://127.1/"):
            assert literal_refusal(url.split("/")[2], allow_private=False) is None
            with pytest.raises(aiohttp.InvalidURL):
                await client.get(target(url, allow_private=False))
