"""How an email was composed and put on the wire before ``services/notifier/email.py`` wrote
the bytes itself (revision 7f1ba3c): an ``EmailMessage`` (default policy, ``set_content`` /
``add_alternative``), flattened by ``aiosmtplib``'s ``send_message`` (policy SMTP, or SMTPUTF8
for a non-ASCII address). The reference the composer is compared against in
``tests/services/notifier/test_email_bytes.py`` and measured against in
``bench/email_compose.py``. ``compose_before`` and its helpers are that revision's code
unchanged (copied, so later changes to the module do not move the reference)."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage

from aiosmtplib.email import extract_recipients, extract_sender, flatten_message

MESSAGE_ID_DOMAIN = "regwatch.local"

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII without ':'
_RESERVED_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}
)


def clean_header(value: str) -> str:
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
    if text.isascii() and all(len(line) <= 78 for line in text.splitlines()):
        return None
    non_ascii = sum(1 for char in text if ord(char) > 127)
    return "base64" if non_ascii * 3 > len(text) else "quoted-printable"


def compose_before(
    *,
    to: str,
    sender: str,
    subject: str,
    text: str,
    html: str,
    msg_id_header: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
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


def wire_before(message: EmailMessage) -> tuple[str | None, list[str], bytes]:
    """(MAIL FROM, RCPT TO, DATA) as ``aiosmtplib.SMTP.send_message`` sent ``message`` to a
    server offering 8BITMIME (the parts are never 8bit, so the bytes are the same without)."""
    sender = extract_sender(message)
    recipients = extract_recipients(message)
    utf8 = not (sender or "").isascii() or not "".join(recipients).isascii()
    return sender, recipients, flatten_message(message, utf8=utf8, cte_type="8bit")
