"""Fetching feeds and the notices they list: httpx with a timeout, a size limit, conditional
GET, redirects followed by hand (each hop checked), and no private addresses unless allowed.

Every connection (the feed, each notice page, each attachment and list image, each redirect
hop) goes through :func:`shared.pinned_http.pinned_transport`: it is opened to an address that
was checked at connect time, so a DNS answer that changes after :meth:`Fetcher.check` (DNS
rebinding) cannot reach an internal address.

Failures raise ``TransientError`` (worth another try: timeouts, connection errors, 5xx, 408,
429) or ``InputError`` (will not get better by itself: 4xx, refused address, too large).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

import httpx

from shared.errors import InputError, RegwatchError, TransientError
from shared.pinned_http import pinned_transport
from shared.settings import Settings
from shared.ssrf import check_url

MAX_REDIRECTS = 5
USER_AGENT = "regwatch/0.1 (notice feeds)"
RETRIED_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Fetched:
    status: int
    """200, or 304 when the conditional GET found nothing new."""
    url: str
    """The URL finally read (after redirects)."""
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


def _feed_wording(exc: RegwatchError) -> str:
    """The SSRF guard speaks of webhooks; here it guards feeds."""
    return (
        str(exc)
        .replace("webhook URL", "feed URL")
        .replace("webhook host", "feed host")
        .replace("REGWATCH_WEBHOOK_ALLOW_PRIVATE", "REGWATCH_FEEDS_ALLOW_PRIVATE")
        .replace("REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL", "REGWATCH_FEEDS_ALLOW_LINK_LOCAL")
    )


class Fetcher:
    def __init__(
        self,
        *,
        timeout: float,
        max_bytes: int,
        allow_private: bool,
        allow_link_local: bool = False,
    ) -> None:
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.allow_link_local = allow_link_local
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT, "accept-language": "zh-CN,zh;q=0.9,en;q=0.5"},
            transport=pinned_transport(
                allow_private=allow_private, allow_link_local=allow_link_local
            ),
            trust_env=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        """Timeout ``REGWATCH_FEED_TIMEOUT``, size limit ``REGWATCH_MAX_NOTICE_BYTES``, private
        addresses only with ``REGWATCH_FEEDS_ALLOW_PRIVATE`` (link-local and cloud metadata
        ones only with ``REGWATCH_FEEDS_ALLOW_LINK_LOCAL`` as well)."""
        return cls(
            timeout=settings.feed_timeout,
            max_bytes=settings.max_notice_bytes,
            allow_private=settings.feeds_allow_private,
            allow_link_local=settings.feeds_allow_link_local,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def check(self, url: str) -> None:
        try:
            await check_url(
                url, allow_private=self.allow_private, allow_link_local=self.allow_link_local
            )
        except (InputError, TransientError) as exc:
            raise type(exc)(_feed_wording(exc)) from None

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> Fetched:
        """``max_bytes`` replaces the fetcher's size limit for this request (attachments)."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        headers: dict[str, str] = {}
        if etag:
            headers["if-none-match"] = etag
        if last_modified:
            headers["if-modified-since"] = last_modified
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            await self.check(current)
            try:
                fetched = await self._once(current, headers, limit)
            except httpx.TimeoutException:
                raise TransientError(f"{current}: timed out") from None
            except httpx.HTTPError as exc:
                reason = str(exc) or type(exc).__name__
                raise TransientError(f"{current}: cannot fetch ({reason})") from None
            if isinstance(fetched, str):
                current = fetched
                continue
            return fetched
        raise InputError(f"{url}: more than {MAX_REDIRECTS} redirects")

    async def _once(self, url: str, headers: dict[str, str], limit: int) -> Fetched | str:
        """The response, or the URL a redirect points to."""
        request = self.client.build_request("GET", url, headers=headers)
        try:
            response = await self.client.send(request, stream=True)
        except (InputError, TransientError) as exc:  # refused or unresolved at connect time
            raise type(exc)(_feed_wording(exc)) from None
        try:
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    raise InputError(f"{url}: HTTP {status} redirect without a Location")
                return str(response.url.join(location))
            if status == 304:
                return self._fetched(response, b"")
            if status >= 500 or status in RETRIED_STATUS:
                raise TransientError(f"{url}: HTTP {status} {response.reason_phrase}".rstrip())
            if status != 200:
                raise InputError(f"{url}: HTTP {status} {response.reason_phrase}".rstrip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise InputError(f"{url}: {declared} bytes, over the limit of {limit}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise InputError(f"{url}: over the limit of {limit} bytes")
                chunks.append(chunk)
            return self._fetched(response, b"".join(chunks))
        finally:
            await response.aclose()

    @staticmethod
    def _fetched(response: httpx.Response, body: bytes) -> Fetched:
        return Fetched(
            status=response.status_code,
            url=str(response.url),
            body=body,
            content_type=response.headers.get("content-type", ""),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )
