"""Rows inserted once: in one flush when no key exists, one by one when another instance
inserted some of them meanwhile."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from services.notifier.models import ReminderRow
from services.notifier.once import insert_all_once, insert_once
from shared.db import Database

NOW = datetime(2099, 3, 1, 8, tzinfo=UTC)


def reminder(offset: str, subscriber_id: str = "sub-1") -> ReminderRow:
    return ReminderRow(
        subscriber_id=subscriber_id,
        notice_id="cac-20990301-1",
        offset=offset,
        due_on=date(2099, 3, 22),
        fire_at=NOW,
        status="scheduled",
        payload="{}",
        late=False,
        created_at=NOW,
    )


async def offsets(db: Database) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.scalars(select(ReminderRow).order_by(ReminderRow.id))
        return [(row.subscriber_id, row.offset) for row in rows]


async def test_all_new_rows_go_in(db: Database) -> None:
    async with db.session() as session:
        inserted = await insert_all_once(session, [reminder("7d"), reminder("3d")])
    assert [row.offset for row in inserted] == ["7d", "3d"]
    assert await offsets(db) == [("sub-1", "7d"), ("sub-1", "3d")]


async def test_rows_another_instance_inserted_are_skipped_and_the_rest_kept(db: Database) -> None:
    async with db.session() as session:
        assert await insert_once(session, reminder("3d"))
    async with db.session() as session:
        session.add(reminder("7d", subscriber_id="sub-2"))  # the unit of work goes on after it
        inserted = await insert_all_once(session, [reminder("7d"), reminder("3d"), reminder("1d")])
    assert [row.offset for row in inserted] == ["7d", "1d"]
    assert sorted(await offsets(db)) == [
        ("sub-1", "1d"),
        ("sub-1", "3d"),
        ("sub-1", "7d"),
        ("sub-2", "7d"),
    ]


async def test_nothing_to_insert(db: Database) -> None:
    async with db.session() as session:
        assert await insert_all_once(session, []) == []
