"""``regwatch subscribers ...``, ``regwatch watch ...`` and offline ``regwatch match``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from services.matcher.store import add_watch
from shared.accounts import get_subscriber, register_subscriber
from shared.cli import emit, fail, friendly, load_settings, run_with_db, sub_app
from shared.db import Database
from shared.errors import RegwatchError

subscribers_app = sub_app("Manage subscribers.")
watch_app = sub_app("Manage watch items.")


@subscribers_app.command("add")
@friendly
def subscribers_add(
    name: Annotated[str, typer.Option("--name", help="who the subscriber is")],
    email: Annotated[str | None, typer.Option(help="email address for alerts")] = None,
    webhook: Annotated[str | None, typer.Option(help="webhook URL for alerts")] = None,
    reminders: Annotated[
        str | None, typer.Option(help="reminder offsets before deadlines, e.g. 7d,3d,1d")
    ] = None,
) -> None:
    """Create a subscriber; prints its id, API key and webhook secret (shown once)."""
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
            )
        return created.as_dict()

    emit(run_with_db(settings, work))


@watch_app.command("add")
@friendly
def watch_add(
    subscriber_id: str,
    app_name: Annotated[str | None, typer.Option("--app", help="an app name")] = None,
    company: Annotated[str | None, typer.Option("--company", help="a company or group")] = None,
) -> None:
    """Watch an app or a company for a subscriber."""
    if (app_name is None) == (company is None):
        fail("give exactly one of --app NAME or --company NAME")
    kind, value = ("app", app_name) if app_name is not None else ("company", company)
    assert value is not None
    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            if await get_subscriber(session, subscriber_id) is None:
                raise RegwatchError(f"no subscriber {subscriber_id!r}")
            row = await add_watch(session, subscriber_id, kind, value)
            return {
                "id": row.id,
                "subscriber_id": subscriber_id,
                "kind": row.kind,
                "name": row.name,
            }

    emit(run_with_db(settings, work))
