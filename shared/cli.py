"""Helpers for regwatch's command line: settings, JSON output, one-line errors, database.

Every service's CLI module builds on these; ``services/cli.py`` composes them into ``regwatch``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

from shared.errors import RegwatchError

if TYPE_CHECKING:
    from shared.db import Database
    from shared.settings import Settings

# Settings, the database and the rest are imported by the functions that use them: `regwatch
# --help` and the offline commands start without loading what they never touch.

P = ParamSpec("P")
T = TypeVar("T")


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def load_settings(*, service: bool = False) -> Settings:
    """Settings from the environment; one-shot commands log only warnings and errors."""
    from pydantic import ValidationError

    from shared.data_location import locate
    from shared.logging import setup_logging
    from shared.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper() if first["loc"] else "?"
        fail(f"invalid setting REGWATCH_{field}: {first['msg']}")
    level = settings.log_level if service else "WARNING"
    setup_logging(level, settings.log_format)
    return settings if service else locate(settings)  # from elsewhere: the running instance


def friendly(func: Callable[P, T]) -> Callable[P, T]:
    """Turn the product's own errors into one-line messages and exit code 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except RegwatchError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))

    return wrapper


async def with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    from shared import secretbox
    from shared.data_location import require_database
    from shared.db import Database

    require_database(settings)  # never a new, empty SQLite database nobody asked for
    secretbox.configure(settings)  # the keys of stored secrets, before migrating
    db = Database(settings.sqlalchemy_url)
    try:
        await db.migrate()
        return await work(db)
    finally:
        await db.dispose()


def read_file(path: Path) -> bytes:
    if not path.exists():
        fail(f"{path}: no such file")
    if path.is_dir():
        fail(f"{path}: is a folder, expected a notice file")
    return path.read_bytes()


def run_with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run one unit of CLI work against the migrated database."""
    import asyncio  # here: ``regwatch --help`` does not need it

    return asyncio.run(with_db(settings, work))


def sub_app(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True)


def show_version(value: bool) -> None:
    """``--version``: ``regwatch X.Y.Z``, from the installed package's metadata."""
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        typer.echo(f"regwatch {version('regwatch')}")
    except PackageNotFoundError:
        fail("regwatch is not installed as a package (pip install -e .): no version to show")
    raise typer.Exit()
