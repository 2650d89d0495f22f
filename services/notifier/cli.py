"""``regwatch reminders ...``, ``regwatch deliveries ...`` and ``regwatch channels ...``.

Each command imports the notifier code it uses: ``regwatch deliveries --help`` loads none of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shared.cli import emit, fail, friendly, load_settings, run_with_db, sub_app
from shared.errors import RegwatchError

if TYPE_CHECKING:
    from shared.db import Database

reminders_app = sub_app("Deadline reminders.")
channels_app = sub_app("Where alerts go (robots, email, webhooks): add, list, remove, test.")
deliveries_app = sub_app("The delivery ledger: list deliveries, replay failed ones.")


@reminders_app.command("list")
@friendly
def reminders_list(
    subscriber_id: str,
    notice: Annotated[
        str | None,
        typer.Option(help="only this notice's deadline: an object saying whether it has passed"),
    ] = None,
) -> None:
    """Print a subscriber's reminders: fire_at (UTC), fire_at_local (their time zone), late;
    skipped ones with the reason in note."""
    from services.notifier.scheduler import list_reminders, notice_reminders
    from shared.accounts import get_subscriber

    settings = load_settings()

    async def work(db: Database) -> list[dict[str, Any]] | dict[str, Any]:
        async with db.session() as session:
            if await get_subscriber(session, subscriber_id) is None:
                raise RegwatchError(f"no subscriber {subscriber_id!r}")
        if notice is not None:
            return await notice_reminders(db, subscriber_id, notice, datetime.now(UTC))
        return await list_reminders(db, subscriber_id)

    emit(run_with_db(settings, work))


@deliveries_app.command("list")
@friendly
def deliveries_list(
    subscriber: Annotated[str | None, typer.Option(help="only this subscriber's")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="pending, held, digested, delivered, failed or cancelled"),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="email, webhook, dingtalk, wecom, feishu, slack or teams")
    ] = None,
    since: Annotated[str | None, typer.Option(help="created at or after (ISO-8601)")] = None,
    endpoint: Annotated[str | None, typer.Option(help="only to this URL or address")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 100,
) -> None:
    """Print deliveries with their attempts (time, status code, error)."""
    from services.notifier.history import list_deliveries, parse_since

    settings = load_settings()
    when = parse_since(since)

    async def work(db: Database) -> list[dict[str, Any]]:
        async with db.session() as session:
            return await list_deliveries(
                session,
                subscriber_id=subscriber,
                status=status,
                channel=channel,
                since=when,
                target=endpoint,
                limit=limit,
            )

    emit(run_with_db(settings, work))


@deliveries_app.command("replay")
@friendly
def deliveries_replay(
    delivery_id: Annotated[str | None, typer.Argument(help="a failed delivery's id")] = None,
    endpoint: Annotated[
        str | None, typer.Option(help="every failed delivery to this URL or address")
    ] = None,
    since: Annotated[str | None, typer.Option(help="with --endpoint: created since (ISO)")] = None,
) -> None:
    """Send failed deliveries again, under the same id (webhook-id), attempts kept.

    A running notifier picks them up within a sweep. Replaying to a webhook endpoint that was
    disabled after 410 Gone enables it again.
    """
    if (delivery_id is None) == (endpoint is None):
        fail("give either a DELIVERY_ID or --endpoint URL --since TIME")
    if endpoint is not None and since is None:
        fail("--endpoint needs --since (ISO-8601, e.g. 2024-05-01T00:00Z)")
    if delivery_id is not None and since is not None:
        fail("--since goes with --endpoint, not with a DELIVERY_ID")
    from services.notifier.history import parse_since, replay_delivery, replay_endpoint

    settings = load_settings()
    when = parse_since(since)
    now = datetime.now(UTC)

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            if delivery_id is not None:
                row = await replay_delivery(session, delivery_id, now)
                return {"replayed": [row.id]}
            assert endpoint is not None and when is not None
            return {"replayed": await replay_endpoint(session, endpoint, when, now)}

    emit(run_with_db(settings, work))


@channels_app.command("add")
@friendly
def channels_add(
    subscriber_id: str,
    channel: str,
    address: str,
    secret: Annotated[str | None, typer.Option(help="the robot's signing secret")] = None,
    keyword: Annotated[str | None, typer.Option(help="a word every message must carry")] = None,
    language: Annotated[str | None, typer.Option(help="zh or en")] = None,
    label: Annotated[str | None, typer.Option(help="a name for it")] = None,
) -> None:
    """Add a target to a subscriber (a chat robot, an email address, a webhook URL): prints it
    (robot token masked, no secret)."""
    from services.notifier.targets import NewTarget, add_target, target_out
    from shared.accounts import get_subscriber

    settings = load_settings()
    new = NewTarget(channel, address, secret, keyword, language, label)

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            if await get_subscriber(session, subscriber_id) is None:
                raise RegwatchError(f"no subscriber {subscriber_id!r}")
            row = await add_target(session, subscriber_id, new, datetime.now(UTC))
            return target_out(row)

    emit(run_with_db(settings, work))


@channels_app.command("list")
@friendly
def channels_list(subscriber_id: str) -> None:
    """Print a subscriber's targets, the account's own email address and webhook URL among them."""
    from services.notifier.targets import list_targets, target_out
    from shared.accounts import get_subscriber

    settings = load_settings()

    async def work(db: Database) -> list[dict[str, Any]]:
        async with db.read_session() as session:
            if await get_subscriber(session, subscriber_id) is None:
                raise RegwatchError(f"no subscriber {subscriber_id!r}")
            return [target_out(row) for row in await list_targets(session, subscriber_id)]

    emit(run_with_db(settings, work))


@channels_app.command("remove")
@friendly
def channels_remove(subscriber_id: str, target_id: str) -> None:
    """Remove a subscriber's target; prints how many waiting alerts were cancelled."""
    from services.notifier.targets import remove_target

    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            cancelled = await remove_target(session, subscriber_id, target_id)
        if cancelled is None:
            raise RegwatchError(f"subscriber {subscriber_id!r} has no target {target_id!r}")
        return {"removed": target_id, "cancelled": cancelled}

    emit(run_with_db(settings, work))


@channels_app.command("test")
@friendly
def channels_test(subscriber_id: str, target_id: str) -> None:
    """Send a test message to a target now and print the answer it got."""
    from services.notifier.channels.base import Senders
    from services.notifier.email import EmailSender
    from services.notifier.target_probe import send_test
    from services.notifier.webhook import WebhookSender

    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        async with WebhookSender.from_settings(settings) as http:
            senders = Senders(db, settings, http, EmailSender.from_settings(settings))
            result = await send_test(senders, subscriber_id, target_id, datetime.now(UTC))
        if result is None:
            raise RegwatchError(f"subscriber {subscriber_id!r} has no target {target_id!r}")
        return {
            "ok": result.ok,
            "status_code": result.status_code,
            "error": result.error,
            "answer": result.body_excerpt,
        }

    emit(run_with_db(settings, work))
