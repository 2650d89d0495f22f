from __future__ import annotations

import base64

import pytest

from shared.accounts import (
    SubscriberChanges,
    get_subscriber,
    register_subscriber,
    rotate_api_key,
    subscriber_by_api_key,
    update_subscriber,
    validate_reminders,
    validate_timezone,
    validate_webhook,
    webhook_secret_of,
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


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "UTC", " America/New_York "])
def test_time_zones_are_iana_names(zone: str) -> None:
    assert validate_timezone(zone) == zone.strip()


@pytest.mark.parametrize("zone", ["", "Beijing", "Asia/Peking", "GMT+8", "../../etc/passwd"])
def test_unknown_time_zones_are_refused(zone: str) -> None:
    with pytest.raises(InputError, match="time zone"):
        validate_timezone(zone)


async def test_update_and_rotate(db: Database) -> None:
    created = await register(db, timezone="Europe/Berlin")
    subscriber_id = created.id  # type: ignore[attr-defined]
    async with db.session() as session:
        row = await get_subscriber(session, subscriber_id)
        assert row is not None and row.timezone == "Europe/Berlin"
        changes = SubscriberChanges(
            fields=frozenset({"webhook_url", "reminders"}),
            webhook_url="http://127.0.0.1:9000/hook",
            reminders="2d",
        )
        secret = await update_subscriber(session, row, changes, allow_private=True)
        assert secret is not None and secret.startswith("whsec_")
        again = await update_subscriber(
            session, row, SubscriberChanges(fields=frozenset({"name"}), name=" New  name "),
            allow_private=True,
        )  # fmt: skip
        assert again is None  # the webhook secret is made once
        assert (row.name, row.reminders) == ("New name", "2d")
        assert row.webhook_secret is not None and row.webhook_secret.startswith("fernet:")
        assert webhook_secret_of(session, row) == secret  # stored encrypted, read back
        with pytest.raises(InputError, match=r"127\.0\.0\.1"):
            await update_subscriber(
                session,
                row,
                SubscriberChanges(
                    fields=frozenset({"webhook_url"}), webhook_url="http://127.0.0.1/h"
                ),
                allow_private=False,
            )
        with pytest.raises(InputError, match="at least one channel"):
            await update_subscriber(
                session,
                row,
                SubscriberChanges(fields=frozenset({"email", "webhook_url"})),
                allow_private=True,
            )
        with pytest.raises(InputError, match="cannot change api_key_hash"):
            await update_subscriber(
                session,
                row,
                SubscriberChanges(fields=frozenset({"api_key_hash"})),
                allow_private=True,
            )
    async with db.session() as session:
        new_key = await rotate_api_key(session, subscriber_id)
        assert new_key is not None and new_key != created.api_key  # type: ignore[attr-defined]
        assert await rotate_api_key(session, "sub_missing") is None
    async with db.session() as session:
        assert await subscriber_by_api_key(session, created.api_key) is None  # type: ignore[attr-defined]
        found = await subscriber_by_api_key(session, new_key)
        assert found is not None and found.id == subscriber_id


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://[fe80::1]:8080/hook",
    ],
)
async def test_webhooks_to_metadata_are_refused_at_the_edge_with_allow_private(url: str) -> None:
    with pytest.raises(InputError, match="REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL=true"):
        await validate_webhook(url, allow_private=True)
    assert await validate_webhook(url, allow_private=True, allow_link_local=True) == url
    assert await validate_webhook("http://10.0.0.1/hook", allow_private=True)
