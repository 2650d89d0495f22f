"""Webhook sender against a real HTTP server (tests/support/receivers.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohappyeyeballs
import pytest
from standardwebhooks.webhooks import Webhook

from services.notifier import signing
from services.notifier.payloads import delivery_id, webhook_body
from services.notifier.webhook import SendResult, WebhookSender, parse_retry_after
from shared import ssrf
from shared.settings import Settings
from tests.support.receivers import Reply, WebhookReceiver

SECRET = signing.new_secret()
BODY = webhook_body("notice.matched", {"notice": {"title": "抖音"}}, datetime.now(UTC))
MSG_ID = delivery_id("sub-1", "notice-1", "notice.matched", "webhook")


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    async with WebhookSender(timeout=2.0, allow_private=True) as client:
        yield client


async def test_200_is_ok_and_verifiable(sender: WebhookSender) -> None:
    async with WebhookReceiver() as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
        assert result == SendResult(True, False, 200, None, None, result.duration_ms)
        (request,) = await hooks.wait_for(1)
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.body == BODY
    assert request.webhook_id == MSG_ID
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("regwatch")
    assert Webhook(SECRET).verify(request.body, request.headers) == json.loads(BODY)
    assert result.duration_ms > 0


async def test_retries_keep_id_and_body_and_are_signed_fresh(sender: WebhookSender) -> None:
    async with WebhookReceiver(plan=[503, 503, 200]) as hooks:
        results = [await sender.send(hooks.url, MSG_ID, BODY, SECRET) for _ in range(3)]
        requests = await hooks.wait_for(3)
    assert [(r.ok, r.retriable, r.status_code) for r in results] == [
        (False, True, 503),
        (False, True, 503),
        (True, False, 200),
    ]
    assert {r.webhook_id for r in requests} == {MSG_ID}
    assert {r.body for r in requests} == {BODY}
    for request in requests:
        Webhook(SECRET).verify(request.body, request.headers)


async def test_per_id_plans(sender: WebhookSender) -> None:
    async with WebhookReceiver(plans={"msg_a": [500]}) as hooks:
        first = await sender.send(hooks.url, "msg_a", BODY, SECRET)
        other = await sender.send(hooks.url, "msg_b", BODY, SECRET)
        again = await sender.send(hooks.url, "msg_a", BODY, SECRET)
    assert (first.retriable, other.ok, again.ok) == (True, True, True)
    assert len(hooks.for_id("msg_a")) == 2


async def test_503_is_retriable_with_a_short_error(sender: WebhookSender) -> None:
    reply = Reply(503, body=b"upstream down\n" + b"x" * 200_000)
    async with WebhookReceiver(plan=[reply]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert (result.ok, result.retriable, result.status_code) == (False, True, 503)
    assert result.error is not None
    assert result.error.startswith("HTTP 503 Service Unavailable: upstream down")
    assert len(result.error) < 300


@pytest.mark.parametrize("status", [500, 502, 504, 408, 429])
async def test_retriable_statuses(sender: WebhookSender, status: int) -> None:
    async with WebhookReceiver(plan=[status]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert (result.ok, result.retriable, result.status_code) == (False, True, status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
async def test_other_4xx_are_permanent(sender: WebhookSender, status: int) -> None:
    async with WebhookReceiver(plan=[status]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert (result.ok, result.retriable, result.status_code) == (False, False, status)
    assert result.permanent


async def test_410_gone_is_permanent(sender: WebhookSender) -> None:
    async with WebhookReceiver(plan=[Reply(410, body=b"endpoint removed")]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert result.permanent
    assert result.error == "HTTP 410 Gone: endpoint removed"


async def test_429_retry_after_seconds(sender: WebhookSender) -> None:
    async with WebhookReceiver(plan=[Reply(429, headers={"Retry-After": "120"})]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert (result.retriable, result.status_code, result.retry_after) == (True, 429, 120.0)


async def test_429_retry_after_http_date(sender: WebhookSender) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    async with WebhookReceiver(plan=[Reply(429, headers={"Retry-After": later})]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert result.retriable
    assert result.retry_after is not None and 590 <= result.retry_after <= 600


async def test_503_retry_after_is_reported(sender: WebhookSender) -> None:
    async with WebhookReceiver(plan=[Reply(503, headers={"retry-after": "7"})]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert result.retry_after == 7.0


async def test_timeout_is_retriable() -> None:
    async with (
        WebhookReceiver(hang=True) as hooks,
        WebhookSender(timeout=0.5, allow_private=True) as sender,
    ):
        started = time.monotonic()
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
        elapsed = time.monotonic() - started
        await hooks.wait_for(1)
    assert (result.ok, result.retriable, result.status_code) == (False, True, None)
    assert result.error == "timed out after 0.5s"
    assert elapsed < 2.0


async def test_slow_answer_within_timeout_is_ok() -> None:
    async with (
        WebhookReceiver(plan=[Reply(204, delay=0.2)]) as hooks,
        WebhookSender(timeout=2.0, allow_private=True) as sender,
    ):
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert (result.ok, result.status_code) == (True, 204)
    assert result.duration_ms >= 200


async def test_dropped_connection_is_retriable(sender: WebhookSender) -> None:
    async with WebhookReceiver(plan=[Reply(drop=True)]) as hooks:
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
    assert (result.ok, result.retriable, result.status_code) == (False, True, None)
    assert result.error


async def test_connection_refused_is_retriable(sender: WebhookSender) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    result = await sender.send(f"http://127.0.0.1:{port}/hook", MSG_ID, BODY, SECRET)
    assert (result.ok, result.retriable) == (False, True)
    assert result.error is not None and "Connect" in result.error


async def test_redirect_is_not_followed(sender: WebhookSender) -> None:
    async with WebhookReceiver() as hooks:
        hooks.set_plan([Reply(302, headers={"Location": hooks.base_url + "/elsewhere"})])
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
        await hooks.wait_for(1)
    assert (result.ok, result.retriable, result.status_code) == (False, False, 302)
    assert result.error is not None and "redirect not followed" in result.error
    assert [r.path for r in hooks.requests] == ["/hook"]


async def test_private_address_refused_without_a_request() -> None:
    async with (
        WebhookReceiver() as hooks,
        WebhookSender(timeout=2.0, allow_private=False) as sender,
    ):
        result = await sender.send(hooks.url, MSG_ID, BODY, SECRET)
        assert hooks.requests == []
    assert (result.ok, result.retriable, result.status_code) == (False, False, None)
    assert result.error is not None and "127.0.0.1 is a loopback address" in result.error


async def test_a_name_is_resolved_once_and_refused_at_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One of the name's addresses is loopback: refused without a request, and the name was
    resolved once (the check and the connection use the same answer, so a DNS answer that
    changes in between cannot slip through)."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[ssrf.IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    async with (
        WebhookReceiver() as hooks,
        WebhookSender(timeout=2.0, allow_private=False) as sender,
    ):
        result = await sender.send(f"http://rebind.test:{hooks.port}/hook", MSG_ID, BODY, SECRET)
        assert hooks.requests == []
    assert result.permanent
    assert result.error is not None and "127.0.0.1 is a loopback address" in result.error
    assert calls == ["rebind.test"]


async def test_guarded_connection_uses_the_checked_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the address policy relaxed, the guarded client reaches the vetted IP and still
    sends the original host name."""
    monkeypatch.setattr(ssrf, "refusal_reason", lambda address: None)
    async with (
        WebhookReceiver() as hooks,
        WebhookSender(timeout=2.0, allow_private=False) as sender,
    ):
        result = await sender.send(f"http://localhost:{hooks.port}/hook", MSG_ID, BODY, SECRET)
        (request,) = await hooks.wait_for(1)
    assert result.ok
    assert request.headers["host"] == f"localhost:{hooks.port}"


async def test_input_problems_are_permanent(sender: WebhookSender) -> None:
    bad_url = await sender.send("ftp://example.com/x", MSG_ID, BODY, SECRET)
    assert bad_url.permanent and bad_url.error is not None and "scheme" in bad_url.error
    async with WebhookReceiver() as hooks:
        bad_secret = await sender.send(hooks.url, MSG_ID, BODY, "whsec_!!!")
        assert hooks.requests == []
    assert bad_secret.permanent and bad_secret.error is not None and "secret" in bad_secret.error


async def test_legacy_numeric_hosts_are_permanent(sender: WebhookSender) -> None:
    """``http://2130706433/`` would reach 127.0.0.1 through a resolver: never sent."""
    for url in ("http://2130706433/hook", "http://127.1/hook"):
        result = await sender.send(url, MSG_ID, BODY, SECRET)
        assert result.permanent and result.error is not None
        assert result.error.startswith("bad webhook URL")


async def test_concurrent_sends_share_the_client(sender: WebhookSender) -> None:
    async with WebhookReceiver() as hooks:
        results = await asyncio.gather(
            *(sender.send(hooks.url, f"msg_{i}", BODY, SECRET) for i in range(20))
        )
        await hooks.wait_for(20)
    assert all(result.ok for result in results)


async def test_many_urls_at_once_through_few_connections_each_arrive_once() -> None:
    """Sixty URLs at once through at most 4 connections: requests wait for a connection,
    each webhook arrives once with its own signature, and closing the sender closes them."""
    async with (
        WebhookReceiver() as hooks,
        WebhookSender(timeout=5.0, allow_private=True, max_connections=4) as sender,
    ):
        urls = [f"{hooks.url}/{n}" for n in range(60)]
        results = await asyncio.gather(
            *(sender.send(url, f"msg_{n}", BODY, SECRET) for n, url in enumerate(urls))
        )
        await hooks.wait_for(60)
        session = sender._session
        assert session is not None and session.connector is not None
        assert session.connector.limit == 4
    assert all(result.ok for result in results)
    assert sorted(r.webhook_id or "" for r in hooks.requests) == sorted(
        f"msg_{n}" for n in range(60)
    )
    for request in hooks.requests:
        Webhook(SECRET).verify(request.body, request.headers)
    assert session.closed and sender._session is None


async def test_cookies_set_by_one_receiver_are_never_sent(sender: WebhookSender) -> None:
    async with WebhookReceiver(
        [Reply(200, headers={"set-cookie": "session=abc; Path=/"})]
    ) as hooks:
        assert (await sender.send(hooks.url, "msg_1", BODY, SECRET)).ok
        assert (await sender.send(hooks.url, "msg_2", BODY, SECRET)).ok
        _first, second = await hooks.wait_for(2)
    assert "cookie" not in second.headers


def test_connections_need_a_positive_limit() -> None:
    with pytest.raises(ValueError, match="max_connections >= 1"):
        WebhookSender(timeout=1.0, allow_private=True, max_connections=0)


def test_parse_retry_after() -> None:
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("Mon, 01 Jan 2024 12:02:00 GMT", now) == 120.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now) == 0.0


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """TCP connections go to loopback only: any other address is recorded and refused here,
    so a guard that failed could not reach a real metadata endpoint either."""
    real = aiohappyeyeballs.start_connection
    refused: list[str] = []

    async def start_connection(addr_infos: list[Any], **kwargs: Any) -> socket.socket:
        for *_info, sockaddr in addr_infos:
            if not ipaddress.ip_address(sockaddr[0]).is_loopback:
                refused.append(str(sockaddr[0]))
                raise ConnectionRefusedError(f"test: no connections to {sockaddr[0]}")
        return await real(addr_infos, **kwargs)

    monkeypatch.setattr(aiohappyeyeballs, "start_connection", start_connection)
    return refused


METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://169.254.1.2:8080/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
]


@pytest.mark.parametrize("url", METADATA_URLS)
@pytest.mark.parametrize("allow_private", [False, True])
async def test_link_local_and_metadata_refused_whatever_allow_private(
    url: str, allow_private: bool, loopback_only: list[str]
) -> None:
    """Webhooks and chat targets (which post through ``WebhookSender.post``) alike."""
    async with WebhookSender(timeout=2.0, allow_private=allow_private) as sender:
        result = await sender.send(url, MSG_ID, BODY, SECRET)
        chat, _answer = await sender.post(url, b"{}", {"content-type": "application/json"})
    for outcome in (result, chat):
        assert outcome.permanent
        assert outcome.error is not None
        assert "REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL=true" in outcome.error
    assert loopback_only == []


async def test_a_name_resolving_to_metadata_is_refused_at_connect(
    monkeypatch: pytest.MonkeyPatch, loopback_only: list[str]
) -> None:
    """With private targets allowed, a name whose answer is a metadata address is refused
    when the connection is made, and nothing connects there."""

    async def resolve(host: str, port: int) -> list[ssrf.IPAddress]:
        return [ipaddress.ip_address("169.254.169.254")]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    async with (
        WebhookReceiver() as hooks,
        WebhookSender(timeout=2.0, allow_private=True) as sender,
    ):
        result = await sender.send(f"http://rebind.test:{hooks.port}/hook", MSG_ID, BODY, SECRET)
        assert hooks.requests == []
    assert result.permanent
    assert result.error is not None and "cloud metadata" in result.error
    assert loopback_only == []


async def test_the_link_local_setting_lets_requests_through(loopback_only: list[str]) -> None:
    async with WebhookSender(timeout=2.0, allow_private=True, allow_link_local=True) as sender:
        result = await sender.send(METADATA_URLS[0], MSG_ID, BODY, SECRET)
    assert result.retriable  # a connection error: the request was on its way
    assert loopback_only == ["169.254.169.254"]


async def test_the_settings_reach_the_sender() -> None:
    for private, link_local in ((True, False), (True, True), (False, False)):
        settings = Settings(webhook_allow_private=private, webhook_allow_link_local=link_local)
        async with WebhookSender.from_settings(settings) as sender:
            assert (sender.allow_private, sender.allow_link_local) == (private, link_local)
