"""The router every portal page is served by: under ``/portal``, HTML, outside the OpenAPI
document, and CSRF-checked on every unsafe method (``shared/portal/csrf.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from shared.portal.csrf import csrf_protect

PORTAL_PREFIX = "/portal"


def portal_router(**kwargs: Any) -> APIRouter:
    """An APIRouter for portal pages: paths are relative to ``/portal`` (``@router.get("/alerts")``
    serves ``/portal/alerts``); every POST is CSRF-checked before the route runs."""
    dependencies = [Depends(csrf_protect), *kwargs.pop("dependencies", [])]
    return APIRouter(
        prefix=PORTAL_PREFIX,
        include_in_schema=False,
        default_response_class=HTMLResponse,
        dependencies=dependencies,
        **kwargs,
    )
