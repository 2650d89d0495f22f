"""WeCom group robots end to end against a local WeCom that checks the key, the message shape
and size, and the rate: each alert once per robot within 4096 bytes, a removed robot failing
for good, a burst spread so WeCom never refuses it."""

from __future__ import annotations

from datetime import date

import pytest

from services.notifier.channels import wecom
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
from tests.support.chat import FakeWeCom, add_robot, rows_of
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver


async def test_each_alert_reaches_each_robot_once_and_fits(db: Database) -> None:
    async with FakeWeCom() as platform:
        ops = platform.robot("key-ops")
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, "wecom", platform.url("key-ops"), language="en")
        await add_robot(
            db, subscriber_id, "wecom", platform.url("key-removed")
        )  # not a robot (any more)
        event = match_event(subscriber_id, date(2099, 9, 1))
        event.matches = [  # a CAC-sized list: 105 apps
            Match(
                watch=WatchRef(kind="company", name="某某集团"),
                entity=EntityRef(name=f"应用{n}", developer=f"某某集团子公司{n}有限公司"),
                score=0.9,
                reason="developer is a subsidiary of 某某集团",
            )
            for n in range(105)
        ]
        await handle_match(db, SETTINGS, event)
        rows = await rows_of(db, "wecom")
        assert len(rows) == 2
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for row in rows:
                gone = row.target == platform.url("key-removed")
                await wait_status(db, row.id, "failed" if gone else "delivered", wait=20)
    [message] = ops.messages
    content = message["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "named apps you watch" in content and "应用0" in content
    assert "more: see the notice" in content  # the rest of the 105, counted
    [failed] = [row for row in await rows_of(db, "wecom") if row.status == "failed"]
    assert failed.last_error is not None and "93000" in failed.last_error
    assert "gone" in failed.last_error


async def test_a_burst_is_spread_over_the_robots_rate(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wecom, "RATE", Rate(3, 1.2))  # 20 a minute, scaled down in time
    async with FakeWeCom() as platform:
        robot = platform.robot("key-busy", per_minute=3, window=1.0)
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, "wecom", platform.url("key-busy"))
        for n in range(8):
            event = match_event(subscriber_id, None)
            event.notice.notice_id = f"miit-burst-{n}"
            await handle_match(db, SETTINGS, event)
        rows = await rows_of(db, "wecom")
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for row in rows:
                await wait_status(db, row.id, "delivered", wait=30)
    assert robot.refused == [] and len(robot.messages) == 8
