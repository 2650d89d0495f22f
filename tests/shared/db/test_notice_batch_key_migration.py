"""Migration 0018 on a database made before it: every stored notice gets exactly the batch key
the ingestor writes when it saves one (``merging.batch_key``), NULL without a label."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import select, text

from services.ingestor.merging import batch_key
from services.ingestor.models import NoticeRow
from shared.db import Database
from shared.db.engine import alembic_config
from shared.events import Entity, NoticeEvent, Regulator


def stored(number: int, batch: str | None) -> NoticeEvent:
    return NoticeEvent(
        notice_id=f"miit-2021-{number:04d}",
        regulator=Regulator(code="MIIT", name="工业和信息化部"),
        title=f"关于侵害用户权益行为的APP通报（{batch or number}）",
        published_on=date(2021, 5, 10),
        batch=batch,
        entities=[Entity(name=f"应用{number}", developer=f"公司{number}")],
    )


async def _keys(db: Database) -> dict[str, str | None]:
    async with db.session() as session:
        rows = await session.execute(select(NoticeRow.notice_id, NoticeRow.batch_key))
        return {notice_id: key for notice_id, key in rows.all()}


async def test_notices_stored_before_0018_get_their_batch_keys(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0017")  # the ingestor before the key
    # more notices than one page of the backfill; labels in other spellings, and none
    labels = ["2021年第8批", "2021年第８批", "2021年 第9批", "２０２１年第10批（总第19批）", None]
    notices = [stored(n, labels[n % len(labels)]) for n in range(1200)]
    db = Database(database_url)
    try:
        now = datetime.now(UTC)
        async with db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO notices (notice_id, regulator_code, published_on, title,"
                    " payload, content_hash, sources, created_at, updated_at)"
                    " VALUES (:id, 'MIIT', :day, :title, :payload, 'x', 1, :t, :t)"
                ),
                [
                    {
                        "id": notice.notice_id,
                        "day": notice.published_on,
                        "title": notice.title,
                        "payload": notice.model_dump_json(by_alias=True),
                        "t": now,
                    }
                    for notice in notices
                ],
            )

        await db.migrate()

        keys = await _keys(db)
        assert keys == {n.notice_id: batch_key(n) for n in notices}
        assert keys["miit-2021-0000"] == keys["miit-2021-0001"] == "2021年第8批"
        assert keys["miit-2021-0004"] is None

        await asyncio.to_thread(command.downgrade, config, "0017")
        await db.migrate()  # and up again
        assert await _keys(db) == keys
    finally:
        await db.dispose()
