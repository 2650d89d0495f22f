"""Runtime start-up without a broker: operator routes without REGWATCH_ADMIN_TOKEN are refused
off loopback before anything starts, and named in a warning on loopback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.runtime import Runtime, build_services
from shared.broker import make_broker
from shared.db import Database
from shared.http import ExposedOperatorRoutes
from shared.settings import Settings

NOWHERE = "127.0.0.1:1"  # nothing listens there: the broker is never connected


async def test_start_refuses_a_public_listener_without_a_token(tmp_path: Path) -> None:
    settings = Settings(http_host="0.0.0.0", data_dir=tmp_path / "var", admin_token=None)
    runtime = Runtime(settings)
    with pytest.raises(ExposedOperatorRoutes, match="REGWATCH_ADMIN_TOKEN is not set"):
        await runtime.start()
    assert not (tmp_path / "var").exists()  # refused before anything started
    await runtime.stop()


async def test_start_on_loopback_without_a_token_warns_naming_the_routes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        http_host="127.0.0.1",
        http_port=0,
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'regwatch.db'}",
        kafka_bootstrap=NOWHERE,
        smtp_host="127.0.0.1",
        smtp_port=1,
    )
    db = Database(settings.sqlalchemy_url)
    broker = make_broker(settings, NOWHERE)
    services = build_services(settings, db, broker, ("127.0.0.1", 1))  # never started
    runtime = Runtime(settings, services=services, db=db, broker=broker)
    try:
        with caplog.at_level(logging.WARNING, logger="regwatch.http"):
            await runtime._serve_http()
    finally:
        assert runtime._server is not None and runtime._server_task is not None
        runtime._server.should_exit = True
        await runtime._server_task
        for service in services:
            await service.stop()
        await db.dispose()
    warnings = [r.getMessage() for r in caplog.records if r.name == "regwatch.http"]
    assert len(warnings) == 1
    assert "REGWATCH_ADMIN_TOKEN is not set" in warnings[0]
    for route in ("POST /v1/notices", "POST /v1/subscribers", "POST /v1/sources"):
        assert route in warnings[0]
    assert runtime.http_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("public_url", "warned"),
    [
        (None, "REGWATCH_PUBLIC_URL is not set"),
        ("http://regwatch.example.com", "is not an https URL"),
        ("https://regwatch.example.com", None),
    ],
)
async def test_start_warns_once_about_the_public_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, public_url: str | None, warned: str | None
) -> None:
    """Start stops right after the warnings here: the data dir is under a file."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = Settings(
        data_dir=blocker / "var", admin_token="operator-token-0123", public_url=public_url
    )
    runtime = Runtime(settings)
    with (
        caplog.at_level(logging.WARNING, logger="regwatch.public_url"),
        pytest.raises(OSError),
    ):
        await runtime.start()  # nothing started: nothing to stop
    lines = [r for r in caplog.records if r.name == "regwatch.public_url"]
    if warned is None:
        assert lines == []
        return
    (line,) = lines
    assert line.levelno == logging.WARNING
    assert warned in line.getMessage() and "one-click unsubscribe" in line.getMessage()
    assert line.public_url == public_url
