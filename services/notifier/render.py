"""Email content from Jinja2 templates (``templates/``: text and HTML, autoescaped HTML).

Everything that comes from a notice (titles, names, reasons, links) is untrusted text: the
HTML templates escape it, only http(s) links become links, and subjects are put on one line.
Each function returns ``(subject, text, html)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.notifier.completeness import list_note
from services.notifier.email import clean_header
from services.notifier.reminders import (
    SHANGHAI,
    days_left,
    deadline_at,
    describe_label,
)
from shared.events import Deadline, Match, NoticeSummary

PRODUCT = "regwatch"
SUBJECT_TITLE_MAX = 90
_SAFE_SCHEMES = ("http://", "https://")

_RULES = {
    "absolute": "date set in the notice",
    "working_days": "{n} working days",
    "calendar_days": "{n} calendar days",
}

_env = Environment(
    loader=PackageLoader("services.notifier", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_template(name: str, **context: Any) -> str:
    return _env.get_template(name).render(**context)


# --- small phrases -----------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    flat = clean_header(text)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def safe_link(url: str | None) -> str | None:
    """Only http(s) links are shown as links (no javascript:, data: ...)."""
    if url and url.strip().lower().startswith(_SAFE_SCHEMES):
        return clean_header(url.strip())
    return None


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def regulator_name(notice: NoticeSummary) -> str:
    if not notice.regulator.recognised:  # kept as printed: 某县市场监督管理局
        return f"{clean_header(notice.regulator.name)} (issuer not recognised)"
    return f"{clean_header(notice.regulator.name)} ({clean_header(notice.regulator.code)})"


def regulator_label(notice: NoticeSummary) -> str:
    """The regulator in a subject line: its code, or the issuer as printed when regwatch does
    not know it (``OTHER`` tells a reader nothing)."""
    if notice.regulator.recognised:
        return clean_header(notice.regulator.code)
    return shorten(clean_header(notice.regulator.name), 30)


def describe_deadline(deadline: Deadline | None) -> str:
    """``2021-05-31 (15 working days; notice: "...")`` or ``no deadline given``."""
    if deadline is None:
        return "no deadline given"
    rule = _RULES[deadline.rule].format(n=deadline.amount if deadline.amount is not None else "N")
    details = [rule]
    if deadline.estimated:
        details.append("estimated: the holiday calendar does not cover that year")
    if deadline.source_text.strip():
        details.append(f"notice: “{clean_header(deadline.source_text)}”")
    return f"{deadline.due_on.isoformat()} ({'; '.join(details)})"


def days_phrase(days: int) -> str:
    if days > 0:
        return f"{plural(days, 'day')} left"
    if days == 0:
        return "due today"
    return f"overdue by {plural(-days, 'day')}"


def tz_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)


def local_deadline(deadline: Deadline | None, tz: tzinfo) -> str | None:
    """The end of the due day (Asia/Shanghai) in the subscriber's zone, unless that is
    Shanghai time anyway."""
    if deadline is None:
        return None
    end = deadline_at(deadline.due_on)
    local = end.astimezone(tz)
    if local.utcoffset() == end.astimezone(SHANGHAI).utcoffset():
        return None
    return (
        f"the deadline ends {local.strftime('%Y-%m-%d %H:%M')} {tz_name(tz)} "
        f"(end of {deadline.due_on.isoformat()} in Asia/Shanghai)"
    )


def entity_names(matches: Sequence[Match], limit: int = 3) -> str:
    names = list(dict.fromkeys(clean_header(match.entity.name) for match in matches))
    shown = ", ".join(names[:limit])
    return shown + (f" +{len(names) - limit} more" if len(names) > limit else "")


# --- views -------------------------------------------------------------------------------


@dataclass
class MatchView:
    entity: str
    watch: str
    reason: str


@dataclass
class NoticeView:
    notice_id: str
    title: str
    regulator: str
    published: str
    batch: str | None
    deadline: str
    days_phrase: str | None
    local_deadline: str | None
    source: str | None
    matches: list[MatchView] = field(default_factory=list)
    list_note: str | None = None
    """What part of the notice's list could not be read (:mod:`.completeness`)."""


def notice_view(
    notice: NoticeSummary, matches: Sequence[Match], now: datetime, tz: tzinfo = SHANGHAI
) -> NoticeView:
    views = []
    for match in matches:
        entity = clean_header(match.entity.name)
        if match.entity.developer:
            entity += f" (developer: {clean_header(match.entity.developer)})"
        watch = (
            f"your {match.watch.kind} watch “{clean_header(match.watch.name)}”, "
            f"score {match.score:.2f}"
        )
        views.append(MatchView(entity, watch, clean_header(match.reason)))
    deadline = notice.deadline
    return NoticeView(
        notice_id=clean_header(notice.notice_id),
        title=clean_header(notice.title),
        regulator=regulator_name(notice),
        published=notice.published_on.isoformat(),
        batch=clean_header(notice.batch) if notice.batch else None,
        deadline=describe_deadline(deadline),
        days_phrase=days_phrase(days_left(deadline.due_on, now)) if deadline else None,
        local_deadline=local_deadline(deadline, tz),
        source=safe_link(notice.source_url),
        matches=views,
        list_note=clean_header(note) if (note := list_note(notice)) else None,
    )


def _render_pair(name: str, **context: Any) -> tuple[str, str]:
    return render_template(f"{name}.txt", **context), render_template(f"{name}.html", **context)


# --- alerts ------------------------------------------------------------------------------


def render_match_email(
    notice: NoticeSummary,
    matches: Sequence[Match],
    *,
    now: datetime | None = None,
    tz: tzinfo = SHANGHAI,
    public_url: str | None = None,
    unsubscribe_url: str | None = None,
    escalated: bool = False,
) -> tuple[str, str, str]:
    """A ``notice.matched`` alert (or ``notice.escalated`` for a removal notice): one per
    (subscriber, notice), listing every match."""
    moment = now or datetime.now(UTC)
    code = regulator_label(notice)
    count = len(matches)
    if escalated:
        subject = (
            f"[{PRODUCT}] ESCALATION: {code} ordered removal of {entity_names(matches)}: "
            f"{shorten(notice.title, SUBJECT_TITLE_MAX)}"
        )
        intro = (
            f"A removal notice from {regulator_name(notice)} names "
            f"{plural(count, 'item')} on your watchlist: the regulator has gone beyond asking "
            "for rectification and ordered the apps taken down."
        )
        heading = f"Escalation: {code} ordered removal of {plural(count, 'watched item')}"
    else:
        subject = (
            f"[{PRODUCT}] {code} named {entity_names(matches)}: "
            f"{shorten(notice.title, SUBJECT_TITLE_MAX)}"
        )
        intro = (
            f"A notice from {regulator_name(notice)} names {plural(count, 'item')} "
            "on your watchlist."
        )
        heading = f"{code} named {plural(count, 'watched item')}"
    text, html = _render_pair(
        "alert",
        intro=intro,
        heading=heading,
        urgent=escalated,
        notice=notice_view(notice, matches, moment, tz),
        manage_url=safe_link(public_url),
        unsubscribe_url=safe_link(unsubscribe_url),
    )
    return clean_header(subject), text, html


def render_reminder_email(
    notice: NoticeSummary,
    matches: Sequence[Match],
    offset: str,
    days: int,
    *,
    now: datetime | None = None,
    tz: tzinfo = SHANGHAI,
    public_url: str | None = None,
    unsubscribe_url: str | None = None,
    late: bool = False,
) -> tuple[str, str, str]:
    """A ``deadline.reminder`` (offset label such as ``"7d"``, ``"due"`` or ``"overdue"``)."""
    moment = now or datetime.now(UTC)
    code = regulator_label(notice)
    due = notice.deadline.due_on.isoformat() if notice.deadline else "no date"
    phrase = days_phrase(days)
    subject = (
        f"[{PRODUCT}] Reminder: {phrase} - {code} deadline {due}: "
        f"{shorten(notice.title, SUBJECT_TITLE_MAX)}"
    )
    intro = (
        f"Reminder ({describe_label(clean_header(offset))}): the rectification deadline of "
        f"this {code} notice is {due} ({phrase}). It names "
        f"{plural(len(matches), 'item')} on your watchlist."
    )
    if late:
        intro += " This reminder is late: regwatch was not running when it was due."
    text, html = _render_pair(
        "alert",
        intro=intro,
        heading=f"Deadline {due}: {phrase}",
        urgent=days <= 0,
        notice=notice_view(notice, matches, moment, tz),
        manage_url=safe_link(public_url),
        unsubscribe_url=safe_link(unsubscribe_url),
    )
    return clean_header(subject), text, html


@dataclass
class DigestItem:
    """One held alert inside a digest."""

    type: str
    notice: NoticeSummary
    matches: list[Match]
    offset: str | None = None


def _item_heading(item: DigestItem, now: datetime) -> str:
    code = regulator_label(item.notice)
    if item.type == "deadline.reminder":
        due = item.notice.deadline.due_on if item.notice.deadline else None
        left = days_phrase(days_left(due, now)) if due else ""
        return f"Reminder: {code} deadline {due} ({left})"
    if item.type == "notice.escalated":
        return f"Escalation: {code} ordered removal of {entity_names(item.matches)}"
    return f"{code} named {entity_names(item.matches)}"


def render_digest_email(
    items: Sequence[DigestItem],
    *,
    why: str,
    now: datetime | None = None,
    tz: tzinfo = SHANGHAI,
    public_url: str | None = None,
    unsubscribe_url: str | None = None,
) -> tuple[str, str, str]:
    """One email listing held alerts (``why``: ``digest`` or ``quiet``)."""
    moment = now or datetime.now(UTC)
    count = len(items)
    if why == "digest":
        subject = f"[{PRODUCT}] Daily digest: {plural(count, 'alert')}"
        intro = f"Your daily regwatch digest: {plural(count, 'alert')} since the last one."
        heading = f"Daily digest: {plural(count, 'alert')}"
    else:
        subject = f"[{PRODUCT}] {plural(count, 'alert')} held during your quiet hours"
        intro = f"{plural(count, 'alert')} arrived during your quiet hours."
        heading = f"{plural(count, 'alert')} from your quiet hours"
    views = [
        {
            "heading": _item_heading(item, moment),
            "notice": notice_view(item.notice, item.matches, moment, tz),
        }
        for item in items
    ]
    text, html = _render_pair(
        "digest",
        intro=intro,
        heading=heading,
        items=views,
        manage_url=safe_link(public_url),
        unsubscribe_url=safe_link(unsubscribe_url),
    )
    return clean_header(subject), text, html


def render_endpoint_disabled_email(
    url: str, error: str, at: datetime, *, tz: tzinfo = SHANGHAI, public_url: str | None = None
) -> tuple[str, str, str]:
    """Tells a subscriber that their webhook endpoint answered 410 and was disabled."""
    local = at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") + f" {tz_name(tz)}"
    text, html = _render_pair(
        "endpoint_disabled",
        url=clean_header(url),
        at=local,
        error=clean_header(error),
        manage_url=safe_link(public_url),
    )
    return f"[{PRODUCT}] Your webhook endpoint was disabled (410 Gone)", text, html


def render_unsubscribe_page(
    state: str, *, email: str | None = None, action: str = "", resubscribe_action: str = ""
) -> str:
    """The unsubscribe page: ``confirm`` (email alerts on: the unsubscribe form posting to
    ``action``), ``unsubscribed`` (off: a resubscribe button posting to
    ``resubscribe_action``), ``resubscribed`` (on again, with the unsubscribe form) or
    ``unknown``."""
    return render_template(
        "unsubscribe.html",
        state=state,
        email=email or "",
        action=action,
        resubscribe_action=resubscribe_action,
    )
