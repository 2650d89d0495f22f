"""Secrets at rest: encrypted channel secrets and the server key (pepper) of API key hashes.

Webhook signing secrets (and any later channel secret) are stored encrypted with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) as ``fernet:<token>``; a stored value
without that prefix is a plaintext row from before encryption and is read as it is (migration
0005 and ``regwatch secrets rotate`` encrypt such rows). Several keys can be configured,
newest first: the first encrypts, any of them decrypts (``MultiFernet``). Rotation: prepend a
new key, run ``regwatch secrets rotate`` (re-encrypts every stored secret with the newest key),
then drop the old key.

API keys are stored as ``hmac-sha256:<hex>``, an HMAC under the pepper: a copy of the
database alone cannot confirm a guessed key. The pepper is separate from the encryption keys so
that rotating those never invalidates the subscribers' API keys.

Where the keys come from (:func:`resolve`):

* ``REGWATCH_SECRET_KEYS`` (comma-separated Fernet keys, newest first) and
  ``REGWATCH_API_KEY_PEPPER`` (32 characters or more), when set;
* else, with SQLite, the files ``secret.key`` and ``api_key.pepper`` beside the database file
  (the data dir for the embedded default), generated on first use with mode 0600;
* else (PostgreSQL or any other server database) regwatch refuses to start: processes sharing
  one database must share the keys, and a key made up in one process's data dir would leave
  the others unable to read the secrets it wrote.

Keys are resolved once per database and process; :func:`configure` installs what a process's
settings say, and :func:`for_session` finds it for a unit of work.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from shared.errors import RegwatchError
from shared.logging import get_logger

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings

log = get_logger("regwatch.secrets")

ENCRYPTED_PREFIX: Final = "fernet:"
API_KEY_HASH_PREFIX: Final = "hmac-sha256:"
KEY_FILE: Final = "secret.key"
PEPPER_FILE: Final = "api_key.pepper"
KEYS_SETTING: Final = "REGWATCH_SECRET_KEYS"
PEPPER_SETTING: Final = "REGWATCH_API_KEY_PEPPER"
MIN_PEPPER_CHARS: Final = 32

# Every column holding an encrypted secret: (table, primary key column, secret column).
# ``regwatch secrets rotate`` re-encrypts them all; add a channel secret here.
ENCRYPTED_COLUMNS: Final = (
    ("subscribers", "id", "webhook_secret"),
    ("notifier_webhook_secrets", "id", "secret"),
    ("notifier_targets", "id", "secret"),
)


class SecretKeyError(RegwatchError):
    """The keys are missing, malformed, or cannot read a stored secret."""


def new_secret_key() -> str:
    """A fresh Fernet key (what ``REGWATCH_SECRET_KEYS`` holds, comma-separated)."""
    from cryptography.fernet import Fernet  # here: the settings import this module

    return Fernet.generate_key().decode("ascii")


def new_pepper() -> str:
    """A fresh API key pepper: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def split_keys(text: str) -> list[str]:
    """The keys in a setting or key file: separated by commas or line breaks, newest first."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def check_keys(keys: list[str], *, where: str = KEYS_SETTING) -> list[str]:
    """Keys that Fernet accepts; SecretKeyError naming the bad one (never its value)."""
    from cryptography.fernet import Fernet

    prefix = f"{where}: " if where else ""
    if not keys:
        raise SecretKeyError(f"{prefix}no key given")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"{prefix}key {number} of {len(keys)} is not a Fernet key (32 bytes in URL-safe"
                " base64, 44 characters; make one with `regwatch secrets new-key`)"
            ) from None
    return keys


def check_pepper(pepper: str, *, where: str = PEPPER_SETTING) -> str:
    if len(pepper.strip()) < MIN_PEPPER_CHARS:
        prefix = f"{where}: " if where else ""
        raise SecretKeyError(
            f"{prefix}too short: give {MIN_PEPPER_CHARS} characters or more of random"
            " (`regwatch secrets new-key` makes one)"
        )
    return pepper.strip()


class SecretBox:
    """Encrypts with the first key, decrypts with any (``MultiFernet``)."""

    def __init__(self, keys: list[str]) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        check_keys(keys)
        self.keys = len(keys)
        self._newest: Fernet = Fernet(keys[0])
        self._all: MultiFernet = MultiFernet([Fernet(key) for key in keys])

    @staticmethod
    def is_encrypted(stored: str) -> bool:
        return stored.startswith(ENCRYPTED_PREFIX)

    def encrypt(self, plaintext: str) -> str:
        token = self._newest.encrypt(plaintext.encode("utf-8"))
        return ENCRYPTED_PREFIX + token.decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The plaintext of a stored value (a legacy plaintext value comes back as it is)."""
        if not self.is_encrypted(stored):
            return stored
        from cryptography.fernet import InvalidToken

        token = stored.removeprefix(ENCRYPTED_PREFIX).encode("ascii")
        try:
            return self._all.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"a stored secret decrypts with none of the {self.keys} secret key(s): was a key"
                " dropped from REGWATCH_SECRET_KEYS before `regwatch secrets rotate` ran?"
            ) from None

    def is_current(self, stored: str) -> bool:
        """Encrypted with the newest key (nothing for a rotation to do)."""
        from cryptography.fernet import InvalidToken

        if not self.is_encrypted(stored):
            return False
        try:
            self._newest.decrypt(stored.removeprefix(ENCRYPTED_PREFIX).encode("ascii"))
        except InvalidToken:
            return False
        return True

    def reencrypt(self, stored: str) -> str:
        """The value encrypted with the newest key (plaintext rows get encrypted)."""
        return self.encrypt(self.decrypt(stored))


@dataclass(frozen=True)
class AtRest:
    """The keys of one database: the secret box and the API key pepper."""

    box: SecretBox
    pepper: bytes

    def hash_api_key(self, api_key: str) -> str:
        digest = hmac.new(self.pepper, api_key.encode("utf-8"), hashlib.sha256).hexdigest()
        return API_KEY_HASH_PREFIX + digest


def legacy_api_key_hash(api_key: str) -> str:
    """How API keys were stored before the pepper: bare sha256 hex (upgraded on next use)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


# --- where the keys come from ---------------------------------------------------------------


def make_url(database_url: str | URL) -> URL:
    """SQLAlchemy's URL of a database URL; imported here, so that reading the settings (which
    check the keys) does not load SQLAlchemy (``regwatch notices parse``, ``--help``)."""
    from sqlalchemy.engine import make_url as parse_url

    return parse_url(database_url)


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for in-memory or non-SQLite databases)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().resolve()


def key_files_dir(database_url: str) -> Path | None:
    """Where ``secret.key`` and ``api_key.pepper`` live for this database: beside a SQLite
    file (the data dir with the embedded default); None for other databases."""
    file = _sqlite_file(make_url(database_url))
    return file.parent if file is not None else None


def resolve(database_url: str, secret_keys: str | None, api_key_pepper: str | None) -> AtRest:
    """The keys of a database, from the settings' values or, for SQLite, the key files."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    is_sqlite = backend == "sqlite"
    folder = key_files_dir(database_url)
    missing = [
        name
        for name, value in ((KEYS_SETTING, secret_keys), (PEPPER_SETTING, api_key_pepper))
        if not value
    ]
    if missing and not is_sqlite:
        raise SecretKeyError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: with an"
            f" external database ({backend}) every regwatch process must use the same keys, so"
            " none is made up here; make them with `regwatch secrets new-key` and set them for"
            " every process (README: Secrets at rest)"
        )
    if secret_keys:
        keys = check_keys(split_keys(secret_keys))
        if folder is not None:
            _warn_unused_key_file(folder / KEY_FILE, keys)
    elif folder is not None:
        path = folder / KEY_FILE
        text = read_or_create(path, lambda: new_secret_key() + "\n").decode("ascii", "replace")
        keys = check_keys(split_keys(text), where=str(path))
    else:  # SQLite in memory: the data dies with the process, and so may the key
        keys = [new_secret_key()]
    if api_key_pepper:
        pepper = check_pepper(api_key_pepper)
    elif folder is not None:
        path = folder / PEPPER_FILE
        raw = read_or_create(path, lambda: new_pepper() + "\n").decode("utf-8", "replace")
        pepper = check_pepper(raw, where=str(path))
    else:
        pepper = new_pepper()
    return AtRest(SecretBox(keys), pepper.encode("utf-8"))


def _warn_unused_key_file(path: Path, keys: list[str]) -> None:
    with contextlib.suppress(OSError):
        in_file = split_keys(path.read_text("ascii", "replace"))
        if in_file and not set(in_file) <= set(keys):
            log.warning(
                "%s is set, so %s is not used: if secrets were encrypted with the file's key,"
                " add it to %s after the newest and run `regwatch secrets rotate`; then the"
                " file can go",
                KEYS_SETTING,
                path,
                KEYS_SETTING,
            )


def read_or_create(path: Path, make: Callable[[], str]) -> bytes:
    """The content of a key file, written first (mode 0600) when missing.

    The file appears whole or not at all: it is written under a temporary name and hard-linked
    into place, which fails when another process got there first; that process's key is then
    read and used, so two processes starting together agree on one key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(200):
        with contextlib.suppress(FileNotFoundError):
            data = path.read_bytes()
            if data.strip():
                _check_mode(path)
                return data
            time.sleep(0.01)  # another process is writing it (no hard links there)
            continue
        content = make().encode("utf-8")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        _write_new(temporary, content)
        try:
            os.link(temporary, path)
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links: create in place, exclusively
            with contextlib.suppress(FileExistsError):
                _write_new(path, content)
            continue
        finally:
            temporary.unlink(missing_ok=True)
        _sync_dir(path.parent)
        log.info("generated %s (mode 0600): back it up with the database", path)
        return content
    raise SecretKeyError(f"{path} stays empty: remove it and start again")


def _write_new(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_mode(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            log.warning("%s can be read by other users: chmod 600 it", path)


# --- one AtRest per database, per process -----------------------------------------------------

_lock = threading.Lock()
_installed: dict[str, AtRest] = {}


def _registry_key(database_url: str | URL) -> str:
    url = make_url(database_url)
    file = _sqlite_file(url)
    if file is not None:
        return f"sqlite:{file}"
    plain = url.set(drivername=url.get_backend_name(), password=None)
    return plain.render_as_string(hide_password=False)


def install(database_url: str, at_rest: AtRest) -> AtRest:
    """Use these keys for this database in this process (replacing any before)."""
    with _lock:
        _installed[_registry_key(database_url)] = at_rest
    return at_rest


def configure(settings: Settings) -> AtRest:
    """Resolve the keys the settings give for their database and use them in this process.

    Call it at start, before migrating: a missing key stops the start with one line naming
    the setting."""
    at_rest = resolve(
        settings.sqlalchemy_url,
        settings.secret_keys.get_secret_value() if settings.secret_keys else None,
        settings.api_key_pepper.get_secret_value() if settings.api_key_pepper else None,
    )
    return install(settings.sqlalchemy_url, at_rest)


def for_url(database_url: str | URL) -> AtRest:
    """The keys of a database: installed by :func:`configure`, else resolved from the
    environment the way the settings would be (``REGWATCH_SECRET_KEYS``,
    ``REGWATCH_API_KEY_PEPPER``, else the key files beside a SQLite database)."""
    key = _registry_key(database_url)
    with _lock:
        found = _installed.get(key)
        if found is not None:
            return found
        url = make_url(database_url).render_as_string(hide_password=False)
        at_rest = resolve(
            url,
            os.environ.get(KEYS_SETTING, "").strip() or None,
            os.environ.get(PEPPER_SETTING, "").strip() or None,
        )
        _installed[key] = at_rest
        return at_rest


def for_session(session: AsyncSession) -> AtRest:
    """The keys of the database a session works on."""
    from sqlalchemy.ext.asyncio import AsyncEngine

    bind = session.bind
    if bind is None:
        raise SecretKeyError("this session is bound to no database: no keys to use")
    url = bind.url if isinstance(bind, AsyncEngine) else bind.engine.url
    return for_url(url)


# --- re-encryption ----------------------------------------------------------------------------


@dataclass
class Recount:
    rotated: int = 0  # encrypted with an older key: now with the newest
    encrypted: int = 0  # stored in plaintext (before encryption): now encrypted
    current: int = 0  # already encrypted with the newest key: left alone
    unreadable: int = 0  # decrypts with no key: left alone (and the rotation refused)

    def as_dict(self) -> dict[str, int]:
        return {"rotated": self.rotated, "encrypted": self.encrypted, "current": self.current}


def reencrypted(
    box: SecretBox, values: Iterable[tuple[object, str]]
) -> tuple[Recount, dict[object, str]]:
    """Which stored values to rewrite (id -> new value) so all use the newest key, and counts."""
    counts = Recount()
    changes: dict[object, str] = {}
    for row_id, stored in values:
        if box.is_current(stored):
            counts.current += 1
            continue
        try:
            changes[row_id] = box.reencrypt(stored)
        except SecretKeyError:
            counts.unreadable += 1
            continue
        if box.is_encrypted(stored):
            counts.rotated += 1
        else:
            counts.encrypted += 1
    return counts, changes


async def reencrypt_all(session: AsyncSession, box: SecretBox) -> Mapping[str, Recount]:
    """Re-encrypt every stored secret with the newest key (one unit of work): counts per
    column. Running it again changes nothing. On SQLite the replaced values are overwritten
    on disk too (``secure_delete``), not left in free space.

    Raises SecretKeyError, before anything is written, when a value decrypts with no key."""
    from sqlalchemy import column, select, table, text, update

    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete = ON"))
    plan: dict[str, tuple[tuple[str, str, str], Recount, dict[object, str]]] = {}
    for name, id_name, secret_name in ENCRYPTED_COLUMNS:
        rows = table(name, column(id_name), column(secret_name))
        result = await session.execute(
            select(rows.c[id_name], rows.c[secret_name]).where(rows.c[secret_name].is_not(None))
        )
        values = [(row_id, str(stored)) for row_id, stored in result.all() if stored]
        counts, changes = reencrypted(box, values)
        plan[f"{name}.{secret_name}"] = ((name, id_name, secret_name), counts, changes)
    unreadable = sum(counts.unreadable for _t, counts, _c in plan.values())
    if unreadable:
        raise SecretKeyError(
            f"{unreadable} stored secret(s) decrypt with none of the {box.keys} secret key(s):"
            " put the key they were encrypted with back (after the newest) and run again;"
            " nothing was changed"
        )
    for (name, id_name, secret_name), _counts, changes in plan.values():
        rows = table(name, column(id_name), column(secret_name))
        for row_id, value in changes.items():
            await session.execute(
                update(rows).where(rows.c[id_name] == row_id).values({secret_name: value})
            )
    return {where: counts for where, (_t, counts, _c) in plan.items()}
