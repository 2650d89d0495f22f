"""``regwatch secrets new-key|rotate`` through the real CLI: key rotation end to end (prepend a
key, rotate, drop the old key) on the embedded SQLite database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from services.cli import app
from services.notifier.webhook_secrets import rotate_secret, signing_secrets
from shared.accounts import Subscriber, subscriber_by_api_key
from shared.db import Database
from shared.secretbox import KEY_FILE, PEPPER_FILE
from shared.settings import Settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SECRET_KEYS", "API_KEY_PEPPER"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Any:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored(url: str) -> list[str]:
    async def work() -> list[str]:
        db = Database(url)
        try:
            async with db.session() as session:
                rows = await session.execute(
                    text(
                        "SELECT webhook_secret FROM subscribers WHERE webhook_secret IS NOT NULL"
                        " UNION ALL SELECT secret FROM notifier_webhook_secrets"
                    )
                )
                return sorted(str(v) for (v,) in rows)
        finally:
            await db.dispose()

    return asyncio.run(work())


def secrets_and_login(url: str, subscriber_id: str, api_key: str) -> list[str]:
    """The secrets the notifier signs with now, after checking that the API key logs in."""

    async def work() -> list[str]:
        db = Database(url)
        try:
            async with db.session() as session:
                found = await subscriber_by_api_key(session, api_key)
                assert found is not None and found.id == subscriber_id
                return await signing_secrets(session, found, datetime.now(UTC))
        finally:
            await db.dispose()

    return asyncio.run(work())


def rotate_webhook_secret(url: str, subscriber_id: str) -> str:
    async def work() -> str:
        db = Database(url)
        try:
            async with db.session() as session:
                subscriber = await session.get(Subscriber, subscriber_id)
                assert subscriber is not None
                rotation = await rotate_secret(
                    session, subscriber, timedelta(hours=1), datetime.now(UTC)
                )
                return rotation.webhook_secret
        finally:
            await db.dispose()

    return asyncio.run(work())


def test_new_key_prints_usable_values(cli: CliRunner) -> None:
    made = run(cli, "secrets", "new-key")
    Settings(secret_keys=made["secret_key"], api_key_pepper=made["api_key_pepper"])
    assert made != run(cli, "secrets", "new-key")


def test_key_rotation_end_to_end(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "var"
    url = Settings(data_dir=data).sqlalchemy_url
    # 1. the embedded default: a key file made beside the database
    created = run(
        cli, "subscribers", "add", "--name", "Risk", "--webhook", "https://hooks.example.com/h"
    )
    old_key = (data / KEY_FILE).read_text().strip()
    assert (data / PEPPER_FILE).exists()
    second = rotate_webhook_secret(url, created["id"])
    want = [second, created["webhook_secret"]]  # current first, then the one in its grace
    assert secrets_and_login(url, created["id"], created["api_key"]) == want
    first_rows = stored(url)
    assert len(first_rows) == 3 and all(v.startswith("fernet:") for v in first_rows)

    # 2. a new key in front of the old one: old rows still decrypt, rotate re-encrypts
    new_key = run(cli, "secrets", "new-key")["secret_key"]
    monkeypatch.setenv("REGWATCH_SECRET_KEYS", f"{new_key},{old_key}")
    assert secrets_and_login(url, created["id"], created["api_key"]) == want
    counts = run(cli, "secrets", "rotate")
    assert (counts["keys"], counts["rotated"], counts["encrypted"], counts["current"]) == (
        2,
        3,
        0,
        0,
    )
    assert counts["columns"]["subscribers.webhook_secret"]["rotated"] == 1
    assert counts["columns"]["notifier_webhook_secrets.secret"]["rotated"] == 2
    assert set(stored(url)).isdisjoint(first_rows)
    again = run(cli, "secrets", "rotate")  # idempotent
    assert (again["rotated"], again["encrypted"], again["current"]) == (0, 0, 3)

    # 3. the old key dropped: everything still works, API keys included (separate pepper).
    # With the embedded default the keys may as well stay in the file, newest first.
    (data / KEY_FILE).write_text(new_key + "\n")
    monkeypatch.delenv("REGWATCH_SECRET_KEYS")
    assert run(cli, "secrets", "rotate")["current"] == 3
    assert secrets_and_login(url, created["id"], created["api_key"]) == want

    # a key dropped before rotating: refused, nothing changed
    before = stored(url)
    (data / KEY_FILE).write_text(run(cli, "secrets", "new-key")["secret_key"] + "\n")
    result = cli.invoke(app, ["secrets", "rotate"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 3 stored secret(s) decrypt with none of the 1")
    assert result.stderr.count("\n") == 1
    assert stored(url) == before
