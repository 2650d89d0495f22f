"""Failed-credential limits per client address: guessing API keys or the operator token is slow.

Each failed attempt (an unknown API key, a wrong operator token) is recorded for the client
address it came from. An address with ``limit`` failures within the last ``window`` seconds
(a sliding window: ``REGWATCH_AUTH_FAILURES_PER_MINUTE``, default 10 a minute) is blocked:
every request from it that carries a credential gets 429 with ``Retry-After``, the right
credential too, until its oldest failure leaves the window. Successful attempts are not
counted, and requests without a credential are neither counted nor blocked (they get 401).

In-process and per process: each regwatch process keeps its own counts. Memory is bounded:
at most ``max_clients`` addresses are tracked (the one that failed least recently is dropped
first), each with at most ``limit`` timestamps.

The client address is the socket peer. Behind a reverse proxy every request comes from the
proxy: list it in ``REGWATCH_TRUSTED_PROXIES`` and ``X-Forwarded-For`` is read instead (from the
right, skipping trusted proxies: the first address that is not one is the client).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: the settings import this module
    from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000


class AuthFailureLimiter:
    """A sliding window of failed credentials per client address.

    ``limit`` 0 turns the limit off. ``clock`` returns seconds (monotonic); tests inject one.
    """

    def __init__(
        self,
        limit: int,
        window: float = WINDOW_SECONDS,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 0 or window <= 0 or max_clients < 1:
            raise ValueError("limit must be >= 0, window > 0 and max_clients >= 1")
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        """Client -> times of its failures in the window, least recently failed first."""

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again (at least 1), or None when it may now."""
        if self.limit == 0:
            return None
        now = self._clock()
        times = self._recent(client, now)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, client: str) -> bool:
        """Record a failed attempt by ``client``; True when it is now blocked."""
        if self.limit == 0:
            return False
        now = self._clock()
        self._forget_old(now)
        times = self._recent(client, now)
        if times is None:
            times = self._failures[client] = deque(maxlen=self.limit)
        else:
            self._failures.move_to_end(client)
        times.append(now)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)
        return len(times) >= self.limit

    def tracked(self) -> int:
        """How many client addresses are remembered now."""
        return len(self._failures)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def _forget_old(self, now: float) -> None:
        """Drop clients whose last failure left the window (they come first in the order)."""
        while self._failures:
            client, times = next(iter(self._failures.items()))
            if times and times[-1] > now - self.window:
                return
            del self._failures[client]


def parse_networks(text: str) -> list[Network]:
    """``REGWATCH_TRUSTED_PROXIES``: addresses or networks, comma-separated (ValueError)."""
    networks: list[Network] = []
    for item in text.split(","):
        if item.strip():
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(request: Request, trusted_proxies: Sequence[Network] = ()) -> str:
    """The address a request comes from: the socket peer, or, when the peer is a trusted
    proxy, the nearest ``X-Forwarded-For`` hop that is not a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    current = _address(peer)
    if current is None or not trusted_proxies or not _trusted(current, trusted_proxies):
        return peer
    hops = [
        hop
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage: the last proxy we trust is as far as we can tell
        current = address
        if not _trusted(address, trusted_proxies):
            break
    return str(current)
