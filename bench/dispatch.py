"""The notifier's delivery path alone, without Kafka: alerts recorded as the notifier records
a batch of MatchEvents, then sent by its dispatcher (claims, per-queue limits, signing, results
written in batches) to a local webhook receiver and mail sink; against a bare loop sending the
same number of signed webhooks and emails to the same receiver, in the same run.

    python -m bench.dispatch [--quick]    # 2,000 alerts (quick) or 10,000

Each subscriber has its own webhook URL (``/hook/<n>`` at the receiver) and a fifth of them an
email address too, as in ``bench.fanout``; the database is SQLite in a temporary directory.
Both loops run in this process, one after the other, against the receiver
(``bench/receiver.py``, its own process). Reported: ``record_cpu_ms_per_alert`` (recording in
batches of 100, ``services.notifier.recording.record_matches``), the dispatcher's
``per_s`` and ``cpu_ms_per_delivery`` (this process's CPU from the first claim until the
receiver holds every delivery and every outcome was handed to the publisher), the bare loop's
(``aiohttp``, the client the dispatcher's sender uses, with 100 requests in flight,
``aiosmtplib`` on 4 connections), and
``ratio_vs_bare_loop`` = the dispatcher's rate / the bare loop's rate.

Also reported, for what running each SQLite unit of work on one database thread could save:
``record_statements_per_alert`` and ``dispatcher_statements_per_delivery`` (statements sent to
SQLite, counted at the engine), and ``statement_cpu_us`` / ``sync_statement_cpu_us``: the CPU
of one ``SELECT 1`` through the async engine (aiosqlite: a thread hand-off each way) and
through a synchronous SQLAlchemy engine in the caller's thread, in the same run. The
hand-offs' share of a delivery's CPU is ``hop_share_of_delivery_cpu``: statements per delivery
(the recording's per alert included) times the difference, over the CPU per delivery of both
phases.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import httpx
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from bench.common import emit, receiver_process, save
from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.recording import record_matches
from services.notifier.signing import headers as sign_headers
from services.notifier.webhook import WebhookSender
from shared.accounts import register_subscriber
from shared.db import Database
from shared.embedded.ports import free_port
from shared.events import DeliveryEvent, MatchEvent
from shared.settings import Settings
from tests.support.factories import match_event

EMAIL_EVERY = 5
BATCH = 100
BARE_IN_FLIGHT = 100
BARE_SMTP_CONNECTIONS = 4
PROBES = 2000
"""``SELECT 1`` statements timed each way for ``statement_cpu_us``."""


class StatementCount:
    """Statements the engine sent to the database since it was attached."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def statement_cpu_us(db: Database, path: Path) -> tuple[float, float]:
    """CPU microseconds of one ``SELECT 1`` in a unit of work: through ``db`` (aiosqlite, a
    thread hand-off per statement), then through a synchronous SQLAlchemy engine on the same
    file in this thread (what a unit of work run whole on one database thread would pay)."""
    async with db.session() as session:
        cpu = time.process_time()
        for _ in range(PROBES):
            await session.execute(text("SELECT 1"))
        through_async = time.process_time() - cpu
    engine = create_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as plain:
            cpu = time.process_time()
            for _ in range(PROBES):
                plain.execute(text("SELECT 1"))
            through_sync = time.process_time() - cpu
    finally:
        engine.dispose()
    return through_async / PROBES * 1e6, through_sync / PROBES * 1e6


async def subscribers(db: Database, hook: str, count: int) -> list[tuple[str, str, str | None]]:
    """(id, webhook secret, email or None) of ``count`` new subscribers."""
    made = []
    async with db.session() as session:
        for n in range(count):
            email = f"dispatch{n}@example.com" if n % EMAIL_EVERY == 0 else None
            created = await register_subscriber(
                session,
                name=f"dispatch {n}",
                email=email,
                webhook_url=f"{hook}/hook/{n}",
                reminders="7d,3d,1d",
                default_reminders="7d,3d,1d",
                allow_private=True,
            )
            made.append((created.id, created.webhook_secret or "", email))
    return made


async def receiver_count(client: httpx.AsyncClient, receiver: str) -> int:
    return int((await client.get(receiver + "/count")).json())


async def until_received(
    client: httpx.AsyncClient, receiver: str, target: int, cap_s: float
) -> None:
    stop_at = time.monotonic() + cap_s
    while await receiver_count(client, receiver) < target:
        if time.monotonic() > stop_at:
            raise RuntimeError(f"fewer than {target} arrivals after {cap_s:g} s")
        await asyncio.sleep(0.05)


async def dispatch(
    db: Database, settings: Settings, receiver: str, smtp_port: int, deliveries: int
) -> dict[str, Any]:
    outcomes = 0
    all_published = asyncio.Event()

    async def published(event: DeliveryEvent) -> None:
        nonlocal outcomes
        outcomes += 1
        if outcomes >= deliveries:
            all_published.set()

    webhooks = WebhookSender.from_settings(settings)
    email = EmailSender("127.0.0.1", smtp_port, timeout=30)
    worker = Dispatcher(db, settings, webhooks, email, published)
    async with httpx.AsyncClient(timeout=30) as client:
        before = await receiver_count(client, receiver)
        cpu, began = time.process_time(), time.perf_counter()
        worker.start()
        await until_received(client, receiver, before + deliveries, 600)
        await asyncio.wait_for(all_published.wait(), 600)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    await worker.stop()
    await webhooks.aclose()
    await email.aclose()
    return {
        "seconds": round(seconds, 2),
        "per_s": round(deliveries / seconds, 1),
        "cpu_ms_per_delivery": round(cpu / deliveries * 1000, 2),
    }


async def bare_loop(
    receiver: str, smtp_port: int, people: list[tuple[str, str, str | None]], body: bytes
) -> dict[str, Any]:
    hooks = list(enumerate(people))
    mails = [address for _, _, address in people if address]
    sent = 0

    async def post_all(client: aiohttp.ClientSession) -> None:
        nonlocal sent
        while hooks:
            n, (_, secret, _) = hooks.pop()
            headers = sign_headers(secret, f"msg_{uuid.uuid4().hex}", body)
            headers["content-type"] = "application/json"
            async with client.post(f"{receiver}/bare/{n}", data=body, headers=headers) as answer:
                await answer.read()
                answer.raise_for_status()
            sent += 1

    async def mail_all() -> None:
        nonlocal sent
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port) as smtp:
            while mails:
                message = EmailMessage()
                message["From"] = "regwatch <alerts@regwatch.local>"
                message["To"] = mails.pop()
                message["Subject"] = "[regwatch] 关于侵害用户权益行为的APP通报"
                message["Message-ID"] = f"<{uuid.uuid4().hex}@bench>"
                message.set_content(body.decode())
                await smtp.send_message(message)
                sent += 1

    connector = aiohttp.TCPConnector(limit=BARE_IN_FLIGHT)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(30)
    ) as client:
        cpu, began = time.process_time(), time.perf_counter()
        await asyncio.gather(
            *(post_all(client) for _ in range(BARE_IN_FLIGHT)),
            *(mail_all() for _ in range(BARE_SMTP_CONNECTIONS)),
        )
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return {
        "seconds": round(seconds, 2),
        "per_s": round(sent / seconds, 1),
        "cpu_ms_per_delivery": round(cpu / sent * 1000, 2),
    }


async def measure(alerts: int, receiver: str, smtp_port: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="regwatch-dispatch-") as tmp:
        path = Path(tmp) / "regwatch.db"
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.migrate()
        statements = StatementCount(db)
        settings = Settings(
            data_dir=Path(tmp),
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            webhook_allow_private=True,
            webhook_timeout=30,
        )
        try:
            people = await subscribers(db, receiver, alerts)
            events = [match_event(ident, date(2099, 8, 31)) for ident, _, _ in people]
            cpu, before = time.process_time(), statements.count
            for start in range(0, len(events), BATCH):
                await record_matches(db, settings, events[start : start + BATCH])
            record_cpu = time.process_time() - cpu
            recorded = statements.count - before
            deliveries = alerts + sum(1 for _, _, address in people if address)
            before = statements.count
            regwatch = await dispatch(db, settings, receiver, smtp_port, deliveries)
            dispatched = statements.count - before
            through_engine, direct = await statement_cpu_us(db, path)
        finally:
            await db.dispose()
    body = sample_body(events[0])
    bare = await bare_loop(receiver, smtp_port, people, body)
    per_delivery = (recorded + dispatched) / deliveries
    cpu_us = (record_cpu * 1e6 + regwatch["cpu_ms_per_delivery"] * 1000 * deliveries) / deliveries
    return {
        "alerts": alerts,
        "deliveries": deliveries,
        "record_cpu_ms_per_alert": round(record_cpu / alerts * 1000, 2),
        "record_statements_per_alert": round(recorded / alerts, 3),
        "dispatcher_statements_per_delivery": round(dispatched / deliveries, 3),
        "statement_cpu_us": round(through_engine, 1),
        "sync_statement_cpu_us": round(direct, 1),
        "hop_share_of_delivery_cpu": round(per_delivery * (through_engine - direct) / cpu_us, 3),
        **{f"dispatcher_{k}": v for k, v in regwatch.items()},
        **{f"bare_loop_{k}": v for k, v in bare.items()},
        "ratio_vs_bare_loop": round(regwatch["per_s"] / bare["per_s"], 3),
        "cpu_ratio_vs_bare_loop": round(
            bare["cpu_ms_per_delivery"] / regwatch["cpu_ms_per_delivery"], 3
        ),
    }


def sample_body(event: MatchEvent) -> bytes:
    """A webhook body of the size the dispatcher sends (the event as the payload's data)."""
    return event.model_dump_json().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 alerts")
    alerts = 2000 if parser.parse_args().quick else 10_000
    smtp_port = free_port()
    with receiver_process(smtp_port) as receiver:
        figures = asyncio.run(measure(alerts, receiver, smtp_port))
    result = {"bench": "dispatch", **figures}
    emit(result)
    save("dispatch", [result])


if __name__ == "__main__":
    main()
