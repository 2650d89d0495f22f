"""``regwatch notices ...``: parse offline, ingest files and folders."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from services.ingestor.extract import parse_notice
from services.ingestor.intake import ingest_bytes
from services.ingestor.relay import OutboxRelay
from shared.broker import make_broker
from shared.cli import emit, fail, friendly, load_settings, read_file, run_with_db, sub_app
from shared.db import Database
from shared.errors import RegwatchError
from shared.runtime_file import read_runtime_file
from shared.settings import Settings

notices_app = sub_app("Parse and ingest regulators' notices.")

NOTICE_SUFFIXES = {".txt", ".text", ".html", ".htm", ".md"}


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

    run_with_db(settings, work)
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
