"""``regwatch reminders ...``."""

from __future__ import annotations

from services.notifier.scheduler import list_reminders
from shared.accounts import get_subscriber
from shared.cli import emit, friendly, load_settings, run_with_db, sub_app
from shared.db import Database
from shared.errors import RegwatchError

reminders_app = sub_app("Deadline reminders.")


@reminders_app.command("list")
@friendly
def reminders_list(subscriber_id: str) -> None:
    """Print a subscriber's scheduled reminders."""
    settings = load_settings()

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.session() as session:
            if await get_subscriber(session, subscriber_id) is None:
                raise RegwatchError(f"no subscriber {subscriber_id!r}")
        return await list_reminders(db, subscriber_id)

    emit(run_with_db(settings, work))
