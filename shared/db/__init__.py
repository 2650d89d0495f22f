"""Database plumbing: declarative base, async engine and sessions, Alembic migrations."""

from shared.db.base import Base, utcnow
from shared.db.engine import Database

__all__ = ["Base", "Database", "utcnow"]
