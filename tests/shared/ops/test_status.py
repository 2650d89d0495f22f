"""The database part of ``regwatch status``: never shows the password, reports errors."""

from __future__ import annotations

from pathlib import Path

from shared.embedded.ports import free_port
from shared.ops.status import database_part
from shared.settings import Settings


async def test_unreachable_database_is_reported_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://regwatch:s3cret-pw@127.0.0.1:{free_port()}/regwatch"
    info, backlog = await database_part(Settings(database_url=url, data_dir=tmp_path))
    assert "s3cret-pw" not in str(info) and "s3cret-pw" not in str(backlog)
    assert info["url"] == f"postgresql+asyncpg://regwatch:***@127.0.0.1:{url.rsplit(':', 1)[1]}"
    assert info["reachable"] is False
    assert info["error"] == backlog["error"]
