"""The portal's page registry: which pages the navigation links to, in which order.

Adding a page is its router (made with :func:`shared.portal.portal_router`) plus one line::

    register_page("/portal/alerts", "nav.alerts", order=20)

called where the router is built (at import is fine: registering the same page again changes
nothing). The navigation lists a registered page only when the running app serves a ``GET``
route at its path, so a process running some services shows only their pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from starlette.routing import Match


@dataclass(frozen=True)
class PortalPage:
    path: str
    """The page's URL path, under ``/portal/``."""
    label: str
    """Message key of its navigation label (in both catalogs)."""
    order: int = 100
    """Position in the navigation, smallest first (the account page is 0)."""


_PAGES: dict[str, PortalPage] = {}


def register_page(path: str, label: str, *, order: int = 100) -> PortalPage:
    """Add a page to the navigation (again with the same values: no change; a path already
    registered differently is a ValueError)."""
    if not path.startswith("/portal/"):
        raise ValueError(f"portal pages live under /portal/, not {path!r}")
    page = PortalPage(path, label, order)
    known = _PAGES.get(path)
    if known is not None and known != page:
        raise ValueError(f"portal page {path} is already registered as {known}")
    _PAGES[path] = page
    return page


def registered_pages() -> list[PortalPage]:
    """Every registered page, in navigation order."""
    return sorted(_PAGES.values(), key=lambda page: (page.order, page.path))


def served(app: FastAPI, path: str, method: str = "GET") -> bool:
    """Does ``app`` answer ``method path`` with a route (not just a 404 or 405)?"""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return True
    return False


def navigation(app: FastAPI) -> list[PortalPage]:
    """The registered pages ``app`` serves, in order (computed again only when pages were
    registered since)."""
    cached: tuple[int, list[PortalPage]] | None = getattr(app.state, "portal_navigation", None)
    if cached is None or cached[0] != len(_PAGES):
        cached = (len(_PAGES), [page for page in registered_pages() if served(app, page.path)])
        app.state.portal_navigation = cached
    return cached[1]
