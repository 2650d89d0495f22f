"""Operations commands: ``regwatch status``, ``topics tail``, ``dlq list|replay``, ``asyncapi``,
``secrets new-key|rotate``, ``portal link``.

They find the broker in ``REGWATCH_KAFKA_BOOTSTRAP`` or, failing that, in the ``runtime.json``
of a running ``regwatch run`` (its embedded broker). Listed in ``services/cli.py``'s
``COMMANDS`` (``portal`` is ``shared/portal_cli.py``'s).

What a command needs (the runtime, Kafka, the database) is imported by the command: listing
the commands or printing their help loads none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from shared.cli import emit, fail, friendly, load_settings, run_with_db, sub_app
from shared.errors import InputError

if TYPE_CHECKING:
    from shared.db import Database
    from shared.ops.kafka import BrokerRef
    from shared.settings import Settings

T = TypeVar("T")

topics_app = sub_app("Read regwatch's Kafka topics.")
dlq_app = sub_app("Dead-lettered messages: list them, replay them to their topic.")
secrets_app = sub_app("Keys of the secrets stored encrypted (webhook signing secrets).")


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except TimeoutError as exc:
        fail(str(exc) or "timed out")


async def _broker(settings: Settings) -> BrokerRef:
    from shared.ops.kafka import reachable, resolve_broker

    broker = resolve_broker(settings)
    await reachable(broker.bootstrap)
    return broker


@friendly
def status() -> None:
    """Broker, database, topics with end offsets, consumer lag, dead letters, reminders (JSON)."""
    from services.runtime import all_subscriptions
    from shared.data_location import describe_location
    from shared.ops.status import gather_status

    settings = load_settings()

    async def work() -> dict[str, Any]:
        broker = await _broker(settings)
        return await gather_status(settings, broker, await all_subscriptions(settings))

    emit({**describe_location(settings), **_run(work())})


@topics_app.command("tail")
@friendly
def topics_tail(
    name: Annotated[
        str, typer.Argument(help="notices, matches, deliveries, watchlist (+.dlq) or a topic")
    ],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new ones")] = False,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="start at the oldest message")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-n", help="how many (default: the last 10, or all from the start)"
        ),
    ] = None,
) -> None:
    """Print messages as pretty JSON (key, partition, offset, headers, value), oldest first."""
    from shared.ops.kafka import resolve_topic
    from shared.ops.records import read_topic

    settings = load_settings()
    topic = resolve_topic(settings, name)

    async def work() -> None:
        broker = await _broker(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        async for message in read_topic(
            broker.bootstrap,
            topic,
            from_beginning=from_beginning,
            limit=limit,
            follow=follow,
            stop=stop,
        ):
            typer.echo(json.dumps(message, ensure_ascii=False, indent=2, default=str))

    _run(work())


@dlq_app.command("list")
@friendly
def dlq_list(
    topic: Annotated[
        str | None,
        typer.Argument(help="a topic or its dead-letter topic (short names work); default: all"),
    ] = None,
) -> None:
    """Dead-lettered messages with their error headers (JSON list)."""
    from shared.ops.dlq import dlq_topics, list_dead_letters
    from shared.ops.kafka import dlq_topic

    settings = load_settings()

    async def work() -> list[dict[str, Any]]:
        broker = await _broker(settings)
        if topic is not None:
            names = [dlq_topic(settings, topic)]
        else:
            names = await dlq_topics(broker.bootstrap, settings.topics.all())
        return await list_dead_letters(broker.bootstrap, names)

    emit(_run(work()))


@dlq_app.command("replay")
@friendly
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="a topic or its dead-letter topic")],
    offset: Annotated[int | None, typer.Option(help="replay the message at this offset")] = None,
    partition: Annotated[
        int | None, typer.Option(help="the partition of --offset (when it is ambiguous)")
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="replay every message")] = False,
) -> None:
    """Republish dead-lettered messages to their original topic (header
    x-regwatch-replayed-from records where they came from)."""
    from shared.ops.dlq import replay
    from shared.ops.kafka import dlq_topic

    settings = load_settings()
    if replay_all == (offset is not None):
        raise InputError("give either --offset N or --all")

    async def work() -> list[dict[str, Any]]:
        broker = await _broker(settings)
        return await replay(
            broker.bootstrap,
            dlq_topic(settings, topic),
            offset=offset,
            partition=partition,
            replay_all=replay_all,
            idempotent=broker.idempotent,
        )

    emit(_run(work()))


@friendly
def asyncapi() -> None:
    """Print the AsyncAPI 3.0 document of regwatch's topics (FastStream's generator). Its
    server is the broker in use: REGWATCH_KAFKA_BOOTSTRAP, else the embedded one of the
    running regwatch (runtime.json); with neither, the document names no server."""
    from services.runtime import spec_document
    from shared.ops.asyncapi import as_dict, without_servers
    from shared.ops.kafka import broker_in_use

    settings = load_settings()
    broker = broker_in_use(settings)
    document = as_dict(_run(spec_document(settings, broker.bootstrap if broker else None)))
    if broker is None:
        typer.echo(
            "note: no broker in use (REGWATCH_KAFKA_BOOTSTRAP unset, no regwatch running on "
            f"{settings.data_dir}): the document names no server",
            err=True,
        )
        document = without_servers(document)
    emit(document)


@secrets_app.command("new-key")
def secrets_new_key() -> None:
    """Fresh random values for REGWATCH_SECRET_KEYS (a Fernet key) and REGWATCH_API_KEY_PEPPER.
    To rotate, put secret_key first in REGWATCH_SECRET_KEYS; never change the pepper."""
    from shared import secretbox

    emit({"secret_key": secretbox.new_secret_key(), "api_key_pepper": secretbox.new_pepper()})


@secrets_app.command("rotate")
@friendly
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the newest key (the first of REGWATCH_SECRET_KEYS);
    counts per column. Running it again changes nothing; then the older keys can go."""
    from shared import secretbox

    settings = load_settings()

    async def work(db: Database) -> dict[str, Any]:
        box = secretbox.for_url(settings.sqlalchemy_url).box  # with_db configured it
        async with db.session() as session:
            counts = await secretbox.reencrypt_all(session, box)
        columns = {where: c.as_dict() for where, c in counts.items()}
        total = {
            name: sum(c[name] for c in columns.values())
            for name in ("rotated", "encrypted", "current")
        }
        return {"keys": box.keys, **total, "columns": columns}

    emit(run_with_db(settings, work))
