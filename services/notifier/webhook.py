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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING

from services.notifier import signing
from shared.errors import InputError, TransientError

if TYPE_CHECKING:
    import aiohttp

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


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of the body, as sent (never decompressed)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class WebhookSender:
    """Sends signed webhooks; safe to use concurrently.

    One aiohttp session holds every connection (at most ``max_connections``, looked up by
    host and port, idle ones closed after ``KEEPALIVE_S``), made at the first request; its
    connections go only to checked addresses (:mod:`shared.pinned_aiohttp`). A URL gets at
    most ``per_endpoint`` requests at once from the dispatcher, far below the limit. No
    cookies are kept: one receiver's cookie is never sent to another.
    """

    def __init__(
        self,
        timeout: float,
        allow_private: bool,
        *,
        allow_link_local: bool = False,
        max_connections: int = 208,
        user_agent: str = USER_AGENT,
    ) -> None:
        if timeout <= 0:
            raise ValueError("webhook timeout must be positive")
        if max_connections < 1:
            raise ValueError("webhook connections: max_connections >= 1")
        self.timeout = timeout
        self.allow_private = allow_private
        self.allow_link_local = allow_link_local
        self.user_agent = user_agent
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            import aiohttp

            from shared.pinned_aiohttp import pinned_connector

            self._session = aiohttp.ClientSession(
                connector=pinned_connector(
                    allow_private=self.allow_private,
                    allow_link_local=self.allow_link_local,
                    limit=self.max_connections,
                    keepalive_s=KEEPALIVE_S,
                ),
                timeout=aiohttp.ClientTimeout(total=None),  # the attempt's own deadline
                headers={"user-agent": self.user_agent, "accept-encoding": "identity"},
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
            )
        return self._session

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
        session, self._session = self._session, None
        if session is not None:
            await session.close()

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

        # imported at the first request, not with the notifier: aiohttp takes 0.15-0.3 s of
        # CPU to import, on the way to `regwatch run` being ready
        import aiohttp

        from shared.pinned_aiohttp import target

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            url_checked = target(
                url, allow_private=self.allow_private, allow_link_local=self.allow_link_local
            )
            async with asyncio.timeout_at(deadline):
                response = await self._client().post(
                    url_checked, data=body, headers=dict(headers), allow_redirects=False
                )
        except InputError as exc:  # includes SsrfRefused, from the check or the resolver
            return result(False, False, str(exc)), b""
        except TransientError as exc:
            return result(False, True, str(exc)), b""
        except TimeoutError:
            return result(False, True, f"timed out after {self.timeout:g}s"), b""
        except (aiohttp.InvalidURL, ValueError) as exc:
            return result(False, False, f"bad webhook URL: {exc}"), b""
        except aiohttp.ClientError as exc:
            return result(False, True, f"{type(exc).__name__}: {exc}".rstrip(": ")), b""

        status = response.status
        try:
            remaining = max(0.5, deadline - loop.time())
            async with asyncio.timeout(remaining):
                content = await _read_capped(response, MAX_RESPONSE_BYTES)
        except (TimeoutError, aiohttp.ClientError):
            content = b""
        finally:
            response.release()

        snippet = _snippet(content)
        outcome = self._classify(status, response, snippet, result)
        outcome.body_excerpt = snippet or None
        return outcome, content

    @staticmethod
    def _classify(
        status: int,
        response: aiohttp.ClientResponse,
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
