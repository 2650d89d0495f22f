"""For the notifier's portal tests: the app and a client of it (fixtures ``portal`` and
``client``: import them into a test module), a signed-in subscriber, and data: tracked
deadlines with their reminders (made the way a match makes them) and deliveries with attempts
in the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.notifier.alerts import load_context
from services.notifier.models import AttemptRow, DeadlineRow, DeliveryRow, ReminderRow
from services.notifier.reminders import SHANGHAI
from services.notifier.tracking import schedule_reminders
from shared.accounts import Subscriber
from shared.db import Database
from shared.events import Deadline, MatchEvent
from shared.settings import Settings
from tests.support.factories import match_event
from tests.support.portal import Portal, add_subscriber, client_for, portal_app, sign_in

BASE = "http://127.0.0.1:8080"


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    """regwatch's app on a fresh database; webhooks and robots on this machine allowed."""
    async with portal_app(tmp_path, webhook_allow_private=True) as found:
        yield found


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of the portal, in-process: its forms carry the site's Origin."""
    async with client_for(portal.app, BASE) as found:
        yield found


async def signed_in(
    portal: Portal,
    client: httpx.AsyncClient,
    *,
    name: str = "Risk team",
    email: str = "risk@example.com",
    webhook_url: str | None = None,
) -> str:
    """A new subscriber, signed in with ``client``; their id."""
    subscriber_id, key = await add_subscriber(portal.db, name, email, webhook_url)
    assert (await sign_in(client, key)).status_code == 303
    return subscriber_id


def today() -> date:
    return datetime.now(SHANGHAI).date()


async def track(
    db: Database,
    settings: Settings,
    subscriber_id: str,
    *,
    notice_id: str = "miit-1",
    due_in: int = 10,
    rule: str = "absolute",
    title: str = "关于侵害用户权益行为的APP通报",
) -> int:
    """A tracked deadline ``due_in`` days from today (Asia/Shanghai) with its reminders; its id."""
    event = match_event(subscriber_id, None)
    deadline = Deadline(
        due_on=today() + timedelta(days=due_in),
        rule=rule,
        amount=due_in if rule != "absolute" else None,
        source_text="应在15个工作日内完成整改" if rule == "working_days" else "请于…前完成整改",
    )
    notice = event.notice.model_copy(
        update={"notice_id": notice_id, "deadline": deadline, "title": title}
    )
    event = MatchEvent.model_validate(
        {**event.model_dump(), "notice": notice.model_dump(), "matched_at": datetime.now(UTC)}
    )
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        ctx = await load_context(session, settings, subscriber, datetime.now(UTC))
        await schedule_reminders(session, ctx, event)
        row = (
            await session.execute(
                select(DeadlineRow).where(
                    DeadlineRow.subscriber_id == subscriber_id, DeadlineRow.notice_id == notice_id
                )
            )
        ).scalar_one()
        return row.id


async def reminder_statuses(db: Database, subscriber_id: str, notice_id: str) -> set[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(ReminderRow.status).where(
                ReminderRow.subscriber_id == subscriber_id, ReminderRow.notice_id == notice_id
            )
        )
        return set(rows.scalars())


async def delivery(
    db: Database,
    subscriber_id: str,
    delivery_id: str,
    *,
    status: str = "failed",
    target: str = "http://127.0.0.1:1/hook",
    attempts: list[tuple[int | None, str | None]] = ((503, "HTTP 503 Service Unavailable"),),  # type: ignore[assignment]
) -> None:
    """A webhook delivery with its attempts ((status code, error); error None = accepted)."""
    now = datetime.now(UTC)
    async with db.session() as session:
        session.add(
            DeliveryRow(
                id=delivery_id,
                subscriber_id=subscriber_id,
                notice_id=f"notice-{delivery_id}",
                type="notice.matched",
                reason="match",
                channel="webhook",
                target=target,
                queue=target,
                payload='{"type":"notice.matched","timestamp":"2026-01-01T00:00:00Z","data":{}}',
                status=status,
                attempts=len(attempts),
                next_attempt_at=now,
                last_error=attempts[-1][1] if attempts else None,
                created_at=now,
            )
        )
        await session.flush()
        for index, (code, error) in enumerate(attempts):
            session.add(
                AttemptRow(
                    delivery_id=delivery_id,
                    at=now - timedelta(minutes=len(attempts) - index),
                    ok=error is None,
                    retriable=error is not None,
                    status_code=code,
                    error=error,
                    duration_ms=12,
                )
            )


async def delivery_row(db: Database, delivery_id: str) -> DeliveryRow:
    async with db.session() as session:
        row = await session.get(DeliveryRow, delivery_id)
        assert row is not None
        return row
