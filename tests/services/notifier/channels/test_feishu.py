"""Feishu bots end to end against a local Feishu that checks the signature, keyword, card
shape, size and both rates: each alert once per bot as a signed card, a wrong secret failing
for good with Feishu's words, a burst spread so Feishu never refuses it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date

import pytest

from services.notifier.channels import feishu
from services.notifier.channels.feishu import sign
from services.notifier.handler import handle_match
from services.notifier.ratelimit import Rate
from shared.db import Database
from shared.events import EntityRef, Match, WatchRef
from tests.services.notifier.test_dispatcher import (
    SETTINGS,
    running_dispatcher,
    subscribe,
    wait_status,
)
from tests.support.chat import FakeFeishu, add_robot, rows_of
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver


def test_the_signature_is_feishus() -> None:
    key = b"1599360473\nSECRET"
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert sign("SECRET", 1599360473) == expected


async def test_each_alert_is_one_signed_card_per_bot_within_20_kb(db: Database) -> None:
    async with FakeFeishu() as platform:
        signed = platform.robot("hook-signed", secret="s3cret", keyword="regwatch")
        wrong = platform.robot("hook-wrong", secret="the-real-one")
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(
            db,
            subscriber_id,
            "feishu",
            platform.url("hook-signed"),
            secret="s3cret",
            keyword="regwatch",
        )
        await add_robot(db, subscriber_id, "feishu", platform.url("hook-wrong"), secret="not-it")
        event = match_event(subscriber_id, date(2099, 9, 1))
        event.notice.source_url = "https://www.cac.gov.cn/notice.html"
        event.matches = [
            Match(
                watch=WatchRef(kind="company", name="腾讯"),
                entity=EntityRef(
                    name=f"腾讯应用{n}" * 3, developer=f"深圳市腾讯计算机系统有限公司{n}"
                ),
                score=0.9,
                reason="developer is a subsidiary of Tencent (腾讯)",
            )
            for n in range(400)
        ]
        await handle_match(db, SETTINGS, event)
        rows = await rows_of(db, "feishu")
        assert len(rows) == 2
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for row in rows:
                bad = row.target == platform.url("hook-wrong")
                await wait_status(db, row.id, "failed" if bad else "delivered", wait=20)
    [message] = signed.messages
    assert len(json.dumps(message, ensure_ascii=False).encode()) <= 20_000
    header = message["card"]["header"]["title"]["content"]
    assert header.startswith("regwatch") and "工业和信息化部" in header
    markdown = message["card"]["elements"][0]["text"]["content"]
    assert "腾讯应用0" in markdown and "另有" in markdown
    [buttons] = [e["actions"] for e in message["card"]["elements"] if e["tag"] == "action"]
    assert buttons[0]["url"] == "https://www.cac.gov.cn/notice.html"
    assert wrong.refused and wrong.refused[0][0] == 19021
    [failed] = [row for row in await rows_of(db, "feishu") if row.status == "failed"]
    assert (
        failed.last_error is not None
        and "19021" in failed.last_error
        and "clock" in failed.last_error
    )


async def test_a_burst_keeps_both_rates(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feishu, "RATES", (Rate(2, 1.2), Rate(5, 3.2)))  # scaled down in time
    async with FakeFeishu() as platform:
        bot = platform.robot("hook-busy", per_second=2, per_minute=5, window=3.0)
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, "feishu", platform.url("hook-busy"))
        for n in range(8):
            event = match_event(subscriber_id, None)
            event.notice.notice_id = f"cac-burst-{n}"
            await handle_match(db, SETTINGS, event)
        rows = await rows_of(db, "feishu")
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for row in rows:
                await wait_status(db, row.id, "delivered", wait=30)
    assert bot.refused == [] and len(bot.messages) == 8
