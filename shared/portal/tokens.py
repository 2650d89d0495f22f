"""Portal sessions and one-time sign-in links: made, looked up, used up, ended.

A token is 32 random bytes (URL-safe base64); the database keeps only its SHA-256, so reading
the tables signs nobody in. Sessions expire after ``ttl`` without use (each use moves
``expires_at`` forward, written at most once a minute); links after
:data:`LINK_LIFETIME`, and once used they never work again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.accounts import Subscriber
from shared.portal.models import PortalLink, PortalSession

LINK_LIFETIME: Final = timedelta(minutes=15)
TOUCH_AFTER: Final = timedelta(minutes=1)
"""A session's expiry is moved forward only when it is at least this much older than it
would be if set now: one write a minute at most, not one per page."""
USED_LINKS_KEPT: Final = timedelta(days=1)
"""Used or expired links are kept this long (so a second click says "already used")."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """A session found for a cookie: who, and the CSRF token its forms carry."""

    session_id: str
    subscriber: Subscriber
    csrf_token: str
    expires_at: datetime


async def create_session(
    session: AsyncSession, subscriber_id: str, *, now: datetime, ttl: timedelta
) -> tuple[str, SignedIn]:
    """A new session for ``subscriber_id``: (the cookie's token, the session). Sessions
    expired by now are deleted on the way."""
    await session.execute(delete(PortalSession).where(PortalSession.expires_at <= now))
    subscriber = await session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise LookupError(f"no subscriber {subscriber_id}")
    token = new_token()
    row = PortalSession(
        id=token_hash(token),
        subscriber_id=subscriber_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    await session.flush()
    return token, SignedIn(row.id, subscriber, row.csrf_token, row.expires_at)


async def find_session(
    session: AsyncSession, token: str, *, now: datetime, ttl: timedelta
) -> SignedIn | None:
    """The live session of a cookie's token, its idle expiry moved forward; None when the
    token is unknown or the session expired (an expired row is deleted)."""
    if not token or len(token) > 200:
        return None
    row = await session.get(PortalSession, token_hash(token))
    if row is None:
        return None
    if row.expires_at <= now:
        await session.delete(row)
        return None
    subscriber = await session.get(Subscriber, row.subscriber_id)
    if subscriber is None:  # pragma: no cover - the foreign key cascades
        return None
    if now + ttl - row.expires_at >= TOUCH_AFTER:
        row.expires_at = now + ttl
        await session.flush()
    return SignedIn(row.id, subscriber, row.csrf_token, row.expires_at)


async def end_session(session: AsyncSession, session_id: str) -> None:
    """Sign out: the session row is deleted (the cookie's token no longer works)."""
    await session.execute(delete(PortalSession).where(PortalSession.id == session_id))


async def end_all_sessions(session: AsyncSession, subscriber_id: str) -> int:
    """Sign a subscriber out everywhere; how many sessions ended."""
    result = await session.execute(
        delete(PortalSession).where(PortalSession.subscriber_id == subscriber_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- one-time links -------------------------------------------------------------------------


class LinkState(Enum):
    VALID = "valid"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


async def create_link(
    session: AsyncSession,
    subscriber_id: str,
    *,
    now: datetime,
    lifetime: timedelta = LINK_LIFETIME,
) -> str:
    """A one-time sign-in token for ``subscriber_id`` (LookupError when unknown). Links used
    or expired more than a day ago are deleted on the way."""
    if await session.get(Subscriber, subscriber_id) is None:
        raise LookupError(f"no subscriber {subscriber_id}")
    await session.execute(delete(PortalLink).where(PortalLink.expires_at <= now - USED_LINKS_KEPT))
    token = new_token()
    session.add(
        PortalLink(
            id=token_hash(token),
            subscriber_id=subscriber_id,
            created_at=now,
            expires_at=now + lifetime,
            used_at=None,
        )
    )
    await session.flush()
    return token


async def link_state(session: AsyncSession, token: str, *, now: datetime) -> LinkState:
    """What a link's token is now, without using it (the confirmation page)."""
    if not token or len(token) > 200:
        return LinkState.UNKNOWN
    row = await session.get(PortalLink, token_hash(token))
    if row is None:
        return LinkState.UNKNOWN
    if row.used_at is not None:
        return LinkState.USED
    if row.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.VALID


async def redeem_link(
    session: AsyncSession, token: str, *, now: datetime
) -> tuple[LinkState, str | None]:
    """Use a link: (VALID, its subscriber id) exactly once, in one conditional UPDATE, so two
    clicks at the same moment cannot both sign in; otherwise (why not, None)."""
    state = await link_state(session, token, now=now)
    if state is not LinkState.VALID:
        return state, None
    digest = token_hash(token)
    result = await session.execute(
        update(PortalLink)
        .where(
            PortalLink.id == digest,
            PortalLink.used_at.is_(None),
            PortalLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return LinkState.USED, None
    subscriber_id = await session.scalar(
        select(PortalLink.subscriber_id).where(PortalLink.id == digest)
    )
    return LinkState.VALID, subscriber_id
