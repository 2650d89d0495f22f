"""Several notifier instances, restarts and downtime on the real broker: each alert and each
reminder is sent once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook

from services.notifier.models import ReminderRow
from services.runtime import Runtime
from shared.db import Database
from shared.settings import Settings
from tests.reliability.conftest import events_for, publish, seed_subscribers
from tests.support.receivers import SmtpReceiver, WebhookReceiver
from tests.support.settings import fast_settings

pytestmark = pytest.mark.broker


def notifier_settings(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path, smtp: SmtpReceiver
) -> Settings:
    return fast_settings(
        kafka_bootstrap,
        broker_kind,
        namespace,
        tmp_path,
        smtp_port=smtp.port,
        webhook_timeout=2,
        reminder_interval=0.5,
    )


async def wait_until(check: object, timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def of_type(hook: WebhookReceiver, kind: str) -> Counter[str | None]:
    return Counter(r.webhook_id for r in hook.requests if r.json()["type"] == kind)


async def make_due(url: str, offset: str, when: datetime) -> int:
    db = Database(url)
    try:
        async with db.session() as session:
            result = await session.execute(
                update(ReminderRow).where(ReminderRow.offset == offset).values(fire_at=when)
            )
            return int(getattr(result, "rowcount", 0) or 0)
    finally:
        await db.dispose()


async def stop_all(runtimes: Sequence[Runtime]) -> None:
    for runtime in runtimes:
        await runtime.stop()


async def test_two_instances_send_each_alert_and_reminder_once(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> None:
    alerts = 24
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        settings = notifier_settings(kafka_bootstrap, broker_kind, namespace, tmp_path, smtp)
        url = settings.sqlalchemy_url
        seeded = await seed_subscribers(url, alerts, webhook=hook.url, email=True, reminders="7d")
        secrets = {s.subscriber_id: s.secret for s in seeded}
        instances = [Runtime(settings, only=("notifier",)) for _ in range(2)]
        try:
            for runtime in instances:
                await runtime.start()
            await publish(
                kafka_bootstrap, settings.topics.matches, events_for(seeded, date(2099, 8, 31))
            )
            await wait_until(
                lambda: (
                    len(of_type(hook, "notice.matched")) >= alerts and len(smtp.messages) >= alerts
                ),
                25,
                "every alert",
            )
            # every subscriber's 7d reminder falls due now, on both instances' schedulers
            assert await make_due(url, "7d", datetime.now(UTC)) == alerts
            await wait_until(
                lambda: len(of_type(hook, "deadline.reminder")) >= alerts, 15, "every reminder"
            )
            await asyncio.sleep(1.5)  # anything sent twice would arrive by now
        finally:
            await stop_all(instances)

    matched = of_type(hook, "notice.matched")
    reminders = of_type(hook, "deadline.reminder")
    assert len(matched) == alerts and set(matched.values()) == {1}
    assert len(reminders) == alerts and set(reminders.values()) == {1}
    assert len(hook.requests) == 2 * alerts
    mail_ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(mail_ids) == 2 * alerts and set(mail_ids.values()) == {1}
    for request in hook.requests:
        owner = request.json()["data"]["subscriber_id"]
        Webhook(secrets[owner]).verify(request.body, request.headers)


async def test_reminder_due_during_downtime_is_sent_once_after_start_marked_late(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> None:
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        settings = notifier_settings(kafka_bootstrap, broker_kind, namespace, tmp_path, smtp)
        url = settings.sqlalchemy_url
        [seeded] = await seed_subscribers(url, 1, webhook=hook.url, email=False, reminders="7d,3d")
        runtime = Runtime(settings, only=("notifier",))
        await runtime.start()
        try:
            await publish(
                kafka_bootstrap, settings.topics.matches, events_for([seeded], date(2099, 8, 31))
            )
            await hook.wait_for(1, timeout=20)
        finally:
            await runtime.stop()
        # while nothing runs, the 7d reminder falls due (two hours ago)
        assert await make_due(url, "7d", datetime.now(UTC) - timedelta(hours=2)) == 1
        restarted = Runtime(settings, only=("notifier",))
        await restarted.start()
        try:
            await wait_until(lambda: len(hook.requests) >= 2, 15, "the missed reminder")
            await asyncio.sleep(1.5)
        finally:
            await restarted.stop()

    assert [r.json()["type"] for r in hook.requests] == ["notice.matched", "deadline.reminder"]
    body = Webhook(seeded.secret).verify(hook.requests[1].body, hook.requests[1].headers)
    assert body["data"]["offset"] == "7d"
    assert body["data"]["late"] is True
    assert body["data"]["fire_at_local"].endswith("+08:00")
    db = Database(url)
    try:
        async with db.session() as session:
            rows = {
                r.offset: (r.status, r.late)
                for r in (await session.execute(select(ReminderRow))).scalars()
            }
    finally:
        await db.dispose()
    assert rows["7d"] == ("sent", True)
    assert rows["3d"] == ("scheduled", False)
