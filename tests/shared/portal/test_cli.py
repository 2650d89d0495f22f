"""``regwatch portal link SUBSCRIBER_ID`` through the real CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cli import app
from shared.db import Database
from shared.portal.tokens import LinkState, link_state
from shared.runtime_file import write_runtime_file
from shared.settings import Settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SECRET_KEYS", "API_KEY_PEPPER", "PUBLIC_URL"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    monkeypatch.delenv("REGWATCH_HTTP_PORT", raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Any:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def state_of(data_dir: Path, token: str) -> LinkState:
    async def work() -> LinkState:
        db = Database(Settings(data_dir=data_dir).sqlalchemy_url)
        try:
            async with db.session() as session:
                return await link_state(session, token, now=datetime.now(UTC))
        finally:
            await db.dispose()

    return asyncio.run(work())


def test_a_link_for_a_subscriber(cli: CliRunner, tmp_path: Path) -> None:
    created = run(cli, "subscribers", "add", "--name", "Risk", "--email", "r@example.com")
    printed = run(cli, "portal", "link", created["id"])
    assert printed["subscriber_id"] == created["id"]
    assert printed["url"].startswith("http://127.0.0.1:8080/portal/link/")
    assert datetime.fromisoformat(printed["expires_at"]) > datetime.now(UTC)
    token = printed["url"].rsplit("/", 1)[1]
    assert state_of(tmp_path / "var", token) is LinkState.VALID
    again = run(cli, "portal", "link", created["id"])
    assert again["url"] != printed["url"]


def test_the_link_points_at_the_running_regwatch_or_the_public_url(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = run(cli, "subscribers", "add", "--name", "Risk", "--email", "r@example.com")
    write_runtime_file(tmp_path / "var", {"http": "http://0.0.0.0:38080"})
    assert run(cli, "portal", "link", created["id"])["url"].startswith(
        "http://127.0.0.1:38080/portal/link/"
    )
    monkeypatch.setenv("REGWATCH_PUBLIC_URL", "https://regwatch.example/")
    assert run(cli, "portal", "link", created["id"])["url"].startswith(
        "https://regwatch.example/portal/link/"
    )


def test_an_unknown_subscriber_is_one_line(cli: CliRunner) -> None:
    result = cli.invoke(app, ["portal", "link", "sub_nobody"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no subscriber sub_nobody"
