"""Webhook channel: one signed POST per attempt, classified as ok, retriable or permanent.

Classification of one attempt:

* 2xx -> ok.
* 408, 425, 429 and 5xx -> retriable (``Retry-After`` in seconds or as an HTTP date is
  reported in ``retry_after``).
* 3xx -> permanent: redirects are never followed (a redirect could point anywhere).
* any other status (4xx, 1xx) -> permanent.
* timeouts (the whole attempt is bounded by ``timeout``), connection errors, DNS failures ->
  retriable.
* an SSRF refusal, a malformed URL or secret -> permanent.

The sender never retries by itself: the caller schedules retries (see ``retry.py``).
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import ssl
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

import httpx

from services.notifier import signing
from shared import ssrf
from shared.errors import InputError, TransientError
from shared.pinned_http import pinned_transport

if TYPE_CHECKING:
    from shared.settings import Settings

MAX_RESPONSE_BYTES = 64 * 1024
ERROR_SNIPPET = 200
RETRIABLE_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "regwatch-webhooks/1"
KEEPALIVE_S = 4.0
"""An idle connection is closed after 4 s: common servers close theirs after 5 s (uvicorn,
Node.js), and a request sent on a connection the server is closing fails with a ReadError and
waits for its retry."""


@dataclass
class SendResult:
    """Outcome of one delivery attempt on any channel."""

    ok: bool
    retriable: bool
    status_code: int | None
    error: str | None
    retry_after: float | None
    duration_ms: float
    body_excerpt: str | None = None
    """The start of the receiver's answer (whitespace collapsed), when it sent one."""

    @property
    def permanent(self) -> bool:
        """Failed, and retrying would not help."""
        return not self.ok and not self.retriable


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date).

    Returns None when absent or unparseable; never negative.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def _status_text(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _snippet(body: bytes) -> str:
    text = body[:ERROR_SNIPPET].decode("utf-8", "replace")
    return " ".join(text.split())


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the body, as sent (raw: never decompressed)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk[: limit - size])
        size += len(chunks[-1])
        if size >= limit:
            break
    return b"".join(chunks)


class WebhookSender:
    """Sends signed webhooks; safe to use concurrently.

    Connections are kept in ``shards`` pools, a URL always in the same one (by a hash of
    it), each of at most ``max_connections / shards`` connections, all kept alive between
    requests. httpcore's pool looks at every connection it holds on each request and each
    answer (``has_expired`` polls each idle socket): with one pool of 200 connections that
    scan was more than half of the CPU a webhook cost (cProfile of 2,000 deliveries), with 16
    pools of 13 it is a sixteenth. A pool is made when its first URL is sent to. A URL gets
    at most ``per_endpoint`` requests at once from the dispatcher, far below a pool's size.
    """

    def __init__(
        self,
        timeout: float,
        allow_private: bool,
        *,
        allow_link_local: bool = False,
        max_connections: int = 208,
        shards: int = 16,
        user_agent: str = USER_AGENT,
    ) -> None:
        if timeout <= 0:
            raise ValueError("webhook timeout must be positive")
        if shards < 1 or max_connections < shards:
            raise ValueError("webhook pools: shards >= 1 and max_connections >= shards")
        self.timeout = timeout
        self.allow_private = allow_private
        self.allow_link_local = allow_link_local
        self.user_agent = user_agent
        per_shard = max_connections // shards
        self._limits = httpx.Limits(
            max_connections=per_shard,
            max_keepalive_connections=per_shard,
            keepalive_expiry=KEEPALIVE_S,
        )
        self._clients: list[httpx.AsyncClient | None] = [None] * shards
        self._ssl: ssl.SSLContext | None = None

    def _client_for(self, url: str) -> httpx.AsyncClient:
        index = zlib.crc32(url.encode("utf-8", "surrogatepass")) % len(self._clients)
        client = self._clients[index]
        if client is None:
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context(trust_env=False)
            client = self._clients[index] = httpx.AsyncClient(
                transport=pinned_transport(
                    allow_private=self.allow_private,
                    allow_link_local=self.allow_link_local,
                    limits=self._limits,
                    ssl_context=self._ssl,
                ),
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                trust_env=False,
                headers={"user-agent": self.user_agent, "accept-encoding": "identity"},
            )
        return client

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookSender:
        return cls(
            timeout=settings.webhook_timeout,
            allow_private=settings.webhook_allow_private,
            allow_link_local=settings.webhook_allow_link_local,
        )

    async def __aenter__(self) -> WebhookSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = self._clients, [None] * len(self._clients)
        for client in clients:
            if client is not None:
                await client.aclose()

    async def send(
        self, url: str, msg_id: str, body: bytes, secret: str | Sequence[str]
    ) -> SendResult:
        """POST ``body`` to ``url`` signed for this attempt (with each secret given: during a
        rotation the new and the old one); never raises for delivery errors."""
        try:
            headers = signing.headers(secret, msg_id, body)
        except InputError as exc:  # a malformed secret
            return SendResult(False, False, None, str(exc), None, 0)
        result, _content = await self.post(url, body, headers)
        return result

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[SendResult, bytes]:
        """POST ``body`` to ``url`` (SSRF-checked, the address pinned, no redirects, the whole
        attempt within ``timeout``): the outcome classified by HTTP status, and the start of
        the answer's body (for platforms that answer 200 with an error code inside). Never
        raises for delivery errors."""
        started = time.perf_counter()

        def result(
            ok: bool,
            retriable: bool,
            error: str | None,
            status: int | None = None,
            retry_after: float | None = None,
        ) -> SendResult:
            elapsed = (time.perf_counter() - started) * 1000.0
            return SendResult(ok, retriable, status, error, retry_after, round(elapsed, 3))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            async with asyncio.timeout_at(deadline):
                await ssrf.check_url(
                    url, allow_private=self.allow_private, allow_link_local=self.allow_link_local
                )
                client = self._client_for(url)
                request = client.build_request(
                    "POST", url.strip(), content=body, headers=dict(headers)
                )
                response = await client.send(request, stream=True)
        except InputError as exc:  # includes SsrfRefused
            return result(False, False, str(exc)), b""
        except TransientError as exc:
            return result(False, True, str(exc)), b""
        except (TimeoutError, httpx.TimeoutException):
            return result(False, True, f"timed out after {self.timeout:g}s"), b""
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return result(False, False, f"bad webhook URL: {exc}"), b""
        except httpx.TransportError as exc:
            return result(False, True, f"{type(exc).__name__}: {exc}".rstrip(": ")), b""

        status = response.status_code
        try:
            remaining = max(0.5, deadline - loop.time())
            async with asyncio.timeout(remaining):
                content = await _read_capped(response, MAX_RESPONSE_BYTES)
        except (TimeoutError, httpx.HTTPError):
            content = b""
        finally:
            await response.aclose()

        snippet = _snippet(content)
        outcome = self._classify(status, response, snippet, result)
        outcome.body_excerpt = snippet or None
        return outcome, content

    @staticmethod
    def _classify(
        status: int,
        response: httpx.Response,
        snippet: str,
        result: Callable[..., SendResult],
    ) -> SendResult:
        if 200 <= status < 300:
            return result(True, False, None, status)
        detail = _status_text(status)
        if 300 <= status < 400:
            location = response.headers.get("location", "")
            error = f"HTTP {detail}: redirect not followed"
            error += f" (Location: {location[:ERROR_SNIPPET]})" if location else ""
            return result(False, False, error, status)
        error = f"HTTP {detail}" + (f": {snippet}" if snippet else "")
        if status >= 500 or status in RETRIABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return result(False, True, error, status, retry_after)
        return result(False, False, error, status)
