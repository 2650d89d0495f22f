"""Notices the matcher consumed, kept so that a watch item added later can be matched against
the notices that still matter (retroactive matching).

Which notices are still *open* (``REGWATCH_RETRO_MATCH=open``, the default): those whose
deadline has not passed (today in China, where regulators set deadlines, is on or before
``due_on``), and those without a deadline published within the last ``REGWATCH_RETRO_DAYS``
days (removal notices name no deadline; 30 days by default). ``all`` takes every stored
notice; ``off`` none.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.matcher.models import StoredNoticeRow
from shared.db import Database
from shared.db.base import utcnow
from shared.events import NoticeEvent

RetroScope = Literal["open", "all", "off"]
REGULATORS_ZONE = ZoneInfo("Asia/Shanghai")


def today_in_china(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(REGULATORS_ZONE).date()


def is_open(notice: NoticeEvent, today: date, days: int) -> bool:
    """The rule of ``open`` for one notice (the query below is the same rule in SQL)."""
    if notice.deadline is not None:
        return notice.deadline.due_on >= today
    return notice.published_on >= today - timedelta(days=days)


def _scope_filter(scope: RetroScope, today: date, days: int) -> ColumnElement[bool] | None:
    if scope == "all":
        return None
    return or_(
        StoredNoticeRow.due_on >= today,
        and_(
            StoredNoticeRow.due_on.is_(None),
            StoredNoticeRow.published_on >= today - timedelta(days=days),
        ),
    )


async def save_consumed_notice(session: AsyncSession, notice: NoticeEvent) -> NoticeEvent | None:
    """Insert or replace (an updated notice replaces the earlier copy); returns the copy
    stored before, None for a notice not seen before."""
    payload = json.dumps(notice.dump(), ensure_ascii=False)
    due_on = notice.deadline.due_on if notice.deadline is not None else None
    row = await session.get(StoredNoticeRow, notice.notice_id)
    previous = None if row is None else NoticeEvent.model_validate_json(row.payload)
    now = utcnow()
    if row is None:
        session.add(
            StoredNoticeRow(
                notice_id=notice.notice_id,
                payload=payload,
                published_on=notice.published_on,
                due_on=due_on,
                received_at=now,
                updated_at=now,
            )
        )
    elif row.payload != payload:
        row.payload = payload
        row.published_on = notice.published_on
        row.due_on = due_on
        row.updated_at = now
    await session.flush()
    return previous


async def last_matched(session: AsyncSession, notice_id: str) -> NoticeEvent | None:
    """The last version of the notice whose alerts were all recorded (None: none was): what
    a redelivered or re-posted notice is compared with, so a matcher stopped between storing a
    notice and recording its alerts records them when the notice comes again."""
    row = await session.get(StoredNoticeRow, notice_id)
    if row is None or row.matched_payload is None:
        return None
    return NoticeEvent.model_validate_json(row.matched_payload)


async def mark_matched(session: AsyncSession, notice: NoticeEvent) -> None:
    """Every alert of this version of the notice is recorded."""
    row = await session.get(StoredNoticeRow, notice.notice_id)
    if row is not None:
        row.matched_payload = json.dumps(notice.dump(), ensure_ascii=False)


async def stored_notice(session: AsyncSession, notice_id: str) -> NoticeEvent | None:
    row = await session.get(StoredNoticeRow, notice_id)
    return None if row is None else NoticeEvent.model_validate_json(row.payload)


async def notices_in_scope(
    db: Database, scope: RetroScope, *, days: int, today: date | None = None, page: int = 200
) -> AsyncIterator[list[NoticeEvent]]:
    """Stored notices for retroactive matching, in pages (by notice id)."""
    if scope == "off":
        return
    condition = _scope_filter(scope, today or today_in_china(), days)
    last = ""
    while True:
        query = select(StoredNoticeRow).where(StoredNoticeRow.notice_id > last)
        if condition is not None:
            query = query.where(condition)
        async with db.session() as session:
            result = await session.execute(query.order_by(StoredNoticeRow.notice_id).limit(page))
            rows = list(result.scalars())
        if not rows:
            return
        last = rows[-1].notice_id
        yield [NoticeEvent.model_validate_json(row.payload) for row in rows]
