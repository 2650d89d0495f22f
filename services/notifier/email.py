"""Email channel: composing messages and sending them over SMTP through a small pool of
reused connections (the content comes from ``render.py``).

CR/LF and other control characters are removed from every header value, so notice text can
never add mail headers.

Classification of one SMTP attempt: a 4xx reply, a timeout, a refused or dropped connection ->
retriable; a 5xx reply, a setup problem (STARTTLS or AUTH required but not offered) or an
unusable message -> permanent.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
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


# --- sending -----------------------------------------------------------------------------


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

    async def send(self, message: EmailMessage) -> SendResult:
        """Send ``message``; ``timeout`` bounds the whole attempt (waiting for a free
        connection included). Never raises for delivery errors: the result says whether
        retrying can help."""
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
                refused, _reply = await client.send_message(message)
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
