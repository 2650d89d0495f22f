"""Intake survives a lost database connection: the notice is saved again, once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from services.ingestor import intake
from services.ingestor.models import NoticeRow, OutboxRow
from shared.db import Database
from shared.events import NoticeEvent


def notice() -> NoticeEvent:
    return NoticeEvent.model_validate(
        {
            "notice_id": "cac-20990401-intake",
            "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
            "kind": "rectification",
            "title": "关于抖音等App违法违规收集使用个人信息情况的通报",
            "published_on": "2099-04-01",
            "entities": [{"kind": "app", "name": "抖音"}],
        }
    )


def failing_first(monkeypatch: pytest.MonkeyPatch, error: Exception, times: int) -> list[int]:
    """``save_notice`` raises ``error`` on its first ``times`` calls (after doing its work,
    as a connection lost at commit would), then behaves."""
    calls: list[int] = []
    real = intake.save_notice

    async def flaky(session: Any, event: NoticeEvent, **kwargs: Any) -> Any:
        calls.append(1)
        saved = await real(session, event, **kwargs)
        if len(calls) <= times:
            raise error
        return saved

    monkeypatch.setattr(intake, "save_notice", flaky)
    return calls


async def counts(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        notices = await session.scalar(select(func.count()).select_from(NoticeRow))
        outbox = await session.scalar(select(func.count()).select_from(OutboxRow))
    return int(notices or 0), int(outbox or 0)


async def test_a_lost_connection_is_retried_and_stores_the_notice_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = OperationalError("COMMIT", {}, Exception("server closed the connection"))
    calls = failing_first(monkeypatch, lost, times=1)
    saved = await intake.ingest_event(db, notice(), name="notice.txt")
    assert saved.outcome == "new"
    assert len(calls) == 2
    assert await counts(db) == (1, 1)


async def test_a_connection_lost_every_time_fails_after_the_last_attempt(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = OperationalError("COMMIT", {}, Exception("server closed the connection"))
    calls = failing_first(monkeypatch, lost, times=99)
    with pytest.raises(OperationalError):
        await intake.ingest_event(db, notice(), name="notice.txt")
    assert len(calls) == intake.SAVE_ATTEMPTS
    assert await counts(db) == (0, 0)


async def test_other_database_errors_are_not_retried(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = ProgrammingError("INSERT", {}, Exception("no such column"))
    calls = failing_first(monkeypatch, broken, times=1)
    with pytest.raises(ProgrammingError):
        await intake.ingest_event(db, notice(), name="notice.txt")
    assert len(calls) == 1
