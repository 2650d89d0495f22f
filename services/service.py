"""What the runtime needs from a service: HTTP routers, Kafka handlers, start and stop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from shared.outbox import RelayLoop

if TYPE_CHECKING:
    from fastapi import APIRouter


class Service(Protocol):
    name: str

    def routers(self) -> list[APIRouter]: ...

    def outboxes(self) -> list[RelayLoop[Any]]:
        """The service's outbox relays (the runtime makes them keep what the embedded broker
        has not confirmed)."""

    async def start(self) -> None:
        """Called after the broker started (background tasks, catch-up work)."""

    async def stop(self) -> None: ...
