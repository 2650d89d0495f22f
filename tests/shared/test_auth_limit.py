"""The failed-credential limiter (shared/auth_limit.py): a sliding window per client address on
an injected clock, bounded memory, and which address a request counts for."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from shared.auth_limit import AuthFailureLimiter, client_address, parse_networks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_blocks_until_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    limiter = AuthFailureLimiter(3, 60, clock=clock)
    assert limiter.failed("a") is False  # at 1000
    clock.now += 10
    assert limiter.failed("a") is False  # at 1010
    assert limiter.retry_after("a") is None
    clock.now += 10
    assert limiter.failed("a") is True  # at 1020: the third in 60 s
    assert limiter.retry_after("a") == 40  # the first failure leaves the window at 1060
    assert limiter.retry_after("b") is None
    clock.now += 39.5
    assert limiter.retry_after("a") == 1  # never 0 while blocked
    clock.now += 0.5
    assert limiter.retry_after("a") is None  # one attempt free again...
    assert limiter.failed("a") is True  # ...and a failure fills the window again
    assert limiter.retry_after("a") == 10  # until 1010's leaves
    clock.now += 60
    assert limiter.retry_after("a") is None and limiter.tracked() == 0


def test_zero_turns_the_limit_off() -> None:
    limiter = AuthFailureLimiter(0)
    assert not any(limiter.failed("a") for _ in range(100))
    assert limiter.retry_after("a") is None and limiter.tracked() == 0


def test_memory_is_bounded_and_the_least_recent_client_goes_first() -> None:
    clock = Clock()
    limiter = AuthFailureLimiter(2, 60, max_clients=3, clock=clock)
    for client in ("a", "b", "c"):
        limiter.failed(client)
        limiter.failed(client)
    limiter.failed("a")  # a is now the most recent
    limiter.failed("d")
    assert limiter.tracked() == 3
    assert limiter.retry_after("b") is None  # forgotten
    assert limiter.retry_after("a") is not None and limiter.retry_after("c") is not None


def test_clients_outside_the_window_are_forgotten() -> None:
    clock = Clock()
    limiter = AuthFailureLimiter(5, 60, clock=clock)
    for number in range(100):
        limiter.failed(f"10.0.0.{number}")
    clock.now += 61
    limiter.failed("10.0.1.1")
    assert limiter.tracked() == 1


def request(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": (peer, 4711) if peer else None,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.9", ["1.2.3.4"], "", "203.0.113.9"),  # no trusted proxies: the peer
        ("203.0.113.9", ["1.2.3.4"], "10.0.0.0/8", "203.0.113.9"),  # peer not trusted
        ("10.0.0.2", ["1.2.3.4"], "10.0.0.0/8", "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6, 1.2.3.4, 10.0.0.3"], "10.0.0.0/8", "1.2.3.4"),  # spoofed left
        ("10.0.0.2", ["6.6.6.6", "1.2.3.4"], "10.0.0.0/8", "1.2.3.4"),  # two headers
        ("10.0.0.2", ["10.0.0.4, 10.0.0.3"], "10.0.0.0/8", "10.0.0.4"),  # all trusted
        ("10.0.0.2", ["junk, 1.2.3.4:5678"], "10.0.0.0/8", "1.2.3.4"),
        ("10.0.0.2", ["1.2.3.4, junk"], "10.0.0.0/8", "10.0.0.2"),
        ("10.0.0.2", [], "10.0.0.0/8", "10.0.0.2"),
        ("::1", ["[2001:db8::7]:443"], "::1", "2001:db8::7"),
        (None, ["1.2.3.4"], "10.0.0.0/8", "unknown"),
    ],
)
def test_the_client_address(
    peer: str | None, forwarded: list[str], trusted: str, client: str
) -> None:
    assert client_address(request(peer, *forwarded), parse_networks(trusted)) == client


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert [str(n) for n in parse_networks(" 10.0.0.0/8, ::1 ,")] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match=r"proxy\.example"):
        parse_networks("proxy.example")
