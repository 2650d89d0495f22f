"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import services.ingestor.models
import services.matcher.models
import services.notifier.models
import shared.accounts
import shared.portal.models  # noqa: F401  (both register their tables)
from shared.db import Base, Database


def _diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


async def test_migrated_schema_matches_models(db: Database) -> None:
    assert services.ingestor.models and services.matcher.models and services.notifier.models
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_migrate_twice_is_a_no_op(db: Database) -> None:
    await db.migrate()
    await db.ping()
