"""Slack and Teams webhooks end to end against local stand-ins that check what the platforms
check (Block Kit limits, Adaptive Card shape and size, their paces): each alert once per hook,
a 105-app list within the limits, an archived channel failing for good, bursts kept to pace."""

from __future__ import annotations

from datetime import date

import pytest

from services.notifier.channels import slack, teams
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
from tests.support.chat import FakeSlack, FakeTeams, add_robot, rows_of
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver


def big_event(subscriber_id: str) -> object:
    event = match_event(subscriber_id, date(2099, 9, 1))
    event.notice.source_url = "https://www.cac.gov.cn/notice.html"
    event.matches = [
        Match(
            watch=WatchRef(kind="company", name="ByteDance"),
            entity=EntityRef(
                name=f"App number {n} <beta> & co", developer=f"Beijing Company {n} Ltd"
            ),
            score=0.9,
            reason="developer is a subsidiary of ByteDance (字节跳动)",
        )
        for n in range(105)
    ]
    return event


async def test_slack_gets_block_kit_within_its_limits_and_an_archived_channel_fails(
    db: Database,
) -> None:
    async with FakeSlack() as platform:
        ok = platform.robot("T1/B1/ok")
        platform.robot("T1/B2/archived")
        platform.gone.add("T1/B2/archived")
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, "slack", platform.url("T1/B1/ok"))
        await add_robot(db, subscriber_id, "slack", platform.url("T1/B2/archived"))
        await handle_match(db, SETTINGS, big_event(subscriber_id))  # type: ignore[arg-type]
        rows = await rows_of(db, "slack")
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for row in rows:
                gone = row.target.endswith("archived")
                await wait_status(db, row.id, "failed" if gone else "delivered", wait=20)
    [message] = ok.messages
    assert message["blocks"][0]["type"] == "header"
    text = "\n".join(b.get("text", {}).get("text", "") for b in message["blocks"])
    assert "App number 0 &lt;beta&gt; &amp; co" in text  # escaped, not a link or mention
    assert "App number 104" in text or "more" in text
    [failed] = [row for row in await rows_of(db, "slack") if row.status == "failed"]
    assert failed.last_error is not None and "410" in failed.last_error
    assert "channel_is_archived" in failed.last_error


async def test_teams_gets_an_adaptive_card_within_28_kb(db: Database) -> None:
    async with FakeTeams() as platform:
        hook = platform.robot("wf-risk")
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, "teams", platform.url("wf-risk"))
        await handle_match(db, SETTINGS, big_event(subscriber_id))  # type: ignore[arg-type]
        [row] = await rows_of(db, "teams")
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            await wait_status(db, row.id, "delivered", wait=20)
    [message] = hook.messages
    card = message["attachments"][0]["content"]
    texts = [block["text"] for block in card["body"]]
    assert texts[0] == "MIIT (工业和信息化部) named apps you watch"
    assert any("Deadline: 2099-09-01" in t for t in texts)
    assert any(t.startswith("1. App number 0") for t in texts)
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "The notice",
        "url": "https://www.cac.gov.cn/notice.html",
    }


@pytest.mark.parametrize(
    ("channel", "fake", "module"), [("slack", FakeSlack, slack), ("teams", FakeTeams, teams)]
)
async def test_a_burst_keeps_the_platforms_pace(
    db: Database, monkeypatch: pytest.MonkeyPatch, channel: str, fake: type, module: object
) -> None:
    monkeypatch.setattr(module, "RATE", Rate(1, 1.2))  # the fakes allow 1 (Slack) or 4 a second
    async with fake() as platform:
        hook = platform.robot("burst/hook/1")
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, channel, platform.url("burst/hook/1"))
        for n in range(4):
            event = match_event(subscriber_id, None)
            event.notice.notice_id = f"miit-pace-{n}"
            await handle_match(db, SETTINGS, event)
        rows = await rows_of(db, channel)
        async with SmtpReceiver() as smtp, running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            for row in rows:
                await wait_status(db, row.id, "delivered", wait=30)
    assert hook.refused == [] and len(hook.messages) == 4
