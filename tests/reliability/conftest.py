"""Helpers for the notifier's fault tests: a notifier in its own process (``regwatch run --only
notifier``), subscribers seeded in its database, MatchEvents published straight to the topic."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from services.notifier.models import DeliveryRow
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import MatchEvent
from shared.runtime_file import RUNTIME_FILE
from tests.support.factories import match_event

REGWATCH = Path(sys.executable).with_name("regwatch")


@dataclass
class Seeded:
    subscriber_id: str
    secret: str


async def seed_subscribers(
    url: str, count: int, *, webhook: str | None, email: bool, reminders: str = "7d"
) -> list[Seeded]:
    db = Database(url)
    try:
        await db.migrate()
        seeded = []
        async with db.session() as session:
            for n in range(count):
                created = await register_subscriber(
                    session,
                    name=f"Subscriber {n}",
                    email=f"s{n}@example.com" if email else None,
                    webhook_url=webhook,
                    reminders=reminders,
                    default_reminders="7d",
                    allow_private=True,
                )
                seeded.append(Seeded(created.id, created.webhook_secret or ""))
        return seeded
    finally:
        await db.dispose()


def events_for(seeded: list[Seeded], due_on: date | None = None) -> list[MatchEvent]:
    events = []
    for n, sub in enumerate(seeded):
        event = match_event(sub.subscriber_id, due_on)
        event.match_id = f"match-{n}"
        event.notice.notice_id = f"miit-2099-{n:03d}"
        event.matched_at = datetime.now(UTC)
        events.append(event)
    return events


async def publish(bootstrap: str, topic: str, events: list[MatchEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic,
                json.dumps(event.dump(), ensure_ascii=False).encode(),
                key=event.subscriber_id.encode(),
            )
    finally:
        await producer.stop()


async def ledger(url: str) -> dict[str, DeliveryRow]:
    db = Database(url)
    try:
        async with db.session() as session:
            rows = (await session.execute(select(DeliveryRow))).scalars()
            return {row.id: row for row in rows}
    finally:
        await db.dispose()


@dataclass
class NotifierProcess:
    """``regwatch run --only notifier`` (or other ``args``) as a child process."""

    env: dict[str, str]
    data_dir: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    runs: int = field(default=0)
    args: tuple[str, ...] = ("run", "--only", "notifier")

    def start(self) -> None:
        (self.data_dir / RUNTIME_FILE).unlink(missing_ok=True)
        self.runs += 1
        with self.log.open("ab") as out:
            out.write(f"\n--- run {self.runs} ---\n".encode())
            self.proc = subprocess.Popen(
                [str(REGWATCH), *self.args],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )

    async def ready(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not (self.data_dir / RUNTIME_FILE).exists():
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"notifier exited with {self.proc.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"notifier not ready in {timeout}s: {self.tail()}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def notifier_env(
    *,
    bootstrap: str,
    namespace: str,
    idempotence: bool,
    data_dir: Path,
    smtp_port: int,
    **extra: str,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    env.update(
        {
            "REGWATCH_KAFKA_BOOTSTRAP": bootstrap,
            "REGWATCH_KAFKA_IDEMPOTENCE": "true" if idempotence else "false",
            "REGWATCH_KAFKA_PARTITIONS": "2",
            "REGWATCH_TOPIC_NAMESPACE": namespace,
            "REGWATCH_DATA_DIR": str(data_dir),
            "REGWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'regwatch.db'}",
            "REGWATCH_SMTP_HOST": "127.0.0.1",
            "REGWATCH_SMTP_PORT": str(smtp_port),
            "REGWATCH_HTTP_PORT": "0",
            "REGWATCH_WEBHOOK_ALLOW_PRIVATE": "true",
            "REGWATCH_WEBHOOK_TIMEOUT": "2",
            "REGWATCH_RETRY_SCHEDULE": "200ms,200ms,200ms,200ms",
            "REGWATCH_DISPATCH_INTERVAL": "0.2",
            "REGWATCH_REMINDER_INTERVAL": "0.5",
            "REGWATCH_LOG_LEVEL": "WARNING",
            "REGWATCH_LOG_FORMAT": "text",
        }
    )
    env.update(extra)
    return env
