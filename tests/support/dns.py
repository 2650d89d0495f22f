"""A name resolver for tests: hosts under ``.test`` answer from a table, in turn.

The fixture patches the running loop's ``getaddrinfo``, which both the SSRF check
(``shared.ssrf.resolve``) and the HTTP client's own connection (anyio) use, so a test sees
what a real client would do with a DNS answer that changes between the check and the
connection (DNS rebinding)::

    fake_dns.answer("rebind.test", ["93.184.216.34"], ["127.0.0.1"])
    # first lookup: 93.184.216.34; every later lookup: 127.0.0.1
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared import ssrf

PUBLIC = "93.184.216.34"
"""A global address for answers that pass the SSRF check (never connected to in tests)."""
_real_reason = ssrf.refusal_reason


def allow_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test server on 127.0.0.1 counts as public; every other address as usual."""

    def reason(address: ssrf.IPAddress) -> str | None:
        return None if address == ipaddress.ip_address("127.0.0.1") else _real_reason(address)

    monkeypatch.setattr(ssrf, "refusal_reason", reason)


class FakeDNS:
    def __init__(self) -> None:
        self._answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        """Every lookup of a ``.test`` name, in order."""

    def answer(self, host: str, *answers: list[str]) -> None:
        """``host`` resolves to ``answers[0]``, then ``answers[1]``..., the last one repeated."""
        self._answers[host] = [list(addresses) for addresses in answers]

    def resolve(self, host: str, port: Any) -> list[tuple[Any, ...]]:
        self.lookups.append(host)
        answers = self._answers.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        current = answers.pop(0) if len(answers) > 1 else answers[0]
        port_number = int(port or 0)
        infos: list[tuple[Any, ...]] = []
        for text in current:
            if ipaddress.ip_address(text).version == 4:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port_number)))
            else:
                sockaddr = (text, port_number, 0, 0)
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", sockaddr))
        return infos


@pytest.fixture
async def fake_dns(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDNS]:
    """Names under ``.test`` resolved from a :class:`FakeDNS` (other names as usual)."""
    dns = FakeDNS()
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, **kwargs: Any) -> Any:
        name = host.decode("ascii") if isinstance(host, bytes) else str(host)
        if name.endswith(".test"):
            return dns.resolve(name, port)
        return await real(host, port, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    yield dns
