"""Intake: bytes or an event in, a stored notice (and its queued event) out."""

from __future__ import annotations

from services.ingestor.extract import parse_notice
from services.ingestor.store import Saved, save_notice
from shared.db import Database
from shared.errors import InputError
from shared.events import NoticeEvent
from shared.logging import get_logger, log_context

log = get_logger("regwatch.ingestor")


def check_entities(notice: NoticeEvent, name: str) -> None:
    if not notice.entities:
        raise InputError(f"{name}: no apps, SDKs or companies found in the notice")


async def ingest_event(db: Database, notice: NoticeEvent, *, name: str) -> Saved:
    check_entities(notice, name)
    async with db.session() as session:
        saved = await save_notice(session, notice)
    with log_context(notice_id=saved.notice.notice_id):
        log.info(
            "notice stored",
            extra={"outcome": saved.outcome, "source": name, "entities": len(notice.entities)},
        )
    return saved


async def ingest_bytes(
    db: Database, data: bytes, *, name: str, source_url: str | None = None
) -> Saved:
    notice = parse_notice(data, name=name, source_url=source_url)
    return await ingest_event(db, notice, name=name)
