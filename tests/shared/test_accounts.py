from __future__ import annotations

import base64

import pytest

from shared.accounts import (
    get_subscriber,
    register_subscriber,
    subscriber_by_api_key,
    validate_reminders,
)
from shared.db import Database
from shared.errors import InputError


async def register(db: Database, **overrides: object) -> object:
    fields: dict[str, object] = {
        "name": "Risk team",
        "email": "risk@example.com",
        "webhook_url": None,
        "reminders": None,
        "default_reminders": "7d,3d,1d",
        "allow_private": False,
    }
    fields.update(overrides)
    async with db.session() as session:
        return await register_subscriber(session, **fields)  # type: ignore[arg-type]


async def test_register_and_authenticate(db: Database) -> None:
    created = await register(db, webhook_url="https://hooks.example.com/regwatch")
    secret = created.webhook_secret  # type: ignore[attr-defined]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    async with db.session() as session:
        found = await subscriber_by_api_key(session, created.api_key)  # type: ignore[attr-defined]
        assert found is not None and found.id == created.id  # type: ignore[attr-defined]
        assert found.api_key_hash != created.api_key  # type: ignore[attr-defined]
        assert found.reminders == "7d,3d,1d"
        assert await subscriber_by_api_key(session, "rw_wrong") is None
        assert await get_subscriber(session, "sub_missing") is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-address"}, "invalid email address 'not-an-address'"),
        ({"email": None}, "at least one channel"),
        ({"name": "   "}, "subscriber name is empty"),
        ({"webhook_url": "ftp://example.com/x"}, "http or https"),
        ({"webhook_url": "http://127.0.0.1:9000/hook"}, "127.0.0.1"),
        ({"webhook_url": "http://10.1.2.3/hook"}, "10.1.2.3"),
        ({"reminders": "7d,tomorrow"}, "invalid reminders"),
    ],
)
async def test_bad_registration_is_refused_with_a_reason(
    db: Database, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        await register(db, **overrides)


async def test_private_webhook_allowed_when_configured(db: Database) -> None:
    created = await register(db, webhook_url="http://127.0.0.1:9000/hook", allow_private=True)
    assert created.webhook_secret  # type: ignore[attr-defined]


def test_reminders_are_normalized() -> None:
    assert validate_reminders(" 7d, 72h ,1d") == "7d,3d,1d"
