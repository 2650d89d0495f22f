"""Migrations 0005 and 0006 on a database made before them: webhook secrets stored in plaintext
get encrypted (and decrypted again by the downgrade); a legacy sha256 API key still works."""

from __future__ import annotations

import asyncio
import hashlib
import stat
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.notifier.webhook_secrets import signing_secrets
from shared.accounts import Subscriber, subscriber_by_api_key, webhook_secret_of
from shared.db import Database
from shared.db.engine import alembic_config
from shared.secretbox import KEY_FILE

FIRST = "whsec_C2FsdGVkLXBsYWludGV4dC1zZWNyZXQtb25l"
CURRENT = "whsec_cGxhaW50ZXh0LXNlY3JldC10d28tMDAwMDA"
API_KEY = "rw_legacy-key-made-before-the-pepper-0123456789abcdef"


async def _rows(db: Database) -> tuple[str, str, str]:
    async with db.session() as session:
        first, api_key_hash = (
            await session.execute(text("SELECT webhook_secret, api_key_hash FROM subscribers"))
        ).one()
        current = (
            await session.execute(text("SELECT secret FROM notifier_webhook_secrets"))
        ).scalar_one()
    return str(first), str(current), str(api_key_hash)


async def test_plaintext_rows_made_before_0005_are_encrypted(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0004")  # the schema before encryption
    db = Database(database_url)
    try:
        now = datetime.now(UTC)
        async with db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO subscribers (id, name, api_key_hash, email, webhook_url,"
                    " webhook_secret, reminders, timezone, created_at) VALUES ('sub_old', 'Old',"
                    " :h, NULL, 'https://hooks.example.com/h', :s, '7d', 'UTC', :t)"
                ),
                {"h": hashlib.sha256(API_KEY.encode()).hexdigest(), "s": FIRST, "t": now},
            )
            await session.execute(
                text(
                    "INSERT INTO notifier_webhook_secrets (subscriber_id, secret, created_at)"
                    " VALUES ('sub_old', :s, :t)"
                ),
                {"s": CURRENT, "t": now},
            )

        await db.migrate()  # to every head: 0005 and 0006 among them

        first, current, api_key_hash = await _rows(db)
        assert first.startswith("fernet:") and current.startswith("fernet:")
        assert FIRST not in first and CURRENT not in current
        async with db.session() as session:
            subscriber = await session.get(Subscriber, "sub_old")
            assert subscriber is not None
            assert webhook_secret_of(session, subscriber) == FIRST
            assert await signing_secrets(session, subscriber, now) == [CURRENT]
            # the legacy sha256 API key still authenticates, and is upgraded as it does
            found = await subscriber_by_api_key(session, API_KEY)
            assert found is not None and found.id == "sub_old"
        upgraded = (await _rows(db))[2]
        assert upgraded.startswith("hmac-sha256:") and api_key_hash != upgraded

        await db.migrate()  # again: nothing left to encrypt, nothing changes
        assert (await _rows(db))[:2] == (first, current)

        await asyncio.to_thread(command.downgrade, config, "0004")
        await db.engine.dispose()  # PostgreSQL: statements prepared before the type changed
        first_back, current_back, _ = await _rows(db)
        assert (first_back, current_back) == (FIRST, CURRENT)
        await db.migrate()
        await db.engine.dispose()
        assert [v.startswith("fernet:") for v in (await _rows(db))[:2]] == [True, True]
    finally:
        await db.dispose()

    database = make_url(database_url).database
    if make_url(database_url).get_backend_name() == "sqlite" and database:
        folder = Path(database).parent
        mode = stat.S_IMODE((folder / KEY_FILE).stat().st_mode)
        assert mode == 0o600, oct(mode)
        for path in folder.glob("regwatch.db*"):
            raw = path.read_bytes()
            for plaintext in (FIRST, CURRENT):
                assert plaintext.encode() not in raw, f"{plaintext} readable in {path.name}"
                assert plaintext[6:].encode() not in raw, f"{plaintext} readable in {path.name}"
