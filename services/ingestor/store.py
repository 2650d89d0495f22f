"""Stored notices and the transactional outbox: a notice and its event are saved together."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingestor.models import NoticeRow, OutboxRow
from shared.db.base import utcnow
from shared.events import NoticeEvent

Outcome = Literal["new", "updated", "unchanged"]
NOTICES_STREAM = "notices"


@dataclass(frozen=True)
class Saved:
    notice: NoticeEvent
    outcome: Outcome


def content_hash(notice: NoticeEvent) -> str:
    body = json.dumps(notice.dump(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def merge(old: NoticeEvent, new: NoticeEvent) -> NoticeEvent:
    """The same notice seen again (a reprint): keep what was known, add what is new."""
    merged = old.model_copy(deep=True)
    for field in ("batch", "deadline", "source_url"):
        if getattr(merged, field) is None and getattr(new, field) is not None:
            setattr(merged, field, getattr(new, field))
    known = {(e.name, e.developer) for e in merged.entities}
    names = {e.name for e in merged.entities}
    for entity in new.entities:
        if (entity.name, entity.developer) in known:
            continue
        if entity.name in names and entity.developer is None:
            continue
        merged.entities.append(entity)
        known.add((entity.name, entity.developer))
    if merged.kind == "other" and new.kind != "other":
        merged.kind = new.kind
    return merged


async def save_notice(session: AsyncSession, notice: NoticeEvent) -> Saved:
    """Store a notice (merging with an earlier copy) and queue its event in the outbox."""
    row = await session.get(NoticeRow, notice.notice_id)
    outcome: Outcome
    if row is None:
        final, outcome = notice, "new"
        session.add(
            NoticeRow(
                notice_id=notice.notice_id,
                regulator_code=notice.regulator.code,
                published_on=notice.published_on,
                title=notice.title,
                payload=json.dumps(notice.dump(), ensure_ascii=False),
                content_hash=content_hash(notice),
                sources=1,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    else:
        old = NoticeEvent.model_validate_json(row.payload)
        final = merge(old, notice)
        row.sources += 1
        digest = content_hash(final)
        if digest == row.content_hash:
            return Saved(old, "unchanged")
        outcome = "updated"
        row.payload = json.dumps(final.dump(), ensure_ascii=False)
        row.content_hash = digest
        row.updated_at = utcnow()
    session.add(
        OutboxRow(
            topic=NOTICES_STREAM,
            key=final.notice_id,
            payload=json.dumps(final.dump(), ensure_ascii=False),
            created_at=utcnow(),
        )
    )
    await session.flush()
    return Saved(final, outcome)


async def get_notice(session: AsyncSession, notice_id: str) -> NoticeEvent | None:
    row = await session.get(NoticeRow, notice_id)
    return None if row is None else NoticeEvent.model_validate_json(row.payload)


async def pending_outbox(session: AsyncSession, limit: int = 100) -> list[OutboxRow]:
    result = await session.execute(
        select(OutboxRow)
        .where(OutboxRow.published_at.is_(None))
        .order_by(OutboxRow.id)
        .limit(limit)
    )
    return list(result.scalars())


async def mark_published(session: AsyncSession, outbox_id: int) -> None:
    await session.execute(
        update(OutboxRow).where(OutboxRow.id == outbox_id).values(published_at=utcnow())
    )
