"""What an alert says before it is split per channel: a match, an escalation, a deadline
reminder, a disabled endpoint; and who it is for (:class:`Context`: settings, account,
notifier preferences, time)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier import render
from services.notifier.links import unsubscribe_url
from services.notifier.models import PreferencesRow, TargetRow
from services.notifier.payloads import (
    DEADLINE_REMINDER,
    ENDPOINT_DISABLED,
    NOTICE_ESCALATED,
    NOTICE_MATCHED,
    escalation_data,
    match_data,
    reminder_data,
)
from services.notifier.preferences import get_preferences
from services.notifier.reminders import days_left, local_iso, zone
from shared.accounts import Subscriber
from shared.events import Match, MatchEvent, NoticeSummary
from shared.settings import Settings

MATCHED = NOTICE_MATCHED
ESCALATED = NOTICE_ESCALATED
REMINDER = DEADLINE_REMINDER
ENDPOINT_NOTICE_ID = "endpoint"


@dataclass(frozen=True)
class Alert:
    """What one alert says, before it is split per channel."""

    type: str
    reason: str
    notice_id: str
    data: dict[str, Any]
    email_of: Callable[[], tuple[str, str, str]]
    """Renders the email (subject, text, HTML) the first time a channel asks for it: an alert
    for a subscriber without email never renders one."""
    channels: tuple[str, ...] | None = None
    """The channels it may go out on; None: every channel the subscriber has."""
    holdable: bool = True

    @cached_property
    def email(self) -> tuple[str, str, str]:
        return self.email_of()


@dataclass
class Context:
    """Who an alert is for and when it is made: settings, account, notifier preferences and
    the subscriber's chat channel targets."""

    settings: Settings
    subscriber: Subscriber
    prefs: PreferencesRow
    now: datetime
    targets: list[TargetRow] = field(default_factory=list)
    tz: tzinfo = field(init=False)

    def __post_init__(self) -> None:
        self.tz = zone(self.subscriber.timezone)

    @property
    def unsubscribe_url(self) -> str:
        return unsubscribe_url(self.settings, self.prefs.unsubscribe_token)

    @property
    def public_url(self) -> str | None:
        return self.settings.public_url


async def load_context(
    session: AsyncSession, settings: Settings, subscriber: Subscriber, now: datetime
) -> Context:
    prefs = await get_preferences(session, subscriber.id, now)
    targets = await targets_of(session, [subscriber.id])
    return Context(settings, subscriber, prefs, now, targets.get(subscriber.id, []))


async def targets_of(
    session: AsyncSession, subscriber_ids: Collection[str]
) -> dict[str, list[TargetRow]]:
    """Many subscribers' channel targets in one read, each's in the order they were added."""
    if not subscriber_ids:
        return {}
    found = await session.scalars(
        select(TargetRow)
        .where(TargetRow.subscriber_id.in_(sorted(subscriber_ids)))
        .order_by(TargetRow.created_at, TargetRow.id)
    )
    targets: dict[str, list[TargetRow]] = {}
    for row in found:
        targets.setdefault(row.subscriber_id, []).append(row)
    return targets


def event_reason(event: MatchEvent) -> str:
    """Why the matcher sent this event (``match`` unless it says otherwise)."""
    reason = getattr(event, "reason", None)
    return str(reason)[:40] if reason else "match"


def match_alert(event: MatchEvent, ctx: Context, emails: MatchEmails | None = None) -> Alert:
    """``notice.matched``, or ``notice.escalated`` when the notice orders apps removed.
    ``emails``: the batch's emails, when several alerts are made at once."""
    reason = event_reason(event)
    escalated = event.notice.kind == "removal"
    data = escalation_data(event, reason) if escalated else match_data(event, reason)
    return Alert(
        type=ESCALATED if escalated else MATCHED,
        reason=reason,
        notice_id=event.notice.notice_id,
        data=data,
        email_of=lambda: (emails or MatchEmails()).render(event, ctx, escalated),
        holdable=not escalated,
    )


_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
"""An unsubscribe token as :func:`preferences.new_token` makes them (URL-safe base64): the
same in a URL, in text and escaped in HTML."""


class MatchEmails:
    """The match emails of one batch of alerts: each distinct content (notice, matches, time
    zone, time, escalation) rendered once, with a placeholder for the unsubscribe token, and
    each subscriber's own token put into a copy. Rendering (two Jinja templates, about 0.4
    ms) was the costliest part of recording an email alert, and a fan-out's emails mostly
    differ in that token alone."""

    def __init__(self) -> None:
        self.placeholder = "rwtoken" + secrets.token_hex(12)
        self.rendered: dict[tuple[Any, ...], tuple[str, str, str]] = {}

    def render(self, event: MatchEvent, ctx: Context, escalated: bool) -> tuple[str, str, str]:
        token = ctx.prefs.unsubscribe_token
        if not _PLAIN_TOKEN.fullmatch(token or ""):  # not one of ours: rendered as it is
            return self._render(event, ctx, escalated, ctx.unsubscribe_url)
        template_url = unsubscribe_url(ctx.settings, self.placeholder)
        key = (
            event.notice.model_dump_json(),
            tuple(match.model_dump_json() for match in event.matches),
            ctx.tz,
            ctx.now,
            ctx.public_url,
            template_url,
            escalated,
        )
        rendered = self.rendered.get(key)
        if rendered is None:
            rendered = self.rendered[key] = self._render(event, ctx, escalated, template_url)
        subject, text, html = (part.replace(self.placeholder, token) for part in rendered)
        return subject, text, html

    @staticmethod
    def _render(
        event: MatchEvent, ctx: Context, escalated: bool, unsubscribe: str
    ) -> tuple[str, str, str]:
        return render.render_match_email(
            event.notice,
            event.matches,
            now=ctx.now,
            tz=ctx.tz,
            public_url=ctx.public_url,
            unsubscribe_url=unsubscribe,
            escalated=escalated,
        )


def reminder_alert(
    notice: NoticeSummary,
    matches: list[Match],
    offset: str,
    ctx: Context,
    *,
    late: bool = False,
    fire_at: datetime | None = None,
) -> Alert:
    assert notice.deadline is not None
    left = days_left(notice.deadline.due_on, ctx.now)
    tz_label = render.tz_name(ctx.tz)
    return Alert(
        type=REMINDER,
        reason=offset,
        notice_id=notice.notice_id,
        data={"subscriber_id": ctx.subscriber.id}
        | reminder_data(
            notice,
            matches,
            offset,
            left,
            late=late,
            fire_at=fire_at,
            timezone=tz_label,
            fire_at_local=local_iso(fire_at, ctx.tz) if fire_at else None,
        ),
        email_of=lambda: render.render_reminder_email(
            notice,
            matches,
            offset,
            left,
            now=ctx.now,
            tz=ctx.tz,
            public_url=ctx.public_url,
            unsubscribe_url=ctx.unsubscribe_url,
            late=late,
        ),
    )


def endpoint_alert(url: str, error: str, ctx: Context) -> Alert:
    """The email that tells a subscriber their webhook endpoint was disabled (never held)."""
    return Alert(
        type=ENDPOINT_DISABLED,
        reason=ctx.now.strftime("%Y%m%dT%H%M%S.%f"),
        notice_id=ENDPOINT_NOTICE_ID,
        data={"url": url, "error": error, "disabled_at": ctx.now.isoformat()},
        email_of=lambda: render.render_endpoint_disabled_email(
            url, error, ctx.now, tz=ctx.tz, public_url=ctx.public_url
        ),
        channels=("email",),
        holdable=False,
    )
