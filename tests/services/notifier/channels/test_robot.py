"""What every chat channel does the same way (``channels/robot.py``), on each platform's local
stand-in: a delivery whose target was removed while it was being sent (``DELETE
/v1/channels/{id}`` cancels only what still waits) fails for good saying so, and nothing reaches
the platform."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.notifier.channels.robot import TARGET_REMOVED
from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.ledger import utc_now
from services.notifier.preferences import PreferenceChanges, apply_changes, get_preferences
from services.notifier.targets import chat_channels, remove_target
from services.notifier.webhook import WebhookSender
from shared.db import Database
from tests.services.notifier.test_dispatcher import (
    SETTINGS,
    running_dispatcher,
    subscribe,
    wait_status,
)
from tests.support.chat import FAKES, FakeSlack, add_robot, rows_of
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver


@pytest.fixture
async def dispatcher(db: Database) -> AsyncIterator[Dispatcher]:
    """A dispatcher that is not running: the test claims, sends and records by hand."""
    webhooks = WebhookSender(timeout=SETTINGS.webhook_timeout, allow_private=True)
    email = EmailSender(
        host="127.0.0.1", port=1, username=None, password=None, tls="none", timeout=5
    )
    try:
        yield Dispatcher(db, SETTINGS, webhooks, email)
    finally:
        await webhooks.aclose()
        await email.aclose()


@pytest.mark.parametrize("channel", chat_channels())
async def test_a_target_removed_while_its_delivery_is_sent_gets_nothing(
    db: Database, dispatcher: Dispatcher, channel: str
) -> None:
    async with FAKES[channel]() as platform:
        robot = platform.robot("robot-1")
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        target_id = await add_robot(db, subscriber_id, channel, platform.url("robot-1"))
        await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        # in flight (claimed, and its target looked up no earlier than the send)
        [claimed] = [row for row in await dispatcher.claim(utc_now()) if row.channel == channel]
        async with db.session() as session:
            assert await remove_target(session, subscriber_id, target_id) == 0  # not waiting
        result = await dispatcher.attempt(claimed)
        await dispatcher.record(claimed, result)
    assert robot.messages == [] and robot.refused == []
    [row] = await rows_of(db, channel)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, TARGET_REMOVED)


async def test_a_slow_request_does_not_bring_the_next_send_closer_than_the_rate(
    db: Database,
) -> None:
    """Slack takes one message a second per webhook (regwatch: one per 1.2 s). The first
    request spends 0.6 s on its way: counted from the claim, the next send would reach Slack
    0.6 s after it and be refused (429); counted from the first one's answer, it is not."""
    async with FakeSlack() as platform, SmtpReceiver() as smtp:
        robot = platform.robot("hook-slow")
        platform.lags = [0.6]
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        await add_robot(db, subscriber_id, "slack", platform.url("hook-slow"))
        for n in range(2):
            event = match_event(subscriber_id, None)
            event.notice.notice_id = f"cac-slow-{n}"
            await handle_match(db, SETTINGS, event)
        rows = await rows_of(db, "slack")
        async with running_dispatcher(db, smtp) as running:
            running.kick()
            for row in rows:
                await wait_status(db, row.id, "delivered", wait=20)
    assert robot.refused == [] and len(robot.messages) == 2


@pytest.mark.parametrize("channel", chat_channels())
async def test_a_target_without_a_language_speaks_the_subscribers(
    db: Database, channel: str
) -> None:
    """The subscriber's chat language (``PUT /v1/notifications/settings``) is used by every
    target that names none; a target's own language still wins."""
    async with FAKES[channel]() as platform:
        subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
        async with db.session() as session:
            prefs = await get_preferences(session, subscriber_id)
            apply_changes(prefs, PreferenceChanges(chat_language="en"), utc_now())
        await add_robot(db, subscriber_id, channel, platform.url("plain"))
        await add_robot(db, subscriber_id, channel, platform.url("own"), language="zh")
        await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        rows = {row.target: row.payload for row in await rows_of(db, channel)}
    assert "named apps you watch" in rows[platform.url("plain")]
    assert "named apps you watch" not in rows[platform.url("own")]
