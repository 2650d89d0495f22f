"""``/v1/channels``: chat targets added, listed (robot token masked, secret never shown, stored
encrypted), refused with the field named, and removed only by their subscriber."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.matcher.api import build_router as subscribers_router
from services.notifier.channels.base import Senders
from services.notifier.email import EmailSender
from services.notifier.targets import masked
from services.notifier.targets_api import build_targets_router
from services.notifier.webhook import WebhookSender
from shared.db import Database
from shared.settings import Settings
from tests.support.chat import FakeDingTalk

ROBOT = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(webhook_allow_private=True)
    app = FastAPI()
    app.state.db = db
    app.state.settings = settings
    http = WebhookSender(timeout=5, allow_private=True)
    smtp = EmailSender("127.0.0.1", 9, timeout=5)
    senders = Senders(db, settings, http, smtp)
    app.include_router(subscribers_router())
    app.include_router(build_targets_router(lambda: senders))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as client:
            yield client
    finally:
        await http.aclose()


async def subscribe(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    created = await client.post(
        "/v1/subscribers", json={"name": name, "email": f"{name.lower()}@example.com"}
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['api_key']}"}


async def test_a_target_is_added_listed_masked_and_removed(
    client: httpx.AsyncClient, db: Database
) -> None:
    me = await subscribe(client, "Risk")
    body = {"channel": "dingtalk", "address": ROBOT, "secret": "SECabc123", "keyword": "合规"}
    added = await client.post("/v1/channels", json=body, headers=me)
    assert added.status_code == 201, added.text
    target = added.json()
    assert target["has_secret"] is True and "secret" not in target
    assert target["address"].endswith("access_token=…cdef")
    second = await client.post(
        "/v1/channels", json={"channel": "dingtalk", "address": ROBOT + "99"}, headers=me
    )
    assert second.status_code == 201  # a second group on the same channel
    listed = (await client.get("/v1/channels", headers=me)).json()
    [own] = [t for t in listed if t["account"]]  # the account's own email address
    assert own["channel"] == "email" and own["address"] == "risk@example.com"
    chat = [t["id"] for t in listed if not t["account"]]
    assert chat == [target["id"], second.json()["id"]]
    assert "0123456789abcdef0123456789ab" not in str(listed)
    async with db.read_session() as session:
        stored = (await session.execute(text("SELECT secret FROM notifier_targets"))).all()
    assert {value for (value,) in stored if value} and all(
        value.startswith("fernet:") for (value,) in stored if value
    )
    again = await client.post("/v1/channels", json=body, headers=me)
    assert again.status_code == 422 and "already there" in again.json()["detail"]

    other = await subscribe(client, "Other")
    theirs = (await client.get("/v1/channels", headers=other)).json()
    assert [t["address"] for t in theirs] == ["other@example.com"]
    assert (await client.delete(f"/v1/channels/{target['id']}", headers=other)).status_code == 404
    assert (await client.delete(f"/v1/channels/{target['id']}", headers=me)).status_code == 204
    assert len((await client.get("/v1/channels", headers=me)).json()) == 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"channel": "pager", "address": ROBOT}, "unknown channel 'pager'"),
        ({"channel": "email", "address": ROBOT}, "invalid email address"),
        ({"channel": "email", "address": "ops@example.com", "secret": "s"}, "take no secret"),
        (
            {"channel": "webhook", "address": "https://h.example/x", "secret": "s"},
            "webhook secrets",
        ),
        ({"channel": "webhook", "address": "ftp://h.example/x"}, "http"),
        ({"channel": "dingtalk", "address": "ftp://x.example/r"}, "http"),
        ({"channel": "dingtalk", "address": ROBOT, "language": "fr"}, "language must be"),
    ],
)
async def test_bad_targets_are_refused_naming_the_problem(
    client: httpx.AsyncClient, body: dict[str, str], words: str
) -> None:
    me = await subscribe(client, "Risk")
    answer = await client.post("/v1/channels", json=body, headers=me)
    assert answer.status_code == 422
    assert words in answer.json()["detail"]


async def test_routes_need_an_api_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/channels")).status_code == 401
    assert (await client.post("/v1/channels", json={})).status_code == 401
    assert (await client.delete("/v1/channels/tgt_x")).status_code == 401


def test_token_like_parameters_are_masked_and_others_kept() -> None:
    assert (
        masked("https://h.example/send?key=abcdef123&x=1") == "https://h.example/send?key=…f123&x=1"
    )
    assert masked("https://h.example/hook/abc") == "https://h.example/hook/abc"


async def test_a_test_message_goes_out_signed_and_shows_the_platforms_answer(
    client: httpx.AsyncClient,
) -> None:
    me = await subscribe(client, "Risk")
    async with FakeDingTalk() as platform:
        robot = platform.robot("t-ok", secret="SECgood", keyword="regwatch")
        platform.robot("t-bad", secret="SECgood")
        good = await client.post(
            "/v1/channels",
            json={
                "channel": "dingtalk",
                "address": platform.url("t-ok"),
                "secret": "SECgood",
                "keyword": "regwatch",
            },
            headers=me,
        )
        bad = await client.post(
            "/v1/channels",
            json={"channel": "dingtalk", "address": platform.url("t-bad"), "secret": "SECwrong"},
            headers=me,
        )
        sent = await client.post(f"/v1/channels/{good.json()['id']}/test", headers=me)
        refused = await client.post(f"/v1/channels/{bad.json()['id']}/test", headers=me)
        other = await subscribe(client, "Other")
        hidden = await client.post(f"/v1/channels/{good.json()['id']}/test", headers=other)
    assert sent.status_code == 200 and sent.json()["ok"] is True
    [message] = robot.messages
    assert message["markdown"]["title"].startswith("regwatch")
    assert "测试消息" in message["markdown"]["text"]
    assert refused.json()["ok"] is False and "sign not match" in refused.json()["error"]
    assert hidden.status_code == 404


async def test_the_accounts_own_email_and_webhook_are_targets_that_follow_the_account(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post(
        "/v1/subscribers",
        json={"name": "Risk", "email": "risk@example.com", "webhook_url": "https://h.example/a"},
    )
    me = {"Authorization": f"Bearer {created.json()['api_key']}"}
    listed = (await client.get("/v1/channels", headers=me)).json()
    by_channel = {t["channel"]: t for t in listed}
    assert set(by_channel) == {"email", "webhook"} and all(t["account"] for t in listed)
    refused = await client.delete(f"/v1/channels/{by_channel['email']['id']}", headers=me)
    assert refused.status_code == 422 and "PATCH /v1/subscribers/me" in refused.json()["detail"]

    changed = await client.patch(
        "/v1/subscribers/me",
        json={"email": "legal@example.com", "webhook_url": None},
        headers=me,
    )
    assert changed.status_code == 200, changed.text
    [email] = (await client.get("/v1/channels", headers=me)).json()
    assert email["address"] == "legal@example.com"
    assert email["id"] == by_channel["email"]["id"]  # the same target, moved

    # an address added as a target and then made the account's own stays one target
    extra = await client.post(
        "/v1/channels", json={"channel": "webhook", "address": "https://h.example/b"}, headers=me
    )
    assert extra.status_code == 201, extra.text
    await client.patch(
        "/v1/subscribers/me", json={"webhook_url": "https://h.example/b"}, headers=me
    )
    hooks = [
        t
        for t in (await client.get("/v1/channels", headers=me)).json()
        if t["channel"] == "webhook"
    ]
    assert [(t["id"], t["account"]) for t in hooks] == [(extra.json()["id"], True)]
