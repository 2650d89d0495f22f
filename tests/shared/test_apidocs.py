"""/docs and /redoc load Swagger UI and ReDoc from regwatch itself, never from a CDN."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.runtime import Runtime
from shared.apidocs import ASSETS, install_api_docs, installed_assets
from shared.settings import Settings

URL_IN_PAGE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


def page_urls(html: str) -> list[str]:
    return [a or b for a, b in URL_IN_PAGE.findall(html)]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = Runtime(Settings(data_dir=tmp_path)).http_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as client:
        yield client


def test_the_assets_come_from_an_installed_package() -> None:
    folder = installed_assets()
    assert folder is not None, "fastapi-offline is a dependency: make setup installs it"
    assert "site-packages" in str(folder) or ".venv" in str(folder)
    assert not str(folder).startswith(str(Path(__file__).parents[2] / "shared"))


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_pages_reference_only_same_origin_urls_that_answer(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    urls = page_urls(page.text)
    assert urls, page.text
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        answer = await client.get(url)
        assert answer.status_code == 200, url
    assert "cdn" not in page.text.lower()
    assert "fonts.googleapis" not in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    assert "https:" not in policy and "*" not in policy


async def test_assets_have_their_types(client: httpx.AsyncClient) -> None:
    for name, media_type in ASSETS.items():
        answer = await client.get(f"/docs/assets/{name}")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith(media_type)
        assert len(answer.content) > 1000
    assert (await client.get("/docs/assets/..%2Fcore.py")).status_code == 404
    assert (await client.get("/docs/assets/core.py")).status_code == 404


async def test_swagger_ui_sends_nothing_to_the_validator(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    assert '"validatorUrl": null' in page


async def test_without_the_package_the_pages_say_make_setup(tmp_path: Path) -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    install_api_docs(app, assets=None)  # found: installed
    missing = FastAPI(docs_url=None, redoc_url=None)
    install_api_docs(missing, assets=tmp_path / "nowhere")
    transport = httpx.ASGITransport(app=missing)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        for path in ("/docs", "/redoc", "/docs/assets/swagger-ui.css"):
            answer = await client.get(path)
            assert answer.status_code == 503, path
            assert "make setup" in answer.json()["detail"]
            assert "cdn" not in answer.text.lower()
