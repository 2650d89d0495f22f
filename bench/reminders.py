"""Reminder start-up with many pending reminders: time and memory for the notifier's reminder
scheduler to start and run its first sweep with N pending rows, against the same with none.

    python -m bench.reminders [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import emit, save
from services.notifier.models import ReminderRow
from services.notifier.scheduler import ReminderScheduler
from shared.db import Database

PAYLOAD = json.dumps({"notice": {"notice_id": "n"}, "matches": []})


async def fill(db: Database, count: int) -> None:
    now = datetime.now(UTC)
    batch = 20_000
    for start in range(0, count, batch):
        rows = [
            {
                "subscriber_id": f"sub_{i % 100_000}",
                "notice_id": f"notice-{i // 100_000}",
                "offset": f"{1 + i % 7}d",
                "due_on": date(2099, 1, 1),
                "fire_at": now + timedelta(days=30, seconds=i),
                "status": "scheduled",
                "payload": PAYLOAD,
                "created_at": now,
            }
            for i in range(start, min(count, start + batch))
        ]
        async with db.session() as session:
            await session.execute(insert(ReminderRow), rows)


async def start_once(url: str) -> tuple[float, float]:
    """Seconds and traced MiB to open and migrate the database and run the scheduler's first
    sweep (the start-up work; the sweep job itself is scheduled in constant time)."""
    tracemalloc.start()
    started = time.perf_counter()
    db = Database(url)
    await db.migrate()
    scheduler = ReminderScheduler(db, interval=3600)
    await scheduler.fire_due()  # what start-up runs first: the sweep of due reminders
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await db.dispose()
    return seconds, peak / 2**20


async def measure(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        empty = f"sqlite+aiosqlite:///{Path(tmp) / 'empty.db'}"
        full = f"sqlite+aiosqlite:///{Path(tmp) / 'full.db'}"
        for url in (empty, full):
            db = Database(url)
            await db.migrate()
            if url == full:
                filled = time.perf_counter()
                await fill(db, count)
                fill_s = time.perf_counter() - filled
            await db.dispose()
        base_s, base_mb = await start_once(empty)
        full_s, full_mb = await start_once(full)
    return {
        "bench": "reminders",
        "pending_reminders": count,
        "startup_s": round(full_s, 3),
        "startup_s_empty": round(base_s, 3),
        "ratio_vs_empty": round(full_s / base_s, 2),
        "peak_mib": round(full_mb, 1),
        "peak_mib_empty": round(base_mb, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fill_s": round(fill_s, 1),
        "database": "sqlite",
    }


def run(quick: bool) -> list[dict[str, Any]]:
    result = asyncio.run(measure(100_000 if quick else 1_000_000))
    emit(result)
    save("reminders", [result])
    return [result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
