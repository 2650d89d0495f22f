"""What the notifier's portal pages share: their templates (``notifier/<name>`` is
``services/notifier/templates/<name>``), their messages (``portal_locales/``) and their two
small static files (a stylesheet and the copy-to-clipboard script), served under
``/portal/notifier/``."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import Response

from shared.portal import PortalError, add_messages, add_templates, portal_router

HERE: Final = Path(__file__).parent
ASSETS: Final = {
    "notifier.css": "text/css; charset=utf-8",
    "notifier.js": "text/javascript; charset=utf-8",
}
ASSET_PREFIX: Final = "/portal/notifier"

add_templates("notifier", HERE / "templates")
add_messages(HERE / "portal_locales")


def asset_router() -> APIRouter:
    """``GET /portal/notifier/notifier.css`` and ``.../notifier.js``."""
    router = portal_router()

    @router.get("/notifier/{name}")
    async def asset(name: str) -> Response:
        kind = ASSETS.get(name)
        if kind is None:
            raise PortalError(404, "error.not_found")
        return Response(
            (HERE / "static" / name).read_bytes(),
            media_type=kind,
            headers={"cache-control": "public, max-age=3600"},
        )

    return router
