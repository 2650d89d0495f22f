"""How many signatures a webhook carries around secret rotations (webhook_secrets.py): every
secret still in its grace signs beside the current one, each until its own grace ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifier import signing
from services.notifier.webhook_secrets import rotate_secret, signing_secrets
from shared.accounts import Subscriber
from shared.db import Database
from tests.services.notifier.conftest import new_subscriber

GRACE = timedelta(hours=24)
START = datetime(2026, 3, 1, 9, tzinfo=UTC)


def signatures(secrets: list[str]) -> list[str]:
    """The ``webhook-signature`` header's signatures, as a receiver splits them."""
    header = signing.headers(secrets, "msg_1", b"{}", now=int(START.timestamp()))
    return header["webhook-signature"].split(" ")


async def test_two_rotations_within_the_grace_sign_three_times(db: Database) -> None:
    subscriber_id, issued = await new_subscriber(db, webhook="http://127.0.0.1:1/hook")

    async def secrets_at(now: datetime) -> list[str]:
        async with db.session() as session:
            subscriber = await session.get(Subscriber, subscriber_id)
            assert subscriber is not None
            return await signing_secrets(session, subscriber, now)

    async def rotate(now: datetime) -> str:
        async with db.session() as session:
            subscriber = await session.get(Subscriber, subscriber_id)
            assert subscriber is not None
            return (await rotate_secret(session, subscriber, GRACE, now)).webhook_secret

    assert await secrets_at(START) == [issued]  # no rotation: one signature
    first = await rotate(START)
    assert await secrets_at(START + timedelta(hours=1)) == [first, issued]
    second = await rotate(START + timedelta(hours=6))
    # both older secrets are still in their grace: three signatures, the newest first
    both_in_grace = await secrets_at(START + timedelta(hours=7))
    assert both_in_grace == [second, first, issued]
    assert len(signatures(both_in_grace)) == 3
    for secret in (second, first, issued):
        headers = signing.headers(both_in_grace, "msg_1", b"{}")
        assert signing.verify(secret, headers, b"{}")
    # the issued secret's grace (24 h after the first rotation) ends first, then the first's
    assert await secrets_at(START + GRACE + timedelta(minutes=1)) == [second, first]
    after_both = await secrets_at(START + timedelta(hours=6) + GRACE + timedelta(minutes=1))
    assert after_both == [second]
    assert len(signatures(after_both)) == 1


async def test_a_rotation_after_the_grace_signs_twice(db: Database) -> None:
    subscriber_id, issued = await new_subscriber(db, webhook="http://127.0.0.1:1/hook")
    async with db.session() as session:
        subscriber = await session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        first = (await rotate_secret(session, subscriber, GRACE, START)).webhook_secret
        later = START + GRACE + timedelta(hours=1)
        second = (await rotate_secret(session, subscriber, GRACE, later)).webhook_secret
        secrets = await signing_secrets(session, subscriber, later + timedelta(minutes=1))
    assert secrets == [second, first]
    assert issued not in secrets
