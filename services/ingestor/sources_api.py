"""Feed sources over HTTP (operator token): ``GET /v1/sources``, ``POST /v1/sources``,
``PATCH /v1/sources/{id}`` (schedule, enabled) and ``DELETE /v1/sources/{id}``, the same
records ``regwatch sources ...`` shows and changes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from services.ingestor.feeds.sources import (
    add_source,
    all_sources,
    describe,
    item_counts,
    remove_source,
    set_schedule,
)
from services.ingestor.models import FeedSourceRow
from shared.db import Database
from shared.errors import InputError
from shared.http import (
    ADMIN,
    JSON_BODY,
    Responses,
    app_db,
    app_settings,
    error_response,
    require_admin,
)
from shared.poll_schedule import EXAMPLE
from shared.settings import Settings

SourceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the source's id")]
NOT_FOUND: Responses = {404: error_response("no feed source with this id")}
SCHEDULE = Field(
    default=None,
    max_length=300,
    description="when to poll: 'every 10m', or days and hours in a time zone with how often "
    "to poll outside them ('else every 2h' or 'else never'); null: the server's "
    "REGWATCH_FEED_SCHEDULE",
    examples=[EXAMPLE],
)


class NewSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="an RSS/Atom feed or an HTML list page")
    kind: Literal["auto", "rss", "atom", "html"] = "auto"
    name: str | None = Field(default=None, max_length=200, description="default the URL")
    schedule: str | None = SCHEDULE


class SourceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: str | None = SCHEDULE
    enabled: bool | None = Field(default=None, description="false: not polled until true")


def _input(exc: InputError) -> HTTPException:
    return HTTPException(422, str(exc))


async def _found(db: Database, source_id: int) -> None:
    async with db.session() as session:
        if await session.get(FeedSourceRow, source_id) is None:
            raise HTTPException(404, f"no feed source {source_id}")


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["sources"], dependencies=[Depends(require_admin)])

    @router.get("/sources", responses=ADMIN)
    async def list_sources(
        db: Annotated[Database, Depends(app_db)],
        settings: Annotated[Settings, Depends(app_settings)],
    ) -> list[dict[str, Any]]:
        """Every feed source with its schedule, next poll (UTC, and local to the schedule's
        time zone when it has hours), last poll, status, backoff and item counts."""
        async with db.session() as session:
            counts = await item_counts(session)
            return [
                describe(row, settings.default_poll_schedule, counts.get(row.id))
                for row in await all_sources(session)
            ]

    @router.post("/sources", status_code=201, responses={**ADMIN, **JSON_BODY})
    async def post_source(
        body: NewSource,
        db: Annotated[Database, Depends(app_db)],
        settings: Annotated[Settings, Depends(app_settings)],
    ) -> dict[str, Any]:
        """Add a feed source; the running ingestor polls it from its first due time."""
        try:
            async with db.session() as session:
                row = await add_source(
                    session,
                    body.url,
                    kind=body.kind,
                    schedule=body.schedule,
                    name=body.name,
                    default=settings.default_poll_schedule,
                )
                return describe(row, settings.default_poll_schedule)
        except InputError as exc:
            raise _input(exc) from exc

    @router.patch("/sources/{source_id}", responses={**ADMIN, **NOT_FOUND, **JSON_BODY})
    async def patch_source(
        source_id: SourceId,
        body: SourceChange,
        db: Annotated[Database, Depends(app_db)],
        settings: Annotated[Settings, Depends(app_settings)],
    ) -> dict[str, Any]:
        """Change a source's schedule (null: the server's again) or pause it; fields left
        out stay as they are."""
        await _found(db, source_id)
        try:
            async with db.session() as session:
                if "schedule" in body.model_fields_set:
                    await set_schedule(
                        session, source_id, body.schedule, settings.default_poll_schedule
                    )
                row = await session.get_one(FeedSourceRow, source_id)
                if body.enabled is not None:
                    row.enabled = body.enabled
                return describe(row, settings.default_poll_schedule)
        except InputError as exc:
            raise _input(exc) from exc

    @router.delete("/sources/{source_id}", status_code=204, responses={**ADMIN, **NOT_FOUND})
    async def delete_source(source_id: SourceId, db: Annotated[Database, Depends(app_db)]) -> None:
        """Remove a source and its record of seen items (stored notices stay)."""
        await _found(db, source_id)
        async with db.session() as session:
            await remove_source(session, source_id)

    return router
