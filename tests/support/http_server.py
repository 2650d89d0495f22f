"""The HTTP/1.1 server under the test receivers (asyncio + h11 on 127.0.0.1, a free port):
keep-alive connections, each request read whole, answered by the subclass's :meth:`answer`."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import h11

HOST = "127.0.0.1"
READ_CHUNK = 65536


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


class H11Server:
    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = asyncio.Event()
        """Set when the server stops (an answer may wait for it: a request that hangs)."""

    async def answer(self, request: h11.Request, body: bytes) -> Answer | None:
        """The answer to one request; None closes the connection without one."""
        raise NotImplementedError

    async def start_serving(self) -> None:
        self._closing.clear()
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop_serving(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await _next_event(conn, reader)
                if not isinstance(request, h11.Request):
                    break
                body = bytearray()
                while True:
                    event = await _next_event(conn, reader)
                    if isinstance(event, h11.Data):
                        body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    else:
                        return
                answer = await self.answer(request, bytes(body))
                if answer is None:
                    return
                headers = [("content-length", str(len(answer.body))), *answer.headers]
                writer.write(conn.send(h11.Response(status_code=answer.status, headers=headers)))
                if answer.body:
                    writer.write(conn.send(h11.Data(data=answer.body)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (h11.ProtocolError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(READ_CHUNK))
            continue
        return event
