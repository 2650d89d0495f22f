"""The embedded mail sink: a local SMTP server that keeps every message as a ``.eml`` file.

Files are named ``<UTC time>-<n>.eml`` (``20261122T101500Z-000001.eml``), so a plain listing is
in arrival order; any mail program opens them. Two headers are added on top of the message as
received: ``X-Envelope-From`` and ``X-Envelope-To`` (Bcc recipients show up there).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.embedded.lifecycle import AsyncLifecycle
from shared.embedded.ports import free_port

__all__ = ["MailSink"]


def _header_value(values: list[str]) -> str:
    # Envelope addresses cannot carry CR/LF, but do not trust the client with header injection.
    return ", ".join(v.replace("\r", "").replace("\n", "") for v in values)


class _Store:
    """aiosmtpd handler: writes each message atomically into ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def save(self, envelope: Envelope) -> Path:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, str) and not raw:  # pragma: no cover - decode_data=True
            raw = envelope.content.encode()
        head = (
            f"X-Envelope-From: {_header_value([envelope.mail_from or ''])}\r\n"
            f"X-Envelope-To: {_header_value(list(envelope.rcpt_tos))}\r\n"
        ).encode()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        with self._lock:
            while True:
                path = self.directory / f"{stamp}-{next(self._counter):06d}.eml"
                tmp = path.with_suffix(".eml.tmp")
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    continue
                if path.exists():
                    os.close(fd)
                    tmp.unlink()
                    continue
                with os.fdopen(fd, "wb") as fh:
                    fh.write(head + raw)
                os.replace(tmp, path)
                return path

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.save(envelope)
        return "250 Message accepted for delivery"


class MailSink(AsyncLifecycle):
    """SMTP server on ``host:port`` (``port=None``: a free port) storing mail in ``directory``.

    ``directory`` is the mail folder itself; regwatch passes ``settings.mail_dir``
    (``<data_dir>/mail``). aiosmtpd serves from a thread of its own, so the sink works with any
    event loop: ``await start()``/``await stop()``, or ``start_sync()``/``stop_sync()`` and
    ``with MailSink(...)`` in code without one; ``async with`` works too.
    """

    def __init__(
        self, directory: Path | str, *, host: str = "127.0.0.1", port: int | None = None
    ) -> None:
        self.directory = Path(directory)
        self.host = host
        self._requested_port = port
        self._port: int | None = port
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the mail sink has not been started")
        return self._port

    @property
    def running(self) -> bool:
        return self._controller is not None

    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_sync)

    def start_sync(self) -> None:
        if self._controller is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        port = self._requested_port or free_port(self.host)
        controller = Controller(
            _Store(self.directory),
            hostname=self.host,
            port=port,
            server_hostname="regwatch-mailsink",
            enable_SMTPUTF8=True,
            ready_timeout=10.0,
        )
        controller.start()
        self._controller = controller
        self._port = port

    def stop_sync(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def messages(self) -> list[Path]:
        """Stored messages, oldest first."""
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("*.eml"))

    def __enter__(self) -> Self:
        self.start_sync()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_sync()

    def __repr__(self) -> str:
        where = f"{self.host}:{self._port}" if self._port else self.host
        return f"<MailSink {where} -> {self.directory}>"
