"""Intake: bytes or an event in, a stored notice (and its queued event) out."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from typing_extensions import Unpack

from services.ingestor import extraction
from services.ingestor.extraction import JobOptions
from services.ingestor.store import Saved, Seen, save_notice, sha256
from shared.db import Database
from shared.db.retry import retry_lost_connection
from shared.errors import InputError
from shared.events import NoticeEvent
from shared.logging import get_logger, log_context
from shared.metrics import count_rejections, current_intake_source, observe_notice_ingested

log = get_logger("regwatch.ingestor")

SAVE_ATTEMPTS = 3
"""Two copies of one new notice stored at once: the loser of the race retries and merges."""
SAVE_BACKOFF = 0.1
"""Seconds before saving again after a lost database connection (doubling each time)."""


def check_entities(notice: NoticeEvent, name: str) -> None:
    if not notice.entities:
        raise InputError(f"{name}: no apps, SDKs or companies found in the notice")


def parse(data: bytes, *, name: str, **options: Unpack[JobOptions]) -> NoticeEvent:
    """``parse_notice`` in this process (``regwatch notices parse``), within the time limit
    when an alarm clock can be set; ``published_on`` overrides the date read from the notice,
    ``fallback_published_on`` (a feed item's date) is used when the notice gives none;
    ``attachments`` are the files it links to (name as the page gives it, bytes)."""
    return extraction.read_here(extraction.job(data, name=name, **options))


def event_from_json(data: bytes, *, name: str) -> NoticeEvent:
    """A NoticeEvent from JSON bytes; the error names the field (and the position for bad
    JSON)."""
    try:
        return NoticeEvent.model_validate_json(data)
    except ValidationError as exc:
        raise InputError(f"{name}: {validation_message(exc)}") from None


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"invalid NoticeEvent: {where}: {first['msg']}{more}"


@count_rejections
async def ingest_event(
    db: Database, notice: NoticeEvent, *, name: str, seen: Seen | None = None
) -> Saved:
    check_entities(notice, name)

    async def save(_attempt: int) -> Saved:
        async with db.session() as session:
            return await save_notice(session, notice, seen=seen)

    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            # a lost database connection: the unit of work is all or nothing, so saving again
            # either stores it or (when the commit did land) finds it stored
            saved = await retry_lost_connection(
                save,
                attempts=SAVE_ATTEMPTS,
                backoff=SAVE_BACKOFF,
                what="notice not stored",
                extra={"source": name},
            )
            break
        except IntegrityError:
            if attempt == SAVE_ATTEMPTS:
                raise
            log.info("notice stored concurrently; merging", extra={"source": name})
    with log_context(notice_id=saved.notice.notice_id):
        log.info(
            "notice stored",
            extra={"outcome": saved.outcome, "source": name, "entities": len(notice.entities)},
        )
    observe_notice_ingested(current_intake_source(), saved.outcome, saved.notice.regulator.code)
    return saved


@count_rejections
async def ingest_bytes(
    db: Database, data: bytes, *, name: str, **options: Unpack[JobOptions]
) -> Saved:
    # In a worker process, within the time and memory limits: reading pictures (OCR) or a
    # long PDF takes seconds, and the event loop must not wait on it.
    notice = await extraction.read(extraction.job(data, name=name, **options))
    attachments = options.get("attachments", ())
    digest = sha256(data + b"".join(body for _name, body in attachments))
    seen = Seen(options.get("source_url") or name, digest)
    return await ingest_event(db, notice, name=name, seen=seen)


@count_rejections
async def ingest_json(db: Database, data: bytes, *, name: str) -> Saved:
    notice = event_from_json(data, name=name)
    return await ingest_event(
        db, notice, name=name, seen=Seen(notice.source_url or name, sha256(data))
    )
