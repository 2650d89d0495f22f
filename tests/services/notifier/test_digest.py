"""Quiet hours and the daily digest: alerts held, then released once as one digest."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from services.notifier.digest import release_held
from services.notifier.handler import handle_match
from services.notifier.models import DeliveryRow
from services.notifier.preferences import PreferenceChanges, apply_changes, get_preferences
from shared.db import Database
from shared.events import MatchEvent
from shared.settings import Settings
from tests.services.notifier.conftest import new_subscriber
from tests.support.factories import match_event


async def set_prefs(db: Database, subscriber_id: str, changes: PreferenceChanges) -> None:
    async with db.session() as session:
        prefs = await get_preferences(session, subscriber_id)
        apply_changes(prefs, changes, datetime.now(UTC))


def notice(subscriber_id: str, n: int) -> MatchEvent:
    event = match_event(subscriber_id, date(2099, 8, 31))
    event.notice.notice_id = f"miit-2099-{n}"
    return event


async def rows(db: Database) -> list[DeliveryRow]:
    async with db.session() as session:
        return list(
            (await session.execute(select(DeliveryRow).order_by(DeliveryRow.created_at))).scalars()
        )


async def make_due(db: Database) -> None:
    async with db.session() as session:
        await session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.status == "held")
            .values(release_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def all_day_quiet() -> PreferenceChanges:
    """Quiet hours around now in Asia/Shanghai, whatever the time of day."""
    local = datetime.now(UTC) + timedelta(hours=8)
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=1)).strftime("%H:%M")
    return PreferenceChanges(quiet_start=start, quiet_end=end)


async def test_daily_digest_holds_matches_and_sends_one_per_channel(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db)
    await set_prefs(db, subscriber_id, PreferenceChanges(digest="daily", digest_hour=9))
    for n in range(3):
        await handle_match(db, Settings(), notice(subscriber_id, n))
    held = await rows(db)
    assert len(held) == 6 and {r.status for r in held} == {"held"}
    assert {r.held_for for r in held} == {"digest"}
    assert await release_held(db, Settings(), datetime.now(UTC)) == 0  # not 09:00 yet
    await make_due(db)
    assert await release_held(db, Settings(), datetime.now(UTC)) == 2
    assert await release_held(db, Settings(), datetime.now(UTC)) == 0
    found = await rows(db)
    digests = [r for r in found if r.type == "digest"]
    assert sorted(r.channel for r in digests) == ["email", "webhook"]
    assert all(r.status == "pending" for r in digests)
    for digest in digests:
        members = [r for r in found if r.digest_id == digest.id]
        assert len(members) == 3 and {r.status for r in members} == {"digested"}
        assert {r.channel for r in members} == {digest.channel}
    webhook = next(r for r in digests if r.channel == "webhook")
    body = json.loads(webhook.payload)
    assert body["type"] == "digest" and body["data"]["why"] == "digest"
    assert [a["data"]["notice"]["notice_id"] for a in body["data"]["alerts"]] == [
        "miit-2099-0",
        "miit-2099-1",
        "miit-2099-2",
    ]
    assert {a["id"] for a in body["data"]["alerts"]} == {
        r.id for r in found if r.digest_id == webhook.id
    }
    email = json.loads(next(r for r in digests if r.channel == "email").payload)
    assert email["subject"] == "[regwatch] Daily digest: 3 alerts"
    assert email["text"].count("matched your app watch") == 3
    assert "/v1/unsubscribe/" in email["unsubscribe_url"]


async def test_one_alert_from_quiet_hours_goes_out_as_itself(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db, email=None)
    await set_prefs(db, subscriber_id, all_day_quiet())
    created, _ = await handle_match(db, Settings(), notice(subscriber_id, 1))
    [row] = await rows(db)
    assert (row.status, row.held_for) == ("held", "quiet") and row.release_at is not None
    await make_due(db)
    assert await release_held(db, Settings(), datetime.now(UTC)) == 1
    [row] = await rows(db)
    assert (row.id, row.status, row.type) == (created[0], "pending", "notice.matched")


async def test_escalations_are_never_held(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db, email=None)
    await set_prefs(db, subscriber_id, PreferenceChanges(digest="daily"))
    event = notice(subscriber_id, 1)
    event.notice.kind = "removal"
    await handle_match(db, Settings(), event)
    [row] = await rows(db)
    assert (row.type, row.status) == ("notice.escalated", "pending")
    assert json.loads(row.payload)["data"]["escalation"]["level"] == "removal"


async def test_concurrent_releases_put_each_alert_in_one_digest(db: Database) -> None:
    subscriber_id, _ = await new_subscriber(db)
    await set_prefs(db, subscriber_id, all_day_quiet())
    for n in range(4):
        await handle_match(db, Settings(), notice(subscriber_id, n))
    await make_due(db)
    results = await asyncio.gather(
        *(release_held(db, Settings(), datetime.now(UTC)) for _ in range(4))
    )
    assert sum(results) == 2
    found = await rows(db)
    digests = [r for r in found if r.type == "digest"]
    assert len(digests) == 2
    members = [r for r in found if r.type == "notice.matched"]
    assert {r.status for r in members} == {"digested"}
    assert {r.digest_id for r in members} == {d.id for d in digests}
