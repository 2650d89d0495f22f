"""The ingestor's feed schedule: an APScheduler job that polls the sources that are due.

One sweep job every ``tick`` seconds polls each enabled source whose ``next_poll_at`` has come
and that is not backing off; after a poll the poller sets the next one from the source's
schedule (``regwatch sources add --schedule``, else ``REGWATCH_FEED_SCHEDULE``, else every
``REGWATCH_FEED_INTERVAL``; see ``shared/poll_schedule.py``). Sources added or rescheduled by
the CLI or the API while the service runs are picked up by the next sweep.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from services.ingestor.feeds.poller import FeedPoller
from shared.logging import get_logger

log = get_logger("regwatch.ingestor.feeds")

MAX_TICK = 30.0


class FeedScheduler:
    def __init__(self, poller: FeedPoller, tick: float = MAX_TICK) -> None:
        self.poller = poller
        self.tick = tick
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: asyncio.Task[object] | None = None

    async def sweep(self) -> None:
        """One run of the job: poll the due sources (stopped cleanly by :meth:`stop`)."""
        self._running = asyncio.create_task(self.poller.poll_due(), name="feed-sweep")
        try:
            await self._running
        except asyncio.CancelledError:
            if self._running.cancelled():  # stopped: end quietly
                return
            raise
        except Exception:
            log.exception("feed sweep failed; next sweep in %.0fs", self.tick)
        finally:
            self._running = None

    def start(self) -> None:
        self.scheduler.add_job(
            self.sweep,
            IntervalTrigger(seconds=self.tick, timezone=UTC),
            id="feed-sweep",
            name="poll due feed sources",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        task = self._running
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})  # a cancel of stop() itself propagates
