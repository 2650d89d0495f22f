"""The name keys of stored notices (table ``notice_entities``), for finding notices by app or
company name: ``GET /v1/notices?app=`` and ``regwatch notices list --app``.

A notice is indexed under every form (:func:`merging.name_forms`) of each entity's name and of
its developer: the name key (NFKC, simplified script, case-folded, without spaces and
punctuation), the toneless pinyin of a Chinese name and the Chinese names the press's English
name stands for. A name looked up in the same forms therefore finds 抖音 as ``Douyin``,
``douyin`` or ``抖 音``, 騰訊視頻 as 腾讯视频, and a notice by its developer's name. Exact keys,
not substrings: an indexed equality lookup.

The keys are rewritten whenever a notice's entities change (``store.save_notice``); migration
0011 wrote them for the notices stored before it, with :func:`payload_keys`. A change to how
keys are made needs a migration that rewrites them the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingestor.merging import name_forms
from services.ingestor.models import NoticeEntityRow
from shared.events import NoticeEvent

KEY_LENGTH = 200
"""Keys are cut to this many characters, when stored and when looked up alike."""
CHUNK = 500
"""Rows per statement when keys are written or removed."""


def name_keys(names: Iterable[str | None]) -> set[str]:
    """Every key the given names are found under (empty names give none)."""
    keys: set[str] = set()
    for name in names:
        if name and name.strip():
            keys.update(form[:KEY_LENGTH] for form in name_forms(name.strip()))
    return keys


def notice_keys(notice: NoticeEvent) -> set[str]:
    """The keys of a notice: its entities' names and developers."""
    return name_keys(name for entity in notice.entities for name in (entity.name, entity.developer))


def payload_keys(payload: str) -> set[str]:
    """:func:`notice_keys` of a stored payload (the NoticeEvent JSON), read as plain JSON so
    that a migration can index rows however old their payload is."""
    data = json.loads(payload)
    entities = data.get("entities") if isinstance(data, dict) else None
    names: list[str | None] = []
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, dict):
            names.extend(
                value
                for value in (entity.get("name"), entity.get("developer"))
                if isinstance(value, str)
            )
    return name_keys(names)


def query_keys(name: str) -> set[str]:
    """The keys a name looked up is searched under (empty when it has no letters or digits)."""
    return name_keys([name])


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def index_notice(session: AsyncSession, notice: NoticeEvent) -> None:
    """Make the stored keys of ``notice`` (already stored and flushed) its current ones."""
    wanted = notice_keys(notice)
    stored = set(
        await session.scalars(
            select(NoticeEntityRow.name_key).where(NoticeEntityRow.notice_id == notice.notice_id)
        )
    )
    for gone in chunks(sorted(stored - wanted)):
        await session.execute(
            delete(NoticeEntityRow).where(
                NoticeEntityRow.notice_id == notice.notice_id,
                NoticeEntityRow.name_key.in_(gone),
            )
        )
    for new in chunks(sorted(wanted - stored)):
        await session.execute(
            insert(NoticeEntityRow),
            [{"notice_id": notice.notice_id, "name_key": key} for key in new],
        )
