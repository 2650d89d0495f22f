"""SIGKILL of the notifier process in the middle of a batch, then a restart.

Every alert must arrive, and none twice, counted at the receivers: distinct ``webhook-id``s
and email ``Message-ID``s, and the total number of requests. The only way one alert can reach
a receiver twice is the documented window: the receiver accepted it but the process died
before the ledger recorded that. Such an alert is sent again under the same id (receivers
deduplicate on it); the test checks that every duplicate was in that window, which it reads
from the ledger right after the kill.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from tests.reliability.conftest import (
    NotifierProcess,
    events_for,
    ledger,
    notifier_env,
    publish,
    seed_subscribers,
)
from tests.support.receivers import Reply, SmtpReceiver, WebhookReceiver

pytestmark = pytest.mark.broker

ALERTS = 30
KILL_AFTER = 8


async def test_sigkill_mid_batch_then_restart_delivers_everything_once(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> None:
    # every answer takes a moment, and all alerts share one endpoint (4 at a time): the
    # batch is still going when the process is killed
    async with (
        WebhookReceiver(default=Reply(status=200, delay=0.1)) as hook,
        SmtpReceiver() as smtp,
    ):
        env = notifier_env(
            bootstrap=kafka_bootstrap,
            namespace=namespace,
            idempotence=broker_kind != "tansu",
            data_dir=tmp_path,
            smtp_port=smtp.port,
        )
        url = env["REGWATCH_DATABASE_URL"]
        seeded = await seed_subscribers(url, ALERTS, webhook=hook.url, email=True)
        secrets = {s.subscriber_id: s.secret for s in seeded}
        notifier = NotifierProcess(env, tmp_path, tmp_path / "notifier.log")
        notifier.start()
        try:
            await notifier.ready()
            await publish(kafka_bootstrap, f"{namespace}.regwatch.matches.v1", events_for(seeded))
            await hook.wait_for(KILL_AFTER, timeout=20)
            notifier.kill()
            killed_at = time.time()

            # the window: received by the endpoint, not recorded as delivered
            rows = await ledger(url)
            received = {r.webhook_id for r in hook.requests if r.received_at <= killed_at}
            window = {i for i in received if i in rows and rows[i].status != "delivered"}
            before = len(hook.requests)
            assert before < ALERTS, "the batch finished before the kill: nothing was tested"

            notifier.start()
            await notifier.ready()
            deadline = time.monotonic() + 25
            while time.monotonic() < deadline:
                ids = {r.webhook_id for r in hook.requests}
                mails = {m["Message-ID"] for m in smtp.messages}
                if len(ids) >= ALERTS and len(mails) >= ALERTS:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # anything sent twice would arrive by now
        finally:
            notifier.stop()

    final = await ledger(url)
    assert len(final) == 2 * ALERTS  # one row per alert and channel, whatever was redelivered
    assert {row.status for row in final.values()} == {"delivered"}
    webhook_ids = Counter(r.webhook_id for r in hook.requests)
    expected_webhooks = {i for i, row in final.items() if row.channel == "webhook"}
    assert set(webhook_ids) == expected_webhooks, notifier.tail()
    duplicates = {i for i, n in webhook_ids.items() if n > 1}
    assert duplicates <= window, f"sent twice outside the crash window: {duplicates - window}"
    assert sum(webhook_ids.values()) == ALERTS + len(duplicates)
    print(  # the figures, with -s
        f"killed after {before} requests; crash window {len(window)}; "
        f"duplicates {len(duplicates)}; requests {sum(webhook_ids.values())} for {ALERTS} alerts"
    )
    assert all(n <= 2 for n in webhook_ids.values())
    assert len(window) <= 4  # at most the endpoint's concurrency was in flight

    message_ids = Counter(m["Message-ID"] for m in smtp.messages)
    expected_mails = {f"<{i}@regwatch>" for i, row in final.items() if row.channel == "email"}
    assert set(message_ids) == expected_mails
    # an email can only be twice if the SMTP server accepted it and the ledger did not know
    mail_window = {
        f"<{i}@regwatch>"
        for i, row in rows.items()
        if row.channel == "email" and row.status != "delivered"
    }
    assert {m for m, n in message_ids.items() if n > 1} <= mail_window
    for request in hook.requests:
        body = request.json()
        Webhook(secrets[body["data"]["subscriber_id"]]).verify(request.body, request.headers)
