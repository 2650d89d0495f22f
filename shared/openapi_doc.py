"""The OpenAPI document at ``/openapi.json``, finished from what FastAPI generates.

FastAPI already names the security schemes of the auth dependencies (``shared/http.py``:
a subscriber's API key and the operator token, each as ``Authorization: Bearer`` or
``X-API-Key``) and lists on each operation the ones it accepts. :func:`finish` adds what the
routes cannot say: ``security: []`` on the public operations (``/healthz``, the unsubscribe
page, the calendar feed...: no credential at all), the licence (pyproject.toml's) and
``servers``. The served document's server is ``REGWATCH_PUBLIC_URL`` when set, else the address
the request came in on (the listening socket, never the ``Host`` header); ``app.openapi()``
itself, read without a request, names ``REGWATCH_PUBLIC_URL`` or the configured listener.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request

from shared.portal.links import request_base
from shared.settings import Settings

# pyproject.toml's licence (SPDX "Apache-2.0")
LICENSE: Final = {"name": "Apache License 2.0", "identifier": "Apache-2.0"}
METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def configured_base(settings: Settings) -> str:
    """``REGWATCH_PUBLIC_URL``, else the configured HTTP listener (a wildcard host as
    127.0.0.1), without a trailing slash."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.http_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}"


def servers(base: str, settings: Settings) -> list[dict[str, str]]:
    """The document's ``servers``: the one regwatch is reached at."""
    described = (
        "REGWATCH_PUBLIC_URL"
        if settings.public_url
        else "this regwatch's own address (REGWATCH_PUBLIC_URL is not set)"
    )
    return [{"url": base.rstrip("/"), "description": described}]


def finish(document: dict[str, Any], settings: Settings | None) -> dict[str, Any]:
    """``document`` (FastAPI's) with the licence, ``servers`` (when ``settings`` are known)
    and every operation's ``security``: the schemes it accepts, each once, or ``[]`` (none)."""
    done = copy.deepcopy(document)
    done["info"] = {**done.get("info", {}), "license": dict(LICENSE)}
    for operations in done.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            requirements: list[dict[str, list[str]]] = []
            for requirement in operation.get("security", []):
                if requirement not in requirements:
                    requirements.append(requirement)
            operation["security"] = requirements
    if settings is not None:
        ordered: dict[str, Any] = {k: done[k] for k in ("openapi", "info") if k in done}
        ordered["servers"] = servers(configured_base(settings), settings)
        done = {**ordered, **{k: v for k, v in done.items() if k not in ordered}}
    return done


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` returns the finished document, and ``app.openapi_url`` serves it
    with the server the request came in on (unless ``REGWATCH_PUBLIC_URL`` is set)."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if not getattr(app.state, "openapi_finished", False):
            settings: Settings | None = getattr(app.state, "settings", None)
            app.openapi_schema = finish(generate(), settings)
            app.state.openapi_finished = True
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
    url = app.openapi_url
    if not url:
        return
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != url]

    async def openapi_json(request: Request) -> JSONResponse:
        served = dict(app.openapi())
        settings: Settings | None = getattr(request.app.state, "settings", None)
        if settings is not None:
            served["servers"] = servers(request_base(request, settings), settings)
        return JSONResponse(served)

    app.add_route(url, openapi_json, include_in_schema=False)
