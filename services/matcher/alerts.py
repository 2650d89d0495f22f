"""Alerts the matcher publishes (alert history) and subscribers' verdicts on matches.

Once per (subscriber, notice, match): every MatchEvent is recorded in ``matcher_alerts`` in the
same transaction that queues it in the outbox. The first alert of a (subscriber, notice) has
reason ``match``; when the same notice matches again later (a watch item added afterwards, a
notice updated with more entities), only the matches not alerted before are published, in a
MatchEvent with reason ``match-2``, ``match-3``... and the same ``match_id``. Matches already
alerted are never published again, so redelivered notices and replayed watchlist events
publish nothing new.

Feedback: a match marked ``wrong`` is suppressed for that subscriber from then on (the same
watch and the same entity, in any later notice); ``right`` records the opposite and lifts an
earlier ``wrong``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.matching import (
    brand_of,
    match_key,
    normalize,
    normalize_pinyin,
    pinyin_key,
    strip_qualifiers,
)
from services.matcher.models import AlertRow, FeedbackRow
from services.matcher.store import MATCHES_STREAM, outbox_row
from shared.db import Database
from shared.db.base import utcnow
from shared.db.bulk import insert_all
from shared.errors import InputError
from shared.events import EntityRef, Match, MatchEvent, NoticeSummary, WatchRef
from shared.logging import get_logger

log = get_logger("regwatch.matcher.alerts")

Cause = Literal["notice", "watch"]
Verdict = Literal["wrong", "right"]
FIRST_REASON = "match"
CHUNK = 200

AlertedKey = tuple[str, str, str, str | None]


def match_id(subscriber_id: str, notice_id: str) -> str:
    digest = hashlib.sha256(f"{subscriber_id}\x1f{notice_id}".encode()).hexdigest()
    return "match_" + digest[:24]


def alerted_key(match: Match) -> AlertedKey:
    """What makes two matches the same alert line: watch kind and name, entity and developer."""
    return (match.watch.kind, match.watch.name, match.entity.name, match.entity.developer)


def reason_for(earlier_alerts: int) -> str:
    return FIRST_REASON if earlier_alerts == 0 else f"{FIRST_REASON}-{earlier_alerts + 1}"


# --- suppression ----------------------------------------------------------------------------


def suppression_key(subscriber_id: str, watch: WatchRef, entity: EntityRef) -> str:
    """Key of a verdict (the matching package's :func:`match_key`): the watch (kind, name) and
    the entity (name without platform notes, developer), compared after normalization, so the
    same pair in a later notice is recognised however it is spelled."""
    match = Match(watch=watch, entity=entity, score=1.0, reason="feedback")
    return match_key(subscriber_id, match).digest()


def drop_suppressed(
    by_subscriber: Mapping[str, list[Match]], suppressed: Mapping[str, set[str]]
) -> dict[str, list[Match]]:
    """The matches that no ``wrong`` verdict of their subscriber suppresses."""
    kept: dict[str, list[Match]] = {}
    for subscriber_id, matches in by_subscriber.items():
        keys = suppressed.get(subscriber_id)
        remaining = (
            [m for m in matches if suppression_key(subscriber_id, m.watch, m.entity) not in keys]
            if keys
            else list(matches)
        )
        if remaining:
            kept[subscriber_id] = remaining
    return kept


async def suppressed_keys(
    session: AsyncSession, subscriber_ids: Iterable[str]
) -> dict[str, set[str]]:
    ids = sorted(set(subscriber_ids))
    found: dict[str, set[str]] = {}
    for start in range(0, len(ids), 500):
        result = await session.execute(
            select(FeedbackRow.subscriber_id, FeedbackRow.match_key).where(
                FeedbackRow.subscriber_id.in_(ids[start : start + 500]),
                FeedbackRow.verdict == "wrong",
            )
        )
        for subscriber_id, key in result.all():
            found.setdefault(subscriber_id, set()).add(key)
    return found


async def without_suppressed(
    db: Database, by_subscriber: Mapping[str, list[Match]]
) -> dict[str, list[Match]]:
    if not by_subscriber:
        return {}
    async with db.session() as session:
        suppressed = await suppressed_keys(session, by_subscriber)
    return drop_suppressed(by_subscriber, suppressed)


# --- recording alerts -----------------------------------------------------------------------


def app_identity(name: str) -> str:
    """Which app an entity name denotes, however a notice or the press spells it: the
    directory's app (``WeChat``, ``Weixin`` and 微信 are one), else the pinyin of a Chinese name
    (抖音 and ``Douyin``), else the normalized name."""
    brand = brand_of(name)
    if brand is not None:
        return "brand:" + brand.id
    base = strip_qualifiers(name).base
    return "name:" + (pinyin_key(base) or normalize_pinyin(base) or normalize(base))


@dataclass
class _Earlier:
    """What was alerted before for one (subscriber, notice)."""

    count: int = 0
    keys: set[AlertedKey] = field(default_factory=set)
    app_watches: set[str] = field(default_factory=set)
    """App watches (normalized names) that alerted: an app watch names one app, so another
    entity it matches in the same notice is that app under another name."""
    apps: set[tuple[str, str, str]] = field(default_factory=set)
    """(watch kind, watch name, :func:`app_identity`) of every match alerted."""

    def add(self, match: Match) -> None:
        self.keys.add(alerted_key(match))
        watch = normalize(match.watch.name)
        if match.watch.kind == "app":
            self.app_watches.add(watch)
        self.apps.add((match.watch.kind, watch, app_identity(match.entity.name)))

    def knows(self, match: Match) -> bool:
        """Already alerted: the same match, or the same watch on the same app spelled
        differently (a press story's ``Douyin`` before the regulator's 抖音)."""
        if not self.keys:
            return False
        watch = normalize(match.watch.name)
        return (
            alerted_key(match) in self.keys
            or (match.watch.kind == "app" and watch in self.app_watches)
            or (match.watch.kind, watch, app_identity(match.entity.name)) in self.apps
        )


async def _earlier_alerts(
    session: AsyncSession, notice_id: str, subscriber_ids: Sequence[str]
) -> dict[str, _Earlier]:
    result = await session.execute(
        select(AlertRow.subscriber_id, AlertRow.payload).where(
            AlertRow.notice_id == notice_id, AlertRow.subscriber_id.in_(subscriber_ids)
        )
    )
    earlier: dict[str, _Earlier] = {}
    for subscriber_id, payload in result.all():
        entry = earlier.setdefault(subscriber_id, _Earlier())
        entry.count += 1
        event = MatchEvent.model_validate_json(payload)
        for match in event.matches:
            entry.add(match)
    return earlier


async def _record_chunk(
    session: AsyncSession,
    notice: NoticeSummary,
    by_subscriber: Mapping[str, list[Match]],
    subscriber_ids: Sequence[str],
    cause: Cause,
    now: datetime,
) -> tuple[list[MatchEvent], list[str]]:
    """Record the new matches of these subscribers; returns the events and the subscribers
    whose insert collided with a concurrent one (to be tried again).

    The chunk's alert rows and outbox rows go in with one INSERT each. When one of them
    collides (another instance or the retroactive matcher recorded the same alert meanwhile),
    that INSERT is undone and the chunk is recorded row by row, each in a savepoint, so only
    the colliding subscribers are tried again."""
    earlier = await _earlier_alerts(session, notice.notice_id, subscriber_ids)
    planned: list[tuple[MatchEvent, str]] = []
    for subscriber_id in subscriber_ids:
        before = earlier.get(subscriber_id, _Earlier())
        fresh: list[Match] = []
        now_keys: set[AlertedKey] = set()
        for match in by_subscriber[subscriber_id]:
            key = alerted_key(match)
            if key not in now_keys and not before.knows(match):
                now_keys.add(key)
                fresh.append(match)
        if not fresh:
            continue
        event = MatchEvent(
            match_id=match_id(subscriber_id, notice.notice_id),
            subscriber_id=subscriber_id,
            notice=notice,
            matches=fresh,
            matched_at=now,
            reason=reason_for(before.count),
        )
        planned.append((event, json.dumps(event.dump(), ensure_ascii=False)))
    if not planned:
        return [], []
    try:
        async with session.begin_nested():
            await insert_all(session, [_alert_row(e, text, cause, now) for e, text in planned])
            await insert_all(
                session, [outbox_row(MATCHES_STREAM, e.subscriber_id, text) for e, text in planned]
            )
        return [event for event, _ in planned], []
    except IntegrityError:
        log.info(
            "some alerts were recorded concurrently: recording this chunk row by row",
            extra={"notice_id": notice.notice_id, "subscribers": len(planned)},
        )
    events: list[MatchEvent] = []
    collided: list[str] = []
    for event, text in planned:
        try:
            async with session.begin_nested():
                session.add(_alert_row(event, text, cause, now))
                session.add(outbox_row(MATCHES_STREAM, event.subscriber_id, text))
                await session.flush()
        except IntegrityError:
            collided.append(event.subscriber_id)
            continue
        events.append(event)
    return events, collided


def _alert_row(event: MatchEvent, payload: str, cause: Cause, now: datetime) -> AlertRow:
    return AlertRow(
        match_id=event.match_id,
        subscriber_id=event.subscriber_id,
        notice_id=event.notice.notice_id,
        reason=event.reason,
        cause=cause,
        payload=payload,
        created_at=now,
    )


async def record_alerts(
    db: Database,
    notice: NoticeSummary,
    by_subscriber: Mapping[str, list[Match]],
    cause: Cause,
    *,
    attempts: int = 5,
) -> list[MatchEvent]:
    """Record and queue (outbox) one MatchEvent per subscriber with matches not alerted before.

    A subscriber whose alert collides with one recorded concurrently (another matcher instance,
    the retroactive matcher) is looked at again with what that one recorded.
    """
    now = datetime.now(UTC)
    todo = sorted(sid for sid, matches in by_subscriber.items() if matches)
    events: list[MatchEvent] = []
    for _ in range(attempts):
        if not todo:
            return events
        retry: list[str] = []
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            async with db.session() as session:
                made, collided = await _record_chunk(
                    session, notice, by_subscriber, chunk, cause, now
                )
            events.extend(made)
            retry.extend(collided)
        todo = retry
    if todo:
        log.error(
            "alerts not recorded after repeated collisions",
            extra={"notice_id": notice.notice_id, "subscribers": todo},
        )
    return events


# --- alert history --------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertEntry:
    row: AlertRow
    event: MatchEvent


@dataclass(frozen=True)
class AlertGroup:
    """All alerts of one (subscriber, notice), oldest first."""

    match_id: str
    entries: list[AlertEntry]
    newest_id: int = 0
    """The id of the group's newest alert when the groups were listed: the sort key of
    :func:`alert_groups` (most recent first), and the cursor of its ``before``/``after``."""

    @property
    def notice(self) -> NoticeSummary:
        return self.entries[-1].event.notice


async def _newest_ids(
    session: AsyncSession,
    subscriber_id: str,
    *,
    limit: int,
    notice_id: str | None = None,
    match_id_: str | None = None,
    before: int | None = None,
    after: int | None = None,
) -> list[tuple[str, int]]:
    """(match_id, id of its newest alert) of the subscriber's alert groups, the most recent
    first: the newest ``limit`` of them below ``before``, or the oldest ``limit`` above
    ``after`` (still returned most recent first)."""
    newest = func.max(AlertRow.id)
    query = (
        select(AlertRow.match_id, newest)
        .where(AlertRow.subscriber_id == subscriber_id)
        .group_by(AlertRow.match_id)
        .order_by(newest.asc() if after is not None else newest.desc())
        .limit(limit)
    )
    if notice_id is not None:
        query = query.where(AlertRow.notice_id == notice_id)
    if match_id_ is not None:
        query = query.where(AlertRow.match_id == match_id_)
    if before is not None:
        query = query.having(newest < before)
    if after is not None:
        query = query.having(newest > after)
    found = [(str(mid), int(last)) for mid, last in (await session.execute(query)).all()]
    return found[::-1] if after is not None else found


async def alert_groups(
    session: AsyncSession,
    subscriber_id: str,
    *,
    limit: int = 50,
    notice_id: str | None = None,
    match_id_: str | None = None,
    before: int | None = None,
    after: int | None = None,
) -> list[AlertGroup]:
    """The subscriber's alerts grouped per notice, the most recently alerted first (by the id
    of each group's newest alert, :attr:`AlertGroup.newest_id`). Keyset paging: ``before`` an
    id, the ``limit`` groups that follow it (older); ``after`` an id, the ``limit`` groups just
    above it (newer), most recent first all the same."""
    listed = await _newest_ids(
        session,
        subscriber_id,
        limit=limit,
        notice_id=notice_id,
        match_id_=match_id_,
        before=before,
        after=after,
    )
    if not listed:
        return []
    ids = [mid for mid, _ in listed]
    newest_ids = dict(listed)
    result = await session.execute(
        select(AlertRow)
        .where(AlertRow.subscriber_id == subscriber_id, AlertRow.match_id.in_(ids))
        .order_by(AlertRow.id)
    )
    grouped: dict[str, list[AlertEntry]] = {}
    for row in result.scalars():
        grouped.setdefault(row.match_id, []).append(
            AlertEntry(row, MatchEvent.model_validate_json(row.payload))
        )
    return [AlertGroup(mid, grouped[mid], newest_ids[mid]) for mid in ids if mid in grouped]


@dataclass(frozen=True)
class AlertPage:
    """One page of a subscriber's alert history, most recent first, and the cursors of its
    neighbours (None: there is none)."""

    groups: list[AlertGroup]
    older: int | None
    """``before`` for the next page of older alerts."""
    newer: int | None
    """``after`` for the page of newer alerts just above this one."""


async def alert_page(
    session: AsyncSession,
    subscriber_id: str,
    *,
    size: int = 50,
    before: int | None = None,
    after: int | None = None,
) -> AlertPage:
    """A page of :func:`alert_groups` by keyset: the newest ``size`` groups (no cursor), those
    that follow ``before`` or those just above ``after``; when fewer than a page remain above
    ``after``, the newest page. Alerts recorded meanwhile never shift an older page (they are
    newer than any cursor); a notice alerted again moves to the top, as it does on the newest
    page."""
    if before is not None and after is not None:
        raise InputError("give before or after, not both")
    if after is not None:
        groups = await alert_groups(session, subscriber_id, limit=size + 1, after=after)
        if len(groups) > size:
            page = groups[1:]  # the lowest ``size`` above ``after``; groups[0] is newer still
            below = await _newest_ids(session, subscriber_id, limit=1, before=page[-1].newest_id)
            return AlertPage(page, page[-1].newest_id if below else None, page[0].newest_id)
        before = None  # the top is near: the newest page
    groups = await alert_groups(session, subscriber_id, limit=size + 1, before=before)
    page = groups[:size]
    older = page[-1].newest_id if len(groups) > size else None
    newer = None
    if before is not None and page:
        above = await _newest_ids(session, subscriber_id, limit=1, after=page[0].newest_id)
        newer = page[0].newest_id if above else None
    return AlertPage(page, older, newer)


# --- feedback -------------------------------------------------------------------------------


def _same_match(match: Match, watch: WatchRef, entity: EntityRef) -> bool:
    if (match.watch.kind, match.watch.name, match.entity.name) != (
        watch.kind,
        watch.name,
        entity.name,
    ):
        return False
    return entity.developer is None or entity.developer == match.entity.developer


async def give_feedback(
    session: AsyncSession,
    subscriber_id: str,
    alert_match_id: str,
    watch: WatchRef,
    entity: EntityRef,
    verdict: Verdict,
) -> FeedbackRow | None:
    """Record a verdict on one match of one of the subscriber's alerts.

    None when the alert is not the subscriber's; InputError when the alert has no such match.
    Giving a verdict again replaces the earlier one.
    """
    groups = await alert_groups(session, subscriber_id, limit=1, match_id_=alert_match_id)
    if not groups:
        return None
    found = next(
        (
            m
            for entry in groups[0].entries
            for m in entry.event.matches
            if _same_match(m, watch, entity)
        ),
        None,
    )
    if found is None:
        raise InputError(
            f"alert {alert_match_id} has no match of {watch.kind} watch {watch.name!r} "
            f"on {entity.name!r}"
        )
    key = suppression_key(subscriber_id, found.watch, found.entity)
    result = await session.execute(
        select(FeedbackRow).where(
            FeedbackRow.subscriber_id == subscriber_id, FeedbackRow.match_key == key
        )
    )
    row = result.scalar_one_or_none()
    now = utcnow()
    if row is None:
        row = FeedbackRow(
            subscriber_id=subscriber_id,
            match_key=key,
            match_id=alert_match_id,
            watch_kind=found.watch.kind,
            watch_name=found.watch.name,
            entity_name=found.entity.name,
            entity_developer=found.entity.developer,
            verdict=verdict,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.verdict = verdict
        row.match_id = alert_match_id
        row.updated_at = now
    await session.flush()
    return row


async def list_feedback(session: AsyncSession, subscriber_id: str) -> list[FeedbackRow]:
    result = await session.execute(
        select(FeedbackRow)
        .where(FeedbackRow.subscriber_id == subscriber_id)
        .order_by(FeedbackRow.id)
    )
    return list(result.scalars())


async def delete_feedback(session: AsyncSession, subscriber_id: str, feedback_id: int) -> bool:
    result = await session.execute(
        delete(FeedbackRow).where(
            FeedbackRow.subscriber_id == subscriber_id, FeedbackRow.id == feedback_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


def verdicts_by_key(rows: Iterable[FeedbackRow]) -> dict[str, str]:
    return {row.match_key: row.verdict for row in rows}
