"""Email channel: composing alert and reminder messages, and sending them over SMTP.

Everything that comes from a notice (titles, names, reasons, links) is untrusted text: it is
HTML-escaped in the HTML part, and CR/LF and other control characters are removed from every
header value, so a notice can neither inject markup nor add mail headers.

Classification of one SMTP attempt: a 4xx reply, a timeout, a refused or dropped connection ->
retriable; a 5xx reply, a setup problem (STARTTLS or AUTH required but not offered) or an
unusable message -> permanent.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from html import escape
from typing import TYPE_CHECKING, Literal

import aiosmtplib

from services.notifier.webhook import SendResult
from shared.events import Deadline, Match, MatchEvent, NoticeSummary

if TYPE_CHECKING:
    from shared.settings import Settings

TlsMode = Literal["none", "starttls", "tls"]

PRODUCT = "regwatch"
SUBJECT_TITLE_MAX = 90
MESSAGE_ID_DOMAIN = "regwatch.local"

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII without ':'
_RESERVED_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}
)
_SAFE_SCHEMES = ("http://", "https://")

_RULES = {
    "absolute": "date set in the notice",
    "working_days": "{n} working days",
    "calendar_days": "{n} calendar days",
}


# --- composing ---------------------------------------------------------------------------


def clean_header(value: str) -> str:
    """``value`` on one line: CR, LF and other control characters become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _message_id(value: str | None) -> str:
    if value is None:
        return email.utils.make_msgid(domain=MESSAGE_ID_DOMAIN)
    cleaned = clean_header(value).replace(" ", "").strip("<>")
    if not cleaned:
        return email.utils.make_msgid(domain=MESSAGE_ID_DOMAIN)
    if "@" not in cleaned:
        cleaned = f"{cleaned}@{MESSAGE_ID_DOMAIN}"
    return f"<{cleaned}>"


def _transfer_encoding(text: str) -> str | None:
    """7bit when possible; otherwise the smaller of base64 and quoted-printable (never 8bit,
    so the message passes servers without 8BITMIME)."""
    if text.isascii() and all(len(line) <= 78 for line in text.splitlines()):
        return None
    non_ascii = sum(1 for char in text if ord(char) > 127)
    return "base64" if non_ascii * 3 > len(text) else "quoted-printable"


def compose(
    *,
    to: str,
    sender: str,
    subject: str,
    text: str,
    html: str,
    msg_id_header: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message (text/plain, then text/html; UTF-8).

    ``msg_id_header`` becomes the Message-ID (``<...>`` and a domain added when missing;
    generated when None). ``headers`` adds or replaces other headers (not the MIME ones).
    Every header value is put on one line (CR/LF removed), so no value can add headers.
    """
    message = EmailMessage()
    message["From"] = clean_header(sender)
    message["To"] = clean_header(to)
    message["Subject"] = clean_header(subject)
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    message["Message-ID"] = _message_id(msg_id_header)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"bad email header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"email header {name!r} is set by compose() itself")
        del message[name]
        message[name] = clean_header(value)
    message.set_content(text, charset="utf-8", cte=_transfer_encoding(text))
    message.add_alternative(html, subtype="html", charset="utf-8", cte=_transfer_encoding(html))
    return message


# --- rendering ---------------------------------------------------------------------------


def _shorten(text: str, limit: int) -> str:
    flat = clean_header(text)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _safe_link(url: str | None) -> str | None:
    """Only http(s) links are shown as links (no javascript:, data: ...)."""
    if url and url.strip().lower().startswith(_SAFE_SCHEMES):
        return clean_header(url.strip())
    return None


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _regulator(notice: NoticeSummary) -> str:
    return f"{notice.regulator.name} ({notice.regulator.code})"


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


def _describe_match(match: Match) -> tuple[str, str]:
    entity = match.entity.name
    if match.entity.developer:
        entity += f" (developer: {match.entity.developer})"
    watch = f"your {match.watch.kind} watch “{match.watch.name}”, score {match.score:.2f}"
    return entity, watch


def _days_phrase(days: int) -> str:
    if days > 0:
        return f"{_plural(days, 'day')} left"
    if days == 0:
        return "due today"
    return f"overdue by {_plural(-days, 'day')}"


def _names(matches: Sequence[Match], limit: int = 3) -> str:
    names = list(dict.fromkeys(match.entity.name for match in matches))
    shown = ", ".join(names[:limit])
    return shown + (f" +{len(names) - limit} more" if len(names) > limit else "")


def _text(
    intro: str, notice: NoticeSummary, matches: Sequence[Match], public_url: str | None
) -> str:
    lines = [intro, ""]
    lines.append(f"Notice:     {clean_header(notice.title)}")
    lines.append(f"Regulator:  {_regulator(notice)}")
    lines.append(f"Published:  {notice.published_on.isoformat()}")
    if notice.batch:
        lines.append(f"Batch:      {clean_header(notice.batch)}")
    lines.append(f"Deadline:   {describe_deadline(notice.deadline)}")
    lines.append(f"Source:     {_safe_link(notice.source_url) or 'no source link given'}")
    lines += ["", f"Matches ({len(matches)}):"]
    for match in matches:
        entity, watch = _describe_match(match)
        lines.append(f"  - {clean_header(entity)}")
        lines.append(f"    matched {clean_header(watch)}")
        lines.append(f"    reason: {clean_header(match.reason)}")
    lines.append("")
    link = _safe_link(public_url)
    if link:
        lines.append(f"Manage your watchlist and alerts: {link}")
    lines.append(f"-- {PRODUCT} · notice id {notice.notice_id}")
    return "\n".join(lines) + "\n"


def _html(
    heading: str,
    intro: str,
    notice: NoticeSummary,
    matches: Sequence[Match],
    public_url: str | None,
) -> str:
    def row(label: str, value_html: str) -> str:
        return (
            f'<tr><th align="left" valign="top" style="padding:2px 12px 2px 0">{label}</th>'
            f"<td>{value_html}</td></tr>"
        )

    source = _safe_link(notice.source_url)
    source_html = (
        f'<a href="{escape(source, quote=True)}">{escape(source)}</a>'
        if source
        else "no source link given"
    )
    rows = [
        row("Notice", escape(notice.title)),
        row("Regulator", escape(_regulator(notice))),
        row("Published", escape(notice.published_on.isoformat())),
    ]
    if notice.batch:
        rows.append(row("Batch", escape(notice.batch)))
    rows.append(row("Deadline", escape(describe_deadline(notice.deadline))))
    rows.append(row("Source", source_html))
    items = []
    for match in matches:
        entity, watch = _describe_match(match)
        items.append(
            f"<li><strong>{escape(entity)}</strong><br>matched {escape(watch)}<br>"
            f"reason: {escape(match.reason)}</li>"
        )
    link = _safe_link(public_url)
    manage = (
        f'<p><a href="{escape(link, quote=True)}">Manage your watchlist and alerts</a></p>'
        if link
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(heading)}</title></head>\n"
        '<body style="font-family:sans-serif;line-height:1.4">\n'
        f"<h2>{escape(heading)}</h2>\n<p>{escape(intro)}</p>\n"
        f"<table>{''.join(rows)}</table>\n"
        f"<h3>Matches ({len(matches)})</h3>\n<ul>{''.join(items)}</ul>\n"
        f"{manage}\n"
        f'<p style="color:#777;font-size:small">{PRODUCT} · notice id '
        f"{escape(notice.notice_id)}</p>\n</body></html>\n"
    )


def render_match_email(event: MatchEvent, public_url: str | None) -> tuple[str, str, str]:
    """(subject, text, html) of a ``notice.matched`` alert: one per (subscriber, notice)."""
    notice = event.notice
    code = clean_header(notice.regulator.code)
    count = len(event.matches)
    subject = (
        f"[{PRODUCT}] {code} named {_names(event.matches)}: "
        f"{_shorten(notice.title, SUBJECT_TITLE_MAX)}"
    )
    intro = f"A notice from {_regulator(notice)} names {_plural(count, 'item')} on your watchlist."
    heading = f"{code} named {_plural(count, 'watched item')}"
    text = _text(intro, notice, event.matches, public_url)
    html = _html(heading, intro, notice, event.matches, public_url)
    return clean_header(subject), text, html


def render_reminder_email(
    notice: NoticeSummary,
    matches: list[Match],
    offset: str,
    days_left: int,
    public_url: str | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of a ``deadline.reminder`` (offset label such as ``"7d"``)."""
    code = clean_header(notice.regulator.code)
    due = notice.deadline.due_on.isoformat() if notice.deadline else "no date"
    phrase = _days_phrase(days_left)
    subject = (
        f"[{PRODUCT}] Reminder: {phrase} - {code} deadline {due}: "
        f"{_shorten(notice.title, SUBJECT_TITLE_MAX)}"
    )
    intro = (
        f"Reminder ({clean_header(offset)} before the deadline): the rectification deadline of "
        f"this {notice.regulator.code} notice is {due} ({phrase}). It names "
        f"{_plural(len(matches), 'item')} on your watchlist."
    )
    heading = f"Deadline {due}: {phrase}"
    text = _text(intro, notice, matches, public_url)
    html = _html(heading, intro, notice, matches, public_url)
    return clean_header(subject), text, html


# --- sending -----------------------------------------------------------------------------


def _classify_code(code: int, message: str) -> tuple[bool, str]:
    """(retriable, error) of an SMTP reply: 4xx (and unknown) retriable, 5xx permanent."""
    error = f"SMTP {code} {clean_header(message)}".strip()
    return not (500 <= code < 600), error


class EmailSender:
    """Sends one message per call over a fresh SMTP connection (aiosmtplib)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: TlsMode = "none",
        timeout: float = 30.0,
        validate_certs: bool = True,
    ) -> None:
        if tls not in ("none", "starttls", "tls"):
            raise ValueError(f"smtp tls mode must be none, starttls or tls, not {tls!r}")
        if timeout <= 0:
            raise ValueError("smtp timeout must be positive")
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls: TlsMode = tls
        self.timeout = timeout
        self.validate_certs = validate_certs

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 30.0) -> EmailSender:
        """From ``REGWATCH_SMTP_*``; an unset host means the embedded sink on 127.0.0.1."""
        return cls(
            settings.smtp_host or "127.0.0.1",
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            timeout=timeout,
        )

    async def send(self, message: EmailMessage) -> SendResult:
        """Send ``message``; ``timeout`` bounds the whole attempt. Never raises for delivery
        errors: the result says whether retrying can help."""
        started = time.perf_counter()

        def result(
            ok: bool, retriable: bool, error: str | None, code: int | None = None
        ) -> SendResult:
            elapsed = (time.perf_counter() - started) * 1000.0
            return SendResult(ok, retriable, code, error, None, round(elapsed, 3))

        try:
            async with asyncio.timeout(self.timeout):
                refused, _reply = await aiosmtplib.send(
                    message,
                    hostname=self.host,
                    port=self.port,
                    username=self.username,
                    password=self.password,
                    use_tls=self.tls == "tls",
                    start_tls=self.tls == "starttls",
                    validate_certs=self.validate_certs,
                    timeout=self.timeout,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [item.code for item in exc.recipients]
            retriable = any(not 500 <= code < 600 for code in codes)
            details = "; ".join(
                f"{item.recipient}: {item.code} {clean_header(item.message)}"
                for item in exc.recipients
            )
            return result(False, retriable, f"recipient refused: {details}", min(codes or [0]))
        except aiosmtplib.SMTPResponseException as exc:
            retriable, error = _classify_code(exc.code, exc.message)
            return result(False, retriable, error, exc.code)
        except aiosmtplib.SMTPNotSupported as exc:
            return result(False, False, f"SMTP server does not support it: {exc.message}")
        except (aiosmtplib.SMTPTimeoutError, TimeoutError):
            return result(False, True, f"SMTP timed out after {self.timeout:g}s")
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as exc:
            return result(False, True, f"SMTP connection failed: {type(exc).__name__}: {exc}")
        except aiosmtplib.SMTPException as exc:
            # aiosmtplib raises the bare class for setup problems: STARTTLS or AUTH not
            # offered, no usable AUTH method. Retrying the same settings cannot help.
            return result(False, False, f"SMTP setup problem: {exc}")
        except ValueError as exc:  # e.g. no recipients or a malformed address in the message
            return result(False, False, f"unusable email message: {exc}")
        if refused:
            details = "; ".join(
                f"{rcpt}: {reply.code} {clean_header(reply.message)}"
                for rcpt, reply in refused.items()
            )
            return result(True, False, f"some recipients refused: {details}", 250)
        return result(True, False, None, 250)
