"""Real receiving servers for tests: an HTTP webhook receiver and an SMTP server.

Both listen on 127.0.0.1 on a free port, record what they receive and answer from a
programmable script, so delivery code is exercised over real TCP connections.

    async with WebhookReceiver(plan=[503, 503, 200]) as hooks:
        ...  # POST to hooks.url
        (first,) = await hooks.wait_for(1)

    async with SmtpReceiver(plan=["451 4.3.0 try later"]) as smtp:
        ...  # send to 127.0.0.1:smtp.port
        (message,) = await smtp.wait_for(1)
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import h11
from aiosmtpd.controller import Controller

from tests.support.http_server import HOST, Answer, H11Server

STOP_TIMEOUT = 15.0


# --- HTTP webhooks -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering
    hang: bool = False  # never answer (until the receiver stops)
    drop: bool = False  # close the connection without any answer


Step = int | Reply


def _reply(step: Step) -> Reply:
    return step if isinstance(step, Reply) else Reply(status=step)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names; the last value wins
    raw_headers: list[tuple[str, str]]
    body: bytes
    received_at: float  # time.time()
    reply: Reply

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver(H11Server):
    """A real HTTP/1.1 server (asyncio + h11) that records requests and answers from a plan.

    ``plan`` is consumed request by request (ints are status codes, or :class:`Reply`);
    ``plans`` maps a ``webhook-id`` to its own plan, consumed by requests with that id. When a
    plan is used up, ``default`` answers. ``hang=True`` makes every request hang.
    """

    def __init__(
        self,
        plan: Sequence[Step] | None = None,
        *,
        plans: Mapping[str, Sequence[Step]] | None = None,
        default: Step = 200,
        hang: bool = False,
        path: str = "/hook",
    ) -> None:
        self._plan: deque[Step] = deque(plan or [])
        self._plans: dict[str, deque[Step]] = {k: deque(v) for k, v in (plans or {}).items()}
        self.default: Reply = Reply(hang=True) if hang else _reply(default)
        self.path = path
        self.requests: list[RecordedRequest] = []
        self._changed = asyncio.Event()
        super().__init__()

    # lifecycle

    async def start(self) -> WebhookReceiver:
        await self.start_serving()
        return self

    async def stop(self) -> None:
        await self.stop_serving()

    async def __aenter__(self) -> WebhookReceiver:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # use

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def set_plan(self, plan: Sequence[Step], webhook_id: str | None = None) -> None:
        """Replace the global plan, or the plan of one webhook id."""
        if webhook_id is None:
            self._plan = deque(plan)
        else:
            self._plans[webhook_id] = deque(plan)

    def for_id(self, webhook_id: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.webhook_id == webhook_id]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:  # noqa: ASYNC109
        """Wait until at least ``count`` requests arrived; returns them all."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.requests) < count:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"webhook receiver got {len(self.requests)} requests, expected {count} "
                f"within {timeout}s"
            ) from None
        return list(self.requests)

    # serving

    def _next_reply(self, webhook_id: str | None) -> Reply:
        queue = self._plans.get(webhook_id) if webhook_id is not None else None
        if queue:
            return _reply(queue.popleft())
        if self._plan:
            return _reply(self._plan.popleft())
        return self.default

    async def answer(self, request: h11.Request, body: bytes) -> Answer | None:
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers]
        headers = {name.lower(): value for name, value in raw}
        reply = self._next_reply(headers.get("webhook-id"))
        self.requests.append(
            RecordedRequest(
                method=request.method.decode("ascii"),
                path=request.target.decode("latin-1"),
                headers=headers,
                raw_headers=raw,
                body=body,
                received_at=time.time(),
                reply=reply,
            )
        )
        self._changed.set()
        if reply.hang:
            await self._closing.wait()
            return None
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            return None
        content_type = ("content-type", "text/plain; charset=utf-8")
        return Answer(reply.status, [content_type, *reply.headers.items()], reply.body)


# --- SMTP --------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One DATA transaction, accepted or not."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    reply: str

    @property
    def accepted(self) -> bool:
        return self.reply.startswith("2")


class _BoundController(Controller):
    """aiosmtpd's Controller on an already bound socket (so port 0 = a free port works)."""

    def __init__(self, handler: Any, sock: socket.socket) -> None:
        self._sock = sock
        super().__init__(handler, hostname=HOST, port=sock.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class _SmtpHandler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.receiver._take(self.receiver._rcpt_plan)
        if reply is not None and not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content or b"")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        reply = self.receiver._take(self.receiver._plan) or "250 2.0.0 OK: queued"
        mail = ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw, reply)
        self.receiver._record(mail)
        return reply


class SmtpReceiver:
    """A real SMTP server (aiosmtpd Controller, own thread) on 127.0.0.1 and a free port.

    ``plan`` lists replies to DATA, used one per message (e.g. ``"451 4.3.0 try later"``,
    ``"550 5.7.1 rejected"``); when used up, messages are accepted. ``rcpt_plan`` does the same
    for RCPT TO. ``.messages`` holds accepted messages (parsed EmailMessage), ``.received``
    every DATA transaction with its envelope and reply. Use as a sync or async context manager.
    ``port`` picks the port to listen on (e.g. one a client was already told about, to start
    the server after an outage); 0, the default, takes a free one.
    """

    def __init__(
        self,
        plan: Sequence[str] | None = None,
        *,
        rcpt_plan: Sequence[str] | None = None,
        port: int = 0,
    ) -> None:
        self._plan: deque[str] = deque(plan or [])
        self._rcpt_plan: deque[str] = deque(rcpt_plan or [])
        self._lock = threading.Lock()
        self.received: list[ReceivedMail] = []
        self.host = HOST
        self._bind_port = port
        self.port = port
        self._controller: _BoundController | None = None

    def _take(self, queue: deque[str]) -> str | None:
        with self._lock:
            return queue.popleft() if queue else None

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self.received.append(mail)

    def set_plan(self, plan: Sequence[str]) -> None:
        with self._lock:
            self._plan = deque(plan)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [mail.message for mail in self.received if mail.accepted]

    @property
    def accepted(self) -> list[ReceivedMail]:
        with self._lock:
            return [mail for mail in self.received if mail.accepted]

    # lifecycle

    def start(self) -> SmtpReceiver:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self._bind_port))
        self.port = sock.getsockname()[1]
        self._controller = _BoundController(_SmtpHandler(self), sock)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> SmtpReceiver:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(self.stop), STOP_TIMEOUT)
        except TimeoutError:
            raise AssertionError(
                f"SMTP receiver did not stop within {STOP_TIMEOUT}s: "
                "a client (an EmailSender pool?) kept a session open"
            ) from None

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:  # noqa: ASYNC109
        """Wait until at least ``count`` messages were accepted; returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count:
                return messages
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"SMTP receiver accepted {len(messages)} messages, expected {count} "
                    f"within {timeout}s"
                )
            await asyncio.sleep(0.01)
