"""CSV import of watch items: ``POST /v1/watches/import`` with N rows, against baselines in the
same run.

    .venv/bin/python -m bench.imports [--quick]

100k rows (``--quick``: 10k) for one new subscriber, on SQLite, through the HTTP route in this
process (httpx's ASGI transport: body read, parse in a worker thread, one transaction). Prints
one JSON line and writes ``bench/results/imports.json``:

- ``rows_per_s``: rows imported per second, request to answer;
- ``ratio_vs_parse``: that over the rate of decoding and parsing the same CSV alone (no
  database): how close the import comes to the parse, its floor;
- ``ratio_vs_per_row``: that over the previous import path (ORM objects, one flush and one
  watchlist event per row, 500 rows per transaction), measured on the first
  ``per_row_rows`` rows (the old path takes minutes for 100k);
- ``outbox_rows`` (watchlist events queued; one per batch of up to 1000 items) and
  ``outbox_rows_per_row_path`` (the old path: one per row, counted on its rows);
- ``max_loop_stall_s``: the longest the event loop went without a turn during the import (what
  ``/healthz`` would have waited at most);
- ``peak_rss_mib``: the process's peak RSS after the import (measured first: the baselines run
  after it), ``rss_growth_mib`` what the import added to the RSS at its start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from bench.common import emit, save
from services.matcher.api import build_router
from services.matcher.csvimport import read_watch_csv
from services.matcher.models import MatcherOutboxRow, WatchRow
from services.matcher.store import WATCHLIST_STREAM, queue_watch_event
from shared.accounts import register_subscriber
from shared.db import Database
from shared.db.base import utcnow
from shared.settings import Settings

PER_ROW_ROWS = 5_000
OLD_CHUNK = 500


def generated_csv(rows: int) -> bytes:
    """Chinese app names with an alias, and English company names: a third each way."""
    lines = ["kind,name,aliases"]
    for i in range(rows):
        lines.append(f"app,应用{i}号,App {i}" if i % 3 else f"company,Company {i} Ltd")
    return ("\n".join(lines) + "\n").encode()


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def new_subscriber(db: Database, name: str) -> str:
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name=name,
            email=f"{name.lower()}@example.com",
            webhook_url=None,
            reminders=None,
            default_reminders="7d",
            allow_private=True,
        )
    return created.id


async def watchlist_events(db: Database, subscriber_id: str) -> int:
    async with db.session() as session:
        found = await session.execute(
            select(func.count()).where(
                MatcherOutboxRow.topic == WATCHLIST_STREAM, MatcherOutboxRow.key == subscriber_id
            )
        )
        return int(found.scalar_one())


async def watch_loop(stop: asyncio.Event, stalls: list[float]) -> None:
    """The longest gaps between turns of the event loop."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        stalls.append(time.perf_counter() - started - 0.005)


async def import_over_http(db: Database, body: bytes, rows: int) -> dict[str, Any]:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(max_watches_per_subscriber=rows)
    app.include_router(build_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=None) as c:
        made = await c.post("/v1/subscribers", json={"name": "Bench", "email": "b@example.com"})
        made.raise_for_status()
        headers = {"authorization": f"Bearer {made.json()['api_key']}", "content-type": "text/csv"}
        stop, stalls = asyncio.Event(), [0.0]
        watcher = asyncio.create_task(watch_loop(stop, stalls))
        rss_before = rss_mib()
        started = time.perf_counter()
        answer = await c.post("/v1/watches/import", content=body, headers=headers)
        seconds = time.perf_counter() - started
        stop.set()
        await watcher
    answer.raise_for_status()
    report = answer.json()
    if report["added"] != rows:
        raise RuntimeError(f"imported {report['added']} of {rows} rows: {report['errors'][:3]}")
    return {
        "seconds": seconds,
        "max_stall": max(stalls),
        "rss_growth": rss_mib() - rss_before,
        "subscriber_id": made.json()["id"],
    }


async def old_per_row_import(db: Database, subscriber_id: str, body: bytes) -> float:
    """The import as it was: per chunk of 500 rows one transaction, an ORM object and an outbox
    row (WatchlistEvent) per row. Returns seconds."""
    parsed = read_watch_csv(body)
    started = time.perf_counter()
    for start in range(0, len(parsed.rows), OLD_CHUNK):
        chunk = parsed.rows[start : start + OLD_CHUNK]
        async with db.session() as session:
            names = sorted({r.watch.name for r in chunk})
            existing = await session.execute(
                select(WatchRow).where(
                    WatchRow.subscriber_id == subscriber_id, WatchRow.name.in_(names)
                )
            )
            known = {(row.kind, row.name) for row in existing.scalars()}
            created = []
            for csv_row in chunk:
                item = csv_row.watch
                if (item.kind, item.name) in known:
                    continue
                row = WatchRow(
                    subscriber_id=subscriber_id,
                    kind=item.kind,
                    name=item.name,
                    aliases=json.dumps(list(item.aliases), ensure_ascii=False),
                    created_at=utcnow(),
                )
                session.add(row)
                created.append(row)
            await session.flush()
            for row in created:
                queue_watch_event(session, "added", row)
            await session.flush()
    return time.perf_counter() - started


def parse_seconds(body: bytes) -> float:
    started = time.perf_counter()
    read_watch_csv(body)
    return time.perf_counter() - started


async def measure(rows: int) -> dict[str, Any]:
    body = generated_csv(rows)
    per_row_rows = min(rows, PER_ROW_ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await db.migrate()
        try:
            bulk = await import_over_http(db, body, rows)
            peak = peak_rss_mib()
            events = await watchlist_events(db, bulk["subscriber_id"])
            old_body = generated_csv(per_row_rows)
            old_subscriber = await new_subscriber(db, "Old")
            old_seconds = await old_per_row_import(db, old_subscriber, old_body)
            old_events = await watchlist_events(db, old_subscriber)
        finally:
            await db.dispose()
    parse_s = min(parse_seconds(body) for _ in range(3))
    rows_per_s = rows / bulk["seconds"]
    parse_rows_per_s = rows / parse_s
    old_rows_per_s = per_row_rows / old_seconds
    return {
        "bench": "imports",
        "rows": rows,
        "csv_bytes": len(body),
        "import_s": round(bulk["seconds"], 2),
        "rows_per_s": round(rows_per_s),
        "parse_rows_per_s": round(parse_rows_per_s),
        "ratio_vs_parse": round(rows_per_s / parse_rows_per_s, 3),
        "per_row_rows": per_row_rows,
        "per_row_rows_per_s": round(old_rows_per_s),
        "ratio_vs_per_row": round(rows_per_s / old_rows_per_s, 1),
        "outbox_rows": events,
        "outbox_rows_per_row_path": old_events,
        "max_loop_stall_s": round(bulk["max_stall"], 3),
        "peak_rss_mib": round(peak, 1),
        "rss_growth_mib": round(bulk["rss_growth"], 1),
        "database": "sqlite",
    }


def run(quick: bool) -> list[dict[str, Any]]:
    result = asyncio.run(measure(10_000 if quick else 100_000))
    emit(result)
    save("imports", [result])
    return [result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k rows instead of 100k")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
