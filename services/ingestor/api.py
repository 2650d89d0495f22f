"""HTTP intake: ``POST /v1/notices`` takes notice text/HTML or a NoticeEvent JSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import ValidationError

from services.ingestor.intake import ingest_bytes, ingest_event
from services.ingestor.relay import OutboxRelay
from shared.db import Database
from shared.errors import InputError
from shared.events import NoticeEvent
from shared.http import app_db, app_settings, require_admin
from shared.settings import Settings

TEXT_TYPES = {"text/plain": "notice.txt", "text/html": "notice.html", "": "notice.txt"}


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"invalid NoticeEvent: {where}: {first['msg']} ({exc.error_count()} error(s))"


def build_router(relay: OutboxRelay | None) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["notices"])

    @router.post("/notices", status_code=201, dependencies=[Depends(require_admin)])
    async def post_notice(
        request: Request,
        db: Annotated[Database, Depends(app_db)],
        settings: Annotated[Settings, Depends(app_settings)],
        source_url: Annotated[str | None, Query(max_length=2048)] = None,
        filename: Annotated[str | None, Query(max_length=255)] = None,
    ) -> dict[str, Any]:
        """Ingest one notice: ``text/plain`` or ``text/html`` body, or a NoticeEvent as JSON."""
        body = await read_limited(request, settings.max_notice_bytes)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if media == "application/json":
                try:
                    event = NoticeEvent.model_validate_json(body)
                except ValidationError as exc:
                    raise InputError(validation_message(exc)) from exc
                saved = await ingest_event(db, event, name="request body")
            elif media in TEXT_TYPES:
                name = filename or TEXT_TYPES[media]
                saved = await ingest_bytes(db, body, name=name, source_url=source_url)
            else:
                raise HTTPException(
                    415,
                    f"unsupported content type {media!r}: "
                    "send text/plain, text/html or application/json",
                )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        if relay is not None and saved.outcome != "unchanged":
            relay.kick()
        return {"outcome": saved.outcome, "notice": saved.notice.dump()}

    return router


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"notice too large: {declared} bytes, limit {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"notice too large: over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
