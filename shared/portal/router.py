"""The router every portal page is served by: under ``/portal``, HTML, outside the OpenAPI
document, and CSRF-checked on every unsafe method (``shared/portal/csrf.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from shared.portal.csrf import CsrfCheck, csrf_protect
from shared.portal.forms import FORM_LIMIT

PORTAL_PREFIX = "/portal"


def portal_router(*, form_limit: int = FORM_LIMIT, **kwargs: Any) -> APIRouter:
    """An APIRouter for portal pages: paths are relative to ``/portal`` (``@router.get("/alerts")``
    serves ``/portal/alerts``); every POST is CSRF-checked before the route runs. Its forms are
    urlencoded (64 kB); with ``form_limit`` above that they may also be ``multipart/form-data``
    uploads up to ``form_limit`` bytes (``read_form(request)`` then has ``.files``)."""
    check = csrf_protect if form_limit == FORM_LIMIT else CsrfCheck(form_limit)
    dependencies = [Depends(check), *kwargs.pop("dependencies", [])]
    return APIRouter(
        prefix=PORTAL_PREFIX,
        include_in_schema=False,
        default_response_class=HTMLResponse,
        dependencies=dependencies,
        **kwargs,
    )
