"""The portal's tables: signed-in browser sessions and one-time sign-in links.

Neither table stores a token: a session cookie and a link carry a random token, the row's id
is its SHA-256 (a database copy signs nobody in). Both go with their subscriber
(``ON DELETE CASCADE``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, UTCDateTime, utcnow


class PortalSession(Base):
    """A signed-in browser. ``expires_at`` moves forward while it is used (idle expiry,
    ``REGWATCH_PORTAL_SESSION_HOURS``); ``csrf_token`` is the synchronizer token every form of
    this session carries."""

    __tablename__ = "portal_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 hex of the token")
    subscriber_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class PortalLink(Base):
    """A one-time sign-in link (``/portal/link/<token>``): good once, until ``expires_at``."""

    __tablename__ = "portal_links"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, doc="sha256 hex of the token")
    subscriber_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
