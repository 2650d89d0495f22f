"""Sends pending deliveries: claims rows in the database, one queue per endpoint.

Each delivery waits in the queue its channel named (``deliveries.queue``) and each queue has
the concurrency limit its channel gives: a webhook URL ``per_endpoint``, email the SMTP
connection pool (``REGWATCH_SMTP_CONNECTIONS``). The limits are applied in the claim query
itself: due rows are ranked within their queue (oldest first), a queue at its limit gives
nothing and any other queue at most its free slots, and a claim takes every destination's
oldest row before any destination's second (a destination is a webhook URL, a chat robot, a
mailbox: the one email queue, the SMTP pool, holds every mailbox's rows, and ranking its rows
within the queue gave a fan-out's emails one row per claim while thousands of webhook URLs
had a first row, so they went out last). A thousand rows waiting for a dead endpoint take its
four slots, never the whole claim, so a slow or dead endpoint never holds up another's
alerts. Only the oldest due rows are ranked (``WINDOW_FACTOR``: an index range scan, cheap
with a million pending, ranked in Python: ``claim_window``); queues whose deep backlogs fill
that window are set aside and the window read again without them, and every due row is
ranked only when that cannot give the answer either; the rows claimed are the same every way
(``Dispatcher.rank``). A hanging request is
cut at ``REGWATCH_WEBHOOK_TIMEOUT`` (and retried later), which frees its slot.

Send rates (a chat robot's 20 a minute, ``channels.base.Channel.rates``) are spent in the
claim's unit of work: each claimed row takes one send of its queue (``ratelimit.take``, shared
by every instance through ``rate_limits``); a row over its rate is let go again in that same
unit, no attempt counted, and its queue waits. A rate-limited send opens no transaction of its
own, and a channel without rates (email, webhooks) never touches ``rate_limits``.

Claims are leases: a crashed instance's rows are picked up again when they expire (see
``ledger.lease``). Instances sharing a PostgreSQL database skip the rows another one is claiming
at that moment (``FOR UPDATE SKIP LOCKED``) and take the next ones ranked. The rows this
process is still sending are never claimed again by it, even past their lease (a database that
stalled while their result was written).

Exactly once, and the one window left: a row is marked delivered in the unit of work right
after the receiver's answer. If the process dies between the receiver accepting and that
commit, the lease expires and the alert is sent again with the same id (``webhook-id``, the
email's ``Message-ID``): receivers that deduplicate on it see it once. A database connection
lost at that moment is no such window: the result is written again on a new connection.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, case, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.batch_writer import BatchWriter
from services.notifier.channels import CHANNELS, Channel, Senders, SendResult, failed
from services.notifier.claim_window import WindowRow, rank_window
from services.notifier.digest import release_held
from services.notifier.email import EmailSender
from services.notifier.ledger import lease, utc_now
from services.notifier.models import AttemptRow, DeliveryRow
from services.notifier.ratelimit import finish, take
from services.notifier.results import Outcome, write_rows
from services.notifier.retry import next_delay
from services.notifier.webhook import WebhookSender
from shared.db import Database
from shared.db.bulk import insert_values
from shared.db.retry import retry_lost_connection
from shared.events import DeliveryEvent
from shared.logging import get_logger, log_context
from shared.metrics import observe_delivery
from shared.settings import Settings
from shared.wakeloop import WakeLoop

log = get_logger("regwatch.notifier.dispatcher")

_attempts = AttemptRow.__table__
assert isinstance(_attempts, Table)
ATTEMPTS: Table = _attempts
"""The attempts' table: results are written as column values (``_write_results``)."""

Publish = Callable[[DeliveryEvent], Awaitable[None]]

CANDIDATES = 2
"""A claim ranks twice as many due rows as it takes, and takes the first ones no other
instance is claiming at that moment: notifiers sharing a database rank the same rows first,
and the one that came second used to wait for the other's rows and then find them taken."""

WINDOW_FACTOR = 2
WINDOW_MIN = 64
WINDOW_GROWTH = 4
WINDOW_MAX = 100_000
"""A claim of n rows ranks the ``max(n * CANDIDATES * 2, 64)`` oldest due rows first, not
every due row (``Dispatcher.rank``), and reads more only when those cannot give the same
answer: queues with deep backlogs are set aside, else the window is read again 4 times as
wide, up to 100,000 rows, and then every due row is ranked. A fan-out (one row
per webhook queue) needs only ``n * CANDIDATES`` rows; twice that leaves room for a few
queues with several rows waiting. Reading the window costs about 4 us a row (1,600 rows, the
old default: 7 ms, about 0.2 ms of each delivery), so a wider first window costs every claim
while a second read costs only the claims that need it."""

RECORD_ATTEMPTS = 5
RECORD_BACKOFF = 0.1
"""A delivery's result is written up to 5 times (0.1 s, 0.2 s, 0.4 s, 0.8 s apart) when the
database connection is lost: within the lease, so no other instance sends it meanwhile."""


class Dispatcher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        webhooks: WebhookSender,
        email: EmailSender,
        on_outcome: Publish | None = None,
        *,
        per_endpoint: int = 4,
        batch: int = 100,
        max_in_flight: int = 200,
    ) -> None:
        self.db = db
        self.settings = settings
        self.senders = Senders(db, settings, webhooks, email, per_endpoint)
        self.channels: dict[str, Channel] = dict(CHANNELS)
        self.on_outcome = on_outcome
        self.batch = batch
        self.max_in_flight = max_in_flight
        """Deliveries sent at once at most; the dispatcher claims again once half of them
        have finished (not after each one: a claim ranks many due rows), or a queue it filled
        to its limit has half of its slots back (``_refill``)."""
        self.in_flight: Counter[str] = Counter()
        """Deliveries being sent, per queue."""
        self.limits: dict[str, int] = {}
        """The limit of each queue in flight (its channel's)."""
        self.taken: dict[str, datetime] = {}
        """When each row being sent spent its send under its queue's rates: the send is
        counted from its answer instead once that comes (``ratelimit.finish``)."""
        self.sending: set[str] = set()
        """Ids of the rows being sent by this process: never claimed again here, even if a
        lease ran out (a database that stalled while the result was written)."""
        self.full: dict[str, int] = {}
        """The queues the last claim left at their limit, by limit (``_refill``)."""
        self.window_max = WINDOW_MAX
        """The widest window a claim reads before it ranks every due row instead."""
        self.window: int | None = None
        """The oldest due rows a claim ranks (``rank``); None: ``window_size`` of the claim."""
        self.narrowed = 0
        """Claims whose first window could not give the answer, so queues with deep backlogs
        were set aside and the rest ranked by windows again (``rank``)."""
        self.widened = 0
        """Windows read again ``WINDOW_GROWTH`` times as wide (no deep queue to set aside)."""
        self.full_ranks = 0
        """Claims whose windows could not give the answer, so every due row was ranked."""
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop = WakeLoop("dispatcher", self._step, settings.dispatch_interval)
        self.results: BatchWriter[Outcome, list[str]] = BatchWriter(self._write_outcomes)
        self._held_checked = -math.inf

    def kick(self) -> None:
        self.loop.kick()

    def limit_of(self, channel: str) -> int:
        found = self.channels.get(channel)
        return found.limit(self.senders) if found is not None else 1

    async def claim(self, now: datetime, count: int | None = None) -> list[DeliveryRow]:
        """Lease due rows, each queue at most its free slots. The limits are applied in the
        query (``rank``): rows are ranked within their queue (oldest first), a queue at its
        limit is left out and the others keep their first ``limit - in flight`` rows; the
        batch then takes every destination's first row before any destination's second,
        oldest first. So a queue with a thousand rows waiting takes no more of a claim than a
        queue with one, and the email queue's mailboxes take their turn with the webhooks."""
        free = or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < now)
        # the ranked rows are looked up by id: ``status || ''`` is not indexed, so SQLite's
        # planner (it has no statistics) does not walk the status indexes, over every pending
        # row, instead (1.1 s a claim with a million pending)
        still_pending = DeliveryRow.status.concat("") == "pending"
        size = self.batch if count is None else count
        async with self.db.session() as session:
            window = self.window if self.window is not None else window_size(size)
            ranked = await self.rank(session, now, size * CANDIDATES, window)
            if not ranked:
                return []
            order = {ident: n for n, ident in enumerate(ranked)}
            if self.db.is_sqlite:
                # one writer: this unit of work has held the database since its first
                # statement, so every row just ranked is still due and free
                takeable = ranked[:size]
            else:
                # the first ``size`` of them, in rank order, that no other instance is claiming
                # right now: rows another claim has locked are skipped, not waited for (and then
                # found taken), and only the rows taken are locked, so a claim running beside
                # this one takes the next ranked rows instead of finding all of them locked
                free_now = (
                    select(DeliveryRow.id)
                    .where(DeliveryRow.id.in_(ranked), still_pending, free)
                    .order_by(
                        func.array_position(
                            literal(ranked, ARRAY(DeliveryRow.id.type)), DeliveryRow.id
                        )
                    )
                    .limit(size)
                    .with_for_update(skip_locked=True)
                )
                takeable = list(await session.scalars(free_now))
                if not takeable:
                    return []
            claimed = await session.scalars(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(takeable), still_pending, free)
                .values(
                    claimed_until=lease(now, self.settings.webhook_timeout),
                    claim_token=uuid.uuid4().hex,
                )
                .returning(DeliveryRow),
                execution_options={"synchronize_session": False},
            )
            # in the order they were ranked: every destination's first row before any second
            taken = sorted(claimed, key=lambda row: order[row.id])
            rows = await self.within_rates(session, taken)
            await self.prepare(session, rows)
            return rows

    async def rank(
        self, session: AsyncSession, now: datetime, wanted: int, window: int | None
    ) -> list[str]:
        """The ids of the first ``wanted`` rows a claim may take, in the order it takes them:
        the due rows (pending, due by ``now``, lease free, queue not full here, not being
        sent here) ranked within their queue by age (``next_attempt_at, created_at, id``),
        those within their queue's free slots, by (place, age), the place being the row's rank
        among its destination's (queue and target: a webhook URL's queue is its one
        destination, the email queue has one per mailbox). ``window=None`` ranks every due
        row; ``window=K`` ranks only the K oldest (an index range scan, ``ix_deliveries_claim``)
        and ranks more only when that cannot give the same answer.

        Why the window gives the same answer when it is used: the window is a prefix of all
        due rows in age order, so each queue's rows in it are a prefix of that queue's rows and
        a row's rank in the window is its rank among all due rows; the slots filter sees the
        same ranks, and the same holds for destinations and places. (a) Fewer than K rows in
        the window: it holds every due row. (b) ``wanted`` rows all of place 1 (the key sorts
        by place first, so the last one is place 1): take any due row R outside the window
        within its slots. If R's place is 2 or more it sorts after every place-1 row; if it is
        1, it is younger than every row in the window, so it sorts after the last one taken.
        The rows of the window left out sort after it by definition.
        So no row anywhere sorts before the last one taken without being taken: the first
        ``wanted`` overall are these, in this order.

        Otherwise (a few queues with deep backlogs fill the window, so it gives fewer than
        ``wanted`` rows, or rows of place 2 or more: a place-1 row outside the window would
        sort before those) those queues are set aside (``narrowed`` counts such claims): a
        queue the window holds at least its slots of has its rows within its slots all in the
        window, and the ones among the first ``wanted`` overall are among the window's answer
        (fewer rows compete there), which is a prefix of each destination's rows (a place sorts
        before the next, and an older row of the queue is within its slots too). So the answer
        is the same over those queues' rows in the window's answer (``kept``) with every due
        row of the other queues: the same places (ranked among themselves, their ranks in the
        queue may come out lower, never above the slots they were within), the same first
        ``wanted``. That population is ranked by the same rule, a window of its oldest rows
        first, setting aside more queues while its windows are filled by other deep queues. A
        queue with a million emails waiting is skipped in the index, not sorted at every claim
        (it was: 1.3 s a claim with 15k emails and 50k webhooks waiting). Only when a window
        sets no new queue aside (destinations with a few rows each, or queues without a slot)
        is every due row ranked (``full_ranks``)."""
        if window is None:
            return [row.id for row in await self._ranked(session, now, wanted)]
        slots = self._slots()
        held: set[str] = set()
        kept: list[str] = []
        while True:
            oldest = await self._window(session, now, window, held, kept)
            ranked = rank_window(oldest, slots, wanted)
            first_turns = len(ranked) == wanted and ranked[-1].place == 1
            if len(oldest) < window or first_turns:
                return [row.id for row in ranked]
            deep = {row.queue for row in ranked if row.in_window >= row.slots}
            if deep <= held:
                if window >= self.window_max:
                    break
                # destinations with a few rows each
                window = min(window * WINDOW_GROWTH, self.window_max)
                self.widened += 1
                continue
            if not held:
                self.narrowed += 1
            held |= deep
            kept = [row.id for row in ranked if row.queue in held]
        self.full_ranks += 1
        everything = await self._ranked(session, now, wanted, held=held, kept=kept)
        return [row.id for row in everything]

    def _limits(self) -> dict[str, int]:
        """Each channel's limit per queue (a queue of a channel not known here: 1)."""
        return {name: self.limit_of(name) for name in self.channels}

    def _left(self) -> dict[str, int]:
        """What each queue with rows in flight here has left of its limit (0 or less: full,
        left out of the claim)."""
        return {q: self.limits.get(q, 1) - n for q, n in self.in_flight.items()}

    def _slots(self) -> Callable[[str, str], int]:
        """A queue's free slots for a claim, by queue and channel: what its limit leaves while
        rows of it are in flight here, else its channel's limit (1: a channel not known)."""
        limits = self._limits()
        left = {q: n for q, n in self._left().items() if n > 0}

        def slots(queue: str, channel: str) -> int:
            found = left.get(queue)
            return found if found is not None else limits.get(channel, 1)

        return slots

    def _due(
        self, now: datetime, held: set[str], kept: list[str]
    ) -> Select[str, str, str, str, datetime, datetime]:
        """The due rows: pending, due by ``now``, lease free, their queue not full here, not
        being sent here; of the queues ``held`` only their rows ``kept``."""
        free = or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < now)
        full = [q for q, left in self._left().items() if left <= 0]
        rows = (
            select(
                DeliveryRow.id,
                DeliveryRow.channel,
                DeliveryRow.queue,
                DeliveryRow.target,
                DeliveryRow.next_attempt_at,
                DeliveryRow.created_at,
            )
            .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now, free)
            .where(DeliveryRow.queue.not_in(full), DeliveryRow.id.not_in(self.sending))
        )
        if held:
            rows = rows.where(or_(DeliveryRow.queue.not_in(held), DeliveryRow.id.in_(kept)))
        return rows

    async def _window(
        self, session: AsyncSession, now: datetime, window: int, held: set[str], kept: list[str]
    ) -> list[WindowRow]:
        """The ``window`` oldest due rows (``ix_deliveries_claim``), leaving out the queues
        ``held`` but for their rows ``kept``: id, channel, queue, target."""
        rows = self._due(now, held, kept).with_only_columns(
            DeliveryRow.id, DeliveryRow.channel, DeliveryRow.queue, DeliveryRow.target
        )
        age = (DeliveryRow.next_attempt_at, DeliveryRow.created_at, DeliveryRow.id)
        result = await session.execute(rows.order_by(*age).limit(window))
        return [(row[0], row[1], row[2], row[3]) for row in result]

    async def _ranked(
        self,
        session: AsyncSession,
        now: datetime,
        wanted: int,
        *,
        held: set[str] | None = None,
        kept: list[str] | None = None,
    ) -> Sequence[Any]:
        """The ranking query (see ``rank``): the first ``wanted`` of every due row within
        their slots, by (place among their destination's rows, age), leaving out the queues
        ``held`` but for their rows ``kept``. Rows: id, turn (the rank in the queue), place,
        queue, slots."""
        oldest = self._due(now, held or set(), kept or []).subquery("oldest")
        in_age = (oldest.c.next_attempt_at, oldest.c.created_at, oldest.c.id)
        turn = func.row_number().over(partition_by=oldest.c.queue, order_by=in_age)
        place = func.row_number().over(
            partition_by=(oldest.c.queue, oldest.c.target), order_by=in_age
        )
        due = select(oldest, turn.label("turn"), place.label("place")).subquery("due")
        limit = case(self._limits(), value=due.c.channel, else_=1)
        # the queues with rows in flight here, by the slots they have left: one ``IN`` list
        # per number of slots (a few), not one ``WHEN`` per queue, so the statement has the
        # same shape from claim to claim and SQLAlchemy compiles it once, not at every claim
        busy: dict[int, list[str]] = {}
        for q, left in self._left().items():
            if left > 0:
                busy.setdefault(left, []).append(q)
        slots = (
            case(
                *((due.c.queue.in_(queues), left) for left, queues in sorted(busy.items())),
                else_=limit,
            )
            if busy
            else limit
        )
        result = await session.execute(
            select(due.c.id, due.c.turn, due.c.place, due.c.queue, slots.label("slots"))
            .where(due.c.turn <= slots)
            .order_by(due.c.place, due.c.next_attempt_at, due.c.created_at, due.c.id)
            .limit(wanted)
        )
        return result.all()

    async def prepare(self, session: AsyncSession, rows: list[DeliveryRow]) -> None:
        """Each channel reads what sending its claimed rows needs, once for all of them."""
        by_channel: dict[str, list[DeliveryRow]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row)
        for name, mine in by_channel.items():
            channel = self.channels.get(name)
            if channel is not None:
                await channel.prepare(session, mine, self.senders)

    async def within_rates(
        self, session: AsyncSession, rows: list[DeliveryRow]
    ) -> list[DeliveryRow]:
        """The claimed rows that may go now: each spends one send of its queue under its
        channel's rates, in the claim's unit of work (a send under a rate opens no
        transaction of its own). A row over its rate is let go again, no attempt counted, and
        it and the rest of its queue wait until the next send is allowed (in their order).
        Rates are taken in queue order, so two instances lock their rows in the same order."""
        now = utc_now()
        waiting: set[str] = set()
        for row in sorted(rows, key=lambda row: (row.queue, row.id)):
            channel = self.channels.get(row.channel)
            rates = channel.rates(row.target) if channel is not None else ()
            if not rates:
                continue
            wait = await take(session, row.queue, rates, now)
            if wait > 0:
                await defer(session, row, now + timedelta(seconds=wait))
                waiting.add(row.id)
                # swept again when the window frees, not up to a dispatch interval later
                asyncio.get_running_loop().call_later(wait, self.kick)
                log.info("queue over its rate: waiting", extra={"queue": row.queue, "wait_s": wait})
            else:
                self.taken[row.id] = now
        return [row for row in rows if row.id not in waiting]

    async def _step(self) -> int:
        """The loop's sweep: every kick claims, but held alerts (quiet hours, digests) are
        looked at once per ``dispatch_interval`` only; under load kicks come per delivery."""
        due = time.monotonic() - self._held_checked >= self.settings.dispatch_interval
        return await self.sweep(release=due)

    async def sweep(self, *, release: bool = True) -> int:
        now = utc_now()
        if release:
            self._held_checked = time.monotonic()
            try:
                if await release_held(self.db, self.settings, now):
                    now = utc_now()
            except Exception:
                log.exception("held alerts could not be released; the next sweep tries again")
        room = self.max_in_flight - len(self.sending)
        if room <= 0 or (self.sending and room < self.max_in_flight // 2 and not self._refill()):
            return 0  # enough in flight: the next claim when half of them have finished
        rows = await self.claim(now, min(self.batch, room))
        for row in rows:
            self.in_flight[row.queue] += 1
            self.limits[row.queue] = self.limit_of(row.channel)
            self.sending.add(row.id)
            task = asyncio.create_task(self._deliver(row), name=f"deliver-{row.id}")
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        self.full = {q: self.limits[q] for q, left in self._left().items() if left <= 0}
        return len(rows)

    def _refill(self) -> bool:
        """Whether a queue the last claim filled to its limit (rows of it may still be
        waiting) has half of its slots back: it is claimed for then, not when half of all in
        flight have finished. A fan-out's emails wait in one queue of 16 slots (4 SMTP
        connections) beside thousands of webhook queues: their slots came back only at the
        claims the webhooks' answers made, about one every 100 deliveries, so the emails went
        out at a fraction of what the SMTP connections could take and finished last."""
        return any(self.in_flight.get(q, 0) <= limit // 2 for q, limit in self.full.items())

    async def _deliver(self, row: DeliveryRow) -> None:
        """Send one row and record its result; its queue's slot is given back once the result
        is written. So what an endpoint received and the ledger does not say yet is at most
        its queue's limit (4 for a webhook URL): all that a crash of this process can have
        sent and then send again (with the same ``webhook-id``). Giving the slot back at the
        answer instead let more rows reach the endpoint while their results waited for the
        next batch, and a crash then re-sent those too (``tests/reliability/test_sigkill.py``
        saw 7 for one endpoint). The email queue is four rows deep per SMTP connection, so its
        connections stay busy while results are written."""
        try:
            with log_context(alert_id=row.id, notice_id=row.notice_id):
                result = await self.attempt(row)
                await self.record(row, result)
        except Exception:
            log.exception("delivery attempt crashed; the lease will expire and it is retried")
        finally:
            self.sending.discard(row.id)
            self.taken.pop(row.id, None)
            self.senders.prepared.pop(row.id, None)
            self._release(row.queue)
            self.kick()

    def _release(self, queue: str) -> None:
        """One delivery of ``queue`` is no longer at its endpoint."""
        self.in_flight[queue] -= 1
        if self.in_flight[queue] <= 0:
            del self.in_flight[queue]
            self.limits.pop(queue, None)

    async def attempt(self, row: DeliveryRow) -> SendResult:
        channel = self.channels.get(row.channel)
        if channel is None:
            return failed(f"no channel {row.channel!r} in this version of regwatch")
        return await channel.send(row, self.senders)

    async def record(self, row: DeliveryRow, result: SendResult) -> None:
        now = utc_now()
        attempts = row.attempts + 1
        values: dict[str, object] = {
            "attempts": attempts,
            "claimed_until": None,
            "claim_token": None,
            "last_error": result.error,
        }
        delay: timedelta | None = None
        if result.ok:
            values.update(status="delivered", delivered_at=now)
            status = "delivered"
        else:
            if result.retriable:
                delay = next_delay(
                    max(1, attempts - row.retry_base),
                    self.settings.retry_delays,
                    retry_after=result.retry_after,
                )
            if delay is None:
                values["status"] = "failed"
                status = "failed"
            else:
                values["next_attempt_at"] = now + delay
                status = "retrying"
        created = await self.results.write(Outcome(row, result, values, now))
        if created:
            self.kick()
        log_fn = log.info if result.ok else log.warning
        log_fn(
            "delivery attempt",
            extra={
                "channel": row.channel,
                "status": status,
                "attempt": attempts,
                "status_code": result.status_code,
                "error": result.error,
            },
        )
        observe_delivery(
            row.channel,
            status,
            attempts,
            delay.total_seconds() if delay is not None else None,
            kind=row.type,
            duration_s=result.duration_ms / 1000,
            notice_id=row.notice_id,
            queued_at=row.created_at,
        )
        if self.on_outcome is not None:
            event = DeliveryEvent(
                delivery_id=row.id,
                subscriber_id=row.subscriber_id,
                notice_id=row.notice_id,
                type=row.type,
                channel=row.channel,
                status=status,
                attempts=attempts,
                error=result.error,
                at=now,
            )
            try:
                await self.on_outcome(event)
            except Exception:
                log.exception("could not publish the delivery outcome; the ledger has it")

    async def _write_outcomes(self, outcomes: list[Outcome]) -> list[list[str]]:
        """The results gathered since the last write (see ``batch_writer``), in one unit of
        work. The receivers have them: a lost connection must not make a lease expire and an
        alert go out again, so they are written again on a new connection."""
        return await retry_lost_connection(
            lambda attempt: self._write_results(outcomes, again=attempt > 1),
            attempts=RECORD_ATTEMPTS,
            backoff=RECORD_BACKOFF,
            what="delivery results not recorded",
            extra={"deliveries": len(outcomes)},
        )

    async def _write_results(self, outcomes: list[Outcome], *, again: bool) -> list[list[str]]:
        """One unit of work: each row's outcome, its attempt and what its channel does after
        it; per row, the ids of deliveries that created. ``again``: an earlier try failed on a
        lost connection; a row whose commit did land (it no longer carries this claim) is
        left as it is."""
        created: list[list[str]] = []
        attempts: list[dict[str, Any]] = []
        async with self.db.session() as session:
            written = await write_rows(session, outcomes, check=again)
            for outcome, landed in zip(outcomes, written, strict=True):
                row, result, now = outcome.row, outcome.result, outcome.now
                if not landed:
                    created.append([])
                    continue
                channel = self.channels.get(row.channel)
                taken = self.taken.pop(row.id, None)
                if channel is not None and taken is not None:
                    await finish(session, row.queue, channel.rates(row.target), taken, now)
                made: list[str] = []
                if channel is not None:
                    made = await channel.after_attempt(session, row, result, self.settings, now)
                created.append(made)
                attempts.append(
                    {
                        "delivery_id": row.id,
                        "at": now,
                        "ok": result.ok,
                        "retriable": result.retriable,
                        "status_code": result.status_code,
                        "error": result.error,
                        "duration_ms": int(result.duration_ms),
                    }
                )
            # plain column values: an AttemptRow object per attempt cost more to build than
            # to insert, and nothing reads the attempts' generated ids back
            await insert_values(session, ATTEMPTS, attempts, ids=False)
        return created

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.settings.webhook_timeout + 5)
        await self.results.close()


def window_size(size: int) -> int:
    """The oldest due rows a claim of ``size`` rows ranks (``WINDOW_FACTOR``)."""
    return max(size * CANDIDATES * WINDOW_FACTOR, WINDOW_MIN)


async def defer(session: AsyncSession, row: DeliveryRow, until: datetime) -> None:
    """A claimed row over its rate goes back unclaimed, no attempt counted, and it and the
    rest of its queue wait until ``until`` (in their order)."""
    await session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row.id, DeliveryRow.claim_token == row.claim_token)
        .values(claimed_until=None, claim_token=None)
    )
    await session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.queue == row.queue,
            DeliveryRow.status == "pending",
            DeliveryRow.claim_token.is_(None),
            DeliveryRow.next_attempt_at < until,
        )
        .values(next_attempt_at=until)
    )
