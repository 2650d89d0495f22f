"""CPU per notice in each stage of the pipeline, without a broker: the ingestor storing a
notice (and queueing its event), the matcher storing and matching it and recording the alert,
the notifier recording the alert's deliveries and reminders. SQLite, one subscriber watching
"Douyin", the pipeline benchmark's notices; process CPU time per item.

    python -m bench.stages [--quick]

Read beside the pipeline benchmark: they say where the CPU of one notice goes, and so how
many notices per second one core can carry.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, save
from bench.pipeline import notice
from services.ingestor.intake import ingest_event
from services.matcher.handler import handle_notice
from services.matcher.store import add_watch
from services.matcher.watchlist import LiveWatchlist
from services.notifier.handler import handle_match
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import MatchEvent, NoticeEvent
from shared.settings import Settings


def per_item_ms(started: float, count: int) -> float:
    return round((time.process_time() - started) / max(count, 1) * 1000, 2)


async def measure(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'stages.db'}")
        await db.migrate()
        try:
            settings = Settings(data_dir=Path(tmp), smtp_host="127.0.0.1")
            notices = [NoticeEvent.model_validate(notice(i, "stages")) for i in range(count)]
            async with db.session() as session:
                subscriber = await register_subscriber(
                    session,
                    name="bench",
                    email=None,
                    webhook_url="http://127.0.0.1:9/hook",
                    reminders="7d,3d,1d",
                    default_reminders="7d,3d,1d",
                    allow_private=True,
                )
                await add_watch(session, subscriber.id, "app", "Douyin")
            watchlist = LiveWatchlist(db)
            await watchlist.load()

            started = time.process_time()
            for event in notices:
                await ingest_event(db, event, name="bench")
            ingest_ms = per_item_ms(started, count)

            started = time.process_time()
            alerts: list[MatchEvent] = []
            for event in notices:
                alerts += await handle_notice(db, watchlist, event)
            match_ms = per_item_ms(started, count)

            received = [  # as the notifier gets them: parsed from the topic
                MatchEvent.model_validate_json(json.dumps(alert.dump())) for alert in alerts
            ]
            started = time.process_time()
            for alert in received:
                await handle_match(db, settings, alert)
            notify_ms = per_item_ms(started, len(received))
        finally:
            await db.dispose()
    return {
        "notices": count,
        "alerts": len(alerts),
        "ingest_store_ms": ingest_ms,
        "match_ms": match_ms,
        "notify_record_ms": notify_ms,
        "sum_ms": round(ingest_ms + match_ms + notify_ms, 2),
    }


def run(quick: bool) -> list[dict[str, Any]]:
    result = {"bench": "stages", **asyncio.run(measure(100 if quick else 500))}
    emit(result)
    save("stages", [result])
    return [result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
