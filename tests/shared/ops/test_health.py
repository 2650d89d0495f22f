"""Readiness checks against real servers (SMTP receiver, SQLite, closed ports)."""

from __future__ import annotations

from pathlib import Path

from shared.db import Database
from shared.embedded.ports import free_port
from shared.ops.health import database_check, readiness, smtp_check
from tests.support.receivers import SmtpReceiver


async def test_ready_when_every_check_passes(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")
    try:
        async with SmtpReceiver() as smtp:
            ready, body = await readiness(
                {"database": database_check(db), "smtp": smtp_check("127.0.0.1", smtp.port)}
            )
    finally:
        await db.dispose()
    assert ready
    assert body == {"status": "ready", "checks": {"database": "ok", "smtp": "ok"}, "failed": []}


async def test_unavailable_names_what_failed(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "x.db"
    db = Database(f"sqlite+aiosqlite:///{missing}")
    missing.parent.rmdir()  # Database() created it; without it SQLite cannot open the file
    try:
        ready, body = await readiness(
            {"database": database_check(db), "smtp": smtp_check("127.0.0.1", free_port())},
            timeout=3,
        )
    finally:
        await db.dispose()
    assert not ready
    assert body["status"] == "unavailable"
    assert body["failed"] == ["database", "smtp"]
    assert body["checks"]["smtp"].startswith("error: ConnectionRefusedError")
