"""Polling a feed source: conditional GET of the listing, each new item fetched and ingested
once (through ``parse_notice``, the store and the outbox, as files are), errors recorded per
item and per source, exponential backoff for a source that fails.

An item is recorded in ``feed_items`` before it is fetched, so it is fetched and ingested once
even when two pollers (the service and ``regwatch sources poll``) meet. An item whose fetch
failed transiently (timeout, 5xx) is tried again on later polls, up to
:data:`MAX_ITEM_ATTEMPTS` times; one that cannot be read is recorded as failed and the poll
goes on with the rest.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.ingestor.extract.formats import READABLE_SUFFIXES
from services.ingestor.feeds.attachments import AttachmentLimits, attachment_links, file_name
from services.ingestor.feeds.fetch import Fetcher
from services.ingestor.feeds.listing import KINDS, FeedItem, Kind, parse_listing
from services.ingestor.feeds.sources import due_source_ids, get_source, schedule_of
from services.ingestor.intake import ingest_bytes
from services.ingestor.models import FeedItemRow, FeedSourceRow
from services.ingestor.store import Saved
from shared.db import Database
from shared.db.base import utcnow
from shared.errors import InputError, RegwatchError, TransientError
from shared.logging import get_logger, log_context
from shared.poll_schedule import PollSchedule, first_poll, next_poll
from shared.settings import Settings

log = get_logger("regwatch.ingestor.feeds")

MAX_ITEM_ATTEMPTS = 3
MAX_BACKOFF = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=10)
"""An item claimed longer ago than this by a poller that never finished is taken over."""

ItemStatus = Literal["ingested", "failed", "retry"]

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_SUFFIX_FOR_TYPE = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    _DOCX: ".docx",
}
_HTML = {".html", ".htm", ".shtml", ".xhtml"}
_READABLE = _HTML | {".txt", ".text", ".md", ".docx"}
_NOT_FETCHED = (
    frozenset(
        {".pdf", ".doc", ".wps", ".xls", ".xlsx", ".et", ".ppt", ".pptx", ".zip", ".rar", ".7z"}
        | {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".mp4", ".mp3"}
    )
    - READABLE_SUFFIXES
)
"""Links to these are recorded as failed without being downloaded: extraction cannot read them
(what it reads - .xlsx, .pdf, pictures - comes from the format registry)."""


def url_suffix(url: str) -> str:
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return "." + last.rsplit(".", 1)[-1].lower() if "." in last else ""


@dataclass
class ItemResult:
    url: str | None
    title: str | None
    status: ItemStatus
    notice_id: str | None = None
    outcome: str | None = None
    error: str | None = None
    attachments: list[str] = field(default_factory=list)
    """Attachments and list images of the item's page that were read with it (URLs)."""
    attachment_errors: list[str] = field(default_factory=list)
    """Those that could not be fetched or read (the page was ingested without them)."""

    def dump(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None and v != []}


@dataclass
class Followed:
    """What a notice page's attachments gave: (name, bytes) for the readers, and errors."""

    files: list[tuple[str, bytes]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class PollResult:
    source_id: int
    name: str
    status: str
    """ok, not_modified or error."""
    error: str | None = None
    backoff_until: datetime | None = None
    items: list[ItemResult] = field(default_factory=list)
    already_seen: int = 0

    def dump(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "name": self.name,
            "status": self.status,
            "error": self.error,
            "backoff_until": None if self.backoff_until is None else self.backoff_until.isoformat(),
            "ingested": [i.dump() for i in self.items if i.status == "ingested"],
            "failed": [i.dump() for i in self.items if i.status != "ingested"],
            "already_seen": self.already_seen,
        }


def backoff_delay(interval: timedelta, failures: int) -> timedelta:
    """Twice the interval after one failure, doubling with each further one, at most a day
    (or the interval, when that is longer)."""
    return min(interval * 2 ** min(failures, 30), max(MAX_BACKOFF, interval))


def item_key(source_key: str) -> str:
    return hashlib.sha256(source_key.encode()).hexdigest()


def parse_name(url: str, content_type: str) -> str:
    """The name ``parse_notice`` reads a fetched item under: its URL, with the extension its
    media type implies when the path has none the parser reads (``view.jsp`` served as HTML
    is read as ``view.jsp.html``; the fragment is dropped)."""
    parts = urlsplit(url)
    suffix = url_suffix(url)
    wanted = _SUFFIX_FOR_TYPE.get(content_type.split(";")[0].strip().lower())
    if suffix in _READABLE or wanted is None:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path + wanted, parts.query, ""))


class FeedPoller:
    def __init__(
        self,
        db: Database,
        fetcher: Fetcher,
        *,
        default_schedule: PollSchedule,
        on_ingested: Callable[[], None] | None = None,
        attachments: AttachmentLimits | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``default_schedule``: for sources without their own (``Settings.default_poll_schedule``).
        ``attachments``: how many attachments of an item's page are followed, and how
        large each may be; None reads ``REGWATCH_FEED_MAX_ATTACHMENTS`` and
        ``REGWATCH_FEED_ATTACHMENT_BYTES``. ``clock``: the time polls are due and recorded
        at."""
        self.db = db
        self.fetcher = fetcher
        self.default_schedule = default_schedule
        self.clock = clock
        self.on_ingested = on_ingested
        self.limits = attachments or AttachmentLimits.from_settings(Settings())
        self._locks: dict[int, asyncio.Lock] = {}

    async def poll_due(self, now: datetime | None = None) -> list[PollResult]:
        """Poll every enabled source whose time has come (and that is not backing off)."""
        now = now or self.clock()
        async with self.db.session() as session:
            due = await due_source_ids(session, now)
        return [await self.poll(source_id, now=now) for source_id in due]

    async def poll_all(self, now: datetime | None = None) -> list[PollResult]:
        async with self.db.session() as session:
            ids = list(
                await session.scalars(
                    select(FeedSourceRow.id)
                    .where(FeedSourceRow.enabled.is_(True))
                    .order_by(FeedSourceRow.id)
                )
            )
        return [await self.poll(source_id, now=now) for source_id in ids]

    async def poll(self, source_id: int, *, now: datetime | None = None) -> PollResult:
        """Poll one source now, whatever its schedule or backoff says."""
        lock = self._locks.setdefault(source_id, asyncio.Lock())
        async with lock:
            with log_context(feed_source=source_id):
                return await self._poll(source_id, now or self.clock())

    async def _poll(self, source_id: int, now: datetime) -> PollResult:
        async with self.db.session() as session:
            source = await get_source(session, source_id)
            url, kind, name = source.url, source.kind, source.name
            etag, last_modified = source.etag, source.last_modified
            plan = schedule_of(source, self.default_schedule)
        result = PollResult(source_id, name, "ok")
        try:
            fetched = await self.fetcher.get(url, etag=etag, last_modified=last_modified)
            items: list[FeedItem] = []
            if fetched.status != 304:
                read_kind = cast(Kind, kind) if kind in KINDS else "auto"
                # in a thread: a large list page takes the parser a while (not the loop's time)
                _kind, items = await asyncio.to_thread(
                    parse_listing,
                    fetched.body,
                    base_url=fetched.url,
                    kind=read_kind,
                    content_type=fetched.content_type,
                )
        except RegwatchError as exc:
            return await self._failed(source_id, result, str(exc), plan, now)
        except Exception as exc:  # a bug or a library surprise must not stop the scheduler
            log.exception("feed poll failed unexpectedly")
            return await self._failed(source_id, result, f"{type(exc).__name__}: {exc}", plan, now)
        result.status = "not_modified" if fetched.status == 304 else "ok"
        for item in reversed(items):  # oldest first: a follow-up after what it follows up
            outcome = await self._item(source_id, item, now)
            if outcome is None:
                result.already_seen += 1
            else:
                result.items.append(outcome)
        result.items.extend(await self._retries(source_id, {i.key for i in items}, now))
        async with self.db.session() as session:
            source = await get_source(session, source_id)
            source.status = result.status
            source.last_polled_at = now
            source.last_ok_at = now
            source.last_error = None
            source.failures = 0
            source.backoff_until = None
            source.next_poll_at = next_poll(plan, now)
            if fetched.status == 200:
                source.etag = fetched.etag
                source.last_modified = fetched.last_modified
        log.info(
            "feed polled",
            extra={
                "status": result.status,
                "ingested": sum(i.status == "ingested" for i in result.items),
                "failed": sum(i.status != "ingested" for i in result.items),
                "already_seen": result.already_seen,
            },
        )
        return result

    async def _failed(
        self, source_id: int, result: PollResult, error: str, plan: PollSchedule, now: datetime
    ) -> PollResult:
        """Back off from the schedule's interval; the poll after the backoff waits for the
        schedule's hours if they are closed then."""
        async with self.db.session() as session:
            source = await get_source(session, source_id)
            source.failures += 1
            until = now + backoff_delay(plan.every, source.failures)
            source.status = "error"
            source.last_polled_at = now
            source.last_error = error[:2000]
            source.backoff_until = until
            source.next_poll_at = first_poll(plan, until)
            failures = source.failures
        log.warning(
            "feed poll failed; backing off",
            extra={"error": error, "failures": failures, "backoff_until": until.isoformat()},
        )
        result.status, result.error, result.backoff_until = "error", error, until
        return result

    # --- items ---------------------------------------------------------------------------

    async def _claim(self, source_id: int, item: FeedItem, now: datetime) -> int | None:
        """The id of the item's row if this poller should fetch it now, else None (seen)."""
        key = item_key(item.key)
        try:
            async with self.db.session() as session:
                row = await session.scalar(
                    select(FeedItemRow).where(
                        FeedItemRow.source_id == source_id, FeedItemRow.item_key == key
                    )
                )
                if row is None:
                    row = FeedItemRow(
                        source_id=source_id,
                        item_key=key,
                        guid=item.key,
                        url=item.url,
                        title=item.title,
                        status="pending",
                        attempts=0,
                        first_seen=now,
                        last_attempt_at=now,
                    )
                    session.add(row)
                    await session.flush()
                    return row.id
                if not self._claimable(row, now):
                    return None
                row.status = "pending"
                row.last_attempt_at = now
                return row.id
        except IntegrityError:
            return None  # another poller recorded it first and is fetching it

    @staticmethod
    def _claimable(row: FeedItemRow, now: datetime) -> bool:
        if row.status == "retry":
            return row.attempts < MAX_ITEM_ATTEMPTS
        if row.status == "pending":
            return row.last_attempt_at is None or row.last_attempt_at < now - STALE_CLAIM
        return False

    async def _item(self, source_id: int, item: FeedItem, now: datetime) -> ItemResult | None:
        row_id = await self._claim(source_id, item, now)
        if row_id is None:
            return None
        return await self._ingest(row_id, item)

    async def _retries(self, source_id: int, listed: set[str], now: datetime) -> list[ItemResult]:
        """Items no longer (or not newly) listed whose fetch failed transiently: try again."""
        async with self.db.session() as session:
            rows = list(
                await session.scalars(
                    select(FeedItemRow).where(
                        FeedItemRow.source_id == source_id,
                        FeedItemRow.status == "retry",
                        FeedItemRow.attempts < MAX_ITEM_ATTEMPTS,
                        FeedItemRow.url.is_not(None),
                    )
                )
            )
        results: list[ItemResult] = []
        for row in rows:
            if row.guid in listed:
                continue  # handled with the listing
            item = FeedItem(key=row.guid, url=row.url, title=row.title)
            outcome = await self._item(source_id, item, now)
            if outcome is not None:
                results.append(outcome)
        return results

    async def _read(self, item: FeedItem) -> tuple[bytes, str, str | None, str | None]:
        """The item's bytes, the name to parse them under, the source URL and the URL the
        page was finally read from (None for inline content)."""
        if item.url is not None:
            if url_suffix(item.url) in _NOT_FETCHED:
                raise InputError(
                    f"{item.url}: unsupported file type '{url_suffix(item.url)}' (not fetched)"
                )
            fetched = await self.fetcher.get(item.url)
            name = parse_name(fetched.url, fetched.content_type)
            return fetched.body, name, item.url, fetched.url
        assert item.content is not None
        return item.content.encode("utf-8"), "feed-item.html", None, None

    async def follow(self, page: bytes, page_url: str) -> Followed:
        """Fetch the attachments and list images of a notice page (same site only, at most
        ``limits.count``, ``limits.max_bytes`` each, through the fetcher's SSRF guard). One
        that fails is recorded and the rest go on."""
        followed = Followed()
        links = await asyncio.to_thread(attachment_links, page, page_url, limit=self.limits.count)
        for link in links:
            try:
                got = await self.fetcher.get(link.url, max_bytes=self.limits.max_bytes)
            except RegwatchError as exc:
                followed.errors.append(f"attachment {link.url}: {exc}")
                continue
            followed.files.append((file_name(got.url, got.content_type), got.body))
            followed.urls.append(link.url)
        return followed

    async def _ingest_page(
        self,
        data: bytes,
        name: str,
        source_url: str | None,
        page_url: str | None,
        published: date | None = None,
    ) -> tuple[Saved, Followed]:
        """Ingest one item, its page's attachments with it (``published``: the feed's date
        for the item, used when the notice gives none). Attachments the readers cannot take
        are recorded, and the page is ingested without them."""
        followed = Followed()
        if page_url is not None and url_suffix(name) in _HTML:
            followed = await self.follow(data, page_url)
        page_alone = functools.partial(
            ingest_bytes,
            self.db,
            data,
            name=name,
            source_url=source_url,
            fallback_published_on=published,
        )
        if not followed.files:
            return await page_alone(), followed
        try:
            saved = await page_alone(attachments=followed.files)
        except InputError as exc:
            followed.errors.append(f"attachments not read ({exc}); the page read alone")
            followed.urls.clear()
            return await page_alone(), followed
        return saved, followed

    async def _ingest(self, row_id: int, item: FeedItem) -> ItemResult:
        result = ItemResult(item.url, item.title, "failed")
        try:
            data, name, source_url, page_url = await self._read(item)
            saved, followed = await self._ingest_page(
                data, name, source_url, page_url, item.published
            )
            result.attachments, result.attachment_errors = followed.urls, followed.errors
        except TransientError as exc:
            result.status, result.error = "retry", str(exc)
        except RegwatchError as exc:
            result.error = str(exc) if item.url else f"{item.key}: {exc}"
        except Exception as exc:  # one broken item must not stop the rest
            log.exception("feed item failed unexpectedly", extra={"item": item.key})
            result.error = f"{item.url or item.key}: {type(exc).__name__}: {exc}"
        else:
            result.status = "ingested"
            result.notice_id, result.outcome = saved.notice.notice_id, saved.outcome
        async with self.db.session() as session:
            row = await session.get(FeedItemRow, row_id)
            if row is None:  # the source was removed meanwhile
                return result
            row.attempts += 1
            if result.status == "retry" and row.attempts >= MAX_ITEM_ATTEMPTS:
                result.status = "failed"
            row.status = result.status
            error = result.error or "; ".join(result.attachment_errors) or None
            row.error = None if error is None else error[:2000]
            row.notice_id = result.notice_id
            row.outcome = result.outcome
        with log_context(notice_id=result.notice_id):
            if result.status == "ingested":
                log.info(
                    "feed item ingested",
                    extra={
                        "item": item.key,
                        "outcome": result.outcome,
                        "attachments": result.attachments,
                        "attachment_errors": result.attachment_errors,
                    },
                )
            else:
                log.warning(
                    "feed item not ingested", extra={"item": item.key, "error": result.error}
                )
        if result.status == "ingested" and result.outcome != "unchanged" and self.on_ingested:
            self.on_ingested()
        return result
