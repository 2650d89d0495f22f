"""Portal sessions and one-time links in the database (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from shared.accounts import Subscriber
from shared.db import Database
from shared.portal.models import PortalLink, PortalSession
from shared.portal.tokens import (
    LINK_LIFETIME,
    LinkState,
    create_link,
    create_session,
    end_all_sessions,
    end_session,
    find_session,
    link_state,
    redeem_link,
    token_hash,
)
from tests.support.portal import add_subscriber

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
TTL = timedelta(hours=12)


async def test_a_session_is_found_by_its_token_and_stores_only_a_hash(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        token, made = await create_session(session, subscriber_id, now=T0, ttl=TTL)
    async with db.session() as session:
        found = await find_session(session, token, now=T0 + timedelta(minutes=5), ttl=TTL)
        stored = (await session.execute(select(PortalSession))).scalars().all()
    assert found is not None
    assert found.subscriber.id == subscriber_id
    assert found.csrf_token == made.csrf_token and len(found.csrf_token) >= 40
    assert [row.id for row in stored] == [token_hash(token)]
    assert token not in {row.id for row in stored} | {row.csrf_token for row in stored}
    async with db.session() as session:
        assert await find_session(session, token + "x", now=T0, ttl=TTL) is None
        assert await find_session(session, "", now=T0, ttl=TTL) is None


async def test_sessions_expire_when_idle_and_use_moves_the_expiry(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        token, _ = await create_session(session, subscriber_id, now=T0, ttl=TTL)
    async with db.session() as session:  # used after 11 h: good for 12 h more
        found = await find_session(session, token, now=T0 + timedelta(hours=11), ttl=TTL)
        assert found is not None
        assert found.expires_at == T0 + timedelta(hours=23)
    async with db.session() as session:  # 20 h after sign-in, 9 h after last use
        assert await find_session(session, token, now=T0 + timedelta(hours=20), ttl=TTL)
    async with db.session() as session:  # 12 h without use
        assert (
            await find_session(session, token, now=T0 + timedelta(hours=32, seconds=1), ttl=TTL)
            is None
        )
        left = await session.scalar(select(func.count()).select_from(PortalSession))
    assert left == 0  # the expired row went


async def test_a_use_within_a_minute_writes_nothing(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        token, _ = await create_session(session, subscriber_id, now=T0, ttl=TTL)
    async with db.session() as session:
        found = await find_session(session, token, now=T0 + timedelta(seconds=30), ttl=TTL)
    assert found is not None and found.expires_at == T0 + TTL


async def test_signing_out_ends_the_session_and_others_stay(db: Database) -> None:
    alpha, _ = await add_subscriber(db, "Alpha", "a@example.com")
    beta, _ = await add_subscriber(db, "Beta", "b@example.com")
    async with db.session() as session:
        first, one = await create_session(session, alpha, now=T0, ttl=TTL)
        second, _ = await create_session(session, alpha, now=T0, ttl=TTL)
        third, _ = await create_session(session, beta, now=T0, ttl=TTL)
    async with db.session() as session:
        await end_session(session, one.session_id)
    async with db.session() as session:
        assert await find_session(session, first, now=T0, ttl=TTL) is None
        assert await find_session(session, second, now=T0, ttl=TTL) is not None
        assert await end_all_sessions(session, alpha) == 1
        assert await find_session(session, second, now=T0, ttl=TTL) is None
        kept = await find_session(session, third, now=T0, ttl=TTL)
    assert kept is not None and kept.subscriber.id == beta


async def test_sessions_and_links_go_with_their_subscriber(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        await create_session(session, subscriber_id, now=T0, ttl=TTL)
        await create_link(session, subscriber_id, now=T0)
    async with db.session() as session:
        await session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PortalSession)) == 0
        assert await session.scalar(select(func.count()).select_from(PortalLink)) == 0


async def test_a_link_works_once_within_fifteen_minutes(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        token = await create_link(session, subscriber_id, now=T0)
        assert (await session.get(PortalLink, token_hash(token))) is not None
    async with db.session() as session:
        assert await link_state(session, token, now=T0) is LinkState.VALID
        assert await link_state(session, token, now=T0) is LinkState.VALID  # looking uses nothing
    async with db.session() as session:
        assert await redeem_link(session, token, now=T0 + timedelta(minutes=14)) == (
            LinkState.VALID,
            subscriber_id,
        )
    async with db.session() as session:
        assert await redeem_link(session, token, now=T0 + timedelta(minutes=14)) == (
            LinkState.USED,
            None,
        )
        assert await link_state(session, token, now=T0) is LinkState.USED


async def test_an_expired_or_unknown_link_signs_nobody_in(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        token = await create_link(session, subscriber_id, now=T0)
    late = T0 + LINK_LIFETIME
    async with db.session() as session:
        assert await redeem_link(session, token, now=late) == (LinkState.EXPIRED, None)
        assert await redeem_link(session, "nope" * 10, now=T0) == (LinkState.UNKNOWN, None)
        assert await link_state(session, "", now=T0) is LinkState.UNKNOWN


async def test_two_clicks_at_once_sign_in_once(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        token = await create_link(session, subscriber_id, now=T0)

    async def click() -> LinkState:
        async with db.session() as session:
            state, _ = await redeem_link(session, token, now=T0)
            return state

    states = await asyncio.gather(*(click() for _ in range(5)))
    assert sorted(s.value for s in states) == ["used"] * 4 + ["valid"]


async def test_old_links_are_cleared_when_new_ones_are_made(db: Database) -> None:
    subscriber_id, _ = await add_subscriber(db)
    async with db.session() as session:
        old = await create_link(session, subscriber_id, now=T0)
    async with db.session() as session:
        await create_link(session, subscriber_id, now=T0 + timedelta(days=2))
        assert await session.get(PortalLink, token_hash(old)) is None
        assert await session.scalar(select(func.count()).select_from(PortalLink)) == 1
