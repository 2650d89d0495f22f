"""A notice the matcher has seen before, seen again: a re-post, a republication read anew, or
the same notice updated (more apps from an attachment or OCR, the regulator's text replacing a
press story).

- **Who may get a first alert.** Matches on apps the earlier version already named are what
  retroactive matching would find for a watch added since: they alert only when the notice is
  in the ``REGWATCH_RETRO_MATCH`` scope (by default: deadline not passed in China). A re-post
  of a notice whose deadline has passed therefore alerts nobody who was not alerted before;
  apps the new version adds alert as usual (``match`` or ``match-2``...).
- **A deadline that changed** (the regulator's 15 working days replacing a press story's "15
  days") reaches the subscribers already alerted on the notice: a MatchEvent with reason
  :data:`DEADLINE_CHANGED` carrying the matches they were alerted on, which the notifier uses
  to move their reminders and never delivers as an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.alerts import match_id
from services.matcher.matching import normalize, strip_qualifiers
from services.matcher.models import AlertRow
from services.matcher.notices import RetroScope, is_open
from services.matcher.store import MATCHES_STREAM, queue_event
from shared.events import DEADLINE_CHANGED, Match, MatchEvent, NoticeEvent, NoticeSummary


def entity_key(name: str) -> str:
    """An app's name as versions of one notice are compared (without platform notes)."""
    return normalize(strip_qualifiers(name).base)


def in_scope(notice: NoticeEvent, scope: RetroScope, *, today: date, days: int) -> bool:
    """Whether retroactive matching would take this notice (``REGWATCH_RETRO_MATCH``)."""
    if scope == "all":
        return True
    if scope == "off":
        return False
    return is_open(notice, today, days)


def first_alerts_allowed(
    by_subscriber: Mapping[str, list[Match]],
    notice: NoticeEvent,
    previous: NoticeEvent | None,
    scope: RetroScope,
    *,
    today: date,
    days: int,
) -> dict[str, list[Match]]:
    """The matches that may alert: all of them for a notice never seen before; for one seen
    before, those on apps the earlier version lacked, plus the rest only when the notice is in
    the retroactive scope."""
    if previous is None or in_scope(notice, scope, today=today, days=days):
        return {sid: list(matches) for sid, matches in by_subscriber.items() if matches}
    known = {entity_key(entity.name) for entity in previous.entities}
    kept: dict[str, list[Match]] = {}
    for subscriber_id, matches in by_subscriber.items():
        fresh = [m for m in matches if entity_key(m.entity.name) not in known]
        if fresh:
            kept[subscriber_id] = fresh
    return kept


def deadline_changed(previous: NoticeEvent | None, notice: NoticeEvent) -> bool:
    if previous is None:
        return False
    before, after = previous.deadline, notice.deadline
    if before is None or after is None:
        return before is not after
    return (before.due_on, before.due_hour) != (after.due_on, after.due_hour)


async def queue_deadline_updates(session: AsyncSession, notice: NoticeEvent) -> list[MatchEvent]:
    """One :data:`DEADLINE_CHANGED` MatchEvent per subscriber alerted on the notice, queued in
    the outbox in the caller's transaction, with the matches they were alerted on."""
    result = await session.execute(
        select(AlertRow.subscriber_id, AlertRow.payload)
        .where(AlertRow.notice_id == notice.notice_id)
        .order_by(AlertRow.id)
    )
    alerted: dict[str, list[Match]] = {}
    for subscriber_id, payload in result.all():
        event = MatchEvent.model_validate_json(payload)
        alerted.setdefault(subscriber_id, []).extend(event.matches)
    summary = NoticeSummary.of(notice)
    now = datetime.now(UTC)
    events: list[MatchEvent] = []
    for subscriber_id, matches in sorted(alerted.items()):
        event = MatchEvent(
            match_id=match_id(subscriber_id, notice.notice_id),
            subscriber_id=subscriber_id,
            notice=summary,
            matches=matches,
            matched_at=now,
            reason=DEADLINE_CHANGED,
        )
        queue_event(session, MATCHES_STREAM, subscriber_id, event.dump())
        events.append(event)
    return events
