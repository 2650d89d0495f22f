"""Matcher start-up with many watch items: time and peak RSS of ``LiveWatchlist.load()`` (the
watch index built from the database) with N watch items in SQLite, against the load path it
replaced (ORM rows in keyset pages, one ``WatchItem`` each, added to the index on the event
loop), measured in the same run.

    python -m bench.matcher_start [--quick]

N is 1M (``--quick``: 100k), from one subscriber per ten items, drawn as in the matcher
benchmark (:class:`bench.matcher.Population`: Zipf-popular directory names and spellings, a
long tail, 2% with aliases). Each load runs in a fresh process (cold caches, its own peak
RSS); both loads must give the same index. Goal: 1M items under 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import emit, save
from bench.matcher import Population
from services.matcher.matching import WatchIndex, WatchItem
from services.matcher.models import WatchRow
from services.matcher.store import outbox_high_water, to_item
from services.matcher.watchlist import FREEZE_ABOVE, LiveWatchlist
from shared.accounts import Subscriber
from shared.db import Database

GOAL_S = 20.0
"""Start-up with 1M watch items under 20 s (issue 15)."""


async def fill(db: Database, count: int) -> None:
    items = Population(count).items
    now = datetime.now(UTC)
    subs = sorted({item.subscriber_id for item in items})
    batch = 20_000
    async with db.session() as session:
        for start in range(0, len(subs), batch):
            await session.execute(
                insert(Subscriber),
                [
                    {"id": sub, "name": sub, "api_key_hash": f"bench:{sub}", "created_at": now}
                    for sub in subs[start : start + batch]
                ],
            )
    for start in range(0, len(items), batch):
        async with db.session() as session:
            await session.execute(
                insert(WatchRow),
                [
                    {
                        "id": item.id + 1 if item.id is not None else None,
                        "subscriber_id": item.subscriber_id,
                        "kind": item.kind,
                        "name": item.name,
                        "aliases": json.dumps(list(item.aliases), ensure_ascii=False),
                        "created_at": now,
                    }
                    for item in items[start : start + batch]
                ],
            )


# --- the previous load path, kept here as the baseline -------------------------------------


async def _previous_pages(
    session: AsyncSession, page: int = 10_000
) -> AsyncIterator[list[WatchItem]]:
    last = 0
    while True:
        result = await session.execute(
            select(WatchRow).where(WatchRow.id > last).order_by(WatchRow.id).limit(page)
        )
        rows = list(result.scalars())
        if not rows:
            return
        last = rows[-1].id
        yield [to_item(row) for row in rows]


async def previous_load(db: Database) -> WatchIndex:
    """``LiveWatchlist.load()`` as it was: ORM pages, a ``WatchItem`` per row through
    ``add_many``, and a copy of every subscriber's items beside the index (the index could not
    list them then)."""
    async with db.read_session() as session:
        await outbox_high_water(session)
    index = WatchIndex()
    copy: dict[str, set[WatchItem]] = {}
    async with db.read_session() as session:
        async for page in _previous_pages(session):
            index.add_many(page)
            for item in page:
                copy.setdefault(item.subscriber_id, set()).add(item)
            await asyncio.sleep(0)
    if len(index) >= FREEZE_ABOVE:
        gc.collect()
        gc.freeze()
    _KEEP.append(copy)
    return index


_KEEP: list[object] = []
"""The previous path's copy, held as the watchlist held it (for the peak RSS)."""


# --- one load, in its own process ----------------------------------------------------------


async def load_once(url: str, path: str) -> dict[str, Any]:
    db = Database(url)
    try:
        started = time.perf_counter()
        if path == "previous":
            index = await previous_load(db)
        else:
            watchlist = LiveWatchlist(db)
            await watchlist.load()
            index = watchlist.index
        seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    items = sorted(
        (item.id or 0, item.subscriber_id, item.kind, item.name, item.aliases) for item in index
    )
    return {
        "seconds": seconds,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "items": len(index),
        "distinct": index.distinct_watches,
        "digest": hash(tuple(items)),
    }


def child(url: str, path: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.matcher_start", "--load", path, url],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONHASHSEED": "0", **_env()},
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "load failed")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}


async def prepare(path: Path, count: int) -> float:
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    try:
        await db.migrate()
        started = time.perf_counter()
        await fill(db, count)
        return time.perf_counter() - started
    finally:
        await db.dispose()


def measure(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "watch.db"
        fill_s = asyncio.run(prepare(path, count))
        url = f"sqlite+aiosqlite:///{path}"
        previous = child(url, "previous")
        current = child(url, "current")
    same = (previous["items"], previous["digest"]) == (current["items"], current["digest"])
    return {
        "bench": "matcher_start",
        "watch_items": count,
        "distinct_watches": current["distinct"],
        "startup_s": round(current["seconds"], 2),
        "startup_s_previous": round(previous["seconds"], 2),
        "ratio_vs_previous": round(previous["seconds"] / current["seconds"], 2),
        "peak_rss_mib": round(current["rss_mib"], 1),
        "peak_rss_mib_previous": round(previous["rss_mib"], 1),
        "same_index": same and current["items"] == count,
        "goal": f"1M under {GOAL_S:.0f} s",
        "goal_met": count >= 1_000_000 and current["seconds"] < GOAL_S,
        "fill_s": round(fill_s, 1),
        "database": "sqlite",
    }


def run(quick: bool) -> list[dict[str, Any]]:
    result = measure(100_000 if quick else 1_000_000)
    emit(result)
    save("matcher_start", [result])
    return [result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--load", choices=("previous", "current"), help=argparse.SUPPRESS)
    parser.add_argument("url", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(load_once(args.url, args.load))))
        return
    run(args.quick)


if __name__ == "__main__":
    main()
