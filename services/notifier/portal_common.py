"""What the notifier's portal pages share: their templates (``notifier/<name>`` is
``services/notifier/templates/<name>``), their messages (``portal_locales/``) and their two
small static files (a stylesheet and the copy-to-clipboard script), served under
``/portal/notifier/``."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter

from shared.portal import add_messages, add_templates, portal_router
from shared.portal.assets import serve_assets

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
    serve_assets(router, "notifier", HERE / "static", ASSETS)
    return router
