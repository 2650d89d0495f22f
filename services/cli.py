"""The ``regwatch`` command line: a thin layer over the services and the runtime.

Commands that return data print JSON on stdout; failures print one line on stderr and exit 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.progress import Progress

from services.ingestor.extract import parse_notice
from services.ingestor.intake import ingest_bytes
from services.ingestor.relay import OutboxRelay
from services.matcher.matching import WatchItem, match_notice
from services.matcher.store import add_watch
from services.notifier.scheduler import list_reminders
from services.runtime import SERVICE_NAMES, Runtime, read_runtime_file
from shared.accounts import get_subscriber, register_subscriber
from shared.broker import make_broker
from shared.db import Database
from shared.errors import RegwatchError
from shared.events import NoticeEvent
from shared.logging import setup_logging
from shared.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")

app = typer.Typer(
    help="regwatch: alerts when regulators name the apps and companies you watch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
notices_app = typer.Typer(help="Parse and ingest regulators' notices.", no_args_is_help=True)
subscribers_app = typer.Typer(help="Manage subscribers.", no_args_is_help=True)
watch_app = typer.Typer(help="Manage watch items.", no_args_is_help=True)
reminders_app = typer.Typer(help="Deadline reminders.", no_args_is_help=True)
app.add_typer(notices_app, name="notices")
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(watch_app, name="watch")
app.add_typer(reminders_app, name="reminders")

NOTICE_SUFFIXES = {".txt", ".text", ".html", ".htm", ".md"}


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def load_settings(*, service: bool = False) -> Settings:
    """Settings from the environment; one-shot commands log only warnings and errors."""
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper() if first["loc"] else "?"
        fail(f"invalid setting REGWATCH_{field}: {first['msg']}")
    level = settings.log_level if service else "WARNING"
    setup_logging(level, settings.log_format)
    return settings


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


@app.command()
def run(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="run only these services (repeat or comma-separate)"),
    ] = None,
) -> None:
    """Run regwatch: all services in one process, on embedded defaults unless settings say."""
    settings = load_settings(service=True)
    chosen = [n.strip() for item in (only or []) for n in item.split(",") if n.strip()]
    for name in chosen:
        if name not in SERVICE_NAMES:
            fail(f"unknown service {name!r}: choose from {', '.join(SERVICE_NAMES)}")
    runtime = Runtime(settings, only=tuple(chosen) or SERVICE_NAMES)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(runtime))


async def _serve(runtime: Runtime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
    except Exception as exc:
        await runtime.stop()
        fail(f"regwatch could not start: {type(exc).__name__}: {exc}")
    info = runtime.describe()
    typer.echo("regwatch is running (Ctrl-C stops it)", err=True)
    for key in ("services", "kafka_bootstrap", "kafka", "database", "http", "smtp", "mail_dir"):
        if info.get(key):
            typer.echo(f"  {key:16} {info[key]}", err=True)
    await stop.wait()
    typer.echo("stopping...", err=True)
    await runtime.stop()


@notices_app.command("parse")
@friendly
def notices_parse(
    path: Path,
    source_url: Annotated[str | None, typer.Option(help="where the notice was published")] = None,
) -> None:
    """Extract a notice offline and print its NoticeEvent (no broker, no database)."""
    notice = parse_notice(read_file(path), name=str(path), source_url=source_url)
    emit(notice.dump())


def expand(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in NOTICE_SUFFIXES
            )
        else:
            yield path


@notices_app.command("ingest")
@friendly
def notices_ingest(
    paths: Annotated[list[Path], typer.Argument(help="notice files or folders of them")],
    source_url: Annotated[str | None, typer.Option(help="where the notice was published")] = None,
) -> None:
    """Parse, store and publish notices (a progress bar shows for many files)."""
    settings = load_settings()
    files = list(expand(paths))
    if not files:
        fail("no notice files found in " + ", ".join(map(str, paths)))
    results: list[dict[str, Any]] = []

    async def work(db: Database) -> None:
        with Progress(transient=True, disable=len(files) < 3 or not sys.stderr.isatty()) as bar:
            task = bar.add_task("ingesting", total=len(files))
            for path in files:
                try:
                    data = read_file(path)
                    saved = await ingest_bytes(db, data, name=str(path), source_url=source_url)
                    results.append(
                        {
                            "path": str(path),
                            "notice_id": saved.notice.notice_id,
                            "outcome": saved.outcome,
                            "entities": len(saved.notice.entities),
                        }
                    )
                except RegwatchError as exc:
                    results.append({"path": str(path), "error": str(exc)})
                bar.advance(task)
        published = await publish_outbox(settings, db)
        results.append({"published": published})

    asyncio.run(with_db(settings, work))
    emit(results)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        fail(f"{len(errors)} of {len(files)} file(s) rejected; first: {errors[0]}")


async def publish_outbox(settings: Settings, db: Database) -> int | str:
    """Publish stored notices now if a broker is known; otherwise the running ingestor will."""
    bootstrap = settings.kafka_bootstrap
    idempotent = settings.kafka_idempotence
    if bootstrap is None:
        running = read_runtime_file(settings.data_dir)
        bootstrap = running.get("kafka_bootstrap") if running else None
        idempotent = False
    if not bootstrap:
        return "deferred: no broker running; `regwatch run` publishes stored notices on start"
    broker = make_broker(settings, bootstrap, idempotent=idempotent)
    try:
        await asyncio.wait_for(broker.connect(), timeout=10)
        return await OutboxRelay(db, broker, settings.topics).publish_pending()
    except Exception as exc:
        return f"deferred: broker {bootstrap} unreachable ({type(exc).__name__}); stored only"
    finally:
        await broker.stop()


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

    emit(asyncio.run(with_db(settings, work)))


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

    emit(asyncio.run(with_db(settings, work)))


@app.command("match")
@friendly
def match(
    watchlist: Annotated[Path, typer.Option(help='JSON list of {"kind", "name"}')],
    notice: Annotated[Path, typer.Option(help="a NoticeEvent JSON or a notice file")],
) -> None:
    """Match a watchlist against one notice offline; prints matches with score and reason."""
    items = load_watchlist(watchlist)
    event = load_notice(notice)
    matches = match_notice(items, event).get("watchlist", [])
    emit([m.model_dump(mode="json") for m in matches])


def load_watchlist(path: Path) -> list[WatchItem]:
    try:
        raw = json.loads(read_file(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not valid JSON ({exc})")
    if not isinstance(raw, list):
        fail(f"{path}: expected a JSON list of {{kind, name}} objects")
    items: list[WatchItem] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("kind") not in ("app", "company"):
            fail(f"{path}: item {index}: needs kind 'app' or 'company'")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            fail(f"{path}: item {index}: needs a non-empty name")
        items.append(WatchItem(subscriber_id="watchlist", kind=item["kind"], name=name.strip()))
    return items


def load_notice(path: Path) -> NoticeEvent:
    data = read_file(path)
    if path.suffix.lower() == ".json":
        try:
            return NoticeEvent.model_validate_json(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "document"
            fail(f"{path}: invalid NoticeEvent: {where}: {first['msg']}")
    return parse_notice(data, name=str(path))


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

    emit(asyncio.run(with_db(settings, work)))


def main() -> None:
    app()
