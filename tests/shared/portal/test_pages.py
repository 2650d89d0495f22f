"""The page registry and the navigation built from it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

import shared.portal.account  # noqa: F401  (registers /portal/)
from shared.portal.pages import (
    _PAGES,
    PortalPage,
    navigation,
    register_page,
    registered_pages,
    served,
)
from shared.portal.router import portal_router


@pytest.fixture
def clean_registry() -> object:
    saved = dict(_PAGES)
    yield None
    _PAGES.clear()
    _PAGES.update(saved)


def test_registering_again_is_no_change_and_a_conflict_is_an_error(clean_registry: object) -> None:
    page = register_page("/portal/test-a", "nav.account", order=50)
    assert register_page("/portal/test-a", "nav.account", order=50) == page
    with pytest.raises(ValueError, match="already registered"):
        register_page("/portal/test-a", "nav.account", order=51)
    with pytest.raises(ValueError, match="under /portal/"):
        register_page("/elsewhere", "nav.account")


def test_pages_are_in_order_and_only_served_ones_are_in_the_navigation(
    clean_registry: object,
) -> None:
    register_page("/portal/test-late", "nav.account", order=90)
    register_page("/portal/test-early", "nav.account", order=5)
    register_page("/portal/test-absent", "nav.account", order=6)
    router = portal_router()

    @router.get("/test-late")
    async def late() -> str:
        return ""

    @router.get("/test-early")
    async def early() -> str:
        return ""

    @router.get("/")
    async def home() -> str:
        return ""

    app = FastAPI()
    app.include_router(router)
    paths = [page.path for page in registered_pages()]
    assert (
        paths.index("/portal/")
        < paths.index("/portal/test-early")
        < paths.index("/portal/test-late")
    )
    assert [p.path for p in navigation(app)] == [
        "/portal/",
        "/portal/test-early",
        "/portal/test-late",
    ]
    register_page("/portal/test-more", "nav.account", order=7)  # registered later: seen

    @router.get("/test-more")
    async def more() -> str:
        return ""

    app.include_router(router)
    assert "/portal/test-more" in [p.path for p in navigation(app)]
    assert served(app, "/portal/test-late")
    assert not served(app, "/portal/test-late", "POST")
    assert not served(app, "/portal/test-absent")


def test_a_page_is_a_path_a_label_and_an_order() -> None:
    page = PortalPage("/portal/x", "nav.x")
    assert page.order == 100
