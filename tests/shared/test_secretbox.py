"""Secrets at rest: the secret box and its keys, the key files, the API key pepper."""

from __future__ import annotations

import hashlib
import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from services.runtime import Runtime
from shared import secretbox
from shared.accounts import register_subscriber, subscriber_by_api_key
from shared.db import Database
from shared.secretbox import (
    KEY_FILE,
    PEPPER_FILE,
    SecretBox,
    SecretKeyError,
    new_pepper,
    new_secret_key,
    read_or_create,
    resolve,
)
from shared.settings import Settings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PG_URL = "postgresql+asyncpg://regwatch:pw@127.0.0.1:1/regwatch"


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'regwatch.db'}"


def test_stored_form_is_self_describing_and_reads_back() -> None:
    box = SecretBox([new_secret_key()])
    stored = box.encrypt(SECRET)
    assert stored.startswith("fernet:") and SECRET not in stored
    assert box.encrypt(SECRET) != stored  # a fresh IV each time
    assert box.decrypt(stored) == SECRET
    assert box.decrypt(SECRET) == SECRET  # a plaintext row from before encryption
    assert box.is_current(stored) and not box.is_current(SECRET)


def test_rotation_prepend_reencrypt_then_drop_the_old_key() -> None:
    old, new = new_secret_key(), new_secret_key()
    stored = SecretBox([old]).encrypt(SECRET)
    both = SecretBox([new, old])
    assert both.decrypt(stored) == SECRET  # old rows still decrypt
    assert not both.is_current(stored)
    rotated = both.reencrypt(stored)
    assert both.is_current(rotated)
    assert SecretBox([new]).decrypt(rotated) == SECRET  # the old key can go
    with pytest.raises(SecretKeyError, match="decrypts with none of the 1 secret key"):
        SecretBox([new]).decrypt(stored)  # dropped before the rotation: unreadable


def test_reencrypted_counts_and_leaves_unreadable_values() -> None:
    old, new = new_secret_key(), new_secret_key()
    box = SecretBox([new, old])
    values = [(1, SecretBox([old]).encrypt("a")), (2, "b"), (3, box.encrypt("c"))]
    counts, changes = secretbox.reencrypted(box, values)
    assert counts.as_dict() == {"rotated": 1, "encrypted": 1, "current": 1}
    assert sorted(changes) == [1, 2] and {box.decrypt(v) for v in changes.values()} == {"a", "b"}
    counts, changes = secretbox.reencrypted(SecretBox([new]), [(1, values[0][1]), (2, "b")])
    assert (counts.unreadable, counts.encrypted, sorted(changes)) == (1, 1, [2])


def test_bad_keys_are_refused_without_showing_them() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(secret_keys=f"{new_secret_key()},not-a-key")
    message = caught.value.errors()[0]["msg"]
    assert "key 2 of 2 is not a Fernet key" in message and "not-a-key" not in message
    with pytest.raises(ValidationError, match="too short"):
        Settings(api_key_pepper="short")
    assert Settings(secret_keys="  ", api_key_pepper="").secret_keys is None
    keys = f"{new_secret_key()}, {new_secret_key()}"
    assert "*" in repr(Settings(secret_keys=keys))  # never printed with the settings


def test_sqlite_key_files_are_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = resolve(sqlite_url(tmp_path), None, None)
    for name in (KEY_FILE, PEPPER_FILE):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, oct(mode)
    again = resolve(sqlite_url(tmp_path), None, None)
    assert again.box.decrypt(first.box.encrypt(SECRET)) == SECRET
    assert again.hash_api_key("rw_k") == first.hash_api_key("rw_k")
    assert sorted(p.name for p in tmp_path.iterdir()) == [PEPPER_FILE, KEY_FILE]  # no leftovers


def test_settings_keys_win_and_make_no_file(tmp_path: Path) -> None:
    key, pepper = new_secret_key(), new_pepper()
    at_rest = resolve(sqlite_url(tmp_path), key, pepper)
    assert SecretBox([key]).decrypt(at_rest.box.encrypt(SECRET)) == SECRET
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_may_hold_several_keys_newest_first(tmp_path: Path) -> None:
    old, new = new_secret_key(), new_secret_key()
    stored = SecretBox([old]).encrypt(SECRET)
    (tmp_path / KEY_FILE).write_text(f"{new}\n{old}\n")
    box = resolve(sqlite_url(tmp_path), None, None).box
    assert box.keys == 2 and box.decrypt(stored) == SECRET
    assert SecretBox([new]).decrypt(box.encrypt(SECRET)) == SECRET


def _create(path: str) -> bytes:
    return read_or_create(Path(path), lambda: new_secret_key() + "\n")


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "data" / KEY_FILE
    with ProcessPoolExecutor(max_workers=6) as pool:
        keys = set(pool.map(_create, [str(path)] * 24))
    assert keys == {path.read_bytes()} and len(keys) == 1
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]


def test_an_external_database_without_keys_is_refused() -> None:
    with pytest.raises(SecretKeyError) as caught:
        resolve(PG_URL, None, None)
    message = str(caught.value)
    assert "REGWATCH_SECRET_KEYS and REGWATCH_API_KEY_PEPPER are not set" in message
    assert "\n" not in message and "postgresql" in message
    with pytest.raises(SecretKeyError, match=r"^REGWATCH_API_KEY_PEPPER is not set"):
        resolve(PG_URL, new_secret_key(), None)
    assert resolve(PG_URL, new_secret_key(), new_pepper()).box.keys == 1


async def test_the_runtime_does_not_start_on_postgresql_without_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SECRET_KEYS", "API_KEY_PEPPER"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    runtime = Runtime(Settings(database_url=PG_URL, data_dir=tmp_path, kafka_bootstrap="x:1"))
    with pytest.raises(SecretKeyError, match="REGWATCH_SECRET_KEYS"):
        await runtime.start()  # before any connection is tried
    assert _files(tmp_path) == []  # and no key made up


def _files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def test_the_cli_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from services.cli import app

    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REGWATCH_DATABASE_URL", PG_URL)
    monkeypatch.delenv("REGWATCH_SECRET_KEYS", raising=False)
    monkeypatch.delenv("REGWATCH_API_KEY_PEPPER", raising=False)
    result = CliRunner().invoke(app, ["subscribers", "add", "--name", "R", "--email", "r@e.com"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: REGWATCH_SECRET_KEYS and REGWATCH_API_KEY_PEPPER")
    assert result.stderr.count("\n") == 1


async def test_api_keys_are_hmac_and_legacy_sha256_keys_are_upgraded_on_use(
    db: Database,
) -> None:
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name="Risk",
            email="risk@example.com",
            webhook_url=None,
            reminders=None,
            default_reminders="7d",
            allow_private=False,
        )
    stored = await _hash_of(db, created.id)
    assert stored.startswith("hmac-sha256:") and len(stored) == 12 + 64
    legacy = hashlib.sha256(created.api_key.encode()).hexdigest()
    assert legacy not in stored
    async with db.session() as session:  # as stored before the pepper
        await session.execute(
            text("UPDATE subscribers SET api_key_hash = :h WHERE id = :i"),
            {"h": legacy, "i": created.id},
        )
    async with db.session() as session:
        found = await subscriber_by_api_key(session, created.api_key)
        assert found is not None and found.id == created.id
    assert await _hash_of(db, created.id) == stored  # upgraded on that first use
    async with db.session() as session:
        assert await subscriber_by_api_key(session, created.api_key) is not None
        assert await subscriber_by_api_key(session, created.api_key + "x") is None


async def _hash_of(db: Database, subscriber_id: str) -> str:
    async with db.session() as session:
        result = await session.execute(
            text("SELECT api_key_hash FROM subscribers WHERE id = :i"), {"i": subscriber_id}
        )
        return str(result.scalar_one())
