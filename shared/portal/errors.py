"""An error page of the portal: a status and a message key (shown in the request's language)."""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    """Answer with the portal's error page: ``status`` and the message ``key`` (with its
    ``values``), e.g. ``PortalError(404, "error.not_found")``. A plain ``HTTPException``
    raised under ``/portal`` gets the same page with a message chosen by its status."""

    def __init__(self, status: int, key: str, **values: Any) -> None:
        super().__init__(f"{status} {key}")
        self.status = status
        self.key = key
        self.values = values
