"""Email channel: composing messages and sending them over SMTP through a small pool of
reused connections (the content comes from ``render.py``).

:func:`compose` writes the message's bytes directly (a :class:`ComposedEmail`: envelope and
bytes), which ``EmailSender`` sends as they are, instead of building an
``email.message.EmailMessage`` that the SMTP client flattened again: the same headers and MIME
structure (multipart/alternative, text/plain then text/html, UTF-8, each part 7bit,
quoted-printable or base64, never 8bit) for about a twentieth of the CPU
(``bench/email_compose.py``). Header values are ASCII: a subject, and any other value with
text that is not ASCII, get RFC 2047 encoded words (UTF-8, base64) on lines of at most 78
characters; a bare address is written as given, any other From or To is parsed by the
standard library's header registry once and remembered. ``List-Unsubscribe`` and the other
ASCII headers are written as given (never as encoded words, which mail apps do not read
there), folded at spaces. Only an address that is not ASCII makes the message SMTPUTF8 (as
``aiosmtplib``'s ``send_message`` decided before).

CR/LF and other control characters are removed from every header value, so notice text can
never add mail headers.

Classification of one SMTP attempt: a 4xx reply, a timeout, a refused or dropped connection ->
retriable; a 5xx reply, a setup problem (STARTTLS or AUTH required but not offered) or an
unusable message -> permanent.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.policy
import email.utils
import random
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import aiosmtplib

from services.notifier.webhook import SendResult

if TYPE_CHECKING:
    from shared.settings import Settings

TlsMode = Literal["none", "starttls", "tls"]

MESSAGE_ID_DOMAIN = "regwatch.local"

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII without ':'
_RESERVED_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}
)
_ENVELOPE_HEADERS = frozenset({"from", "to", "cc", "bcc", "sender"})
"""Set by compose() from its arguments alone: they decide where the message goes."""

_LINE = 78
"""Header lines are folded to at most this many characters (RFC 5322's recommendation)."""
_LONGEST_WORD = 900
"""A longer word of a header other than the subject is encoded (its line could pass 998)."""
_EW_PREFIX = "=?utf-8?b?"
_EW_OVERHEAD = len(_EW_PREFIX) + len("?=")
_EW_MAX = 75
"""The longest encoded word RFC 2047 allows."""
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/?^_`{|}~-]+)*")
_PLAIN_ADDRESS = re.compile(rf"{_DOT_ATOM.pattern}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
"""A bare ASCII address (no display name, no ``=``): the header registry writes it as given."""
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))

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
    if text.isascii() and max(map(len, text.splitlines()), default=0) <= 78:
        return None
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return "base64" if non_ascii * 3 > len(text) else "quoted-printable"


def _body(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, encoded body with LF line ends) of one text part: lines
    joined with LF and ended with one, as ``EmailMessage.set_content`` does."""
    lines = text.encode().splitlines()
    normal = b"\n".join(lines) + b"\n"
    cte = _transfer_encoding(text)
    if cte is None and max((len(line) for line in lines), default=0) <= _LINE:
        return "7bit", normal
    if cte == "base64":
        return "base64", base64.encodebytes(normal)  # 76 characters a line
    # quoted-printable (lines of at most 76 characters); also ASCII text whose lines only
    # look short to str.splitlines (a form feed is no line break in a mail body)
    return "quoted-printable", binascii.b2a_qp(normal, istext=True)


def _encoded_word_end(data: bytes, start: int, room: int) -> int:
    """Where the longest run of whole UTF-8 characters from ``start`` ends whose encoded word
    is at most ``room`` characters long (``start`` when not even one fits)."""
    end = min(start + max(0, room - _EW_OVERHEAD) // 4 * 3, len(data))
    while start < end < len(data) and data[end] & 0xC0 == 0x80:  # inside a character
        end -= 1
    return end


def _fold(name: str, value: str, *, text: bool) -> str:
    """``name: value`` and CRLF, folded at spaces to lines of at most 78 characters where
    the words allow. Words that are not ASCII (in the subject, ``text``, also words that
    look like encoded words or do not fit on a line; elsewhere words too long for a line of
    998) are written, from the first such word to the last, as RFC 2047 encoded words; the
    rest stay as they are."""
    words = value.split(" ") if value else []
    if text:
        plain = [w.isascii() and "=?" not in w and len(w) < _LINE for w in words]
    else:
        plain = [w.isascii() and len(w) <= _LONGEST_WORD for w in words]
    if all(plain):
        first, last = len(words), len(words)
    else:
        first = plain.index(False)
        last = len(plain) - plain[::-1].index(False)
    out = [name, ":"]
    width = len(name) + 1

    def put(token: str) -> None:
        nonlocal width
        if width + 1 + len(token) > _LINE and len(out) > 2:
            out.append("\r\n")
            width = 0
        out.append(" " + token)
        width += 1 + len(token)

    for word in words[:first]:
        put(word)
    if first < last:  # the encoded span: its spaces go inside the encoded words
        data = " ".join(words[first:last]).encode()
        start = 0
        while start < len(data):
            end = _encoded_word_end(data, start, min(_EW_MAX, _LINE - width - 1))
            if end == start:  # not even one character fits on this line
                out.append("\r\n")
                width = 0
                end = _encoded_word_end(data, start, _EW_MAX)
            word = _EW_PREFIX + binascii.b2a_base64(data[start:end], newline=False).decode()
            out.append(" " + word + "?=")
            width += 1 + len(word) + 2
            start = end
    for word in words[last:]:
        put(word)
    out.append("\r\n")
    return "".join(out)


@lru_cache(maxsize=4096)
def _address_header(name: str, value: str) -> tuple[str, tuple[str, ...], bool]:
    """(the header as written, its addresses, whether one of them is not ASCII) of an address
    header: a bare ASCII address as it is, anything else through the header registry (display
    names encoded when not ASCII; raw UTF-8 for an address that is not ASCII, SMTPUTF8)."""
    if len(name) + 2 + len(value) <= _LINE and _PLAIN_ADDRESS.fullmatch(value):
        return f"{name}: {value}\r\n", (value,), False
    header = email.policy.SMTP.header_factory(name, value)
    addresses = tuple(address.addr_spec for address in header.addresses)
    utf8 = not all(address.isascii() for address in addresses)
    policy = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP
    return policy.fold(name, header), addresses, utf8


def _boundary(parts: tuple[bytes, ...]) -> str:
    """A boundary of the standard library's shape that no part contains."""
    while True:
        boundary = f"==============={random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}=="
        if not any(boundary.encode() in part for part in parts):
            return boundary


@dataclass(frozen=True)
class ComposedEmail:
    """One message ready for SMTP: its envelope and its bytes (CRLF line ends, ASCII unless
    an address is not, then ``utf8``: SMTPUTF8). ``headers`` are the top-level headers as
    given (cleaned, not encoded), for reading; ``sender`` is None, or ``recipients`` empty,
    when From or To names no address (``EmailSender.send`` then fails it for good)."""

    sender: str | None
    recipients: tuple[str, ...]
    data: bytes
    utf8: bool
    headers: tuple[tuple[str, str], ...]

    def __getitem__(self, name: str) -> str | None:
        """The first header called ``name`` (any case), as given, or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def as_bytes(self) -> bytes:
        """The message with LF line ends, as ``EmailMessage.as_bytes()`` gives it (for a file
        or a parser); ``data`` is what SMTP carries (CRLF)."""
        return self.data.replace(b"\r\n", b"\n")


def compose(
    *,
    to: str,
    sender: str,
    subject: str,
    text: str,
    html: str,
    msg_id_header: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ComposedEmail:
    """A multipart/alternative message (text/plain, then text/html; UTF-8).

    ``msg_id_header`` becomes the Message-ID (``<...>`` and a domain added when missing;
    generated when None). ``headers`` adds or replaces other headers (not the MIME ones, nor
    From, To, Cc, Bcc or Sender, which decide where it goes; a replaced header moves to the
    end). Every header value is put on one line (CR/LF removed), so no value can add headers.
    """
    fields = [
        ("From", clean_header(sender)),
        ("To", clean_header(to)),
        ("Subject", clean_header(subject)),
        ("Date", email.utils.format_datetime(datetime.now(UTC))),
        ("Message-ID", _message_id(msg_id_header)),
        ("Auto-Submitted", "auto-generated"),
    ]
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"bad email header name {name!r}")
        lowered = name.lower()
        if lowered in _RESERVED_HEADERS or lowered in _ENVELOPE_HEADERS:
            raise ValueError(f"email header {name!r} is set by compose() itself")
        fields = [field for field in fields if field[0].lower() != lowered]
        fields.append((name, clean_header(value)))
    written = []
    envelope: dict[str, tuple[str, ...]] = {}
    utf8 = False
    for name, value in fields:
        lowered = name.lower()
        if lowered in ("from", "to", "reply-to"):
            line, addresses, wide = _address_header(name, value)
            envelope[lowered] = addresses
            utf8 = utf8 or wide
        else:
            line = _fold(name, value, text=lowered == "subject")
        written.append(line)
    text_cte, text_body = _body(text)
    html_cte, html_body = _body(html)
    boundary = _boundary((text_body, html_body))
    head = "".join(written).encode("utf-8" if utf8 else "ascii")
    data = b"".join(
        (
            head,
            b"MIME-Version: 1.0\r\n",
            f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'.encode(),
            f"--{boundary}\r\n".encode(),
            f'Content-Type: text/plain; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {text_cte}\r\n\r\n".encode(),
            text_body.replace(b"\n", b"\r\n"),
            f"\r\n--{boundary}\r\n".encode(),
            f'Content-Type: text/html; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {html_cte}\r\n\r\n".encode(),
            html_body.replace(b"\n", b"\r\n"),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )
    senders = envelope.get("from", ())
    return ComposedEmail(
        sender=senders[0] if senders else None,
        recipients=envelope.get("to", ()),
        data=data,
        utf8=utf8,
        headers=tuple(fields),
    )


# --- sending -----------------------------------------------------------------------------

_UTF8_OPTIONS = ("SMTPUTF8", "BODY=8BITMIME")
"""MAIL FROM options of a message with a non-ASCII address (and so UTF-8 headers): a server
that offers SMTPUTF8 offers 8BITMIME too (RFC 6531). Other messages are 7-bit ASCII."""


def _classify_code(code: int, message: str) -> tuple[bool, str]:
    """(retriable, error) of an SMTP reply: 4xx (and unknown) retriable, 5xx permanent."""
    error = f"SMTP {code} {clean_header(message)}".strip()
    return not (500 <= code < 600), error


@dataclass
class _Pooled:
    client: aiosmtplib.SMTP
    idle_since: float


class EmailSender:
    """Sends messages over SMTP (aiosmtplib), reusing up to ``connections`` open connections.

    A connection goes back to the pool after a message was accepted and is reused for the
    next one (checked with NOOP when it has been idle a while); after any failure it is closed,
    so a half-finished SMTP transaction never carries over. Idle connections older than
    ``idle_timeout`` are closed. ``opened`` counts the connections made (for tests and logs).
    """

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
        connections: int = 4,
        idle_timeout: float = 30.0,
        check_after: float = 2.0,
    ) -> None:
        if tls not in ("none", "starttls", "tls"):
            raise ValueError(f"smtp tls mode must be none, starttls or tls, not {tls!r}")
        if timeout <= 0:
            raise ValueError("smtp timeout must be positive")
        if connections < 1:
            raise ValueError("smtp connections must be at least 1")
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls: TlsMode = tls
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.connections = connections
        self.idle_timeout = idle_timeout
        self.check_after = check_after
        self.opened = 0
        self._idle: list[_Pooled] = []
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float | None = None) -> EmailSender:
        """From ``REGWATCH_SMTP_*``; an unset host means the embedded sink on 127.0.0.1."""
        return cls(
            settings.smtp_host or "127.0.0.1",
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            timeout=timeout or settings.webhook_timeout,
            connections=settings.smtp_connections,
        )

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.connections)
        return self._slots

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls == "tls",
            start_tls=self.tls == "starttls",
            validate_certs=self.validate_certs,
            timeout=self.timeout,
        )
        await client.connect()
        self.opened += 1
        return client

    @staticmethod
    def _discard(client: aiosmtplib.SMTP) -> None:
        with contextlib.suppress(Exception):
            client.close()

    async def _checkout(self) -> aiosmtplib.SMTP:
        """An idle connection that still answers, or a new one."""
        now = time.monotonic()
        while self._idle:
            pooled = self._idle.pop()
            age = now - pooled.idle_since
            if age > self.idle_timeout or not pooled.client.is_connected:
                await self._quit(pooled.client)
                continue
            if age > self.check_after:
                try:
                    await pooled.client.noop()
                except (aiosmtplib.SMTPException, OSError):
                    self._discard(pooled.client)
                    continue
            return pooled.client
        return await self._connect()

    @staticmethod
    async def _quit(client: aiosmtplib.SMTP) -> None:
        try:
            async with asyncio.timeout(2):
                await client.quit()
        except Exception:
            EmailSender._discard(client)

    async def aclose(self) -> None:
        """Close the idle connections (QUIT)."""
        idle, self._idle = self._idle, []
        for pooled in idle:
            await self._quit(pooled.client)

    async def send(self, message: ComposedEmail) -> SendResult:
        """Send ``message`` (its bytes as they are, ``sendmail``: nothing is flattened
        again); ``timeout`` bounds the whole attempt (waiting for a free connection
        included). Never raises for delivery errors: the result says whether retrying can
        help."""
        started = time.perf_counter()

        def result(
            ok: bool, retriable: bool, error: str | None, code: int | None = None
        ) -> SendResult:
            elapsed = (time.perf_counter() - started) * 1000.0
            return SendResult(ok, retriable, code, error, None, round(elapsed, 3))

        client: aiosmtplib.SMTP | None = None
        ok = False
        try:
            async with asyncio.timeout(self.timeout), self._semaphore():
                client = await self._checkout()
                if message.sender is None:
                    raise ValueError("No From header provided in message")
                if not message.recipients:
                    raise ValueError("No recipient headers provided in message")
                refused, _reply = await client.sendmail(
                    message.sender,
                    list(message.recipients),
                    message.data,
                    mail_options=_UTF8_OPTIONS if message.utf8 else (),
                )
                ok = True
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
        finally:
            if client is not None:
                if ok:  # accepted: the connection goes back to the pool
                    self._idle.append(_Pooled(client, time.monotonic()))
                else:  # never reuse a connection after a failure
                    self._discard(client)
        if refused:
            details = "; ".join(
                f"{rcpt}: {reply.code} {clean_header(reply.message)}"
                for rcpt, reply in refused.items()
            )
            return result(True, False, f"some recipients refused: {details}", 250)
        return result(True, False, None, 250)
