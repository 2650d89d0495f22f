"""Webhook signing secrets are stored encrypted and API keys as HMACs: a subscriber made through
the real API, its secret rotated and a webhook delivered and verified at a real receiver, then
the database read as raw rows and (SQLite) as the raw bytes of its file."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from standardwebhooks import Webhook

from services.matcher.api import build_router as subscribers_router
from services.notifier.api import build_router
from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.webhook import WebhookSender
from shared.db import Database
from shared.events import DeliveryEvent
from shared.settings import Settings
from tests.support.db import migrated_database_url
from tests.support.factories import match_event
from tests.support.receivers import WebhookReceiver

SETTINGS = Settings(
    webhook_allow_private=True, retry_schedule="100ms", dispatch_interval=0.05, webhook_timeout=2
)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async for url in migrated_database_url(request.param, tmp_path):
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()


def api(db: Database) -> httpx.AsyncClient:
    app = FastAPI()
    app.state.db = db
    app.state.settings = SETTINGS
    app.include_router(subscribers_router())
    app.include_router(build_router())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://regwatch")


async def deliver_one(db: Database, subscriber_id: str, hook: WebhookReceiver) -> Any:
    async def record(event: DeliveryEvent) -> None:
        return None

    webhooks = WebhookSender(timeout=2, allow_private=True)
    email = EmailSender(
        host="127.0.0.1", port=1, username=None, password=None, tls="none", timeout=1
    )
    worker = Dispatcher(db, SETTINGS, webhooks, email, record)
    worker.start()
    try:
        await handle_match(db, SETTINGS, match_event(subscriber_id, date(2099, 8, 31)))
        worker.kick()
        [request] = await hook.wait_for(1)
        return request
    finally:
        await worker.stop()
        await webhooks.aclose()
        await email.aclose()


async def test_no_secret_is_readable_in_the_database(database: Database) -> None:
    async with WebhookReceiver() as hook, api(database) as client:
        created = await client.post(
            "/v1/subscribers", json={"name": "Risk", "webhook_url": hook.url}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        first, api_key = body["webhook_secret"], body["api_key"]
        auth = {"Authorization": f"Bearer {api_key}"}
        rotated = await client.post("/v1/webhook/secret/rotate", headers=auth)
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()["webhook_secret"]
        other = await client.post(
            "/v1/subscribers", json={"name": "Legal", "email": "legal@example.com"}
        )
        added = await client.patch(
            "/v1/subscribers/me",
            json={"webhook_url": "https://hooks.example.com/legal"},
            headers={"Authorization": f"Bearer {other.json()['api_key']}"},
        )
        third = added.json()["webhook_secret"]
        assert all(s.startswith("whsec_") for s in (first, second, third))  # shown as before
        assert (await client.get("/v1/subscribers/me", headers=auth)).status_code == 200

        request = await deliver_one(database, body["id"], hook)
        for secret in (first, second):  # the grace period: both sign, both verify
            Webhook(secret).verify(request.body, request.headers)

    async with database.session() as session:
        stored = [
            str(value)
            for (value,) in await session.execute(
                text(
                    "SELECT webhook_secret FROM subscribers WHERE webhook_secret IS NOT NULL"
                    " UNION ALL SELECT secret FROM notifier_webhook_secrets"
                )
            )
        ]
        hashes = [
            str(v) for (v,) in await session.execute(text("SELECT api_key_hash FROM subscribers"))
        ]
    assert len(stored) == 4 and all(v.startswith("fernet:") for v in stored)
    assert all(h.startswith("hmac-sha256:") for h in hashes)
    plaintexts = [first, second, third, api_key, hashlib.sha256(api_key.encode()).hexdigest()]
    for value in plaintexts:
        assert not any(value in row for row in stored + hashes)

    await database.dispose()
    if database.is_sqlite:
        folder = Path(str(database.engine.url.database)).parent
        files = list(folder.glob("regwatch.db*"))
        assert files
        for path in files:
            raw = path.read_bytes()
            for value in plaintexts:
                assert value.encode() not in raw, f"{value} readable in {path.name}"
                if value.startswith("whsec_"):
                    assert value[6:].encode() not in raw
