"""Webhook bodies (Standard Webhooks: ``{type, timestamp, data}``) and delivery ids.

The body is built once per delivery and stored, so every retry sends the same bytes under the
same ``webhook-id``; only the signature timestamp changes between attempts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.notifier.completeness import list_note
from shared.events import Match, MatchEvent, NoticeSummary

NOTICE_MATCHED = "notice.matched"
NOTICE_ESCALATED = "notice.escalated"
DEADLINE_REMINDER = "deadline.reminder"
DIGEST = "digest"
ENDPOINT_DISABLED = "endpoint.disabled"
TEST_EVENT = "test"

_ID_SEPARATOR = "\x1f"  # ASCII unit separator: ("a", "bc") and ("ab", "c") differ
_ID_LENGTH = 26
_ID_BYTES = 20
"""The digest's bytes the id's characters come from: base32 turns each 5 bytes into 8
characters on their own, so the first 20 give the same first 32 characters as all 32 would,
in 4 of the 7 rounds of the standard library's pure-Python encoder (8 us against 14 us, once
per delivery a fan-out records)."""


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_body(type: str, data: dict[str, Any], timestamp: datetime) -> bytes:
    """The JSON body ``{"type", "timestamp", "data"}`` as UTF-8 bytes (non-ASCII kept as is)."""
    document = {"type": type, "timestamp": iso_utc(timestamp), "data": data}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def notice_data(notice: NoticeSummary) -> dict[str, Any]:
    """``data.notice``: notice_id, regulator {code, name}, kind, title, published_on, batch,
    deadline (null or {due_on, rule, amount, source_text, estimated}), source_url; and how much
    of its list was read: list_incomplete, list_incomplete_reason, declared_count,
    entities_read, entities_read_from {source: count}, and list_note (the same in words, null
    when the list was read whole)."""
    data = notice.model_dump(mode="json")
    data["list_note"] = list_note(notice)
    return data


def matches_data(matches: Sequence[Match]) -> list[dict[str, Any]]:
    """``data.matches``: [{watch {kind, name}, entity {name, developer}, score, reason}]."""
    return [match.model_dump(mode="json") for match in matches]


def match_data(event: MatchEvent, reason: str = "match") -> dict[str, Any]:
    """``data`` of a ``notice.matched`` webhook: one per (subscriber, notice), all matches;
    ``match_id`` names the alert (the portal shows it at ``/portal/alerts/{match_id}``).

    ``reason`` says why the alert exists: ``match`` (a new notice), or what the matcher gave
    (e.g. a notice matched retroactively against a newly added watch item).
    """
    return {
        "notice": notice_data(event.notice),
        "subscriber_id": event.subscriber_id,
        "match_id": event.match_id,
        "matches": matches_data(event.matches),
        "reason": reason,
    }


def escalation_data(event: MatchEvent, reason: str = "match") -> dict[str, Any]:
    """``data`` of a ``notice.escalated`` webhook: a removal notice names watched items.

    As ``notice.matched`` plus ``escalation`` {``level``, ``why``}.
    """
    data = match_data(event, reason)
    data["escalation"] = {
        "level": "removal",
        "why": "the regulator ordered the named apps removed, beyond asking for rectification",
    }
    return data


def reminder_data(
    notice: NoticeSummary,
    matches: list[Match],
    offset: str,
    days_left: int,
    *,
    late: bool = False,
    fire_at: datetime | None = None,
    timezone: str | None = None,
    fire_at_local: str | None = None,
) -> dict[str, Any]:
    """``data`` of a ``deadline.reminder`` webhook.

    ``offset`` is the reminder's label (``"7d"``, ``"due"`` for the due day, ``"overdue"``),
    ``days_left`` the whole days from the firing day to the due day (Asia/Shanghai);
    ``due_on`` repeats ``notice.deadline.due_on``. ``late`` is true when the reminder fired
    well after its time (regwatch was down); ``fire_at`` is when it was due (UTC) and
    ``fire_at_local`` the same in the subscriber's ``timezone``.
    """
    return {
        "notice": notice_data(notice),
        "matches": matches_data(matches),
        "offset": offset,
        "days_left": days_left,
        "due_on": notice.deadline.due_on.isoformat() if notice.deadline else None,
        "late": late,
        "fire_at": iso_utc(fire_at) if fire_at else None,
        "fire_at_local": fire_at_local,
        "timezone": timezone,
    }


def digest_data(
    subscriber_id: str, why: str, alerts: Sequence[dict[str, Any]], released_at: datetime
) -> dict[str, Any]:
    """``data`` of a ``digest`` webhook: held alerts sent together.

    ``why`` is ``digest`` (the daily digest) or ``quiet`` (the end of quiet hours); each of
    ``alerts`` is {``id`` (the alert's own delivery id: dedupe on it), ``type``, ``data``}.
    """
    return {
        "subscriber_id": subscriber_id,
        "why": why,
        "released_at": iso_utc(released_at),
        "count": len(alerts),
        "alerts": list(alerts),
    }


def delivery_id(*parts: str) -> str:
    """A stable message id from its identifying parts: ``msg_`` + 26 base32 characters of
    SHA-256 (lower case). The same parts always give the same id, so retries, redeliveries and
    restarts reuse it (it is the ``webhook-id`` receivers deduplicate on)."""
    if not parts:
        raise ValueError("delivery_id needs at least one part")
    digest = hashlib.sha256(_ID_SEPARATOR.join(parts).encode("utf-8")).digest()
    return "msg_" + base64.b32encode(digest[:_ID_BYTES]).decode("ascii").lower()[:_ID_LENGTH]
