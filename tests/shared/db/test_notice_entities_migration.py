"""Migration 0011 on a database made before it: every stored notice gets exactly the name keys
the ingestor writes when it saves one (``name_index.notice_keys``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import select, text

from services.ingestor.models import NoticeEntityRow
from services.ingestor.name_index import notice_keys
from shared.db import Database
from shared.db.engine import alembic_config
from shared.events import Entity, NoticeEvent, Regulator


def stored(number: int, entities: list[Entity]) -> NoticeEvent:
    return NoticeEvent(
        notice_id=f"cac-2021-{number:04d}",
        regulator=Regulator(code="CAC", name="国家互联网信息办公室"),
        title=f"关于{number}款App的通报",
        published_on=date(2021, 5, 10),
        entities=entities,
    )


async def _keys(db: Database) -> dict[str, set[str]]:
    async with db.session() as session:
        rows = (await session.execute(select(NoticeEntityRow))).scalars()
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row.notice_id, set()).add(row.name_key)
    return found


async def test_notices_stored_before_0011_are_indexed(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0007")  # the ingestor before the index
    # more notices than one page of the backfill, and one list longer than a statement's rows
    notices = [stored(n, [Entity(name=f"应用{n}", developer=f"公司{n}")]) for n in range(230)]
    notices.append(
        stored(
            999,
            [Entity(name="抖音", developer="北京微播视界科技有限公司")]
            + [Entity(name=f"App {n}") for n in range(400)],
        )
    )
    notices.append(stored(1000, []))
    db = Database(database_url)
    try:
        now = datetime.now(UTC)
        async with db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO notices (notice_id, regulator_code, published_on, title,"
                    " payload, content_hash, sources, created_at, updated_at)"
                    " VALUES (:id, 'CAC', :day, :title, :payload, 'x', 1, :t, :t)"
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

        expected = {n.notice_id: notice_keys(n) for n in notices if n.entities}
        assert await _keys(db) == expected
        assert {"抖音", "py:douyin", "北京微播视界科技有限公司"} <= expected["cac-2021-0999"]

        await asyncio.to_thread(command.downgrade, config, "0007")
        await db.migrate()  # and up again
        assert await _keys(db) == expected
    finally:
        await db.dispose()
