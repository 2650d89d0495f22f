"""insert_all and insert_values: many rows in one statement, generated ids set on the rows (or
returned in order) by their unique key, column defaults applied, a duplicate key refused as a
flush would refuse it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notifier.models import DeliveryRow, ReminderRow
from shared.db import Database
from shared.db.bulk import insert_all, insert_values

NOW = datetime(2099, 8, 1, 9, tzinfo=UTC)


def reminder(subscriber: str, offset: str) -> ReminderRow:
    return ReminderRow(
        subscriber_id=subscriber,
        notice_id="n1",
        offset=offset,
        due_on=date(2099, 8, 31),
        fire_at=NOW,
        status="scheduled",
        payload="{}",
    )


async def test_generated_ids_go_to_the_rows_they_belong_to(db: Database) -> None:
    rows = [reminder(f"s{n % 7}", f"{n}d") for n in range(300)]
    async with db.session() as session:
        await insert_all(session, rows)
    async with db.read_session() as session:
        stored = {
            (r.subscriber_id, r.offset): (r.id, r.late, r.created_at is not None)
            for r in await session.scalars(select(ReminderRow))
        }
    assert len(stored) == 300
    for row in rows:
        # the id the database gave this row's key; ``late`` from its column default
        assert stored[(row.subscriber_id, row.offset)] == (row.id, False, True)


async def test_rows_with_their_own_keys_and_a_duplicate_refused(db: Database) -> None:
    def delivery(ident: str) -> DeliveryRow:
        return DeliveryRow(
            id=ident,
            subscriber_id="s1",
            notice_id="n1",
            type="notice.matched",
            reason=ident,  # the ledger's unique key differs with it
            channel="webhook",
            target="http://127.0.0.1:1/hook",
            target_id="",
            queue="http://127.0.0.1:1/hook",
            payload="{}",
            status="pending",
            attempts=0,
            retry_base=0,
            next_attempt_at=NOW,
            created_at=NOW,
        )

    async with db.session() as session:
        await insert_all(session, [delivery("d1"), delivery("d2")])
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await insert_all(session, [delivery("d3"), delivery("d2")])
    async with db.read_session() as session:
        assert list(await session.scalars(select(DeliveryRow.id).order_by(DeliveryRow.id))) == [
            "d1",
            "d2",
        ]


async def test_values_get_their_generated_ids_in_order_or_none_when_not_asked(
    db: Database,
) -> None:
    table = ReminderRow.__table__
    values = [
        {
            "subscriber_id": f"s{n % 5}",
            "notice_id": "n1",
            "offset": f"{n}d",
            "due_on": date(2099, 8, 31),
            "fire_at": NOW,
            "status": "scheduled",
            "payload": "{}",
        }
        for n in range(40)
    ]
    async with db.session() as session:
        ids = await insert_values(session, table, values[:30])  # type: ignore[arg-type]
        unasked = await insert_values(session, table, values[30:], ids=False)  # type: ignore[arg-type]
    assert unasked is None and ids is not None and len(set(ids)) == 30
    async with db.read_session() as session:
        stored = {
            (r.subscriber_id, r.offset): r for r in await session.scalars(select(ReminderRow))
        }
    assert len(stored) == 40
    for given, ident in zip(values, ids, strict=False):
        row = stored[(given["subscriber_id"], given["offset"])]
        assert row.id == ident and row.late is False  # a column left out takes its default
