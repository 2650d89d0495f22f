"""The API documentation pages, offline: Swagger UI at ``/docs`` and ReDoc at ``/redoc``.

FastAPI's own pages load Swagger UI and ReDoc from a CDN; these load them from regwatch
itself. The files come from the PyPI package ``fastapi-offline`` (a dependency, installed by
``make setup``), which ships ``swagger-ui-bundle.js``, ``swagger-ui.css`` and
``redoc.standalone.js``; only its files are used, not its app class. They are never copied into
this repository. The pages' Content-Security-Policy lets them load nothing from elsewhere.
When the package is missing, the pages answer 503 naming ``make setup``
instead of pointing the browser at a CDN. The document they show, ``/openapi.json``, is
finished by ``shared/openapi_doc.py`` (security schemes on every operation, servers, licence).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Final

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from shared.openapi_doc import install_openapi

ASSET_PACKAGE: Final = "fastapi-offline"
ASSET_PREFIX: Final = "/docs/assets"
ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
PAGE_POLICY: Final = (
    # Everything from regwatch itself: whatever the bundles would fetch from elsewhere (ReDoc's
    # attribution logo comes from its CDN) is refused by the browser before it is requested.
    # The pages' own init script and the bundles' injected styles are inline; ReDoc's search
    # runs in a worker made from a blob.
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SWAGGER_PARAMETERS: Final = {
    # No "validator" badge: it would send the document to validator.swagger.io.
    "validatorUrl": None,
    "deepLinking": True,
    "persistAuthorization": True,
}


def installed_assets(folder: Path | None = None) -> Path | None:
    """The folder holding the Swagger UI and ReDoc files (by default those of
    ``fastapi-offline``), or None when the package or one of the files is missing."""
    if folder is None:
        spec = importlib.util.find_spec("fastapi_offline")
        if spec is None or spec.origin is None:
            return None
        folder = Path(spec.origin).parent / "static"
    if all((folder / name).is_file() for name in ASSETS):
        return folder
    return None


def missing_assets() -> HTTPException:
    return HTTPException(
        503,
        f"the API documentation's files are not installed (PyPI package {ASSET_PACKAGE}): "
        "run `make setup`; /openapi.json works without them",
    )


def install_api_docs(app: FastAPI, assets: Path | None = None) -> None:
    """Add ``/docs``, ``/redoc`` and their files under ``/docs/assets/`` to ``app`` (built with
    ``docs_url=None, redoc_url=None``), and the finished ``/openapi.json`` they show
    (:func:`install_openapi`). ``assets`` overrides where the files are (tests)."""
    install_openapi(app)
    folder = installed_assets(assets)
    openapi_url = app.openapi_url or "/openapi.json"

    def asset(name: str) -> str:
        return f"{ASSET_PREFIX}/{name}"

    def page(html: HTMLResponse) -> HTMLResponse:
        html.headers["Content-Security-Policy"] = PAGE_POLICY
        html.headers["X-Content-Type-Options"] = "nosniff"
        return html

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        if folder is None:
            raise missing_assets()
        return page(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API",
                swagger_js_url=asset("swagger-ui-bundle.js"),
                swagger_css_url=asset("swagger-ui.css"),
                swagger_favicon_url=asset("favicon.png"),
                swagger_ui_parameters=SWAGGER_PARAMETERS,
            )
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        if folder is None:
            raise missing_assets()
        return page(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} - API reference",
                redoc_js_url=asset("redoc.standalone.js"),
                redoc_favicon_url=asset("favicon.png"),
                with_google_fonts=False,
            )
        )

    @app.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, f"no such documentation file {name!r}")
        if folder is None:
            raise missing_assets()
        return FileResponse(
            folder / name,
            media_type=ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )
