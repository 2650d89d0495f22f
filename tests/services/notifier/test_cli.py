"""``regwatch deliveries list|replay`` and ``regwatch reminders list`` on a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from services.cli import app
from services.notifier.handler import handle_match
from services.notifier.models import DeliveryRow
from shared.db import Database
from shared.settings import Settings
from tests.support.factories import match_event


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SMTP_HOST"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    return CliRunner()


def seed(tmp_path: Path, subscriber_id: str) -> None:
    async def work() -> None:
        db = Database(Settings(data_dir=tmp_path / "var").sqlalchemy_url)
        try:
            await handle_match(db, Settings(), match_event(subscriber_id, date(2099, 8, 31)))
            async with db.session() as session:
                await session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.channel == "webhook")
                    .values(status="failed", attempts=7, last_error="HTTP 503")
                )
        finally:
            await db.dispose()

    asyncio.run(work())


def test_list_and_replay(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(
        app,
        [
            "subscribers",
            "add",
            "--name",
            "Ops",
            "--email",
            "ops@example.com",
            "--webhook",
            "https://hooks.example.com/x",
        ],
    )
    assert added.exit_code == 0, added.output
    subscriber_id = json.loads(added.stdout)["id"]
    seed(tmp_path, subscriber_id)

    listed = cli.invoke(app, ["deliveries", "list", "--subscriber", subscriber_id])
    assert listed.exit_code == 0, listed.output
    assert sorted(d["channel"] for d in json.loads(listed.stdout)) == ["email", "webhook"]
    failed = json.loads(cli.invoke(app, ["deliveries", "list", "--status", "failed"]).stdout)
    assert [(d["channel"], d["attempts"], d["last_error"]) for d in failed] == [
        ("webhook", 7, "HTTP 503")
    ]
    delivery_id = failed[0]["id"]

    replayed = cli.invoke(app, ["deliveries", "replay", delivery_id])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout) == {"replayed": [delivery_id]}
    pending = json.loads(
        cli.invoke(
            app, ["deliveries", "list", "--status", "pending", "--channel", "webhook"]
        ).stdout
    )
    assert [(d["id"], d["attempts"]) for d in pending] == [(delivery_id, 7)]  # attempts kept

    again = cli.invoke(app, ["deliveries", "replay", delivery_id])
    assert again.exit_code == 1 and "only failed ones" in again.stderr

    reminders = json.loads(cli.invoke(app, ["reminders", "list", subscriber_id]).stdout)
    assert [r["offset"] for r in reminders] == ["7d", "3d", "1d", "due", "overdue"]
    assert all(r["fire_at_local"].endswith("+08:00") and r["late"] is False for r in reminders)


def test_replay_an_endpoint_since_a_time(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(
        app, ["subscribers", "add", "--name", "Ops", "--webhook", "https://hooks.example.com/y"]
    )
    subscriber_id = json.loads(added.stdout)["id"]
    seed(tmp_path, subscriber_id)
    late = cli.invoke(
        app,
        [
            "deliveries",
            "replay",
            "--endpoint",
            "https://hooks.example.com/y",
            "--since",
            "2999-01-01",
        ],
    )
    assert json.loads(late.stdout) == {"replayed": []}
    done = cli.invoke(
        app,
        [
            "deliveries",
            "replay",
            "--endpoint",
            "https://hooks.example.com/y",
            "--since",
            "2000-01-01T00:00Z",
        ],
    )
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout)["replayed"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deliveries", "replay"], "give either a DELIVERY_ID or --endpoint"),
        (["deliveries", "replay", "msg_x", "--endpoint", "https://e.example"], "give either"),
        (["deliveries", "replay", "--endpoint", "https://e.example"], "--endpoint needs --since"),
        (["deliveries", "replay", "msg_missing"], "no delivery 'msg_missing'"),
        (
            ["deliveries", "replay", "--endpoint", "https://e.example", "--since", "soon"],
            "bad time",
        ),
        (["deliveries", "list", "--status", "lost"], "unknown status"),
        (["deliveries", "list", "--channel", "sms"], "unknown channel"),
    ],
)
def test_errors_are_one_line(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_reminders_of_one_notice_and_a_passed_deadline(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(app, ["subscribers", "add", "--name", "Ops", "--email", "ops@example.com"])
    subscriber_id = json.loads(added.stdout)["id"]
    due_on = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=5)

    async def work() -> None:
        db = Database(Settings(data_dir=tmp_path / "var").sqlalchemy_url)
        try:
            await handle_match(db, Settings(), match_event(subscriber_id, due_on))
        finally:
            await db.dispose()

    asyncio.run(work())
    notice_id = "miit-20990801-abc"
    shown = cli.invoke(app, ["reminders", "list", subscriber_id, "--notice", notice_id])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["message"] == (
        f"notice {notice_id}'s deadline {due_on.isoformat()} has passed; no reminders are planned"
    )
    assert body["deadline_passed"] is True and body["due_on"] == due_on.isoformat()
    assert [(r["offset"], r["status"]) for r in body["reminders"]] == [
        ("7d", "skipped"),
        ("3d", "skipped"),
        ("1d", "skipped"),
        ("due", "skipped"),
        ("overdue", "skipped"),
    ]
    assert all("arrived after" in r["note"] for r in body["reminders"])
    every = json.loads(cli.invoke(app, ["reminders", "list", subscriber_id]).stdout)
    assert [r["status"] for r in every] == ["skipped"] * 5

    unknown = cli.invoke(app, ["reminders", "list", subscriber_id, "--notice", "nope"])
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines() == [
        "error: no tracked deadline for notice 'nope': it has no deadline or never matched"
        " this subscriber's watchlist"
    ]
