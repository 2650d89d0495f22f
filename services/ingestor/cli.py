"""``regwatch notices ...`` (parse offline, ingest files and folders, list stored notices) and
``regwatch sources ...`` (feed sources: add, list, poll, remove).

Each command imports what it uses: ``regwatch notices parse`` loads extraction and neither the
database nor the broker; ``regwatch notices --help`` loads none of them.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote, urlsplit

import typer

from services.ingestor.page_size import DEFAULT_LIMIT, MAX_LIMIT
from shared.cli import emit, fail, friendly, load_settings, read_file, run_with_db, sub_app
from shared.errors import InputError, RegwatchError

if TYPE_CHECKING:
    from rich.table import Table

    from services.ingestor.listing import NoticeItem, NoticePage
    from shared.db import Database
    from shared.settings import Settings

notices_app = sub_app("Parse, ingest and list regulators' notices.")
sources_app = sub_app("Feed sources (RSS/Atom, HTML list pages) polled for new notices.")

NOTICE_SUFFIXES = frozenset({".txt", ".text", ".md", ".html", ".htm", ".shtml", ".xhtml", ".docx"})
"""Read from folders, with any other extension extraction reads. A file named on the command
line is always tried."""


def extraction_reads(suffix: str) -> bool:
    from services.ingestor.extract.decode import format_from_name

    if suffix in NOTICE_SUFFIXES:
        return True
    try:
        format_from_name("notice" + suffix)
    except InputError:
        return False
    return True


SourceUrl = Annotated[str | None, typer.Option(help="where the notice was published")]
PublishedOn = Annotated[
    str | None,
    typer.Option(
        help="publication date YYYY-MM-DD, overriding the one read from the notice; needed "
        "when the notice gives none (a notice without a date is refused without it)"
    ),
]


Attachments = Annotated[
    list[Path] | None,
    typer.Option(
        "--attachment",
        help="a file the notice links to or shows (its list as .xlsx, .pdf, .docx or a "
        "picture); repeatable. Pictures and attachments an HTML notice links to are also "
        "looked for next to it",
    ),
]


def linked_next_to(path: Path, data: bytes) -> list[tuple[str, Path]]:
    """Files an HTML notice shows or links to (``<img src="list.png">``, ``附件.xlsx``) that
    are next to it (in its folder or below), as (the page's URL for them, the file)."""
    from services.ingestor.extract.links import linked_files

    folder = path.parent.resolve()
    found: list[tuple[str, Path]] = []
    for link in linked_files(data, name=str(path)):
        parts = urlsplit(link.url)
        if parts.scheme or parts.netloc:
            continue  # on a web site: the feed follower fetches those
        relative = unquote(parts.path)
        for candidate in (path.parent / relative.lstrip("/"), path.parent / Path(relative).name):
            try:
                resolved = candidate.resolve()
            except OSError:
                continue
            if resolved.is_relative_to(folder) and resolved.is_file():
                found.append((link.url, resolved))
                break
    return found


def attachments_for(path: Path, data: bytes, given: list[Path] | None) -> list[tuple[str, bytes]]:
    """``--attachment`` files, then the files the notice links to next to it."""
    files = [(str(item), read_input(item)) for item in given or []]
    named = {item.resolve() for item in given or [] if item.exists()}
    for url, linked in linked_next_to(path, data):
        if linked not in named:
            named.add(linked)
            files.append((url, linked.read_bytes()))
    return files


def published_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"--published-on: {value!r} is not a date (YYYY-MM-DD)")


@notices_app.command("parse")
@friendly
def notices_parse(
    path: Path,
    source_url: SourceUrl = None,
    published_on: PublishedOn = None,
    attachment: Attachments = None,
) -> None:
    """Extract a notice offline and print its NoticeEvent (no broker, no database)."""
    from services.ingestor import extraction

    extraction.configure(load_settings())  # the reading limits
    day = published_date(published_on)
    data = read_file(path)
    files = attachments_for(path, data, attachment)
    # in this process, under the time limit: what intake.parse does, without loading the store
    job = extraction.job(
        data, name=str(path), source_url=source_url, published_on=day, attachments=files
    )
    emit(extraction.read_here(job).dump())


@dataclass(frozen=True)
class Input:
    path: Path
    skipped: str | None = None
    """Why a file found in a folder is not read."""
    attachments: list[Path] = field(default_factory=list)


def folder_skip_reason(path: Path) -> str | None:
    """None for a file in a folder that is read as a notice, else why it is not."""
    from services.ingestor.extract.formats import BY_NAME

    suffix = path.suffix.lower()
    if suffix == ".json":
        return "a .json file is read (as a NoticeEvent) only when named on its own"
    if not suffix:
        return "no file extension (name the file on its own to read it anyway)"
    if suffix in BY_NAME["image"].suffixes:
        return "a picture is read with the page that shows it (or when named on its own)"
    if extraction_reads(suffix):
        return None
    shown = ", ".join(sorted(NOTICE_SUFFIXES))
    return f"unsupported file type '{suffix}' (read from folders: {shown})"


def expand(paths: list[Path]) -> Iterator[Input]:
    """Files as named, and the files in folders (hidden ones left out), in order."""
    for path in paths:
        if not path.is_dir():
            yield Input(path)
            continue
        inputs: list[Input] = []
        for found in sorted(path.rglob("*")):
            relative = found.relative_to(path)
            if not found.is_file() or any(part.startswith(".") for part in relative.parts):
                continue
            inputs.append(Input(found, folder_skip_reason(found)))
        # A file a page of the folder links to is read with that page, not on its own.
        read_with: dict[Path, Path] = {}
        for item in inputs:
            if item.skipped is None and item.path.suffix.lower() in NOTICE_SUFFIXES:
                for _url, linked in linked_next_to(item.path, item.path.read_bytes()):
                    read_with.setdefault(linked, item.path)
        for item in inputs:
            page = read_with.get(item.path.resolve())
            if page is not None and page != item.path:
                yield Input(item.path, f"read with {page}, which links to it")
            else:
                yield item


def read_input(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a notice file")
    return path.read_bytes()


async def ingest_path(
    db: Database,
    path: Path,
    source_url: str | None,
    published_on: date | None = None,
    attachments: list[Path] | None = None,
) -> dict[str, Any]:
    import asyncio

    from services.ingestor.intake import ingest_bytes, ingest_json

    data = await asyncio.to_thread(read_input, path)
    if path.suffix.lower() == ".json":
        saved = await ingest_json(db, data, name=str(path))
    else:
        files = await asyncio.to_thread(attachments_for, path, data, attachments)
        saved = await ingest_bytes(
            db,
            data,
            name=str(path),
            source_url=source_url,
            published_on=published_on,
            attachments=files,
        )
    result: dict[str, Any] = {
        "path": str(path),
        "notice_id": saved.notice.notice_id,
        "outcome": saved.outcome,
        "entities": len(saved.notice.entities),
    }
    if saved.relinked:
        result["relinked"] = list(saved.relinked)
    return result


@notices_app.command("ingest")
@friendly
def notices_ingest(
    paths: Annotated[list[Path], typer.Argument(help="notice files or folders of them")],
    source_url: SourceUrl = None,
    published_on: PublishedOn = None,
    attachment: Attachments = None,
) -> None:
    """Parse, store and publish notices (a progress bar shows for many files).

    Folders are read recursively (.txt .text .md .html .htm .shtml .xhtml .docx and what else
    extraction reads); other files are listed as skipped. A .json file named on its own is
    read as a NoticeEvent.
    """
    from rich.progress import Progress

    from services.ingestor import extraction

    settings = load_settings()
    extraction.configure(settings)  # notices are read in worker processes, within the limits
    day = published_date(published_on)
    inputs = list(expand(paths))
    files = [i.path for i in inputs if i.skipped is None]
    results: list[dict[str, Any]] = [
        {"path": str(i.path), "skipped": i.skipped} for i in inputs if i.skipped is not None
    ]
    if not files:
        if results:
            emit(results)
        fail("no notice files found in " + ", ".join(map(str, paths)))
    if attachment and len(files) > 1:
        fail("--attachment goes with one notice file; name the notice on its own")

    async def work(db: Database) -> None:
        with Progress(transient=True, disable=len(files) < 3 or not sys.stderr.isatty()) as bar:
            task = bar.add_task("ingesting", total=len(files))
            for path in files:
                try:
                    results.append(await ingest_path(db, path, source_url, day, attachment))
                except (RegwatchError, OSError) as exc:
                    message = str(exc)
                    if isinstance(exc, OSError):
                        message = f"{path}: {exc.strerror or exc}"
                    results.append({"path": str(path), "error": message})
                bar.advance(task)
        published = await publish_outbox(settings, db)
        results.append({"published": published})

    run_with_db(settings, work)
    emit(results)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        fail(f"{len(errors)} of {len(files)} file(s) rejected; first: {errors[0]}")


async def publish_outbox(settings: Settings, db: Database) -> int | str:
    """Publish stored notices now to the broker in settings; otherwise the running ingestor
    will (on the embedded broker only its relay publishes: it keeps each event until the
    matcher has it, which a CLI process that exits at once cannot)."""
    import asyncio

    from services.ingestor.relay import OutboxRelay
    from shared.broker import make_broker
    from shared.runtime_file import read_runtime_file

    bootstrap = settings.kafka_bootstrap
    if bootstrap is None:
        running = read_runtime_file(settings.data_dir)
        if running and running.get("kafka_bootstrap"):
            return "deferred: the running regwatch publishes stored notices within a second"
        return "deferred: no broker running; `regwatch run` publishes stored notices on start"
    broker = make_broker(
        settings, bootstrap, idempotent=settings.kafka_idempotence, service="ingestor-cli"
    )
    try:
        await asyncio.wait_for(broker.connect(), timeout=10)
        return await OutboxRelay(db, broker, settings.topics).publish_pending()
    except Exception as exc:
        return f"deferred: broker {bootstrap} unreachable ({type(exc).__name__}); stored only"
    finally:
        await broker.stop()


LIST_FLAGS = {"q": "-q/--query"}
"""The flag of a listing parameter, where it is not ``--<parameter>``."""
SHOWN_NAMES = 3
"""Entity names a row of ``notices list`` shows before "+N"."""


@notices_app.command("list")
@friendly
def notices_list(
    regulator: Annotated[
        str | None,
        typer.Option(help="a regulator code, any case (CAC, MIIT, CAC-HAINAN); CAC* for a prefix"),
    ] = None,
    since: Annotated[str | None, typer.Option(help="published on or after (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="published on or before (YYYY-MM-DD)")] = None,
    app: Annotated[
        str | None,
        typer.Option(help="an app or company the notice names (抖音 also as Douyin), or its title"),
    ] = None,
    query: Annotated[
        str | None, typer.Option("-q", "--query", help="words the title contains, all of them")
    ] = None,
    limit: Annotated[int, typer.Option(help=f"notices to show, at most {MAX_LIMIT}")] = (
        DEFAULT_LIMIT
    ),
    cursor: Annotated[
        str | None, typer.Option(help="the next page: the cursor the page before printed")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="one JSON object per notice and line, not a table")
    ] = False,
) -> None:
    """Stored notices, newest first, as a table (or JSON lines with --json).

    Reads the database in settings directly; no running regwatch is needed.

    When more notices match than --limit, stderr names the --cursor of the next page.
    """
    from rich.console import Console

    from services.ingestor.listing import (
        BadParameter,
        check_limit,
        decode_cursor,
        list_notices,
        notice_filter,
    )

    settings = load_settings()
    try:
        where = notice_filter(regulator=regulator, since=since, until=until, app=app, q=query)
        check_limit(limit)
        if cursor:
            decode_cursor(cursor)
    except BadParameter as exc:
        fail(f"{LIST_FLAGS.get(exc.parameter, '--' + exc.parameter)}: {exc.problem}")

    async def work(db: Database) -> NoticePage:
        async with db.read_session() as session:
            return await list_notices(session, where, limit=limit, cursor=cursor)

    page = run_with_db(settings, work)
    if as_json:
        for item in page.items:
            typer.echo(json.dumps(item.model_dump(mode="json"), ensure_ascii=False))
    else:
        Console(soft_wrap=False).print(notices_table(page.items))
    if page.next_cursor is not None:
        typer.echo(f"more: the next page is --cursor {page.next_cursor}", err=True)


def notices_table(items: list[NoticeItem]) -> Table | str:
    """A row per notice: date (``~`` when estimated), regulator, id, deadline, and the title
    over the apps it names."""
    from rich.table import Table
    from rich.text import Text

    if not items:
        return "no stored notices match"
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("published", "regulator", "notice", "due", "title / apps"):
        table.add_column(column, overflow="fold")  # folded, never cut: nothing is lost
    for item in items:
        names = [entity.name for entity in item.entities[:SHOWN_NAMES]]
        if item.entity_count > SHOWN_NAMES:
            names.append(f"+{item.entity_count - SHOWN_NAMES}")
        about = Text(item.title)
        about.append(f"\n{item.entity_count} named: {', '.join(names) or '-'}", style="dim")
        table.add_row(  # Text, not str: [brackets] in what a notice says are not rich markup
            Text(item.published_on.isoformat() + ("~" if item.published_on_estimated else "")),
            Text(item.regulator.code),
            Text(item.notice_id),
            Text(item.deadline.due_on.isoformat() if item.deadline else ""),
            about,
        )
    return table


# --- sources ---------------------------------------------------------------------------------


SCHEDULE_HELP = (
    "when to poll, e.g. 'every 10m' or 'every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else"
    " every 2h' (or 'else never'); default REGWATCH_FEED_SCHEDULE"
)


@sources_app.command("add")
@friendly
def sources_add(
    url: Annotated[str, typer.Argument(help="an RSS/Atom feed or an HTML list page")],
    kind: Annotated[
        str, typer.Option(help="rss, atom, html, or auto (judged on each poll)")
    ] = "auto",
    schedule: Annotated[str | None, typer.Option(help=SCHEDULE_HELP)] = None,
    interval: Annotated[
        str | None,
        typer.Option(help="time between polls, e.g. 15m: short for --schedule 'every 15m'"),
    ] = None,
    name: Annotated[str | None, typer.Option(help="a label; default the URL")] = None,
) -> None:
    """Add a feed source; it is polled by the running ingestor (or `regwatch sources poll`)."""
    from services.ingestor.feeds import KINDS, add_source, describe
    from services.ingestor.feeds.sources import check_schedule
    from shared.durations import format_duration, parse_duration

    settings = load_settings()
    if kind not in KINDS:
        fail(f"--kind {kind!r}: choose from {', '.join(KINDS)}")
    if interval is not None and schedule is not None:
        fail("give --schedule or --interval, not both")
    if interval is not None:
        try:
            every = parse_duration(interval)
        except ValueError as exc:
            fail(f"--interval: {exc}")
        schedule = check_schedule(f"every {format_duration(every)}", "--interval")
    elif schedule is not None:
        schedule = check_schedule(schedule, "--schedule")

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            row = await add_source(
                session,
                url,
                kind=kind,
                schedule=schedule,
                name=name,
                default=settings.default_poll_schedule,
            )
            return describe(row, settings.default_poll_schedule)

    emit(run_with_db(settings, work))


@sources_app.command("schedule")
@friendly
def sources_schedule(
    source_id: Annotated[int, typer.Argument(help="the source")],
    schedule: Annotated[
        str, typer.Argument(help=SCHEDULE_HELP.replace("; default", "; 'default':"))
    ],
) -> None:
    """Set when a source is polled; 'default' gives it the server's schedule again."""
    from services.ingestor.feeds import describe, set_schedule
    from services.ingestor.feeds.sources import check_schedule

    settings = load_settings()
    text = None
    if schedule.strip().lower() != "default":
        text = check_schedule(schedule, "schedule")

    async def work(db: Database) -> dict[str, Any]:
        async with db.session() as session:
            row = await set_schedule(session, source_id, text, settings.default_poll_schedule)
            return describe(row, settings.default_poll_schedule)

    emit(run_with_db(settings, work))


@sources_app.command("list")
@friendly
def sources_list() -> None:
    """Sources with their schedule, next poll, last poll, status, error, backoff and the items
    seen in them."""
    from services.ingestor.feeds import all_sources, describe, item_counts

    settings = load_settings()

    async def work(db: Database) -> list[dict[str, Any]]:
        async with db.session() as session:
            counts = await item_counts(session)
            return [
                describe(row, settings.default_poll_schedule, counts.get(row.id))
                for row in await all_sources(session)
            ]

    emit(run_with_db(settings, work))


@sources_app.command("poll")
@friendly
def sources_poll(
    source_id: Annotated[int | None, typer.Argument(help="the source to poll")] = None,
    all_sources_: Annotated[
        bool, typer.Option("--all", help="poll every enabled source now")
    ] = False,
) -> None:
    """Poll now: one source, --all, or (with neither) the sources that are due.

    Prints per source what was ingested and what failed, then publishes like `notices ingest`.
    """
    from services.ingestor import extraction
    from services.ingestor.feeds import FeedPoller, Fetcher

    settings = load_settings()
    extraction.configure(settings)
    # what failed is in the JSON printed; keep stderr to the one-line error
    logging.getLogger("regwatch.ingestor.feeds").setLevel(logging.ERROR)
    if source_id is not None and all_sources_:
        fail("give a source ID or --all, not both")

    async def work(db: Database) -> list[dict[str, Any]]:
        async with Fetcher.from_settings(settings) as fetcher:
            poller = FeedPoller(db, fetcher, default_schedule=settings.default_poll_schedule)
            if source_id is not None:
                polled = [await poller.poll(source_id)]
            elif all_sources_:
                polled = await poller.poll_all()
            else:
                polled = await poller.poll_due()
        out: list[dict[str, Any]] = [result.dump() for result in polled]
        out.append({"published": await publish_outbox(settings, db)})
        return out

    results = run_with_db(settings, work)
    emit(results)
    failed = [r for r in results if r.get("status") == "error"]
    if failed:
        fail(f"{len(failed)} source(s) failed; first: {failed[0]['error']}")


@sources_app.command("remove")
@friendly
def sources_remove(source_id: Annotated[int, typer.Argument(help="the source")]) -> None:
    """Remove a source and its record of seen items (stored notices stay)."""
    from services.ingestor.feeds import remove_source

    settings = load_settings()

    async def work(db: Database) -> None:
        async with db.session() as session:
            await remove_source(session, source_id)

    run_with_db(settings, work)
    emit({"removed": source_id})
