"""Delivery through the ledger to real receivers: retries, isolation, permanent failures."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notifier.channels.email import SMTP_QUEUE
from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.history import list_deliveries, replay_delivery
from services.notifier.models import AttemptRow, DeliveryRow
from services.notifier.preferences import get_preferences
from services.notifier.results import Outcome
from services.notifier.webhook import WebhookSender
from services.notifier.webhook_secrets import rotate_secret
from shared.accounts import Subscriber, register_subscriber
from shared.db import Database
from shared.errors import InputError
from shared.events import DeliveryEvent
from shared.settings import Settings
from tests.services.notifier.conftest import idle_dispatcher
from tests.support.factories import match_event
from tests.support.receivers import Reply, SmtpReceiver, WebhookReceiver

SETTINGS = Settings(
    retry_schedule="100ms,100ms,100ms",
    webhook_timeout=2,
    dispatch_interval=0.05,
    webhook_allow_private=True,
)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpReceiver]:
    async with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
async def dispatcher(db: Database, smtp: SmtpReceiver) -> AsyncIterator[Dispatcher]:
    async with running_dispatcher(db, smtp) as worker:
        yield worker


@contextlib.asynccontextmanager
async def running_dispatcher(db: Database, smtp: SmtpReceiver) -> AsyncIterator[Dispatcher]:
    outcomes: list[DeliveryEvent] = []

    async def record(event: DeliveryEvent) -> None:
        outcomes.append(event)

    webhooks = WebhookSender(timeout=SETTINGS.webhook_timeout, allow_private=True)
    email = EmailSender(
        host="127.0.0.1", port=smtp.port, username=None, password=None, tls="none", timeout=5
    )
    worker = Dispatcher(db, SETTINGS, webhooks, email, record)
    worker.outcomes = outcomes  # type: ignore[attr-defined]
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
        await webhooks.aclose()
        await email.aclose()  # before the SMTP server stops: it waits for open sessions


async def subscribe(db: Database, *, email: str | None, webhook: str | None) -> tuple[str, str]:
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name="Risk",
            email=email,
            webhook_url=webhook,
            reminders="1d",
            default_reminders="7d",
            allow_private=True,
        )
    return created.id, created.webhook_secret or ""


async def wait_status(db: Database, delivery_id: str, status: str, wait: float = 10) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        async with db.read_session() as session:  # reads only: takes no writer lock
            row = await session.get(DeliveryRow, delivery_id)
            if row is not None and row.status == status:
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{delivery_id} never reached {status}")


async def test_503_twice_then_200_is_one_delivery_three_attempts_same_id(
    db: Database, dispatcher: Dispatcher
) -> None:
    async with WebhookReceiver(plan=[503, 503, 200]) as hook:
        subscriber_id, secret = await subscribe(db, email=None, webhook=hook.url)
        [delivery_id], _ = await handle_match(
            db, SETTINGS, match_event(subscriber_id, date(2099, 8, 31))
        )
        dispatcher.kick()
        await wait_status(db, delivery_id, "delivered")
        await asyncio.sleep(0.5)
        assert [r.reply.status for r in hook.requests] == [503, 503, 200]
        assert {r.webhook_id for r in hook.requests} == {delivery_id}
        Webhook(secret).verify(hook.requests[-1].body, hook.requests[-1].headers)
    async with db.session() as session:
        attempts = (
            await session.execute(
                select(AttemptRow.status_code).where(AttemptRow.delivery_id == delivery_id)
            )
        ).all()
    assert sorted(code for (code,) in attempts) == [200, 503, 503]
    outcomes = [e.status for e in dispatcher.outcomes]  # type: ignore[attr-defined]
    assert outcomes == ["retrying", "retrying", "delivered"]


async def test_410_fails_at_once(db: Database, dispatcher: Dispatcher) -> None:
    async with WebhookReceiver(plan=[410]) as hook:
        subscriber_id, _ = await subscribe(db, email=None, webhook=hook.url)
        [delivery_id], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        dispatcher.kick()
        await wait_status(db, delivery_id, "failed")
        await asyncio.sleep(0.4)
        assert len(hook.requests) == 1


async def test_retries_run_out_then_failed(db: Database, dispatcher: Dispatcher) -> None:
    async with WebhookReceiver(default=500) as hook:
        subscriber_id, _ = await subscribe(db, email=None, webhook=hook.url)
        [delivery_id], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        dispatcher.kick()
        await wait_status(db, delivery_id, "failed")
        assert len(hook.requests) == 4  # first try + three retries


async def test_hanging_endpoint_does_not_delay_another_subscriber(
    db: Database, dispatcher: Dispatcher
) -> None:
    async with WebhookReceiver(plan=[Reply(hang=True)] * 10) as slow, WebhookReceiver() as fast:
        slow_id, _ = await subscribe(db, email=None, webhook=slow.url)
        fast_id, _ = await subscribe(db, email=None, webhook=fast.url)
        await handle_match(db, SETTINGS, match_event(slow_id, None))
        dispatcher.kick()
        await asyncio.sleep(0.2)  # the slow endpoint's request is now hanging
        [fast_delivery], _ = await handle_match(db, SETTINGS, match_event(fast_id, None))
        dispatcher.kick()
        await fast.wait_for(1, timeout=10)
        await wait_status(db, fast_delivery, "delivered")
        # no timed assertion (speed is bench.fair_claim's): the healthy alert went out while
        # the hanging endpoint still had its first request open, nothing else tried there
        assert len(slow.requests) <= 1


async def test_email_451_then_accepted(
    db: Database, smtp: SmtpReceiver, dispatcher: Dispatcher
) -> None:
    smtp.set_plan(["451 4.3.0 try again later"])
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    [delivery_id], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
    dispatcher.kick()
    await wait_status(db, delivery_id, "delivered")
    [message] = smtp.messages
    assert message["X-Regwatch-Alert-Id"] == delivery_id
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}
    assert len(smtp.received) == 2


# --- 410, rotation, unsubscribe headers, replay, digests ---------------------------------


async def delivery_rows(db: Database) -> list[DeliveryRow]:
    async with db.session() as session:
        return list((await session.execute(select(DeliveryRow))).scalars())


async def test_410_disables_the_endpoint_fails_its_queue_and_emails_the_subscriber(
    db: Database, smtp: SmtpReceiver
) -> None:
    async with WebhookReceiver(plan=[410]) as hook:
        subscriber_id, _ = await subscribe(db, email="ops@example.com", webhook=hook.url)
        async with db.session() as session:  # the email alerts are not what this test watches
            prefs = await get_preferences(session, subscriber_id)
            prefs.email_unsubscribed_at = datetime.now(UTC)
        second = match_event(subscriber_id, None)
        second.notice.notice_id = "miit-second"
        [queued], _ = await handle_match(db, SETTINGS, second)
        async with db.session() as session:  # waiting for a retry when the 410 comes
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == queued)
                .values(next_attempt_at=datetime.now(UTC) + timedelta(hours=1))
            )
        [first], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        # started only now: a running dispatcher could send `queued` before it waits
        async with running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            await wait_status(db, first, "failed")
            third = match_event(subscriber_id, None)
            third.notice.notice_id = "miit-third"
            [later], _ = await handle_match(db, SETTINGS, third)
            [message] = await smtp.wait_for(1)
            await asyncio.sleep(0.3)
            assert len(hook.requests) == 1  # nothing more is sent to a gone endpoint
    found = {row.id: row for row in await delivery_rows(db)}
    assert found[queued].status == "failed"
    assert "endpoint gone" in (found[queued].last_error or "")
    assert (found[later].status, found[later].attempts) == ("failed", 0)
    assert message["To"] == "ops@example.com"
    assert "410" in message["Subject"]
    assert hook.url in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    async with db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        assert prefs.webhook_disabled_url == hook.url


async def test_rotated_secret_old_and_new_both_verify(db: Database, dispatcher: Dispatcher) -> None:
    async with WebhookReceiver() as hook:
        subscriber_id, old_secret = await subscribe(db, email=None, webhook=hook.url)
        async with db.session() as session:
            subscriber = await session.get(Subscriber, subscriber_id)
            assert subscriber is not None
            rotation = await rotate_secret(
                session, subscriber, timedelta(hours=24), datetime.now(UTC)
            )
        await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        dispatcher.kick()
        [request] = await hook.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, rotation.webhook_secret):
        Webhook(secret).verify(request.body, request.headers)
    assert rotation.previous_valid_until is not None


async def test_old_secret_stops_signing_after_the_grace(
    db: Database, dispatcher: Dispatcher
) -> None:
    async with WebhookReceiver() as hook:
        subscriber_id, old_secret = await subscribe(db, email=None, webhook=hook.url)
        async with db.session() as session:
            subscriber = await session.get(Subscriber, subscriber_id)
            assert subscriber is not None
            rotation = await rotate_secret(session, subscriber, timedelta(0), datetime.now(UTC))
        await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        dispatcher.kick()
        [request] = await hook.wait_for(1)
    Webhook(rotation.webhook_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(request.body, request.headers)


async def test_email_has_list_unsubscribe_headers(
    db: Database, smtp: SmtpReceiver, dispatcher: Dispatcher
) -> None:
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    await handle_match(db, SETTINGS, match_event(subscriber_id, None))
    dispatcher.kick()
    [message] = await smtp.wait_for(1)
    async with db.session() as session:
        token = (await get_preferences(session, subscriber_id)).unsubscribe_token
    assert message["List-Unsubscribe"].strip() == f"<http://127.0.0.1:8080/v1/unsubscribe/{token}>"
    # no REGWATCH_PUBLIC_URL: the link is http, and RFC 8058 one-click needs https
    assert message["List-Unsubscribe-Post"] is None
    assert f"/v1/unsubscribe/{token}" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_replay_sends_a_failed_delivery_again_with_the_same_id(
    db: Database, dispatcher: Dispatcher
) -> None:
    async with WebhookReceiver(plan=[400]) as hook:
        subscriber_id, secret = await subscribe(db, email=None, webhook=hook.url)
        [delivery_id], _ = await handle_match(db, SETTINGS, match_event(subscriber_id, None))
        dispatcher.kick()
        await wait_status(db, delivery_id, "failed")
        async with db.session() as session:
            await replay_delivery(session, delivery_id, datetime.now(UTC))
        dispatcher.kick()
        await wait_status(db, delivery_id, "delivered")
        assert [r.webhook_id for r in hook.requests] == [delivery_id, delivery_id]
        assert [r.reply.status for r in hook.requests] == [400, 200]
        Webhook(secret).verify(hook.requests[1].body, hook.requests[1].headers)
    async with db.session() as session:
        listed = await list_deliveries(session, subscriber_id=subscriber_id)
        with pytest.raises(InputError, match="delivered"):
            await replay_delivery(session, delivery_id, datetime.now(UTC))
    [entry] = listed
    assert entry["attempts"] == 2 and entry["replayed_at"] is not None
    assert [a["status_code"] for a in entry["history"]] == [400, 200]


async def test_a_digest_webhook_is_signed_and_lists_the_held_alerts(
    db: Database, dispatcher: Dispatcher
) -> None:
    async with WebhookReceiver() as hook:
        subscriber_id, secret = await subscribe(db, email=None, webhook=hook.url)
        async with db.session() as session:
            prefs = await get_preferences(session, subscriber_id)
            prefs.digest = "daily"
        ids = []
        for n in range(2):
            event = match_event(subscriber_id, None)
            event.notice.notice_id = f"miit-held-{n}"
            ids += (await handle_match(db, SETTINGS, event))[0]
        async with db.session() as session:
            await session.execute(
                update(DeliveryRow).values(release_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        dispatcher.kick()
        [request] = await hook.wait_for(1)
        await asyncio.sleep(0.3)
        assert len(hook.requests) == 1
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "digest"
    assert sorted(a["id"] for a in body["data"]["alerts"]) == sorted(ids)


# --- fair claims: one full queue never takes the claim --------------------------------------

HANGING = "http://127.0.0.1:9/hanging"
HEALTHY = "http://127.0.0.1:9/healthy"


def queued(ident: str, target: str, at: datetime) -> dict[str, object]:
    """A due pending webhook row (claim() reads nothing else: no subscriber needed)."""
    return {
        "id": ident,
        "subscriber_id": f"sub-{target[-7:]}",
        "notice_id": ident,
        "type": "notice.matched",
        "reason": "match",
        "channel": "webhook",
        "target": target,
        "queue": target,
        "payload": "{}",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
        "retry_base": 0,
    }


async def add_rows(db: Database, rows: list[dict[str, object]]) -> None:
    async with db.session() as session:
        await session.execute(insert(DeliveryRow), rows)


@pytest.fixture
async def idle(db: Database) -> AsyncIterator[Dispatcher]:
    """A dispatcher whose loop is not running: the tests call claim() themselves."""
    async with idle_dispatcher(db, SETTINGS) as dispatcher:
        yield dispatcher


def sending(worker: Dispatcher, rows: list[DeliveryRow]) -> None:
    """What sweep() does with claimed rows, without sending them."""
    for row in rows:
        worker.in_flight[row.queue] += 1
        worker.limits[row.queue] = worker.limit_of(row.channel)
        worker.sending.add(row.id)


def done(worker: Dispatcher, row: DeliveryRow) -> None:
    """What the end of a delivery task does (its result not written: the lease stays)."""
    worker.sending.discard(row.id)
    worker.in_flight[row.queue] -= 1


async def test_two_instances_claiming_at_once_never_take_the_same_row(db: Database) -> None:
    """Two notifier processes on one database (each its own engine and connections) claim
    over and over at the same time: every due row is taken once, by one of them. On SQLite
    a claim takes the rows it ranked as they are (its unit of work holds the one writer from
    its first statement); on PostgreSQL it skips the rows the other claim has locked, which
    are only the rows that claim takes."""
    now = datetime.now(UTC)
    oldest = now - timedelta(minutes=10)
    rows = [
        queued(f"row-{i:04d}", f"http://127.0.0.1:9/{i % 300}", oldest + timedelta(milliseconds=i))
        for i in range(1200)
    ]
    await add_rows(db, rows)
    other = Database(db.url)
    taken: dict[str, list[str]] = {"one": [], "two": []}
    try:
        async with (
            idle_dispatcher(db, SETTINGS) as one,
            idle_dispatcher(other, SETTINGS) as two,
        ):
            for _ in range(100):  # rounds of two claims started together
                if len(taken["one"]) + len(taken["two"]) >= len(rows):
                    break
                first, second = await asyncio.gather(one.claim(now, 40), two.claim(now, 40))
                taken["one"] += [row.id for row in first]
                taken["two"] += [row.id for row in second]
    finally:
        await other.dispose()
    both = taken["one"] + taken["two"]
    assert len(both) == len(set(both)), "a row was claimed twice"
    assert sorted(both) == sorted(row["id"] for row in rows)
    # neither finds every row it ranked taken or locked by the other: the one that waits
    # (SQLite's one writer) or meets the other's locks (PostgreSQL) takes the next ranked rows
    assert len(taken["one"]) == len(taken["two"]) == len(rows) // 2, {
        name: len(ids) for name, ids in taken.items()
    }


async def test_claim_takes_a_newer_queue_first_and_no_more_than_the_limit_of_a_full_one(
    db: Database, idle: Dispatcher
) -> None:
    now = datetime.now(UTC)
    oldest = now - timedelta(hours=1)
    rows = [queued(f"hang-{i:04d}", HANGING, oldest + timedelta(seconds=i)) for i in range(1000)]
    await add_rows(db, [*rows, queued("healthy", HEALTHY, now - timedelta(seconds=1))])

    first = await idle.claim(now)
    assert sorted(row.id for row in first) == [
        "hang-0000",
        "hang-0001",
        "hang-0002",
        "hang-0003",
        "healthy",
    ]
    sending(idle, first)
    assert await idle.claim(now) == []  # the hanging queue is full: none of its 996 others

    hung = next(row for row in first if row.target == HANGING)
    done(idle, hung)  # one slot free: one more row, the oldest left
    assert [row.id for row in await idle.claim(now)] == ["hang-0004"]

    # the 1,000 rows again, but with the endpoint at its limit in this process
    idle.in_flight[HANGING] = idle.senders.per_endpoint
    idle.limits[HANGING] = idle.senders.per_endpoint
    healthy = next(row for row in first if row.target == HEALTHY)
    later = now + timedelta(hours=1)  # every lease has run out
    assert await idle.claim(later) == []  # still being sent here: not claimed again
    done(idle, healthy)
    assert [row.id for row in await idle.claim(later)] == ["healthy"]


async def test_a_claim_takes_every_queues_oldest_row_before_any_queues_second(
    db: Database, idle: Dispatcher
) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(hours=1)
    rows = [
        queued(f"{name}-{i}", f"http://127.0.0.1:9/{name}", start + timedelta(seconds=10 * n + i))
        for n, name in enumerate(("a", "b", "c"))
        for i in range(3)
    ]
    await add_rows(db, rows)  # all of a's rows are older than b's, all of b's than c's
    idle.batch = 4
    # a's first three would fill the batch oldest first; each queue's first comes before a's
    # second instead
    assert sorted(row.id for row in await idle.claim(now)) == ["a-0", "a-1", "b-0", "c-0"]


async def test_each_queue_with_rows_in_flight_gets_the_slots_it_has_left(
    db: Database, idle: Dispatcher
) -> None:
    """Queues with 0, 1, 2, 3 and 4 (of 4) rows being sent here, two of them with the same
    number: a claim takes 4, 3, 2, 1 and 0 of their rows, and a second claim with the same
    queues in flight (the statement compiled once, other numbers bound) the same again."""
    now = datetime.now(UTC)
    start = now - timedelta(hours=1)
    sent = {"q0": 0, "q1": 1, "q1b": 1, "q2": 2, "q3": 3, "q4": 4}
    rows = [
        queued(f"{name}-{i}", f"http://127.0.0.1:9/{name}", start + timedelta(seconds=i))
        for name in sent
        for i in range(6)
    ]
    await add_rows(db, rows)
    idle.batch = 100

    async def claim_with(in_flight: dict[str, int]) -> dict[str, int]:
        idle.in_flight.clear()
        idle.limits.clear()
        for name, n in in_flight.items():
            if n:
                idle.in_flight[f"http://127.0.0.1:9/{name}"] = n
                idle.limits[f"http://127.0.0.1:9/{name}"] = idle.senders.per_endpoint
        claimed = await idle.claim(now)
        async with db.session() as session:  # let them go again, as if not claimed
            await session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_([r.id for r in claimed]))
                .values(claimed_until=None, claim_token=None)
            )
        return dict(Counter(row.id.rsplit("-", 1)[0] for row in claimed))

    expected = {"q0": 4, "q1": 3, "q1b": 3, "q2": 2, "q3": 1}
    assert await claim_with(sent) == expected
    assert await claim_with(sent) == expected
    # other numbers in flight, the same shape of statement: 2 and 1 slots left, 3 and 0
    moved = {"q0": 2, "q1": 3, "q1b": 3, "q2": 0, "q3": 2, "q4": 1}
    assert await claim_with(moved) == {"q0": 2, "q1": 1, "q1b": 1, "q2": 4, "q3": 2, "q4": 3}


async def test_a_thousand_alerts_for_a_hanging_endpoint_do_not_hold_up_a_newer_one(
    db: Database, smtp: SmtpReceiver
) -> None:
    # requests are never cut short here (a long timeout), so the hanging endpoint holds its
    # four slots for the whole test and what is asserted does not depend on timing
    patient = Settings(
        retry_schedule="100ms,100ms,100ms",
        webhook_timeout=60,
        dispatch_interval=0.05,
        webhook_allow_private=True,
    )
    webhooks = WebhookSender(timeout=patient.webhook_timeout, allow_private=True)
    email = EmailSender(host="127.0.0.1", port=smtp.port, tls="none", timeout=5)
    worker = Dispatcher(db, patient, webhooks, email)
    try:
        async with WebhookReceiver(hang=True) as slow, WebhookReceiver() as fast:
            try:
                slow_id, _ = await subscribe(db, email=None, webhook=slow.url)
                [first], _ = await handle_match(db, patient, match_event(slow_id, None))
                async with db.session() as session:
                    row = await session.get(DeliveryRow, first)
                    assert row is not None
                    template = {c.key: getattr(row, c.key) for c in DeliveryRow.__table__.c}
                copies = [
                    template
                    | {
                        "id": f"hang-{i:04d}",
                        "notice_id": f"miit-hang-{i:04d}",
                        "next_attempt_at": row.next_attempt_at - timedelta(seconds=1000 - i),
                    }
                    for i in range(999)
                ]
                await add_rows(db, copies)
                worker.start()
                await slow.wait_for(worker.senders.per_endpoint, timeout=10)  # its slots are taken

                fast_id, _ = await subscribe(db, email=None, webhook=fast.url)
                [healthy], _ = await handle_match(db, patient, match_event(fast_id, None))
                worker.kick()
                [request] = await fast.wait_for(1, timeout=10)
                await wait_status(db, healthy, "delivered")
                assert request.webhook_id == healthy
                async with db.read_session() as session:
                    waiting = (
                        await session.execute(
                            select(DeliveryRow.id).where(
                                DeliveryRow.target == slow.url,
                                DeliveryRow.status == "pending",
                                DeliveryRow.attempts == 0,
                                DeliveryRow.claimed_until.is_(None),
                            )
                        )
                    ).all()
                # every one of them was queued before the healthy alert: 996 are still
                # waiting, untried, and the endpoint never got more than its four requests
                assert len(waiting) == 1000 - worker.senders.per_endpoint
                assert len(slow.requests) == worker.senders.per_endpoint
            finally:
                await worker.loop.stop()  # no more claims; the hanging requests end below
    finally:
        await worker.stop()
        await webhooks.aclose()
        await email.aclose()


async def test_an_https_public_url_offers_one_click_unsubscribe(
    db: Database, smtp: SmtpReceiver, dispatcher: Dispatcher
) -> None:
    """The link is made when the alert is (with REGWATCH_PUBLIC_URL); the headers follow it."""
    settings = SETTINGS.model_copy(update={"public_url": "https://alerts.example.com/"})
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    await handle_match(db, settings, match_event(subscriber_id, None))
    dispatcher.kick()
    [message] = await smtp.wait_for(1)
    async with db.session() as session:
        token = (await get_preferences(session, subscriber_id)).unsubscribe_token
    link = f"https://alerts.example.com/v1/unsubscribe/{token}"
    assert message["List-Unsubscribe"].strip() == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_many_webhooks_at_once_are_each_signed_once_and_recorded_in_few_writes(
    db: Database, dispatcher: Dispatcher
) -> None:
    """Forty subscribers' webhooks claimed together: each is signed with its own subscriber's
    secret (read for the whole claim), arrives once, and every result is recorded with its
    attempt, though results are written many to a unit of work."""
    async with WebhookReceiver() as hook:
        secrets: dict[str, str] = {}
        ids: list[str] = []
        for n in range(40):
            subscriber_id, secret = await subscribe(db, email=None, webhook=f"{hook.url}/{n}")
            secrets[f"/{n}"] = secret
            [delivery_id], _ = await handle_match(
                db, SETTINGS, match_event(subscriber_id, date(2099, 8, 31))
            )
            ids.append(delivery_id)
        dispatcher.kick()
        for delivery_id in ids:
            await wait_status(db, delivery_id, "delivered")
        assert sorted(r.headers["webhook-id"] for r in hook.requests) == sorted(ids)
        for request in hook.requests:
            path = "/" + request.path.rsplit("/", 1)[-1]
            Webhook(secrets[path]).verify(request.body, request.headers)  # raises if not
        async with db.read_session() as session:
            attempts = list(await session.scalars(select(AttemptRow.delivery_id)))
        assert sorted(attempts) == sorted(ids)


async def test_a_subscriber_gone_before_its_send_fails_that_delivery_only(
    db: Database, smtp: SmtpReceiver
) -> None:
    async with WebhookReceiver() as hook:
        gone_id, _ = await subscribe(db, email=None, webhook=f"{hook.url}/gone")
        kept_id, _ = await subscribe(db, email=None, webhook=f"{hook.url}/kept")
        [gone], _ = await handle_match(db, SETTINGS, match_event(gone_id, date(2099, 8, 31)))
        [kept], _ = await handle_match(db, SETTINGS, match_event(kept_id, date(2099, 8, 31)))
        async with db.session() as session:
            row = await session.get(Subscriber, gone_id)
            assert row is not None
            await session.delete(row)
        async with running_dispatcher(db, smtp):  # both claimed together, after the delete
            await wait_status(db, kept, "delivered")
            await wait_status(db, gone, "failed")
        async with db.read_session() as session:
            failed_row = await session.get(DeliveryRow, gone)
        assert failed_row is not None and failed_row.last_error == "subscriber gone"
        assert hook.requests and all(r.path.endswith("/kept") for r in hook.requests)


async def test_an_endpoint_takes_its_next_alert_only_once_the_last_result_is_written(
    db: Database, smtp: SmtpReceiver
) -> None:
    """One at a time per endpoint: the second alert waits until the first's result is
    written, so what the endpoint received and the ledger does not say yet is never more
    than its limit: all that a crash at that moment can send again."""
    gate = asyncio.Event()
    async with WebhookReceiver() as hook:
        subscriber_id, _ = await subscribe(db, email=None, webhook=hook.url)
        ids = []
        for n in range(2):
            event = match_event(subscriber_id, date(2099, 8, 31))
            event = event.model_copy(
                update={"notice": event.notice.model_copy(update={"notice_id": f"miit-{n}"})}
            )
            [delivery_id], _ = await handle_match(db, SETTINGS, event)
            ids.append(delivery_id)
        webhooks = WebhookSender(timeout=SETTINGS.webhook_timeout, allow_private=True)
        email = EmailSender(host="127.0.0.1", port=smtp.port, timeout=5)
        worker = Dispatcher(db, SETTINGS, webhooks, email, per_endpoint=1)
        write = worker.results.write

        async def held(outcome: Outcome) -> list[str]:
            await gate.wait()
            return await write(outcome)

        worker.results.write = held  # type: ignore[method-assign,assignment]
        worker.start()
        try:
            await hook.wait_for(1)
            for _ in range(10):  # sweeps every 50 ms: the second would go out meanwhile
                await asyncio.sleep(0.05)
                worker.kick()
            assert len(hook.requests) == 1  # answered, its result not written: still its slot
            async with db.read_session() as session:
                rows = [await session.get(DeliveryRow, i) for i in ids]
            assert all(row is not None and row.status == "pending" for row in rows)
            gate.set()
            for delivery_id in ids:
                await wait_status(db, delivery_id, "delivered")
        finally:
            gate.set()
            await worker.stop()
            await webhooks.aclose()
            await email.aclose()
    assert sorted(r.webhook_id or "" for r in hook.requests) == sorted(ids)


async def test_emails_are_claimed_four_per_smtp_connection_and_wait_in_the_pool(
    db: Database, idle: Dispatcher
) -> None:
    """A fan-out's emails: a claim takes four per SMTP connection (they wait for a free one
    in the pool), so the few connections stay busy between claims; no more while those are
    being sent."""
    now = datetime.now(UTC)
    rows = []
    for i in range(100):
        row = queued(f"mail-{i:03d}", f"person{i}@example.com", now - timedelta(seconds=100 - i))
        rows.append({**row, "channel": "email", "queue": SMTP_QUEUE})
    await add_rows(db, rows)
    connections = idle.senders.smtp.connections
    first = await idle.claim(now)
    assert [row.id for row in first] == [f"mail-{i:03d}" for i in range(4 * connections)]
    sending(idle, first)
    assert await idle.claim(now) == []
    done(idle, first[0])
    assert [row.id for row in await idle.claim(now)] == [f"mail-{4 * connections:03d}"]


async def test_a_queue_claimed_to_its_limit_is_claimed_again_when_half_its_slots_are_back(
    db: Database, idle: Dispatcher
) -> None:
    """Between claims a sweep waits until half of all in flight have finished (a claim ranks
    many rows), except for a queue the last claim filled to its limit: it is claimed for as
    soon as half of its own slots are back. A fan-out's emails (16 slots in one queue) waited
    for the webhooks' claims and went out last."""
    now = datetime.now(UTC)
    start = now - timedelta(hours=1)
    deep = [queued(f"deep-{i:02d}", HANGING, start + timedelta(seconds=i)) for i in range(20)]
    single = [
        queued(f"one-{i:02d}", f"http://127.0.0.1:9/one{i:02d}", start + timedelta(seconds=i))
        for i in range(6)
    ]
    await add_rows(db, [*deep, *single])
    answers: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def deliver(row: DeliveryRow) -> None:  # sent until the test answers it
        await answers[row.id].wait()
        idle.sending.discard(row.id)
        idle._release(row.queue)

    async def answer(*ids: str) -> None:
        for ident in ids:
            answers[ident].set()
        await asyncio.sleep(0.05)
        assert not set(ids) & idle.sending

    idle._deliver = deliver  # type: ignore[method-assign]
    idle.max_in_flight = idle.batch = 10
    limit = idle.senders.per_endpoint
    assert limit == 4  # the default per endpoint: 6 first rows and 4 of the deep queue fill 10
    try:
        assert await idle.sweep(release=False) == 10
        # every queue's first row, then the deep queue's next ones up to its limit
        assert sorted(idle.sending) == [f"deep-{i:02d}" for i in range(limit)] + [
            f"one-{i:02d}" for i in range(6)
        ]
        assert idle.full == {HANGING: limit}
        await answer("one-00", "one-01")  # 2 of 10 back, none of the full queue: no claim
        assert await idle.sweep(release=False) == 0
        await answer("deep-00")  # 3 of 10, the full queue 1 of its 4: no claim yet
        assert await idle.sweep(release=False) == 0
        await answer("deep-01")  # the full queue has half of its slots back: claimed at once
        assert await idle.sweep(release=False) == 2
        assert {"deep-04", "deep-05"} <= idle.sending
        assert idle.full == {HANGING: limit}
    finally:
        for event in answers.values():
            event.set()
        await asyncio.sleep(0.05)


async def test_a_fan_outs_emails_take_their_turn_with_its_webhooks(
    db: Database, idle: Dispatcher
) -> None:
    """Every email waits in the one SMTP queue, but each mailbox is a destination of its own:
    a mailbox's first row goes with every webhook URL's first row, oldest first, instead of
    the whole queue getting one row per claim while webhook URLs have a first row (a fan-out's
    emails went out after all its webhooks). A mailbox's second row waits for the firsts."""
    now = datetime.now(UTC)
    start = now - timedelta(hours=1)
    rows = []
    for i in range(30):  # subscriber i: a webhook, and every third one an email too
        at = start + timedelta(seconds=10 * i)
        rows.append(queued(f"hook-{i:02d}", f"http://127.0.0.1:9/h{i:02d}", at))
        if i % 3 == 0:
            mail = queued(f"mail-{i:02d}", f"person{i:02d}@example.com", at + timedelta(seconds=1))
            rows.append({**mail, "channel": "email", "queue": SMTP_QUEUE})
    again = queued("mail-00-again", "person00@example.com", start + timedelta(seconds=5))
    rows.append({**again, "channel": "email", "queue": SMTP_QUEUE})
    await add_rows(db, rows)
    idle.batch = 12
    claimed = sorted(row.id for row in await idle.claim(now))
    # the 12 oldest first rows of their destinations: subscribers 0-8's webhooks and 0, 3,
    # 6's emails; person00's second email (older than most of them) waits
    assert claimed == sorted(
        [f"hook-{i:02d}" for i in range(9)] + ["mail-00", "mail-03", "mail-06"]
    )
    async with db.session() as session:  # the order the next claim takes the others in
        order = await idle.rank(session, now, 100, window=None)
    assert len(order) == 41 - 12
    # person00's first email is being sent: the second is now that mailbox's first due row
    assert order[:4] == ["mail-00-again", "hook-09", "mail-09", "hook-10"]


async def test_a_claim_takes_the_next_rows_when_another_instance_is_claiming_the_first(
    db: Database, idle: Dispatcher
) -> None:
    """Two notifiers on one PostgreSQL database rank the same rows first: the second claim
    skips the rows the first has locked, at once, and takes the next ones."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time and no row locks to skip")
    now = datetime.now(UTC)
    rows = [
        queued(f"row-{i}", f"http://127.0.0.1:9/q{i}", now - timedelta(seconds=10 - i))
        for i in range(8)
    ]
    await add_rows(db, rows)
    idle.batch = 3
    async with db.session() as other:  # another instance in the middle of its claim
        await other.execute(
            select(DeliveryRow.id)
            .where(DeliveryRow.id.in_(["row-0", "row-1", "row-2"]))
            .with_for_update()
        )
        claimed = await asyncio.wait_for(idle.claim(now), 10)
        assert sorted(row.id for row in claimed) == ["row-3", "row-4", "row-5"]
    assert sorted(row.id for row in await idle.claim(now)) == ["row-0", "row-1", "row-2"]
