"""The columns every transactional outbox table has, and the queries a relay runs on them.

A row is *pending* until the broker acknowledged it (``published_at``), and *confirmed* once
every consumer group reading its topic committed an offset past it (``confirmed_at``). On a
durable broker (Apache Kafka) an acknowledged row is confirmed at once: the broker keeps it.
On the embedded broker, which keeps its log in memory, the broker's partition and offset are
kept with the row until the consumers' commits pass it; a row still unconfirmed when the
process stops (or is killed) is pending again at the next start (:func:`requeue_unconfirmed`)
and is published again, and the consumers, which deduplicate, take it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Index, Integer, String, Text, and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.db.base import UTCDateTime, utcnow


class OutboxColumns:
    """Mixin for an outbox table (the table's ``__tablename__`` names its index)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(255), doc="logical topic, e.g. notices")
    key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    broker_partition: Mapped[int | None] = mapped_column(
        Integer, doc="where the embedded broker put it, until confirmed"
    )
    broker_offset: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="every consumer group committed past it (or the broker is durable)"
    )

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        name: str = cls.__tablename__  # type: ignore[attr-defined]
        unconfirmed = "published_at IS NOT NULL AND confirmed_at IS NULL"
        return (
            Index(
                f"ix_{name}_unconfirmed",
                "topic",
                "broker_partition",
                "broker_offset",
                sqlite_where=text(unconfirmed),
                postgresql_where=text(unconfirmed),
            ),
        )


Row = TypeVar("Row", bound=OutboxColumns)


@dataclass(frozen=True)
class Ack:
    """The broker's acknowledgement of one published row."""

    row_id: int
    partition: int | None
    offset: int | None


async def pending(session: AsyncSession, model: type[Row], limit: int) -> list[Row]:
    result = await session.execute(
        select(model).where(model.published_at.is_(None)).order_by(model.id).limit(limit)
    )
    return list(result.scalars())


async def mark_published(
    session: AsyncSession,
    model: type[Row],
    acks: Sequence[Ack],
    at: datetime,
    *,
    durable: bool,
) -> None:
    """Mark acknowledged rows published; confirmed as well when the broker is ``durable``,
    otherwise with the partition and offset their consumers' commits must pass."""
    if durable:
        await session.execute(
            update(model)
            .where(model.id.in_([a.row_id for a in acks]))
            .values(published_at=at, confirmed_at=at)
        )
        return
    for ack in acks:
        await session.execute(
            update(model)
            .where(model.id == ack.row_id)
            .values(published_at=at, broker_partition=ack.partition, broker_offset=ack.offset)
        )


def _unconfirmed(model: type[Row]) -> Any:
    return and_(model.published_at.is_not(None), model.confirmed_at.is_(None))


async def unconfirmed_partitions(session: AsyncSession, model: type[Row]) -> dict[str, list[int]]:
    """Logical topic -> the partitions holding rows published but not yet confirmed."""
    result = await session.execute(
        select(model.topic, model.broker_partition).where(_unconfirmed(model)).distinct()
    )
    found: dict[str, list[int]] = {}
    for topic, partition in result.all():
        if partition is not None:
            found.setdefault(topic, []).append(partition)
    return {topic: sorted(parts) for topic, parts in sorted(found.items())}


async def confirm_below(
    session: AsyncSession,
    model: type[Row],
    topic: str,
    committed: dict[int, int],
    at: datetime,
) -> int:
    """Confirm the rows of ``topic`` whose offset every consumer group committed past
    (``committed``: partition -> the lowest committed offset); returns how many."""
    done = 0
    for partition, offset in committed.items():
        result = await session.execute(
            update(model)
            .where(
                _unconfirmed(model),
                model.topic == topic,
                model.broker_partition == partition,
                model.broker_offset < offset,
            )
            .values(confirmed_at=at, broker_partition=None, broker_offset=None)
        )
        done += int(getattr(result, "rowcount", 0) or 0)
    return done


async def requeue_unconfirmed(session: AsyncSession, model: type[Row]) -> int:
    """Rows the last (now gone) embedded broker held but no consumer confirmed: pending again,
    to be published again in their original order. Returns how many."""
    result = await session.execute(
        update(model)
        .where(_unconfirmed(model))
        .values(published_at=None, broker_partition=None, broker_offset=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def count_unconfirmed(session: AsyncSession, model: type[Row]) -> int:
    result = await session.execute(
        select(func.count()).select_from(model).where(_unconfirmed(model))
    )
    return int(result.scalar_one())
