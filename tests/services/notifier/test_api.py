"""The notifier's HTTP routes (no broker): settings, deliveries, secret rotation, calendar,
unsubscribe."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from services.matcher.api import build_router as subscribers_router
from services.notifier.api import build_router
from services.notifier.handler import handle_match
from services.notifier.ics import unfold
from services.notifier.models import DeliveryRow
from services.notifier.unsubscribe import build_router as build_unsubscribe_router
from shared.db import Database
from shared.settings import Settings
from tests.support.factories import match_event

SETTINGS = Settings(public_url="https://regwatch.example.com/", webhook_allow_private=True)


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.db = db
    app.state.settings = SETTINGS
    app.include_router(subscribers_router())
    app.include_router(build_router())
    app.include_router(build_unsubscribe_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        yield http


async def subscribe(client: httpx.AsyncClient) -> tuple[str, dict[str, str], str]:
    created = await client.post(
        "/v1/subscribers",
        json={"name": "Risk", "email": "risk@example.com", "webhook_url": "http://127.0.0.1:9/h"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return body["id"], {"Authorization": f"Bearer {body['api_key']}"}, body["webhook_secret"]


async def test_routes_need_an_api_key(client: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/v1/notifications/settings"),
        ("PUT", "/v1/notifications/settings"),
        ("POST", "/v1/webhook/secret/rotate"),
        ("GET", "/v1/calendar"),
        ("GET", "/v1/deliveries"),
    ):
        assert (await client.request(method, path, json={})).status_code == 401


async def test_settings_round_trip_and_validation(client: httpx.AsyncClient) -> None:
    _, auth, _ = await subscribe(client)
    shown = (await client.get("/v1/notifications/settings", headers=auth)).json()
    assert shown["digest"] == "immediate" and shown["quiet_hours"] is None
    assert shown["email_alerts"] is True and shown["timezone"] == "Asia/Shanghai"
    changed = await client.put(
        "/v1/notifications/settings",
        json={
            "digest": "daily",
            "digest_hour": 8,
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert changed.json()["digest_hour"] == 8
    cleared = await client.put(
        "/v1/notifications/settings", json={"quiet_hours": None}, headers=auth
    )
    assert cleared.json()["quiet_hours"] is None and cleared.json()["digest"] == "daily"
    bad = await client.put(
        "/v1/notifications/settings",
        json={"quiet_hours": {"start": "25:00", "end": "07:00"}},
        headers=auth,
    )
    assert bad.status_code == 422 and "HH:MM" in bad.text
    assert (
        await client.put("/v1/notifications/settings", json={"digest": "weekly"}, headers=auth)
    ).status_code == 422


async def test_chat_language_is_set_cleared_and_checked(client: httpx.AsyncClient) -> None:
    _, auth, _ = await subscribe(client)
    path = "/v1/notifications/settings"
    assert (await client.get(path, headers=auth)).json()["chat_language"] is None
    set_en = await client.put(path, json={"chat_language": "en"}, headers=auth)
    assert set_en.status_code == 200 and set_en.json()["chat_language"] == "en"
    kept = await client.put(path, json={"digest": "daily"}, headers=auth)
    assert kept.json()["chat_language"] == "en"  # left out: kept
    bad = await client.put(path, json={"chat_language": "fr"}, headers=auth)
    assert bad.status_code == 422 and "zh, en" in bad.json()["detail"]
    cleared = await client.put(path, json={"chat_language": None}, headers=auth)
    assert cleared.json()["chat_language"] is None


async def test_rotate_secret(client: httpx.AsyncClient) -> None:
    _, auth, old = await subscribe(client)
    rotated = await client.post("/v1/webhook/secret/rotate", headers=auth)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["webhook_secret"].startswith("whsec_") and body["webhook_secret"] != old
    assert body["previous_valid_until"] is not None


async def test_deliveries_filters_and_replay_route(client: httpx.AsyncClient, db: Database) -> None:
    subscriber_id, auth, _ = await subscribe(client)
    created, _ = await handle_match(db, SETTINGS, match_event(subscriber_id, date(2099, 8, 31)))
    async with db.session() as session:
        await session.execute(
            update(DeliveryRow).where(DeliveryRow.channel == "webhook").values(status="failed")
        )
        webhook_id = (
            await session.execute(select(DeliveryRow.id).where(DeliveryRow.channel == "webhook"))
        ).scalar_one()
    everything = (await client.get("/v1/deliveries", headers=auth)).json()
    assert len(everything) == 2 and all(d["history"] == [] for d in everything)
    failed = (await client.get("/v1/deliveries?status=failed", headers=auth)).json()
    assert [d["id"] for d in failed] == [webhook_id]
    emails = (await client.get("/v1/deliveries?channel=email", headers=auth)).json()
    assert [d["channel"] for d in emails] == ["email"]
    assert (await client.get("/v1/deliveries?since=2999-01-01", headers=auth)).json() == []
    assert (await client.get("/v1/deliveries?since=yesterday", headers=auth)).status_code == 422
    assert (await client.get("/v1/deliveries?status=lost", headers=auth)).status_code == 422
    replayed = await client.post(f"/v1/deliveries/{webhook_id}/replay", headers=auth)
    assert replayed.json() == {"id": webhook_id, "status": "pending", "attempts": 0}
    again = await client.post(f"/v1/deliveries/{webhook_id}/replay", headers=auth)
    assert again.status_code == 409
    assert (await client.post("/v1/deliveries/msg_nope/replay", headers=auth)).status_code == 404
    assert set(created) >= {webhook_id}


async def test_calendar_feed(client: httpx.AsyncClient, db: Database) -> None:
    subscriber_id, auth, _ = await subscribe(client)
    await handle_match(db, SETTINGS, match_event(subscriber_id, date(2099, 8, 31)))
    info = (await client.get("/v1/calendar", headers=auth)).json()
    assert info["url"].startswith("https://regwatch.example.com/v1/calendar/")
    path = info["url"].removeprefix("https://regwatch.example.com")
    feed = await client.get(path)
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    lines = unfold(feed.text)
    assert lines.count("BEGIN:VEVENT") == 1
    assert "DTSTART;VALUE=DATE:20990831" in lines
    assert any(line.startswith("SUMMARY:MIIT deadline: 抖音") for line in lines)
    # answered deadlines leave the calendar
    answered = await client.post("/v1/reminders/miit-20990801-abc/answer", headers=auth)
    assert answered.json()["reminders_cancelled"] == 5
    assert unfold((await client.get(path)).text).count("BEGIN:VEVENT") == 0
    assert (await client.post("/v1/reminders/nope/answer", headers=auth)).status_code == 404
    # a new URL; the old one is gone
    rotated = (await client.post("/v1/calendar/rotate", headers=auth)).json()
    assert rotated["url"] != info["url"]
    assert (await client.get(path)).status_code == 404


async def test_unsubscribe_link(client: httpx.AsyncClient, db: Database) -> None:
    subscriber_id, auth, _ = await subscribe(client)
    await handle_match(db, SETTINGS, match_event(subscriber_id, None))
    async with db.session() as session:
        email_row = (
            await session.execute(select(DeliveryRow).where(DeliveryRow.channel == "email"))
        ).scalar_one()
    url = json.loads(email_row.payload)["unsubscribe_url"]
    path = url.removeprefix("https://regwatch.example.com")
    page = await client.get(path)
    assert page.status_code == 200 and '<form method="post"' in page.text
    assert (await client.get("/v1/notifications/settings", headers=auth)).json()[
        "email_alerts"
    ] is True
    done = await client.post(
        path,
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert (await client.get("/v1/notifications/settings", headers=auth)).json()[
        "email_alerts"
    ] is False
    async with db.session() as session:
        status = (await session.get(DeliveryRow, email_row.id)).status  # type: ignore[union-attr]
    assert status == "cancelled"
    # new alerts no longer email
    other = match_event(subscriber_id, None)
    other.notice.notice_id = "miit-other"
    created, _ = await handle_match(db, SETTINGS, other)
    assert len(created) == 1
    assert (await client.get("/v1/unsubscribe/not-a-real-token")).status_code == 404
    resubscribed = await client.put(
        "/v1/notifications/settings", json={"email_alerts": True}, headers=auth
    )
    assert resubscribed.json()["email_alerts"] is True


async def test_reminder_time_setting(client: httpx.AsyncClient) -> None:
    _, auth, _ = await subscribe(client)
    shown = (await client.get("/v1/notifications/settings", headers=auth)).json()
    assert (shown["reminder_time"], shown["reminder_time_default"]) == ("09:00", True)
    changed = await client.put(
        "/v1/notifications/settings", json={"reminder_time": "07:30"}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["reminder_time"], changed.json()["reminder_time_default"]) == (
        "07:30",
        False,
    )
    bad = await client.put(
        "/v1/notifications/settings", json={"reminder_time": "25:00"}, headers=auth
    )
    assert bad.status_code == 422 and "reminder_time" in bad.text and "HH:MM" in bad.text
    kept = await client.put("/v1/notifications/settings", json={"digest": "daily"}, headers=auth)
    assert kept.json()["reminder_time"] == "07:30"
    reset = await client.put(
        "/v1/notifications/settings", json={"reminder_time": None}, headers=auth
    )
    assert (reset.json()["reminder_time"], reset.json()["reminder_time_default"]) == (
        "09:00",
        True,
    )


async def test_one_notices_reminders_skipped_and_a_passed_deadline(
    client: httpx.AsyncClient, db: Database
) -> None:
    subscriber_id, auth, _ = await subscribe(client)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    passed = match_event(subscriber_id, today - timedelta(days=3))
    await handle_match(db, SETTINGS, passed)
    answer = await client.get(f"/v1/reminders/{passed.notice.notice_id}", headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["deadline_passed"] is True
    assert body["message"].endswith("has passed; no reminders are planned")
    assert {r["status"] for r in body["reminders"]} == {"skipped"}
    assert {r["note"] for r in body["reminders"]} == {
        "the notice arrived after this reminder's time"
    }
    listed = (await client.get("/v1/reminders", headers=auth)).json()
    assert [r["offset"] for r in listed] == ["7d", "3d", "1d", "due", "overdue"]
    missing = await client.get("/v1/reminders/nope", headers=auth)
    assert missing.status_code == 404 and "no tracked deadline" in missing.text
    assert (await client.get("/v1/reminders/nope")).status_code == 401
