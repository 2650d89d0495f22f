"""Portal form bodies: ``application/x-www-form-urlencoded``, at most 64 kB, read once.

The CSRF check and the route both read the same parsed form (kept on ``request.state``), so a
route reads its fields with ``form = await read_form(request)`` after the check has run.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

from fastapi import HTTPException
from starlette.requests import Request

from shared.http import read_body

FORM_LIMIT: Final = 64_000
FORM_TYPE: Final = "application/x-www-form-urlencoded"


class Form(dict[str, str]):
    """Field name -> value (the first value of a repeated field)."""

    def text(self, name: str, limit: int = 2000) -> str:
        """A field's value, stripped and cut to ``limit`` characters ("" when absent)."""
        return self.get(name, "").strip()[:limit]


async def read_form(request: Request) -> Form:
    """The request's form (parsed once per request); 415 for another body type."""
    cached: Form | None = getattr(request.state, "portal_form", None)
    if cached is not None:
        return cached
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request, FORM_LIMIT, "form")
    if body and kind != FORM_TYPE:
        raise HTTPException(415, f"portal forms are sent as {FORM_TYPE}")
    form = Form()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8") from None
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=200):
        form.setdefault(name, value)
    request.state.portal_form = form
    return form
