"""The running matcher's watchlist: an in-memory ``WatchIndex`` kept in step with the database.

- At start the index is built from the database; the outbox's newest id at that moment is
  remembered (read *before* the items, so nothing committed meanwhile is missed). The rows are
  read in one streaming select of plain tuples and added in bulk
  (:meth:`~services.matcher.matching.WatchIndex.add_rows`), in slices with the event loop
  free in between. Each distinct watch comes with its stored form (``matcher_watch_forms``:
  the keys it is filed under) when one of the current ``form_version`` is stored, and is then
  prepared only when a notice first makes it a candidate; the others are prepared at once.
- The forms of the watches this process prepared (at start or since: new watches) are stored
  by the background step, a slice at a time; so are stale forms (another version) and those
  of watches nobody has any more deleted, once after each start. A form is a cache of what
  preparing the watch gives, so a missing one costs time, never a match.
- Every instance reads ``regwatch.watchlist.v1`` from its end without a consumer group (each
  instance sees every partition; nothing to clean up when it goes away). An event marks its
  subscriber *dirty*; a background step rebuilds each dirty subscriber's items from the
  database. Rebuilding from the database rather than applying the event makes the order of
  events, duplicates and replays harmless: the index always ends at the committed state.
- Before each notice is matched, :meth:`LiveWatchlist.catch_up` reads the outbox rows written
  since the last look, so a change committed before the notice was stored is always in the
  index when it is matched, even if its event has not arrived yet (or the consumer joined
  after it was published). The same step also runs every few seconds.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterable
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from services.matcher.matching import WatchIndex, WatchItem
from services.matcher.matching.features import form_version
from services.matcher.matching.index import WatchKey
from services.matcher.store import (
    drop_forms,
    outbox_high_water,
    save_forms,
    stored_forms,
    stream_watch_rows,
    watch_items_of,
    watchlist_changes_since,
)
from shared.db import Database
from shared.events import Match, NoticeEvent, WatchlistEvent
from shared.logging import get_logger
from shared.topics import Topics
from shared.wakeloop import WakeLoop

log = get_logger("regwatch.matcher.watchlist")

_ITEMS_OF = "items_of"


APPLY_SLICE = 100
"""Watch items added to the index per step of a refresh."""

LOAD_SLICE = 500
"""Rows added to the index per step of the start-up load (a slice of names new to the process
costs up to about 0.1 s to prepare; the broker's consumers and other tasks run in between)."""

FREEZE_ABOVE = 50_000
"""Watch items from which a loaded index is moved out of the garbage collector's generations."""

FORM_SLICE = 500
"""Forms of newly prepared watches stored per unit of work (a few ms each)."""


class LiveWatchlist:
    def __init__(self, db: Database, interval: float = 5.0) -> None:
        self.db = db
        self.index = WatchIndex()
        # Which items each subscriber has in the index, to diff against the database. An index
        # that can list a subscriber's items itself (``items_of``) saves this copy, which costs
        # about half as much memory again as the index (33 MB per 100k items, measured).
        self._copy: dict[str, set[WatchItem]] | None = (
            None if callable(getattr(WatchIndex, _ITEMS_OF, None)) else {}
        )
        self._applied = 0
        self._dirty: set[str] = set()
        self._unused_forms: list[WatchKey] | None = None
        """Stored forms the last load found no watch for (deleted by :meth:`store_forms`)."""
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self.loop = WakeLoop("watchlist-refresh", self.refresh_step, interval)

    # --- state -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.index)

    def items_of(self, subscriber_id: str) -> set[WatchItem]:
        if self._copy is None:
            items_of: Callable[[str], Iterable[WatchItem]] = getattr(self.index, _ITEMS_OF)
            return set(items_of(subscriber_id))
        return set(self._copy.get(subscriber_id, ()))

    @property
    def applied_outbox_id(self) -> int:
        return self._applied

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def _set(self, subscriber_id: str, items: Iterable[WatchItem]) -> int:
        """Make the subscriber's indexed items exactly ``items``; returns how many changed.
        Many changes (a CSV import) are applied in one step per slice of APPLY_SLICE items,
        the event loop free in between (preparing a new watch costs up to a fraction of a
        millisecond); the caller holds the lock."""
        new = set(items)
        old = self.items_of(subscriber_id)
        gone = old - new
        self.index.remove_many(gone)
        added = sorted(new - old, key=lambda i: i.id or 0)
        for start in range(0, len(added), APPLY_SLICE):
            if start:
                await asyncio.sleep(0)
            self.index.add_many(added[start : start + APPLY_SLICE])
        if self._copy is not None:
            if new:
                self._copy[subscriber_id] = new
            else:
                self._copy.pop(subscriber_id, None)
        return len(gone) + len(added)

    # --- loading and refreshing ----------------------------------------------------------------

    async def load(self) -> int:
        """Build the index from the database; returns the number of watch items.

        The garbage collector is off meanwhile: the load makes millions of objects that all
        live on, and each of its collections would walk them all again (a third of the load's
        CPU at 1M items, measured); what a load of ``FREEZE_ABOVE`` items or more leaves is
        collected once at the end, before the index is frozen."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            async with self._lock:
                async with self.db.read_session() as session:
                    high_water = await outbox_high_water(session)
                async with self.db.read_session() as session:
                    forms = await stored_forms(session, form_version())
                index = WatchIndex()
                copy: dict[str, set[WatchItem]] | None = None if self._copy is None else {}
                async with self.db.read_session() as session:
                    async for rows in stream_watch_rows(session):
                        for start in range(0, len(rows), LOAD_SLICE):
                            await asyncio.sleep(0)
                            index.add_rows(rows[start : start + LOAD_SLICE], forms)
                        if copy is not None:
                            for ident, subscriber_id, kind, name, aliases in rows:
                                item = WatchItem(subscriber_id, kind, name, ident, aliases)  # type: ignore[arg-type]
                                copy.setdefault(subscriber_id, set()).add(item)
                self.index, self._copy, self._applied = index, copy, high_water
                watches = index.watches()
                self._unused_forms = [key for key in forms if key not in watches]
                del forms
        finally:
            if collecting:
                gc.enable()
        if len(index) >= FREEZE_ABOVE:
            # a loaded index is millions of long-lived objects: out of the collector's way,
            # or every full collection walks them all (pauses of seconds at 1M items); what
            # the load left is collected first. A small index is left to the collector (a
            # full collection at start is 0.1 s of CPU on an empty database)
            gc.collect()
            gc.freeze()
        self._ready.set()
        log.info(
            "watchlist loaded",
            extra={
                "watch_items": len(index),
                "distinct_watches": index.distinct_watches,
                "outbox_id": high_water,
            },
        )
        self.loop.kick()  # store the forms of what was prepared
        return len(index)

    async def store_forms(self) -> int:
        """Store the forms of the watches the index prepared since the last call, a slice per
        unit of work (after a load, first delete the stale and unused ones); returns how many
        were stored. Forms taken from the index are not offered again: if writing fails, the
        next start prepares those watches again."""
        version = form_version()
        unused, self._unused_forms = self._unused_forms, None
        if unused is not None:
            async with self.db.session() as session:
                dropped = await drop_forms(session, version, unused)
            if dropped:
                log.info("stale watch forms deleted", extra={"forms": dropped})
        stored = 0
        while forms := self.index.take_forms(FORM_SLICE):
            async with self.db.session() as session:
                await save_forms(session, version, forms)
            stored += len(forms)
            await asyncio.sleep(0)
        if stored:
            log.info("watch forms stored", extra={"forms": stored})
        return stored

    async def refresh(self, subscriber_ids: Iterable[str]) -> int:
        """Rebuild these subscribers' items from the database; returns how many changed."""
        ids = sorted(set(subscriber_ids))
        if not ids:
            return 0
        async with self._lock:
            async with self.db.read_session() as session:
                items = await watch_items_of(session, ids)
            by_subscriber: dict[str, list[WatchItem]] = {sid: [] for sid in ids}
            for item in items:
                by_subscriber[item.subscriber_id].append(item)
            changed = 0
            for sid, its in by_subscriber.items():
                changed += await self._set(sid, its)
        if changed:
            log.info("watchlist refreshed", extra={"subscribers": len(ids), "changed": changed})
        return changed

    async def catch_up(self) -> int:
        """Apply every watchlist change committed since the last look (outbox rows), and the
        subscribers marked dirty by events; returns how many items changed."""
        await self.wait_ready()
        dirty = self._take_dirty()
        try:
            async with self.db.read_session() as session:
                changed, newest = await watchlist_changes_since(session, self._applied)
            count = await self.refresh(changed | dirty)
        except Exception:
            self._dirty |= dirty
            raise
        self._applied = max(self._applied, newest)
        return count

    def _take_dirty(self) -> set[str]:
        dirty, self._dirty = self._dirty, set()
        return dirty

    def mark_dirty(self, subscriber_id: str) -> None:
        self._dirty.add(subscriber_id)
        self.loop.kick()

    async def refresh_step(self) -> None:
        if self.ready:
            await self.catch_up()
            await self.store_forms()

    # --- matching ------------------------------------------------------------------------------

    def match(self, notice: NoticeEvent) -> dict[str, list[Match]]:
        return self.index.match(notice)

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()


def register_live_updates(broker: KafkaBroker, topics: Topics, watchlist: LiveWatchlist) -> None:
    """Every instance reads the whole watchlist topic from its end, without a consumer group."""

    @broker.subscriber(
        topics.watchlist,
        group_id=None,
        auto_offset_reset="latest",
        ack_policy=AckPolicy.MANUAL,
        title="matcher-live-watchlist",
    )
    async def on_watchlist_change(body: Any) -> None:
        try:
            if isinstance(body, bytes | str):
                event = WatchlistEvent.model_validate_json(body)
            else:
                event = WatchlistEvent.model_validate(body)
        except ValidationError as exc:
            # every consumer group of the topic (retro matcher, notifier) dead-letters it
            # once; this groupless reader only skips it
            log.warning("watchlist event ignored: %s", exc.errors()[0]["msg"])
            return
        watchlist.mark_dirty(event.subscriber_id)
