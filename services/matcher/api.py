"""Subscriber API: create subscribers, manage their watch items (API key per subscriber)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from services.matcher.store import add_watch, list_watches, remove_watch
from shared.accounts import Subscriber, register_subscriber
from shared.db import Database
from shared.errors import InputError
from shared.http import app_db, app_settings, current_subscriber, require_admin
from shared.settings import Settings


class SubscriberIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    webhook_url: str | None = Field(default=None, max_length=2048)
    reminders: str | None = Field(default=None, description="offsets such as 7d,3d,1d")


class WatchIn(BaseModel):
    kind: Literal["app", "company"]
    name: str = Field(min_length=1, max_length=300)


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["subscribers"])

    @router.post("/subscribers", status_code=201, dependencies=[Depends(require_admin)])
    async def create(
        body: SubscriberIn,
        db: Annotated[Database, Depends(app_db)],
        settings: Annotated[Settings, Depends(app_settings)],
    ) -> dict[str, Any]:
        """Create a subscriber; the answer holds its API key and webhook secret, shown once."""
        try:
            async with db.session() as session:
                created = await register_subscriber(
                    session,
                    name=body.name,
                    email=body.email,
                    webhook_url=body.webhook_url,
                    reminders=body.reminders,
                    default_reminders=settings.default_reminders,
                    allow_private=settings.webhook_allow_private,
                )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        return created.as_dict()

    @router.get("/subscribers/me")
    async def me(subscriber: Annotated[Subscriber, Depends(current_subscriber)]) -> dict[str, Any]:
        return {
            "id": subscriber.id,
            "name": subscriber.name,
            "email": subscriber.email,
            "webhook_url": subscriber.webhook_url,
            "reminders": subscriber.reminders,
            "timezone": subscriber.timezone,
        }

    @router.post("/watches", status_code=201)
    async def create_watch(
        body: WatchIn,
        db: Annotated[Database, Depends(app_db)],
        subscriber: Annotated[Subscriber, Depends(current_subscriber)],
    ) -> dict[str, Any]:
        try:
            async with db.session() as session:
                row = await add_watch(session, subscriber.id, body.kind, body.name)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        return {"id": row.id, "kind": row.kind, "name": row.name}

    @router.get("/watches")
    async def watches(
        db: Annotated[Database, Depends(app_db)],
        subscriber: Annotated[Subscriber, Depends(current_subscriber)],
    ) -> list[dict[str, Any]]:
        async with db.session() as session:
            rows = await list_watches(session, subscriber.id)
        return [{"id": row.id, "kind": row.kind, "name": row.name} for row in rows]

    @router.delete("/watches/{watch_id}", status_code=204)
    async def delete_watch(
        watch_id: int,
        db: Annotated[Database, Depends(app_db)],
        subscriber: Annotated[Subscriber, Depends(current_subscriber)],
    ) -> None:
        async with db.session() as session:
            removed = await remove_watch(session, subscriber.id, watch_id)
        if not removed:
            raise HTTPException(404, f"no watch item {watch_id} for this subscriber")

    return router
