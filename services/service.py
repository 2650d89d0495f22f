"""What the runtime needs from a service: HTTP routers, Kafka handlers, start and stop."""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter


class Service(Protocol):
    name: str

    def routers(self) -> list[APIRouter]: ...

    async def start(self) -> None:
        """Called after the broker started (background tasks, catch-up work)."""

    async def stop(self) -> None: ...
