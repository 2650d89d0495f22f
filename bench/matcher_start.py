"""Matcher start-up with many watch items: time, CPU and peak RSS of ``LiveWatchlist.load()``
(the watch index built from the database) with N watch items in SQLite, against the load path
of 2026-12-02's first change (ORM rows in keyset pages, one ``WatchItem`` each, added to the
index on the event loop), measured in the same run.

    python -m bench.matcher_start [--quick]

N is 1M (``--quick``: 100k), from one subscriber per ten items, drawn as in the matcher
benchmark (:class:`bench.matcher.Population`: Zipf-popular directory names and spellings, a
long tail, 2% with aliases). The rows are inserted without stored forms (as after an upgrade
to a release that prepares names differently). Then, each in a fresh process (cold caches,
its own peak RSS): the previous path; today's load with no form stored (every distinct watch
prepared), which then stores the forms as the running matcher does in the background; and
today's load again, reading them: the start-up of every later start. All loads must give the
same index. Goal: 1M items under 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


def _peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM where Linux gives it (``ru_maxrss`` keeps the peak of
    the parent at fork across the exec, here the bench's process holding the whole
    population), else ``ru_maxrss``."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread: the driver's too
    return usage.ru_utime + usage.ru_stime


async def load_once(url: str, path: str) -> dict[str, Any]:
    db = Database(url)
    store_s = 0.0
    try:
        started, cpu = time.perf_counter(), _cpu()
        if path == "previous":
            index = await previous_load(db)
        else:
            watchlist = LiveWatchlist(db)
            await watchlist.load()
            index = watchlist.index
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        rss = _peak_rss_mib()
        prepared = sum(1 for slot in index._slots if slot is not None and slot._spec is not None)
        if path == "current":
            # what the running matcher's background step does after a start
            begun = time.perf_counter()
            await watchlist.store_forms()
            store_s = time.perf_counter() - begun
    finally:
        await db.dispose()
    items = sorted(
        (item.id or 0, item.subscriber_id, item.kind, item.name, item.aliases) for item in index
    )
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "rss_mib": rss,
        "items": len(index),
        "distinct": index.distinct_watches,
        "prepared": prepared,
        "store_s": store_s,
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
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "watch.db"
        fill_s = asyncio.run(prepare(path, count))
        url = f"sqlite+aiosqlite:///{path}"
        previous = child(url, "previous")
        unprepared = child(url, "current")  # no stored form yet; stores them after
        current = child(url, "current")  # reads them
    results = (previous, unprepared, current)
    same = len({(r["items"], r["digest"]) for r in results}) == 1
    return {
        "bench": "matcher_start",
        "watch_items": count,
        "distinct_watches": current["distinct"],
        "startup_s": round(current["seconds"], 2),
        "cpu_s": round(current["cpu_s"], 2),
        "prepared_at_start": current["prepared"],
        "startup_s_unprepared": round(unprepared["seconds"], 2),
        "cpu_s_unprepared": round(unprepared["cpu_s"], 2),
        "forms_store_s": round(unprepared["store_s"], 2),
        "startup_s_previous": round(previous["seconds"], 2),
        "cpu_s_previous": round(previous["cpu_s"], 2),
        "ratio_vs_previous": round(previous["seconds"] / current["seconds"], 2),
        "ratio_vs_previous_unprepared": round(previous["seconds"] / unprepared["seconds"], 2),
        "peak_rss_mib": round(current["rss_mib"], 1),
        "peak_rss_mib_unprepared": round(unprepared["rss_mib"], 1),
        "peak_rss_mib_previous": round(previous["rss_mib"], 1),
        "same_index": same and current["items"] == count,
        "goal": f"1M under {GOAL_S:.0f} s",
        "goal_met": count >= 1_000_000 and current["seconds"] < GOAL_S,
        "fill_s": round(fill_s, 1),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
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
