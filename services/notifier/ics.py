"""iCalendar (RFC 5545) feed of a subscriber's open deadlines, written by hand (pure).

One all-day ``VEVENT`` per deadline on its due day, with a ``UID`` that stays the same for the
same (subscriber, notice), so calendar apps update events instead of duplicating them. Lines
end in CRLF and are folded at 75 octets without splitting a UTF-8 character; text values are
escaped (backslash, semicolon, comma, newline).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from shared.events import Match, NoticeSummary

PRODID = "-//regwatch//deadline feed//EN"
MAX_OCTETS = 75
CRLF = "\r\n"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): ``\\`` ``;`` ``,`` escaped, newlines as ``\\n``."""
    flat = value.replace("\r\n", "\n").replace("\r", "\n")
    flat = flat.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    flat = flat.replace("\n", "\\n")
    return "".join(ch for ch in flat if ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))


def fold(line: str) -> str:
    """One content line, folded (RFC 5545 3.1): at most 75 octets per physical line, each
    continuation starting with one space; UTF-8 characters are never split."""
    encoded = line.encode("utf-8")
    if len(encoded) <= MAX_OCTETS:
        return line
    parts: list[str] = []
    current: list[str] = []
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
            limit = MAX_OCTETS - 1  # the leading space of a continuation line counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def unfold(text: str) -> list[str]:
    """The content lines of a calendar (for tests and readers)."""
    return text.replace(CRLF + " ", "").replace(CRLF + "\t", "").split(CRLF)


def stamp(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def day(value: date) -> str:
    return value.strftime("%Y%m%d")


def event_uid(subscriber_id: str, notice_id: str) -> str:
    digest = hashlib.sha256(f"{subscriber_id}\x1f{notice_id}".encode()).hexdigest()[:32]
    return f"{digest}@regwatch"


@dataclass(frozen=True)
class CalendarDeadline:
    subscriber_id: str
    notice: NoticeSummary
    matches: Sequence[Match]
    due_on: date
    updated_at: datetime


def _names(matches: Iterable[Match]) -> str:
    return ", ".join(dict.fromkeys(m.entity.name for m in matches))


def event_lines(item: CalendarDeadline) -> list[str]:
    notice = item.notice
    summary = f"{notice.regulator.code} deadline: {_names(item.matches)}"
    description = [
        notice.title,
        f"Regulator: {notice.regulator.name} ({notice.regulator.code})",
        f"Published: {notice.published_on.isoformat()}",
    ]
    if notice.deadline is not None and notice.deadline.source_text.strip():
        description.append(f"Deadline in the notice: {notice.deadline.source_text.strip()}")
    for match in item.matches:
        description.append(f"- {match.entity.name} (watch {match.watch.name}): {match.reason}")
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event_uid(item.subscriber_id, notice.notice_id)}",
        f"DTSTAMP:{stamp(item.updated_at)}",
        f"LAST-MODIFIED:{stamp(item.updated_at)}",
        f"DTSTART;VALUE=DATE:{day(item.due_on)}",
        f"DTEND;VALUE=DATE:{day(item.due_on + timedelta(days=1))}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
        "TRANSP:TRANSPARENT",
        "STATUS:CONFIRMED",
    ]
    source = (notice.source_url or "").strip()
    if source.lower().startswith(("http://", "https://")) and not any(
        ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in source
    ):
        lines.append(f"URL:{source}")
    lines.append("END:VEVENT")
    return lines


def calendar(items: Iterable[CalendarDeadline], name: str = "regwatch deadlines") -> str:
    """The whole ``text/calendar`` document."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for item in items:
        lines.extend(event_lines(item))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
