"""A healthy alert behind a hanging endpoint: how long one subscriber's webhook takes (queued ->
delivered, from the delivery ledger) while 1,000 deliveries wait for a URL that never answers,
against the same alert with no such queue, measured in the same run by the real dispatcher.

    python -m bench.fair_claim [--quick]
    python -m bench.fair_claim --pending 200000 1000000 [--database sqlite postgresql]

The hanging endpoint is a local server that accepts connections and never answers; the healthy
one is the bench receiver process (204 at once). Both runs use one SQLite database and the
notifier's defaults (4 requests per endpoint, ``REGWATCH_WEBHOOK_TIMEOUT`` 10 s: the hanging
requests are not cut short while the healthy alerts are measured).

Then what one claim costs with many rows pending (``claim_cost``; with ``--pending`` only
that): N due webhook rows, one per endpoint (a fan-out; written 1,000 to a timestamp, as the
matcher's chunks are), and one claim of the default 100 timed with the claim's window
(``Dispatcher.rank``) and with every due row ranked (the query before it), in the same run
and on the same rows; each is timed as a whole claim (wall, this process's CPU) and as its
ranking query alone (wall, and on PostgreSQL the server process's CPU). ``--shape one_queue``
puts every row in one queue (emails: the SMTP queue), where the window cannot give the answer
and a claim ranks every row. PostgreSQL: a new database ``regwatch_claim_<run>`` on the server
of ``--database-url`` (default ``$REGWATCH_BENCH_DATABASE_URL``), dropped afterwards.
Default run: 200,000 rows (quick: 20,000) on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import emit, receiver_process, save
from bench.scratch_database import scratch_database
from services.notifier.channels.email import SMTP_QUEUE
from services.notifier.dispatcher import Dispatcher, window_size
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.models import DeliveryRow
from services.notifier.webhook import WebhookSender
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import EntityRef, Match, MatchEvent, NoticeSummary, Regulator, WatchRef
from shared.settings import Settings

HANGING_ROWS = 1000
DATABASE_URL_ENV = "REGWATCH_BENCH_DATABASE_URL"
SAME_TIMESTAMP = 1000
"""Rows written with one ``next_attempt_at`` and ``created_at`` (a fan-out writes chunks)."""


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


class RankEveryRow(Dispatcher):
    """The claim before its window: every due row ranked."""

    async def rank(
        self, session: AsyncSession, now: datetime, wanted: int, window: int | None
    ) -> list[str]:
        return await super().rank(session, now, wanted, None)


async def fill_pending(db: Database, count: int, shape: str) -> datetime:
    """``count`` due rows: one per webhook endpoint (``fanout``) or all emails (``one_queue``),
    ``SAME_TIMESTAMP`` to a timestamp, the oldest first; returns a time they are all due by."""
    start = datetime.now(UTC) - timedelta(hours=1)
    chunk = 20_000
    for first in range(0, count, chunk):
        rows = []
        for i in range(first, min(count, first + chunk)):
            at = start + timedelta(milliseconds=i // SAME_TIMESTAMP)
            email = shape == "one_queue"
            rows.append(
                {
                    "id": f"{uuid.UUID(int=i).hex[:8]}-{i:08d}",
                    "subscriber_id": f"sub-{i}",
                    "notice_id": "miit-claim",
                    "type": "notice.matched",
                    "reason": "match",
                    "channel": "email" if email else "webhook",
                    "target": f"person{i}@example.com" if email else f"http://10.0.0.1/{i}",
                    "queue": SMTP_QUEUE if email else f"http://10.0.0.1/{i}",
                    "payload": "{}",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                    "retry_base": 0,
                }
            )
        async with db.session() as session:
            await session.execute(insert(DeliveryRow), rows)
    return datetime.now(UTC)


def server_cpu(pid: int | None) -> float:
    """Seconds of CPU the PostgreSQL backend ``pid`` has used (on this machine), else 0."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def time_rank(
    db: Database, worker: Dispatcher, now: datetime, window: int | None
) -> tuple[float, float, float, list[str]]:
    """One ranking query alone: wall, this process's CPU, the server's CPU, the ids."""
    async with db.session() as session:
        pid = None
        if not db.is_sqlite:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        server, cpu, wall = server_cpu(pid), time.process_time(), time.perf_counter()
        ids = await worker.rank(session, now, worker.batch * 2, window)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return wall, cpu, server_cpu(pid) - server, ids


async def time_claim(db: Database, worker: Dispatcher, now: datetime) -> tuple[float, float, int]:
    """One whole claim (wall, this process's CPU, rows), its leases then given back."""
    cpu, wall = time.process_time(), time.perf_counter()
    rows = await worker.claim(now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    async with db.session() as session:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_([row.id for row in rows]))
            .values(claimed_until=None, claim_token=None)
        )
    return wall, cpu, len(rows)


@contextlib.asynccontextmanager
async def claim_database(database: str, server_url: str, base: Path) -> AsyncIterator[str]:
    """A SQLite file in ``base``, or a new PostgreSQL database on the server, dropped after."""
    if database == "sqlite":
        yield f"sqlite+aiosqlite:///{base / 'claim.db'}"
        return
    if not server_url:
        raise SystemExit(f"--database postgresql needs --database-url or {DATABASE_URL_ENV}")
    async with scratch_database(server_url, f"regwatch_claim_{uuid.uuid4().hex[:8]}") as url:
        yield url


async def claim_cost(
    database: str, server_url: str, pending: int, shape: str, rounds: int
) -> dict[str, Any]:
    """One claim with ``pending`` due rows: the window against ranking every due row."""
    settings = Settings(webhook_allow_private=True)
    webhooks = WebhookSender.from_settings(settings)
    email = EmailSender(host="127.0.0.1", port=9, timeout=5)
    with tempfile.TemporaryDirectory() as tmp:
        async with claim_database(database, server_url, Path(tmp)) as url:
            db = Database(url)
            try:
                await db.migrate()
                started = time.perf_counter()
                now = await fill_pending(db, pending, shape)
                filled = time.perf_counter() - started
                if not db.is_sqlite:  # as autovacuum would after such a write
                    async with db.engine.begin() as conn:
                        await conn.execute(text("ANALYZE deliveries"))
                new = Dispatcher(db, settings, webhooks, email)
                old = RankEveryRow(db, settings, webhooks, email)
                window = window_size(new.batch)
                await time_rank(db, new, now, window)  # warm-up: connections, caches
                await time_rank(db, new, now, None)
                ranks: dict[str, list[tuple[float, float, float]]] = {"new": [], "old": []}
                claims: dict[str, list[tuple[float, float]]] = {"new": [], "old": []}
                for _ in range(rounds):
                    for name, rank_window in (("new", window), ("old", None)):
                        wall, cpu, server, ids = await time_rank(db, new, now, rank_window)
                        ranks[name].append((wall, cpu, server))
                        if name == "new":
                            same = ids
                        else:
                            assert ids == same, "the window ranked other rows"
                    taken = set()
                    for name, worker in (("new", new), ("old", old)):
                        wall, cpu, count = await time_claim(db, worker, now)
                        taken.add(count)
                        claims[name].append((wall, cpu))
                    assert len(taken) == 1, f"the claims took {taken} rows"
                paths = {
                    "narrowed": new.narrowed,
                    "widened": new.widened,
                    "ranked_every_row": new.full_ranks,
                }
            finally:
                await db.dispose()
    await webhooks.aclose()
    await email.aclose()

    def med(values: list[tuple[float, ...]], at: int) -> float:
        return statistics.median(value[at] for value in values)

    result: dict[str, Any] = {
        "bench": "fair_claim",
        "measure": "claim_cost",
        "database": database,
        "pending": pending,
        "shape": shape,
        "rounds": rounds,
        "fill_s": round(filled, 1),
        "window": window,
        # of the 2 * rounds + 1 windowed claims and rankings: how many set deep queues aside,
        # read a wider window, ranked every due row
        "new_ranks": 2 * rounds + 1,
        **{f"new_ranks_{name}": count for name, count in paths.items()},
        "claim_ms": round(med(claims["new"], 0) * 1000, 1),
        "claim_cpu_ms": round(med(claims["new"], 1) * 1000, 1),
        "old_claim_ms": round(med(claims["old"], 0) * 1000, 1),
        "old_claim_cpu_ms": round(med(claims["old"], 1) * 1000, 1),
        "rank_ms": round(med(ranks["new"], 0) * 1000, 2),
        "rank_cpu_ms": round(med(ranks["new"], 1) * 1000, 2),
        "old_rank_ms": round(med(ranks["old"], 0) * 1000, 2),
        "old_rank_cpu_ms": round(med(ranks["old"], 1) * 1000, 2),
        "ratio_vs_old": round(med(claims["new"], 0) / med(claims["old"], 0), 4),
        "ratio_vs_old_cpu": round(med(claims["new"], 1) / med(claims["old"], 1), 4),
        "rank_ratio_vs_old": round(med(ranks["new"], 0) / med(ranks["old"], 0), 4),
        "same_rows": True,
        "load_average": os.getloadavg()[0],
    }
    if database != "sqlite":
        result["rank_server_cpu_ms"] = round(med(ranks["new"], 2) * 1000, 1)
        result["old_rank_server_cpu_ms"] = round(med(ranks["old"], 2) * 1000, 1)
    return result


def run(
    quick: bool,
    pending: list[int] | None = None,
    databases: tuple[str, ...] = ("sqlite",),
    server_url: str = "",
    shapes: tuple[str, ...] = ("fanout",),
    rounds: int = 3,
) -> list[dict[str, Any]]:
    results = []
    if pending is None:
        with receiver_process() as url:
            result = asyncio.run(measure(url, 5 if quick else 20))
        emit(result)
        results.append(result)
        pending = [20_000 if quick else 200_000]
    for database in databases:
        for shape in shapes:
            for count in pending:
                cost = asyncio.run(claim_cost(database, server_url, count, shape, rounds))
                emit(cost)
                results.append(cost)
    save("fair_claim", results)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--pending", type=int, nargs="+", help="only the claim's cost, with these many rows"
    )
    parser.add_argument(
        "--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite"]
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(DATABASE_URL_ENV, ""),
        help=f"a PostgreSQL server's database to connect to (default: ${DATABASE_URL_ENV})",
    )
    parser.add_argument("--shape", nargs="+", choices=("fanout", "one_queue"), default=["fanout"])
    parser.add_argument("--rounds", type=int, default=3, help="claims timed each way")
    options = parser.parse_args()
    run(
        options.quick,
        options.pending,
        tuple(options.database),
        options.database_url,
        tuple(options.shape),
        options.rounds,
    )


if __name__ == "__main__":
    main()
