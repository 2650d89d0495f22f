"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL; a
database created from the models (``upgrade`` on an empty database) is the migrated one,
rows included, and migrates on (down and up) like it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement

from shared.db import Database
from shared.db.engine import VERSION_TABLE, alembic_config, create_fresh, script_heads, upgrade
from shared.db.migrations.schema import metadata
from tests.support.db import fresh_database_url

ROOT = Path(__file__).resolve().parents[3]


def _diff(conn: Connection) -> list[object]:
    """Alembic's comparison (server defaults left out: its heuristic takes SQLite's ``''``
    for a change; the snapshots below compare them exactly)."""
    return list(compare_metadata(MigrationContext.configure(conn), metadata()))


def _snapshot(conn: Connection) -> dict[str, Any]:
    """Everything the database declares, and every row it holds: tables, each column's type
    (as the backend names it), nullability, default, autoincrement and identity, primary
    keys, indexes (with their ``WHERE``), unique, foreign key and check constraints, views,
    sequences (PostgreSQL) and the schema objects SQLite lists (its automatic indexes).
    Column order is not compared: a column a later migration added comes last in a migrated
    table and in the model's place in a created one (nothing reads columns by position)."""
    inspector = inspect(conn)
    tables: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        columns = {
            column["name"]: {
                **{key: repr(value) for key, value in column.items() if key != "type"},
                "type": column["type"].compile(dialect=conn.dialect),
            }
            for column in inspector.get_columns(name)
        }
        tables[name] = {
            "columns": columns,
            "primary_key": inspector.get_pk_constraint(name),
            "indexes": _sorted(inspector.get_indexes(name)),
            "unique": _sorted(inspector.get_unique_constraints(name)),
            "foreign_keys": _sorted(inspector.get_foreign_keys(name)),
            "checks": _sorted(inspector.get_check_constraints(name)),
            "options": repr(inspector.get_table_options(name)),
            "rows": sorted(
                tuple(repr(v) for v in row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))
            ),
        }
    snapshot: dict[str, Any] = {"tables": tables, "views": sorted(inspector.get_view_names())}
    if conn.dialect.name == "postgresql":
        snapshot["sequences"] = sorted(inspector.get_sequence_names())
    else:
        snapshot["objects"] = sorted(
            tuple(row)
            for row in conn.execute(text("SELECT type, name, tbl_name FROM sqlite_master"))
        )
    return snapshot


def _sorted(items: list[Any]) -> list[str]:
    return sorted(repr(_plain(item)) for item in items)


def _plain(value: Any) -> Any:
    """Reflected values as comparable data (an index's ``WHERE`` is a clause object)."""
    if isinstance(value, dict):
        return sorted((key, _plain(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, ClauseElement):
        return str(value)
    return value


async def _take(url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return await conn.run_sync(_snapshot)
    finally:
        await db.dispose()


async def _replay(url: str) -> None:
    """Every migration, from an empty database: what ``upgrade`` did before it could create."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "heads")


@pytest.fixture(params=["sqlite", "postgres"])
async def two_urls(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """Two new, empty databases of one backend."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async for first in fresh_database_url(request.param, tmp_path / "a"):
        async for second in fresh_database_url(request.param, tmp_path / "b"):
            yield first, second


async def test_migrated_schema_matches_models(database_url: str) -> None:
    await _replay(database_url)
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await db.dispose()
    assert diff == []


async def test_a_database_created_from_the_models_is_the_migrated_one(
    two_urls: tuple[str, str],
) -> None:
    replayed, created = two_urls
    await _replay(replayed)
    assert await asyncio.to_thread(create_fresh, created)
    migrated = await _take(replayed)
    assert migrated == await _take(created)
    assert migrated["tables"][VERSION_TABLE]["rows"] == sorted(
        (repr(head),) for head in script_heads() or ()
    )
    assert set(migrated["tables"]) == {*metadata().tables, VERSION_TABLE}


async def test_upgrading_a_created_database_changes_nothing_and_it_migrates_down_and_up(
    two_urls: tuple[str, str],
) -> None:
    replayed, created = two_urls
    await _replay(replayed)
    await asyncio.to_thread(upgrade, created)  # empty: created from the models
    expected = await _take(created)
    config = alembic_config(created)
    await asyncio.to_thread(command.upgrade, config, "heads")  # Alembic's own: nothing to do
    assert await _take(created) == expected
    await asyncio.to_thread(command.downgrade, config, "base")
    down = await _take(created)
    assert set(down["tables"]) == {VERSION_TABLE} and down["tables"][VERSION_TABLE]["rows"] == []
    await asyncio.to_thread(upgrade, created)  # replays every migration: the version table is there
    assert await _take(created) == await _take(replayed)


async def test_migrate_twice_is_a_no_op(db: Database) -> None:
    before = await _take(db.url)
    await db.migrate()
    assert await _take(db.url) == before


async def test_a_database_at_every_head_is_left_without_alembic(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Alembic ran")

    monkeypatch.setattr(command, "upgrade", refuse)
    await db.migrate()
    await asyncio.to_thread(upgrade, db.url)


async def test_only_a_database_without_any_regwatch_table_is_created(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:  # another application's table, with a row
            await conn.execute(text("CREATE TABLE other_app (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO other_app (id) VALUES (7)"))
        assert await asyncio.to_thread(create_fresh, database_url)
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT id FROM other_app"))).scalar_one() == 7
        assert not await asyncio.to_thread(create_fresh, database_url)  # now it has them
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    "leftover",
    [
        "CREATE TABLE subscribers (id VARCHAR(40) PRIMARY KEY)",  # one table of the models
        f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)",  # Alembic's, empty
    ],
)
async def test_a_partial_schema_is_left_to_the_migrations(database_url: str, leftover: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(leftover))
        before = await _take(database_url)
        assert not await asyncio.to_thread(create_fresh, database_url)
        assert await _take(database_url) == before
    finally:
        await db.dispose()


async def test_a_database_migrated_part_way_is_migrated_on(database_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0001")
    assert not await asyncio.to_thread(create_fresh, database_url)
    await asyncio.to_thread(upgrade, database_url)
    assert set((await _take(database_url))["tables"]) == {*metadata().tables, VERSION_TABLE}


async def test_two_starts_at_once_create_it_once(two_urls: tuple[str, str]) -> None:
    """Each on a connection of its own, as two processes would be: one creates, the other
    waits for its lock and finds the tables (or finds them at once)."""
    created, replayed = two_urls
    results = await asyncio.gather(
        asyncio.to_thread(create_fresh, created), asyncio.to_thread(create_fresh, created)
    )
    assert sorted(results) == [False, True]
    await asyncio.to_thread(upgrade, created)  # and either start's upgrade finds it current
    await _replay(replayed)
    assert await _take(created) == await _take(replayed)


async def test_the_schema_modules_alone_declare_every_table(database_url: str) -> None:
    """In an interpreter of its own (here every model is imported by some test already), as
    in a command that imports none of the services."""
    code = "from shared.db.migrations.schema import metadata; print(*sorted(metadata().tables))"
    run = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    await _replay(database_url)
    assert set(run.stdout.split()) == set((await _take(database_url))["tables"]) - {VERSION_TABLE}


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script_heads() == frozenset(script.get_heads())


def _scripts(folder: Path, *scripts: str) -> Path:
    for number, body in enumerate(scripts):
        (folder / f"{number:04}_x.py").write_text(f'"""x"""\n\n{body}\n', encoding="utf-8")
    (folder / "__init__.py").write_text("", encoding="utf-8")
    return folder


def test_heads_of_branches_and_merges(tmp_path: Path) -> None:
    folder = _scripts(
        tmp_path,
        'revision = "a"\ndown_revision = None',
        'revision = "b"\ndown_revision = "a"',
        'revision = "c"\ndown_revision = "a"',
        'revision = "d"\ndown_revision = "c"\ndepends_on = None',
    )
    assert script_heads(folder) == {"b", "d"}
    (folder / "0004_x.py").write_text('revision = "e"\ndown_revision = ("b", "d")\n')
    assert script_heads(folder) == {"e"}


@pytest.mark.parametrize(
    "odd",
    [
        'revision = "b"\ndown_revision = "a"\ndepends_on = "a"',  # a dependency
        'revision: str = "b"\ndown_revision: str | None = "a"',  # annotated
        'revision = "b"',  # no down_revision line
        'revision = "b"\ndown_revision = "a"\nrevision = "c"',  # twice
        'revision = "b"\ndown_revision = "zz"',  # a parent that is not a script
        'revision = REV\ndown_revision = "a"',  # not a literal
    ],
)
def test_heads_of_scripts_it_cannot_read_are_left_to_alembic(tmp_path: Path, odd: str) -> None:
    assert script_heads(_scripts(tmp_path, 'revision = "a"\ndown_revision = None', odd)) is None
