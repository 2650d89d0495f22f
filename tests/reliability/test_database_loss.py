"""PostgreSQL connections of a running pipeline killed (``pg_terminate_backend``), as a database
failover, a restarted PgBouncer or an administrator would.

* Every connection of the services killed again and again while notices flow through a full
  Runtime and the notifier delivers them.
* A consumer's connection killed in the middle of its unit of work, deterministically: the test
  locks the table that handler writes, waits until the handler's query blocks on the lock, and
  kills that backend (twice, then releases the lock). Done for the matcher's NoticeEvent handler
  and the notifier's MatchEvent handler.

Each alert must still arrive once by webhook and once by email (nothing lost, nothing twice),
no message may go to a dead-letter topic (a failure on a dead connection is transient: the
message is redelivered, not committed or skipped), and the services keep running.

SQLite has no server connections to lose: without ``REGWATCH_TEST_DATABASE_URL`` (``.ci/run``
starts a PostgreSQL and sets it) the tests are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from standardwebhooks import Webhook

from services.notifier.models import AttemptRow
from services.runtime import Runtime
from shared.db import Database
from tests.reliability.conftest import ledger
from tests.reliability.support import (
    Subscribed,
    arrived,
    assert_each_alert_once,
    dead_lettered,
    notice,
    post_notice,
    subscribe,
    wait_until,
    wait_until_async,
)
from tests.support.db import PG_ENV, fresh_database_url
from tests.support.receivers import SmtpReceiver, WebhookReceiver
from tests.support.settings import fast_settings

pytestmark = [
    pytest.mark.broker,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get(PG_ENV, "").strip(),
        reason=f"needs PostgreSQL (set {PG_ENV}; .ci/run starts one): SQLite has no server "
        "connections to lose",
    ),
]

NOTICES = 20
KILL_EVERY = 0.5
ARRIVAL_TIMEOUT = 60.0
TRANSIENT = "transient failure, message will be redelivered"

KILL = """
SELECT pid, coalesce(state, ''), coalesce(wait_event_type, ''), left(query, 200),
       pg_terminate_backend(pid)
FROM pg_stat_activity
WHERE datname = :db AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


@dataclass
class Killed:
    pid: int
    state: str
    wait: str
    query: str


@dataclass
class Terminator:
    """Ends the backends of one database from a connection to another one."""

    admin: AsyncEngine
    database: str
    killed: list[Killed] = field(default_factory=list)

    async def kill(self, where: str = "") -> list[Killed]:
        async with self.admin.connect() as conn:
            rows = (await conn.execute(text(KILL + where), {"db": self.database})).all()
        ended = [Killed(pid, state, wait, query) for pid, state, wait, query, ok in rows if ok]
        self.killed.extend(ended)
        return ended

    async def kill_waiting_on(self, table: str) -> list[Killed]:
        """Kill the backends blocked on a lock whose query names ``table``."""
        return await self.kill(f"AND wait_event_type = 'Lock' AND query LIKE '%{table}%'")

    async def keep_killing(self, every: float) -> None:
        while True:
            await self.kill()
            await asyncio.sleep(every)


@dataclass
class Pipeline:
    rt: Runtime
    hook: WebhookReceiver
    smtp: SmtpReceiver
    client: httpx.AsyncClient
    url: str
    terminator: Terminator


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    async for url in fresh_database_url("postgres", tmp_path):
        yield url


@pytest.fixture
async def pipeline(
    pg_url: str, kafka_bootstrap: str, broker_kind: str, namespace: str, tmp_path: Path
) -> AsyncIterator[Pipeline]:
    admin = create_async_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
    terminator = Terminator(admin, str(make_url(pg_url).database))
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        settings = fast_settings(
            kafka_bootstrap,
            broker_kind,
            namespace,
            tmp_path / "data",
            smtp_port=smtp.port,
            database_url=pg_url,
            webhook_timeout=2,
        )
        rt = Runtime(settings)
        await rt.start()
        try:
            async with httpx.AsyncClient(base_url=rt.http_url, timeout=20) as client:
                yield Pipeline(rt, hook, smtp, client, pg_url, terminator)
        finally:
            await rt.stop()
            await admin.dispose()


async def subscribers_of(pipeline: Pipeline, names: tuple[str, ...]) -> list[Subscribed]:
    return [await subscribe(pipeline.client, name, pipeline.hook.url) for name in names]


def emails_of(subscribers: list[Subscribed], names: tuple[str, ...]) -> dict[str, str]:
    return {s.id: f"{n.lower()}@example.com" for s, n in zip(subscribers, names, strict=True)}


async def all_delivered(url: str, rows: int) -> bool:
    final = await ledger(url)
    return len(final) == rows and {row.status for row in final.values()} == {"delivered"}


def transient_failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        1
        for r in caplog.records
        if r.name == "regwatch.broker" and r.getMessage().startswith(TRANSIENT)
    )


async def still_running(pipeline: Pipeline, subscribers: list[Subscribed], tag: str) -> str:
    """The services answer and a new notice still goes all the way through; its id."""
    assert (await pipeline.client.get("/healthz")).status_code == 200
    ready = await pipeline.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = notice(99, tag)
    before = len(pipeline.hook.requests)
    answer = await post_notice(pipeline.client, body)
    assert answer.status_code == 201, answer.text
    await pipeline.hook.wait_for(before + len(subscribers), timeout=20)
    return str(body["notice_id"])


async def test_connections_killed_repeatedly_while_notices_flow(
    pipeline: Pipeline, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    names = ("Legal", "Risk")
    subscribers = await subscribers_of(pipeline, names)
    tag = namespace[-6:]
    bodies = [notice(n, tag) for n in range(NOTICES)]
    notice_ids = [str(body["notice_id"]) for body in bodies]
    alerts = len(subscribers) * NOTICES
    refused: list[int] = []

    killing = asyncio.create_task(pipeline.terminator.keep_killing(KILL_EVERY))
    try:
        started = time.monotonic()
        for body in bodies:
            for _attempt in range(5):  # a client retries what the API did not take
                answer = await post_notice(pipeline.client, body)
                if answer.status_code < 500:
                    break
                refused.append(answer.status_code)
            assert answer.status_code == 201, answer.text
            await asyncio.sleep(0.05)
        await wait_until(
            lambda: arrived(pipeline.hook, pipeline.smtp, alerts), ARRIVAL_TIMEOUT, "every alert"
        )
        took = time.monotonic() - started
    finally:
        killing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await killing
    killed = pipeline.terminator.killed
    busy = [k for k in killed if k.state != "idle"]
    # the ledger settles (a delivery whose result was not recorded would be sent again)
    await wait_until_async(lambda: all_delivered(pipeline.url, 2 * alerts), 30, "the ledger")
    await asyncio.sleep(1.5)  # anything sent twice would arrive by now
    print(  # the figures, with -s
        f"{len(killed)} backends killed ({len(busy)} not idle) in {took:.1f}s; "
        f"{len(refused)} POSTs answered 5xx and retried; "
        f"{transient_failures(caplog)} handler failures redelivered"
    )

    assert len(killed) >= 20, "the connections were hardly ever killed: nothing was tested"
    assert dead_lettered(namespace) == {}
    assert_each_alert_once(
        pipeline.hook, pipeline.smtp, subscribers, emails_of(subscribers, names), notice_ids
    )
    final_id = await still_running(pipeline, subscribers, tag)
    assert final_id not in notice_ids
    secrets = {s.id: s.secret for s in subscribers}
    for request in pipeline.hook.requests:
        owner = request.json()["data"]["subscriber_id"]
        Webhook(secrets[owner]).verify(request.body, request.headers)


@contextlib.asynccontextmanager
async def locked(url: str, table: str) -> AsyncIterator[AsyncConnection]:
    """Hold an ACCESS EXCLUSIVE lock on ``table`` until the block ends."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            await conn.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
            yield conn
            await conn.commit()
    finally:
        await engine.dispose()


async def kill_blocked(
    terminator: Terminator, table: str, caplog: pytest.LogCaptureFixture, failures: int
) -> list[Killed]:
    """Kill whatever blocks on ``table`` until a consumer's handler failed ``failures`` times
    (the dispatcher may block on the same table and be killed too)."""
    killed: list[Killed] = []
    deadline = time.monotonic() + 30
    while transient_failures(caplog) < failures:
        assert time.monotonic() < deadline, f"no handler failed on {table} (killed {killed})"
        killed += await terminator.kill_waiting_on(table)
        await asyncio.sleep(0.05)
    return killed


@pytest.mark.parametrize(
    "table",
    [
        pytest.param("matcher_notices", id="matcher-handler"),
        pytest.param("deliveries", id="notifier-handler"),
    ],
)
async def test_handler_connection_killed_mid_transaction_is_redelivered(
    pipeline: Pipeline, namespace: str, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    names = ("Legal",)
    subscribers = await subscribers_of(pipeline, names)
    tag = namespace[-6:]
    body = notice(0, tag)
    async with locked(pipeline.url, table):
        answer = await post_notice(pipeline.client, body)
        assert answer.status_code == 201, answer.text
        killed = await kill_blocked(pipeline.terminator, table, caplog, failures=2)
        await asyncio.sleep(0.5)
        assert pipeline.hook.requests == [], "delivered while its handler could not commit"
    await wait_until(lambda: arrived(pipeline.hook, pipeline.smtp, 1), 30, "the alert")
    await wait_until_async(lambda: all_delivered(pipeline.url, 2), 30, "the ledger")
    await asyncio.sleep(1.5)  # anything sent twice would arrive by now
    print("killed mid-transaction:", [k.query[:80] for k in killed])

    assert dead_lettered(namespace) == {}
    assert_each_alert_once(
        pipeline.hook,
        pipeline.smtp,
        subscribers,
        emails_of(subscribers, names),
        [str(body["notice_id"])],
    )
    await still_running(pipeline, subscribers, tag)


async def attempts_recorded(url: str) -> int:
    db = Database(url)
    try:
        async with db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(AttemptRow)) or 0)
    finally:
        await db.dispose()


async def test_result_write_killed_after_the_receiver_accepted_is_not_sent_again(
    pipeline: Pipeline, namespace: str
) -> None:
    """The window between a receiver's 2xx and the ledger's commit: the connection writing the
    result dies there. The result must be written on a new connection, not left to a lease that
    expires and sends the alert a second time."""
    names = ("Legal",)
    subscribers = await subscribers_of(pipeline, names)
    tag = namespace[-6:]
    body = notice(0, tag)
    async with locked(pipeline.url, "delivery_attempts"):
        answer = await post_notice(pipeline.client, body)
        assert answer.status_code == 201, answer.text
        await wait_until(lambda: arrived(pipeline.hook, pipeline.smtp, 1), 30, "the alert")
        killed: list[Killed] = []
        deadline = time.monotonic() + 20
        while len(killed) < 2:  # the webhook's and the email's result, blocked on the lock
            assert time.monotonic() < deadline, f"no result write blocked (killed {killed})"
            killed += await pipeline.terminator.kill_waiting_on("delivery_attempts")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the writes start again, and wait for the lock
    await wait_until_async(lambda: all_delivered(pipeline.url, 2), 30, "the ledger")
    await asyncio.sleep(1.5)  # anything sent twice would arrive by now
    print("killed after the receiver accepted:", [k.query[:60] for k in killed])

    assert_each_alert_once(
        pipeline.hook,
        pipeline.smtp,
        subscribers,
        emails_of(subscribers, names),
        [str(body["notice_id"])],
    )
    assert await attempts_recorded(pipeline.url) == 2  # one attempt each, recorded once
    await still_running(pipeline, subscribers, tag)
