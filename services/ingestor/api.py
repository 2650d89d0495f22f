"""HTTP intake: ``POST /v1/notices`` takes a notice (text, HTML, .docx, or a multipart upload)
or a NoticeEvent JSON."""

from __future__ import annotations

import asyncio
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from services.ingestor.intake import ingest_bytes, ingest_json
from services.ingestor.relay import OutboxRelay
from services.ingestor.store import Saved
from shared.db import Database
from shared.errors import InputError
from shared.http import ADMIN, app_db, app_settings, error_response, read_body, require_admin
from shared.settings import Settings

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JSON = "application/json"
MULTIPART = "multipart/form-data"
DEFAULT_NAMES = {
    "text/plain": "notice.txt",
    "text/html": "notice.html",
    "application/xhtml+xml": "notice.html",
    DOCX: "notice.docx",
    "": "notice.txt",
}
FILE_FIELD = "file"
SUPPORTED = "text/plain, text/html, a .docx, application/json or multipart/form-data"
# The body as the OpenAPI document shows it (the route reads the raw request itself).
NOTICE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "text/plain": {
            "schema": {"type": "string"},
            "example": "国家互联网信息办公室\n关于抖音等App的通报\n2021年5月10日\n"
            "相关App运营者应当自本通报发布之日起15个工作日内完成整改。\n"
            "1. 抖音（北京微播视界科技有限公司）\n",
        },
        "text/html": {"schema": {"type": "string"}},
        DOCX: {"schema": {"type": "string", "format": "binary"}},
        JSON: {"schema": {"type": "object", "description": "a NoticeEvent (regwatch.notice/v1)"}},
        MULTIPART: {
            "schema": {
                "type": "object",
                "properties": {
                    FILE_FIELD: {"type": "string", "format": "binary"},
                    "source_url": {"type": "string", "maxLength": 2048},
                },
                "required": [FILE_FIELD],
            }
        },
    },
}


@dataclass(frozen=True)
class Upload:
    data: bytes
    media: str
    filename: str | None
    source_url: str | None


def media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def build_router(relay: OutboxRelay | None) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["notices"])

    @router.post(
        "/notices",
        status_code=201,
        dependencies=[Depends(require_admin)],
        responses={
            **ADMIN,
            413: error_response("the body is larger than REGWATCH_MAX_NOTICE_BYTES"),
            415: error_response(f"not a supported content type: send {SUPPORTED}"),
            422: error_response(
                "not a notice that can be read: the message says why (also a notice that "
                "expands, nests, runs or takes memory beyond the reading limits)"
            ),
        },
        openapi_extra={"requestBody": NOTICE_BODY},
    )
    async def post_notice(
        request: Request,
        db: Annotated[Database, Depends(app_db)],
        settings: Annotated[Settings, Depends(app_settings)],
        source_url: Annotated[str | None, Query(max_length=2048)] = None,
        filename: Annotated[str | None, Query(max_length=255)] = None,
    ) -> dict[str, Any]:
        """Ingest one notice.

        Body: ``text/plain`` or ``text/html`` (a notice), the .docx media type (a Word
        attachment), ``application/json`` (a NoticeEvent), or ``multipart/form-data`` with the
        notice in the ``file`` field (its filename and part type tell the format; an optional
        ``source_url`` field). Returns ``{outcome: new|updated|unchanged, notice}``.
        """
        body = await read_body(request, settings.max_notice_bytes, "notice")
        content_type = request.headers.get("content-type", "")
        upload = Upload(body, media_type(content_type), filename, source_url)
        try:
            if upload.media == MULTIPART:  # in a thread: 5 MB take the parser 250 ms
                upload = await asyncio.to_thread(multipart_upload, body, content_type, upload)
            saved = await ingest_upload(db, upload)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        if relay is not None and (saved.outcome != "unchanged" or saved.relinked):
            relay.kick()
        return {"outcome": saved.outcome, "notice": saved.notice.dump()}

    return router


async def ingest_upload(db: Database, upload: Upload) -> Saved:
    if upload.media == JSON or (upload.filename or "").lower().endswith(".json"):
        return await ingest_json(db, upload.data, name=upload.filename or "request body")
    if upload.media in DEFAULT_NAMES or upload.media == "application/octet-stream":
        default = DEFAULT_NAMES.get(upload.media, "notice")
        name = upload.filename or default
        if upload.media == DOCX and not name.lower().endswith(".docx"):
            name += ".docx"
        return await ingest_bytes(db, upload.data, name=name, source_url=upload.source_url)
    raise HTTPException(415, f"unsupported content type {upload.media!r}: send {SUPPORTED}")


def multipart_upload(body: bytes, content_type: str, outer: Upload) -> Upload:
    """The notice in a ``multipart/form-data`` body: the ``file`` field, with ``source_url``
    (form field or query) and the part's filename. Raises InputError naming the field."""
    try:
        header = content_type.encode("latin-1")
    except UnicodeEncodeError:
        raise InputError("content-type header: not Latin-1 text") from None
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + header + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    if not message.is_multipart() or not message.get_boundary():
        raise InputError("multipart/form-data body: no boundary or no parts")
    fields: dict[str, EmailMessage] = {}
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and name not in fields:
            fields[name] = part
    upload = fields.get(FILE_FIELD)
    if upload is None:
        shown = ", ".join(sorted(fields)) or "none"
        raise InputError(
            f"multipart/form-data: field {FILE_FIELD!r} is missing (fields sent: {shown})"
        )
    data = upload.get_payload(decode=True)
    if not isinstance(data, bytes) or not data.strip():
        raise InputError(f"multipart/form-data: field {FILE_FIELD!r} is empty")
    source_url = outer.source_url
    url_part = fields.get("source_url")
    if url_part is not None:
        raw = url_part.get_payload(decode=True)
        text = raw.decode("utf-8", "replace").strip() if isinstance(raw, bytes) else ""
        if len(text) > 2048:
            raise InputError("multipart/form-data: field 'source_url' is over 2048 characters")
        source_url = text or source_url
    filename = upload.get_filename() or outer.filename
    media = upload.get_content_type() if upload.get("content-type") is not None else ""
    if media != JSON and media not in DEFAULT_NAMES:
        media = "application/octet-stream"  # the parser judges by the filename and content
    return Upload(data, media, filename, source_url)
