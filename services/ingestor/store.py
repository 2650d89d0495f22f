"""Stored notices and the transactional outbox: a notice and its event are saved together.

One notice, however often and wherever it is republished: a copy is folded into the stored
notice with the same id, or with the id an earlier copy was folded under, or into a stored
notice it is the same as (``merging.same_notice``: a reprint, or a press story about it; among
several a press story could be about, the one sharing the most of its apps). Every copy is
recorded in ``notice_sources`` (where it was seen, the hash of what was read); an event is
queued only when the merged notice changed, and then its name keys are rewritten
(``name_index``). A removal notice is linked to the notice it follows up, also when that
notice is stored after it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingestor.merging import (
    FOLLOW_UP_DAYS,
    FOLLOWS_UP,
    REPRINT_DAYS,
    batch_key,
    follow_up_score,
    is_press,
    is_reprint,
    merge,
    press_fit,
    ref_date,
    ref_regulator,
    ref_value,
)
from services.ingestor.models import NoticeRow, NoticeSourceRow, OutboxRow
from services.ingestor.name_index import index_notice
from shared import outbox_rows
from shared.db.base import utcnow
from shared.events import NoticeEvent
from shared.logging import get_logger

Outcome = Literal["new", "updated", "unchanged"]
NOTICES_STREAM = "notices"
LINK_YEARS = 3
"""A removal notice cites a notice at most this many years before it."""

log = get_logger("regwatch.ingestor.store")


@dataclass(frozen=True)
class Seen:
    """Where a copy was read (URL, file name or "request body") and the hash of its bytes."""

    source: str
    content_hash: str


@dataclass(frozen=True)
class Saved:
    notice: NoticeEvent
    outcome: Outcome
    relinked: tuple[str, ...] = field(default=())
    """Removal notices stored earlier that now link to this notice (their events re-queued)."""


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def content_hash(notice: NoticeEvent) -> str:
    body = json.dumps(notice.dump(), sort_keys=True, ensure_ascii=False)
    return sha256(body)


def _payload(notice: NoticeEvent) -> str:
    return json.dumps(notice.dump(), ensure_ascii=False)


def _load(row: NoticeRow) -> NoticeEvent:
    return NoticeEvent.model_validate_json(row.payload)


@lru_cache(maxsize=2048)
def _parsed_for_comparison(payload: str) -> NoticeEvent:
    """A stored payload parsed once for identity checks (read only: callers never change it);
    every notice ingested compares against the stored ones of its regulator and week."""
    return NoticeEvent.model_validate_json(payload)


async def save_notice(
    session: AsyncSession, notice: NoticeEvent, *, seen: Seen | None = None
) -> Saved:
    """Store a notice (merging with an earlier copy) and queue its event in the outbox."""
    parsed_id = notice.notice_id
    row = await _stored_copy(session, notice)
    if row is not None and row.notice_id != notice.notice_id:
        notice = notice.model_copy(update={"notice_id": row.notice_id})
    outcome: Outcome
    if row is None:
        final, outcome = await _linked(session, notice), "new"
        row = NoticeRow(
            notice_id=final.notice_id,
            regulator_code=final.regulator.code,
            published_on=final.published_on,
            batch_key=batch_key(final),
            title=final.title,
            payload=_payload(final),
            content_hash=content_hash(final),
            sources=1,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(row)
    else:
        old = _load(row)
        final = await _linked(session, merge(old, notice))
        row.sources += 1
        digest = content_hash(final)
        if digest == row.content_hash:
            final, outcome = old, "unchanged"
        else:
            outcome = "updated"
            row.payload = _payload(final)
            row.content_hash = digest
            row.title = final.title
            row.published_on = final.published_on  # the regulator's, once it replaced a press copy
            row.batch_key = batch_key(final)  # a merge may fill in a label the first copy lacked
            row.updated_at = utcnow()
    seen = seen or Seen(notice.source_url or "(unknown)", content_hash(notice))
    await _record_source(session, final.notice_id, parsed_id, seen)
    if outcome != "unchanged":
        _queue(session, final)
    await session.flush()
    if outcome != "unchanged":
        await index_notice(session, final)  # its name keys, for finding it by app or company
    relinked: tuple[str, ...] = ()
    if outcome == "new" and final.kind != "removal":
        relinked = await _relink_removals(session, final)
    return Saved(final, outcome, relinked)


def _queue(session: AsyncSession, notice: NoticeEvent) -> None:
    session.add(
        OutboxRow(
            topic=NOTICES_STREAM,
            key=notice.notice_id,
            payload=_payload(notice),
            created_at=utcnow(),
        )
    )


async def _stored_copy(session: AsyncSession, notice: NoticeEvent) -> NoticeRow | None:
    """The stored notice this copy belongs to: same id, an id an earlier copy was folded
    under, or a stored notice that is the same (reprint with another title or date)."""
    row = await session.get(NoticeRow, notice.notice_id)
    if row is not None:
        return row
    alias = await session.scalar(
        select(NoticeSourceRow.notice_id)
        .where(NoticeSourceRow.parsed_id == notice.notice_id)
        .order_by(NoticeSourceRow.id)
        .limit(1)
    )
    if alias is not None:
        row = await session.get(NoticeRow, alias)
        if row is not None:
            return row
    window = timedelta(days=REPRINT_DAYS)
    # a copy with a batch label is only ever the notice of the same label or of none: the
    # others of the weeks (every batch of a busy regulator) are not read (ix_notices_reprint)
    key = batch_key(notice)
    same_batch = (
        or_(NoticeRow.batch_key == key, NoticeRow.batch_key.is_(None))
        if key is not None
        else true()
    )
    candidates = await session.execute(
        select(NoticeRow.notice_id, NoticeRow.payload)
        .where(
            NoticeRow.regulator_code == notice.regulator.code,
            same_batch,
            NoticeRow.published_on.between(
                notice.published_on - window, notice.published_on + window
            ),
        )
        .order_by(NoticeRow.created_at, NoticeRow.notice_id)
    )
    best: tuple[int, str] | None = None
    for stored_id, payload in candidates.all():
        stored = _parsed_for_comparison(payload)
        if is_reprint(stored, notice):
            best = (1 << 30, stored_id)  # a reprint: nothing fits better
            break
        fit = press_fit(stored, notice)
        if fit is not None and (best is None or fit > best[0]):
            best = (fit, stored_id)
    if best is None:
        return None
    log.info(
        "copy folded into an equivalent stored notice",
        extra={
            "parsed_id": notice.notice_id,
            "notice_id": best[1],
            "press": is_press(notice),
        },
    )
    return await session.get(NoticeRow, best[1])


async def _record_source(session: AsyncSession, notice_id: str, parsed_id: str, seen: Seen) -> None:
    source = seen.source[:4000]
    key = sha256(source)
    row = await session.scalar(
        select(NoticeSourceRow).where(
            NoticeSourceRow.notice_id == notice_id,
            NoticeSourceRow.source_key == key,
            NoticeSourceRow.content_hash == seen.content_hash,
        )
    )
    now = utcnow()
    if row is None:
        session.add(
            NoticeSourceRow(
                notice_id=notice_id,
                parsed_id=parsed_id,
                source=source,
                source_key=key,
                content_hash=seen.content_hash,
                times_seen=1,
                first_seen=now,
                last_seen=now,
            )
        )
    else:
        row.times_seen += 1
        row.last_seen = now


# --- removal notices -------------------------------------------------------------------------


def _unresolved_ref(notice: NoticeEvent) -> Any | None:
    """The follow-up reference of a removal notice that is not linked yet, else None."""
    if notice.kind != "removal":
        return None
    ref = getattr(notice, FOLLOWS_UP, None)
    if ref is None or ref_value(ref, "notice_id") or ref_date(ref) is None:
        return None
    return ref


def _with_link(notice: NoticeEvent, ref: Any, notice_id: str) -> NoticeEvent | None:
    """A copy of ``notice`` whose follow-up reference carries ``notice_id``; None when the
    reference has nowhere to put it."""
    linked = copy.deepcopy(ref)
    if isinstance(linked, dict):
        linked["notice_id"] = notice_id
    elif "notice_id" in getattr(type(linked), "model_fields", {}):
        linked.notice_id = notice_id
    else:
        return None
    result = notice.model_copy(deep=True)
    setattr(result, FOLLOWS_UP, linked)
    return result


async def _linked(session: AsyncSession, notice: NoticeEvent) -> NoticeEvent:
    """``notice`` with its follow-up link resolved, if it is a removal notice whose cited
    notice is stored (best :func:`merging.follow_up_score`)."""
    ref = _unresolved_ref(notice)
    if ref is None:
        return notice
    cited = ref_date(ref)
    assert cited is not None
    window = timedelta(days=FOLLOW_UP_DAYS)
    candidates = await session.scalars(
        select(NoticeRow).where(
            NoticeRow.regulator_code == ref_regulator(ref, notice.regulator.code),
            NoticeRow.published_on.between(cited - window, cited + window),
            NoticeRow.notice_id != notice.notice_id,
        )
    )
    best: tuple[float, str] | None = None
    for row in candidates:
        score = follow_up_score(notice, _load(row), cited)
        if score is not None and (best is None or (score, row.notice_id) > best):
            best = (score, row.notice_id)
    if best is None:
        return notice
    linked = _with_link(notice, ref, best[1])
    if linked is None:
        return notice
    log.info(
        "removal notice linked to the notice it follows up",
        extra={"notice_id": notice.notice_id, "follows_up": best[1]},
    )
    return linked


async def _relink_removals(session: AsyncSession, stored: NoticeEvent) -> tuple[str, ...]:
    """Removal notices stored before the notice they follow up: link them now."""
    rows = await session.scalars(
        select(NoticeRow).where(
            NoticeRow.regulator_code == stored.regulator.code,
            NoticeRow.published_on >= stored.published_on,
            NoticeRow.published_on <= _years_after(stored.published_on, LINK_YEARS),
            NoticeRow.notice_id != stored.notice_id,
            NoticeRow.payload.contains('"kind": "removal"'),
        )
    )
    relinked: list[str] = []
    for row in rows:
        removal = _load(row)
        if _unresolved_ref(removal) is None:
            continue
        linked = await _linked(session, removal)
        if linked is removal:
            continue
        row.payload = _payload(linked)
        row.content_hash = content_hash(linked)
        row.updated_at = utcnow()
        _queue(session, linked)
        relinked.append(linked.notice_id)
    if relinked:
        await session.flush()
    return tuple(relinked)


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- reading -----------------------------------------------------------------------------


async def get_notice(session: AsyncSession, notice_id: str) -> NoticeEvent | None:
    row = await session.get(NoticeRow, notice_id)
    return None if row is None else _load(row)


async def notice_sources(session: AsyncSession, notice_id: str) -> list[NoticeSourceRow]:
    """Every copy of a notice that was read, oldest first."""
    result = await session.scalars(
        select(NoticeSourceRow)
        .where(NoticeSourceRow.notice_id == notice_id)
        .order_by(NoticeSourceRow.id)
    )
    return list(result)


async def pending_outbox(session: AsyncSession, limit: int = 100) -> list[OutboxRow]:
    return await outbox_rows.pending(session, OutboxRow, limit)


async def mark_published(session: AsyncSession, outbox_ids: list[int]) -> None:
    """Published to a durable broker (tests and tools; the relay marks its own)."""
    acks = [outbox_rows.Ack(ident, None, None) for ident in outbox_ids]
    await outbox_rows.mark_published(session, OutboxRow, acks, utcnow(), durable=True)
