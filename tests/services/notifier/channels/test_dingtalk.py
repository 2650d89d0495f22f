"""DingTalk robots end to end against a local DingTalk that checks signatures, keywords, JSON
shape and the rate: each alert once per robot, signed where the robot signs, a wrong secret
failing for good with DingTalk's words, and a burst spread so the robot is never blocked."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import select, text

from services.notifier.channels import dingtalk
from services.notifier.channels.dingtalk import answer, sign, signed_url
from services.notifier.handler import handle_match
from services.notifier.models import DeliveryRow
from services.notifier.ratelimit import Rate
from services.notifier.webhook import SendResult
from shared.db import Database
from tests.services.notifier.test_dispatcher import (
    SETTINGS,
    running_dispatcher,
    subscribe,
    wait_status,
)
from tests.support.chat import FakeDingTalk, add_robot, rows_of
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver


def test_the_signature_is_dingtalks() -> None:
    secret, stamp = "SEC0123456789abcdef", 1764662400000
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert unquote_plus(sign(secret, stamp)) == expected
    url = signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, stamp)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=")
    assert signed_url("https://x.example/hook", None, stamp) == "https://x.example/hook"


@pytest.mark.parametrize(
    ("body", "ok", "retriable", "words"),
    [
        (b'{"errcode":0,"errmsg":"ok"}', True, False, None),
        (b'{"errcode":130101,"errmsg":"send too fast"}', False, True, "130101"),
        (b'{"errcode":310000,"errmsg":"sign not match"}', False, False, "sign not match"),
        (b'{"errcode":300001,"errmsg":"token is not exist"}', False, False, "gone"),
        (b'{"errcode":42,"errmsg":"something new"}', False, False, "DingTalk 42: something new"),
        (b"<html>busy</html>", False, True, "no JSON"),
    ],
)
def test_answers_are_read_by_their_errcode(
    body: bytes, ok: bool, retriable: bool, words: str | None
) -> None:
    outcome = answer(SendResult(True, False, 200, None, None, 1.0), body)
    assert (outcome.ok, outcome.retriable) == (ok, retriable)
    if words:
        assert outcome.error is not None and words in outcome.error
    if b"130101" in body:
        assert outcome.retry_after == dingtalk.BLOCKED_FOR


async def test_each_alert_reaches_each_robot_once_signed_where_it_signs(db: Database) -> None:
    async with FakeDingTalk() as platform:
        signed = platform.robot("t-signed", secret="SECsecret-one", keyword="合规")
        plain = platform.robot("t-plain")
        wrong = platform.robot("t-wrong", secret="SECthe-real-one")
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(
            db,
            subscriber_id,
            "dingtalk",
            platform.url("t-signed"),
            secret="SECsecret-one",
            keyword="合规",
        )
        await add_robot(db, subscriber_id, "dingtalk", platform.url("t-plain"), language="en")
        await add_robot(db, subscriber_id, "dingtalk", platform.url("t-wrong"), secret="SECnot-it")
        async with db.read_session() as session:  # the secret is not stored as given
            stored = (await session.execute(text("SELECT secret FROM notifier_targets"))).all()
        assert all(value is None or value.startswith("fernet:") for (value,) in stored)
        for n in range(2):
            event = match_event(subscriber_id, datetime(2099, 9, 1).date())
            event.notice.notice_id = f"cac-batch-{n}"
            await handle_match(db, SETTINGS, event)
        rows = await rows_of(db, "dingtalk")
        assert len(rows) == 6  # two alerts x three robots, each its own id
        assert len({row.id for row in rows}) == 6
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for row in rows:
                expected = "failed" if row.target == platform.url("t-wrong") else "delivered"
                await wait_status(db, row.id, expected, wait=20)
    assert len(signed.messages) == 2 and len(plain.messages) == 2 and not wrong.messages
    assert wrong.refused == [(310000, "sign not match")] * 2  # tried once each: not retried
    first = signed.messages[0]["markdown"]
    assert first["title"].startswith("合规")
    assert "抖音" in first["text"] and "2099-09-01" in first["text"]
    assert "named apps you watch" in plain.messages[0]["markdown"]["title"]
    async with db.read_session() as session:
        failed = (
            await session.scalars(
                select(DeliveryRow.last_error).where(DeliveryRow.status == "failed")
            )
        ).all()
    assert all("sign not match" in (error or "") for error in failed)


async def test_a_burst_is_spread_over_the_robots_rate_none_lost_none_twice(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dingtalk, "RATE", Rate(3, 1.2))  # 20 a minute, scaled down in time
    async with FakeDingTalk() as platform:
        robot = platform.robot("t-busy", per_minute=3, window=1.0)
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, "dingtalk", platform.url("t-busy"))
        for n in range(10):
            event = match_event(subscriber_id, None)
            event.notice.notice_id = f"miit-burst-{n}"
            event.notice.title = f"第{n}批 APP 通报"
            await handle_match(db, SETTINGS, event)
        wanted = {row.id for row in await rows_of(db, "dingtalk")}
        assert len(wanted) == 10
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for delivery in wanted:
                await wait_status(db, delivery, "delivered", wait=30)
    assert robot.refused == []  # never over the platform's rate, so never blocked
    said = sorted(m["markdown"]["text"].split("**")[1] for m in robot.messages)
    assert said == sorted(f"第{n}批 APP 通报" for n in range(10))  # each once
