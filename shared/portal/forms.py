"""Portal form bodies, read once per request: ``application/x-www-form-urlencoded`` (at most
64 kB) or, on a router made with ``portal_router(form_limit=N)``, ``multipart/form-data`` up to
N bytes (file uploads).

The CSRF check and the route both read the same parsed form (kept on ``request.state``), so a
route reads its fields with ``form = await read_form(request)`` after the check has run; an
uploaded file's bytes are in ``form.files[name]`` and its name in ``form.filenames[name]``.
"""

from __future__ import annotations

import asyncio
from email.parser import BytesParser
from email.policy import HTTP
from typing import Final
from urllib.parse import parse_qsl

from fastapi import HTTPException
from starlette.requests import Request

from shared.http import read_body

FORM_LIMIT: Final = 64_000
FORM_TYPE: Final = "application/x-www-form-urlencoded"
MULTIPART_TYPE: Final = "multipart/form-data"
MAX_FIELDS: Final = 200


class Form(dict[str, str]):
    """Field name -> value (the first value of a repeated field); files apart."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.filenames: dict[str, str] = {}

    def text(self, name: str, limit: int = 2000) -> str:
        """A field's value, stripped and cut to ``limit`` characters ("" when absent)."""
        return self.get(name, "").strip()[:limit]


def _urlencoded(body: bytes) -> Form:
    form = Form()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "the form is not UTF-8 or has too many fields") from None
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def _multipart(content_type: str, body: bytes) -> Form:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("ascii", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise HTTPException(400, "the form is not multipart/form-data")
    form = Form()
    parts = list(message.iter_parts())
    if len(parts) > MAX_FIELDS:
        raise HTTPException(400, "the form has too many fields")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in form or name in form.files:
            continue
        data = part.get_payload(decode=True)
        raw = data if isinstance(data, bytes) else b""
        filename = part.get_param("filename", header="content-disposition")
        if isinstance(filename, str):
            form.files[name] = raw
            form.filenames[name] = filename
        else:
            try:
                form[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise HTTPException(400, f"form field {name!r} is not UTF-8") from None
    return form


async def read_form(request: Request, limit: int = FORM_LIMIT) -> Form:
    """The request's form (parsed once per request). A urlencoded body is refused (413)
    beyond 64 kB, a multipart one beyond ``limit``; multipart is accepted only when
    ``limit`` is larger than 64 kB (an upload route), other types get 415."""
    cached: Form | None = getattr(request.state, "portal_form", None)
    if cached is not None:
        return cached
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if kind == MULTIPART_TYPE and limit > FORM_LIMIT:
        body = await read_body(request, limit, "form")
        form = await asyncio.to_thread(_multipart, content_type, body)
    else:
        body = await read_body(request, FORM_LIMIT, "form")
        if body and kind != FORM_TYPE:
            raise HTTPException(415, f"portal forms are sent as {FORM_TYPE}")
        form = _urlencoded(body)
    request.state.portal_form = form
    return form
