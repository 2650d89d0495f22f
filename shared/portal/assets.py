"""A service's own portal stylesheet and script, served by regwatch at ``/portal/<service>/``
(the portal's CSP allows scripts and styles from this site only)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.portal.errors import PortalError


def serve_assets(router: APIRouter, service: str, folder: Path, media: Mapping[str, str]) -> None:
    """``GET /portal/<service>/<name>`` for each file ``name`` of ``folder`` listed in
    ``media`` (name -> media type); any other name is the portal's 404."""
    known = dict(media)

    @router.get(f"/{service}/{{asset}}")
    async def asset(asset: str) -> FileResponse:
        kind = known.get(asset)
        if kind is None:
            raise PortalError(404, "error.not_found")
        return FileResponse(folder / asset, media_type=kind, headers={"Cache-Control": "no-cache"})
