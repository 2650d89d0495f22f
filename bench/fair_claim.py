"""A healthy alert behind a hanging endpoint: how long one subscriber's webhook takes (queued ->
delivered, from the delivery ledger) while 1,000 deliveries wait for a URL that never answers,
against the same alert with no such queue, measured in the same run by the real dispatcher.

    python -m bench.fair_claim [--quick]

The hanging endpoint is a local server that accepts connections and never answers; the healthy
one is the bench receiver process (204 at once). Both runs use one SQLite database and the
notifier's defaults (4 requests per endpoint, ``REGWATCH_WEBHOOK_TIMEOUT`` 10 s: the hanging
requests are not cut short while the healthy alerts are measured).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.common import emit, receiver_process, save
from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.models import DeliveryRow
from services.notifier.webhook import WebhookSender
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import EntityRef, Match, MatchEvent, NoticeSummary, Regulator, WatchRef
from shared.settings import Settings

HANGING_ROWS = 1000


def match(subscriber_id: str, n: int) -> MatchEvent:
    return MatchEvent(
        match_id=f"match-{n}",
        subscriber_id=subscriber_id,
        notice=NoticeSummary(
            notice_id=f"miit-fair-{n}",
            regulator=Regulator(code="MIIT", name="工业和信息化部"),
            kind="rectification",
            title="关于侵害用户权益行为的APP通报",
            published_on=date(2099, 8, 1),
        ),
        matches=[
            Match(
                watch=WatchRef(kind="app", name="Douyin"),
                entity=EntityRef(name="抖音", developer="北京微播视界科技有限公司"),
                score=0.95,
                reason="pinyin of 抖音 is douyin",
            )
        ],
        matched_at=datetime.now(UTC),
    )


async def subscriber(db: Database, url: str) -> str:
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name="bench",
            email=None,
            webhook_url=url,
            reminders="1d",
            default_reminders="1d",
            allow_private=True,
        )
    return created.id


class Hanging:
    """A server that reads whatever comes and never answers; ``close`` drops its connections
    (the requests then fail at once instead of at the timeout)."""

    def __init__(self) -> None:
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.hang, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def hang(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while await reader.read(65536):
                pass
        finally:
            self.writers.discard(writer)
            writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.writers):
            writer.close()


async def latency(db: Database, worker: Dispatcher, subscriber_id: str, n: int) -> float:
    """Seconds from the alert's row being written to the receiver's 2xx being recorded."""
    settings = worker.settings
    [delivery], _ = await handle_match(db, settings, match(subscriber_id, n))
    worker.kick()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        async with db.read_session() as session:
            row = await session.get(DeliveryRow, delivery)
            if row is not None and row.delivered_at is not None:
                return (row.delivered_at - row.created_at).total_seconds()
        await asyncio.sleep(0.005)
    raise RuntimeError(f"the healthy alert {delivery} was not delivered within 60 s")


async def flood(db: Database, settings: Settings, subscriber_id: str, url: str) -> None:
    """HANGING_ROWS due deliveries for the hanging URL, all older than any healthy alert."""
    [first], _ = await handle_match(db, settings, match(subscriber_id, 0))
    async with db.session() as session:
        row = await session.get(DeliveryRow, first)
        assert row is not None
        template = {column.key: getattr(row, column.key) for column in DeliveryRow.__table__.c}
        oldest = row.next_attempt_at - timedelta(seconds=HANGING_ROWS)
        await session.execute(
            insert(DeliveryRow),
            [
                template
                | {
                    "id": f"hang-{i:05d}",
                    "notice_id": f"miit-hang-{i:05d}",
                    "next_attempt_at": oldest + timedelta(seconds=i),
                }
                for i in range(HANGING_ROWS - 1)
            ],
        )
    async with db.session() as session:
        count = len(
            (await session.execute(select(DeliveryRow.id).where(DeliveryRow.target == url))).all()
        )
    assert count == HANGING_ROWS, count


async def measure(healthy_base: str, rounds: int) -> dict[str, Any]:
    server = Hanging()
    hanging_url = await server.start()
    settings = Settings(webhook_allow_private=True, retry_schedule="5s")
    webhooks = WebhookSender.from_settings(settings)
    email = EmailSender(host="127.0.0.1", port=9, timeout=5)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'fair.db'}")
        await db.migrate()
        worker = Dispatcher(db, settings, webhooks, email)
        worker.start()
        try:
            healthy = await subscriber(db, f"{healthy_base}/healthy")
            await latency(db, worker, healthy, 1)  # warm-up: connection, first claim
            alone = [await latency(db, worker, healthy, 100 + i) for i in range(rounds)]

            hanging = await subscriber(db, hanging_url)
            await flood(db, settings, hanging, hanging_url)
            worker.kick()
            deadline = time.monotonic() + 10
            while worker.in_flight[hanging_url] < worker.senders.per_endpoint:
                if time.monotonic() > deadline:
                    raise RuntimeError("the hanging endpoint's requests never started")
                await asyncio.sleep(0.01)
            started = time.monotonic()
            behind = [await latency(db, worker, healthy, 200 + i) for i in range(rounds)]
            within_timeout = time.monotonic() - started < settings.webhook_timeout
            async with db.read_session() as session:
                waiting = len(
                    (
                        await session.execute(
                            select(DeliveryRow.id).where(
                                DeliveryRow.target == hanging_url,
                                DeliveryRow.attempts == 0,
                                DeliveryRow.claimed_until.is_(None),
                            )
                        )
                    ).all()
                )
            hanging_in_flight = worker.in_flight[hanging_url]
        finally:
            await worker.loop.stop()
            server.close()
            await worker.stop()
            await webhooks.aclose()
            await email.aclose()
            await db.dispose()
    alone_ms = statistics.median(alone) * 1000
    behind_ms = statistics.median(behind) * 1000
    return {
        "bench": "fair_claim",
        "hanging_rows": HANGING_ROWS,
        "rounds": rounds,
        "healthy_ms_behind_hanging_p50": round(behind_ms, 1),
        "healthy_ms_behind_hanging_max": round(max(behind) * 1000, 1),
        "healthy_ms_alone_p50": round(alone_ms, 1),
        "healthy_ms_alone_max": round(max(alone) * 1000, 1),
        "ratio_vs_alone": round(behind_ms / alone_ms, 2),
        "hanging_in_flight": hanging_in_flight,
        "hanging_waiting_untried": waiting,
        "measured_before_the_hanging_requests_timed_out": within_timeout,
        "goal": "healthy alert p50 and max < 2000 ms behind 1,000 hanging rows",
        "goal_met": max(behind) < 2.0,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    with receiver_process() as url:
        result = asyncio.run(measure(url, 5 if quick else 20))
    emit(result)
    save("fair_claim", [result])
    return [result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
