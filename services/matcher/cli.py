"""``regwatch subscribers ...`` and ``regwatch watch ...``.

Watchlist changes are written to the database with their WatchlistEvent in the matcher's
outbox; a running matcher (any process) publishes them within a second and applies them
without a restart. With no matcher running they wait for the next ``regwatch run``.

Each command imports the matcher code it uses: ``regwatch watch --help`` loads none of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shared.cli import emit, fail, friendly, load_settings, read_file, run_with_db, sub_app
from shared.errors import RegwatchError

if TYPE_CHECKING:
    from services.matcher.models import WatchRow
    from shared.db import Database

subscribers_app = sub_app("Manage subscribers.")
watch_app = sub_app("Manage watch items.")


def watch_dict(row: WatchRow) -> dict[str, Any]:
    from services.matcher.store import aliases_of

    return {
        "id": row.id,
        "subscriber_id": row.subscriber_id,
        "kind": row.kind,
        "name": row.name,
        "aliases": aliases_of(row),
    }


async def _require_subscriber(db: Database, subscriber_id: str) -> None:
    from shared.accounts import get_subscriber

    async with db.session() as session:
        if await get_subscriber(session, subscriber_id) is None:
            raise RegwatchError(f"no subscriber {subscriber_id!r}")


@subscribers_app.command("add")
@friendly
def subscribers_add(
    name: Annotated[str, typer.Option("--name", help="who the subscriber is")],
    email: Annotated[str | None, typer.Option(help="email address for alerts")] = None,
    webhook: Annotated[str | None, typer.Option(help="webhook URL for alerts")] = None,
    reminders: Annotated[
        str | None, typer.Option(help="reminder offsets before deadlines, e.g. 7d,3d,1d")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone, e.g. Europe/Berlin (Asia/Shanghai)")
    ] = None,
) -> None:
    """Create a subscriber; prints its id, API key and webhook secret (shown once)."""
    from shared.accounts import register_subscriber

    settings = load_settings()

    async def work(db: Database) -> dict[str, str | None]:
        async with db.session() as session:
            created = await register_subscriber(
                session,
                name=name,
                email=email,
                webhook_url=webhook,
                reminders=reminders,
                default_reminders=settings.default_reminders,
                allow_private=settings.webhook_allow_private,
                allow_link_local=settings.webhook_allow_link_local,
                timezone=timezone,
            )
        return created.as_dict()

    emit(run_with_db(settings, work))


@subscribers_app.command("rotate-key")
@friendly
def subscribers_rotate_key(subscriber_id: str) -> None:
    """Give a subscriber a new API key (printed once); the old key stops working at once."""
    from shared.accounts import rotate_api_key

    settings = load_settings()

    async def work(db: Database) -> dict[str, str]:
        async with db.session() as session:
            api_key = await rotate_api_key(session, subscriber_id)
        if api_key is None:
            raise RegwatchError(f"no subscriber {subscriber_id!r}")
        return {"id": subscriber_id, "api_key": api_key}

    emit(run_with_db(settings, work))


@watch_app.command("add")
@friendly
def watch_add(
    subscriber_id: str,
    app_name: Annotated[str | None, typer.Option("--app", help="an app name")] = None,
    company: Annotated[str | None, typer.Option("--company", help="a company or group")] = None,
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="another name for it (repeatable)")
    ] = None,
) -> None:
    """Watch an app or a company for a subscriber (a running matcher picks it up at once); refused
    beyond REGWATCH_MAX_WATCHES_PER_SUBSCRIBER items."""
    if (app_name is None) == (company is None):
        fail("give exactly one of --app NAME or --company NAME")
    kind, value = ("app", app_name) if app_name is not None else ("company", company)
    assert value is not None
    from services.matcher.store import put_watch

    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        await _require_subscriber(db, subscriber_id)
        async with db.session() as session:
            added = await put_watch(
                session,
                subscriber_id,
                kind,
                value,
                alias or [],
                limit=settings.max_watches_per_subscriber,
            )
            return {**watch_dict(added.row), "created": added.created}

    emit(run_with_db(settings, work))


@watch_app.command("list")
@friendly
def watch_list(subscriber_id: str) -> None:
    """A subscriber's watch items."""
    from services.matcher.store import list_watches

    settings = load_settings()

    async def work(db: Database) -> list[dict[str, Any]]:
        await _require_subscriber(db, subscriber_id)
        async with db.session() as session:
            return [watch_dict(row) for row in await list_watches(session, subscriber_id)]

    emit(run_with_db(settings, work))


@watch_app.command("remove")
@friendly
def watch_remove(subscriber_id: str, watch_id: int) -> None:
    """Stop watching an item (a running matcher stops matching it at once)."""
    from services.matcher.store import remove_watch

    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            if not await remove_watch(session, subscriber_id, watch_id):
                raise RegwatchError(f"subscriber {subscriber_id!r} has no watch item {watch_id}")
        return {"id": watch_id, "subscriber_id": subscriber_id, "removed": True}

    emit(run_with_db(settings, work))


@watch_app.command("import")
@friendly
def watch_import(
    subscriber_id: str,
    path: Annotated[Path, typer.Argument(help="CSV: kind,name[,aliases separated by |]")],
) -> None:
    """Add watch items from a CSV file (progress bar); bad rows are reported by line and field,
    good rows are imported all the same. An import that would pass
    REGWATCH_MAX_WATCHES_PER_SUBSCRIBER items is refused as a whole."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from services.matcher.csvimport import decode_csv, import_watches, parse_watch_csv

    settings = load_settings()
    parsed = parse_watch_csv(decode_csv(read_file(path)))

    async def work(db: Database) -> dict[str, object]:
        await _require_subscriber(db, subscriber_id)
        columns = (
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        console = Console(stderr=True)
        with Progress(
            *columns, console=console, transient=True, disable=not console.is_terminal
        ) as bar:
            task = bar.add_task("import", total=parsed.total)
            result = await import_watches(
                db,
                subscriber_id,
                parsed,
                progress=lambda n: bar.advance(task, n),
                limit=settings.max_watches_per_subscriber,
            )
        return result.as_dict()

    report = run_with_db(settings, work)
    emit(report)
    errors = report["errors"]
    if isinstance(errors, list) and errors:
        first = errors[0]
        fail(
            f"{report['failed']} of {report['rows']} row(s) not imported; first: "
            f"line {first['line']}: {first['field']}: {first['message']}"
        )
