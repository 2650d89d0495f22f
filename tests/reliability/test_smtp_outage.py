"""The SMTP server is down (connection refused: nothing listens on its port) while alerts come
in, then it comes up on that port. Every email arrives exactly once, and the ledger shows the
refused attempts retried until the one that delivered."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.notifier.models import AttemptRow, DeliveryRow
from services.runtime import Runtime
from shared.db import Database
from tests.reliability.conftest import events_for, ledger, publish, seed_subscribers
from tests.support.receivers import SmtpReceiver
from tests.support.settings import fast_settings

pytestmark = pytest.mark.broker

ALERTS = 12
OUTAGE = 3.0  # seconds the SMTP server stays down once the first attempts failed
# 40 retries 300 ms apart: about 12 s of attempts, far longer than the outage, so no alert
# may give up (be marked failed) while the server is down
RETRY_SCHEDULE = ",".join(["300ms"] * 40)


def free_port() -> int:
    """A port nothing listens on (bound once to find it, then closed: connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refused(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def attempts_by_delivery(url: str) -> dict[str, list[AttemptRow]]:
    db = Database(url)
    try:
        async with db.session() as session:
            rows = (await session.execute(select(AttemptRow).order_by(AttemptRow.id))).scalars()
            found: dict[str, list[AttemptRow]] = {}
            for row in rows:
                found.setdefault(row.delivery_id, []).append(row)
            return found
    finally:
        await db.dispose()


async def wait_until_all_failed_once(url: str, timeout: float) -> dict[str, DeliveryRow]:  # noqa: ASYNC109
    """The ledger once every alert's email was tried (and refused) at least once."""
    deadline = time.monotonic() + timeout
    rows: dict[str, DeliveryRow] = {}
    while time.monotonic() < deadline:
        rows = await ledger(url)
        if len(rows) == ALERTS and all(row.attempts >= 1 for row in rows.values()):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"not every alert was tried while SMTP was down: "
        f"{sorted((r.attempts, r.status) for r in rows.values())}"
    )


async def test_smtp_down_then_up_delivers_each_email_once(
    kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> None:
    port = free_port()
    assert refused(port), "the chosen SMTP port is in use: the outage would not be one"
    settings = fast_settings(
        kafka_bootstrap,
        broker_kind,
        namespace,
        tmp_path,
        smtp_port=port,
        webhook_timeout=2,
        retry_schedule=RETRY_SCHEDULE,
    )
    url = settings.sqlalchemy_url
    seeded = await seed_subscribers(url, ALERTS, webhook=None, email=True)
    events = events_for(seeded)
    rt = Runtime(settings, only=("notifier",))
    await rt.start()
    running = True
    try:
        await publish(kafka_bootstrap, settings.topics.matches, events)
        down = await wait_until_all_failed_once(url, timeout=25)
        async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["failed"] == ["smtp"], ready.text
        assert {row.status for row in down.values()} == {"pending"}  # retrying, not given up
        assert all("SMTP connection failed" in (row.last_error or "") for row in down.values())

        await asyncio.sleep(OUTAGE)
        before_up = datetime.now(UTC)  # no attempt can succeed before this
        async with SmtpReceiver(port=port) as smtp:
            assert smtp.port == port
            await smtp.wait_for(ALERTS, timeout=20)
            await asyncio.sleep(1.5)  # a retry that should not happen would arrive by now
            async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
                ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            # stopped while the server is up: the dispatcher's pooled connections close first
            running = False
            await rt.stop()
    finally:
        if running:
            await rt.stop()

    # at the receiver: each alert's email once, to its subscriber
    final = await ledger(url)
    assert len(final) == ALERTS and {row.channel for row in final.values()} == {"email"}
    message_ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert message_ids == Counter({f"<{ident}@regwatch>": 1 for ident in final})
    assert len(smtp.received) == ALERTS  # no transaction refused, none repeated
    recipients = Counter(rcpt for mail in smtp.received for rcpt in mail.rcpt_tos)
    assert recipients == Counter({f"s{n}@example.com": 1 for n in range(ALERTS)})

    # in the ledger: the refused attempts made while down, then exactly one that delivered
    history = await attempts_by_delivery(url)
    assert set(history) == set(final)
    retried = []
    for ident, row in final.items():
        attempts = history[ident]
        assert row.status == "delivered", (ident, row.status, row.last_error)
        assert row.delivered_at is not None and row.delivered_at >= before_up
        assert row.attempts == len(attempts) > down[ident].attempts >= 1
        *failed, last = attempts
        assert last.ok and last.status_code == 250 and last.at >= before_up
        assert len(failed) >= down[ident].attempts
        assert all(not a.ok and a.retriable for a in failed)
        assert all("SMTP connection failed" in (a.error or "") for a in failed)
        retried.append(len(failed))
    print(f"refused attempts per alert before delivery: {sorted(retried)}")  # with -s
