"""Reading stored notices back: a filtered list, newest first, in pages; one notice with where
it was seen. Used by ``GET /v1/notices`` and ``regwatch notices list`` (and anything else that
shows stored notices), so they filter and page alike.

Filters (:func:`notice_filter` validates them as given, naming the parameter when one is bad):

* ``regulator``: a regulator code, any case (``CAC``, ``cac-hainan``); ending in ``*`` it is a
  prefix (``CAC*`` is CAC and every CAC-<PROVINCE>).
* ``since`` / ``until``: the publication date, ``YYYY-MM-DD``, both inclusive.
* ``app``: an app or company name: the notice names it (an entity or its developer, by
  :mod:`name_index` keys: any case, full- or half-width, simplified or traditional, and 抖音 as
  ``Douyin``), or its title contains it (case-insensitive).
* ``q``: words the title contains, all of them (case-insensitive).

Order: ``published_on`` newest first, then ``notice_id``. Pages are keyset pages: the cursor
names the last notice of the page (its date and id), so a notice stored meanwhile never
shifts the next page (it shows up in the page where its date places it, or not at all when
that page was already read).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from opencc import OpenCC
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ingestor.models import NoticeEntityRow, NoticeRow, NoticeSourceRow
from services.ingestor.name_index import query_keys
from services.ingestor.page_size import DEFAULT_LIMIT, MAX_LIMIT
from services.ingestor.store import notice_sources
from shared.errors import InputError
from shared.events import (
    Deadline,
    EntityKind,
    NoticeEvent,
    NoticeKind,
    Regulator,
)

MAX_TEXT = 200
"""Longest ``app`` or ``q`` accepted (characters)."""
MAX_WORDS = 10
"""Most words ``q`` may have."""
CURSOR_VERSION = "n1"
REGULATOR = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*(?P<prefix>-?\*)?")
_T2S = OpenCC("t2s")


class BadParameter(InputError):
    """A filter or paging parameter that cannot be used; names it (``since: ...``)."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter
        self.problem = problem


# --- the answer ------------------------------------------------------------------------------


class EntityName(BaseModel):
    kind: EntityKind
    name: str
    developer: str | None = Field(default=None, description="the app's company, when listed")


class NoticeItem(BaseModel):
    """One stored notice as a list shows it (``GET /v1/notices/{notice_id}`` has it whole)."""

    notice_id: str
    kind: NoticeKind
    regulator: Regulator
    title: str
    published_on: date
    published_on_estimated: bool = Field(
        description="true when the notice gives only a month: published_on is an estimate"
    )
    deadline: Deadline | None = Field(description="when the apps named must comply, if set")
    batch: str | None
    entity_count: int = Field(description="apps, SDKs, mini programs and companies it names")
    declared_count: int | None = Field(description="how many the notice says it names")
    list_incomplete: bool = Field(description="it names more than regwatch could read")
    entities: list[EntityName]
    source_url: str | None
    notes: list[str]

    @classmethod
    def of(cls, notice: NoticeEvent) -> NoticeItem:
        return cls(
            notice_id=notice.notice_id,
            kind=notice.kind,
            regulator=notice.regulator,
            title=notice.title,
            published_on=notice.published_on,
            published_on_estimated=notice.published_on_estimated,
            deadline=notice.deadline,
            batch=notice.batch,
            entity_count=len(notice.entities),
            declared_count=notice.declared_count,
            list_incomplete=notice.list_incomplete,
            entities=[
                EntityName(kind=entity.kind, name=entity.name, developer=entity.developer)
                for entity in notice.entities
            ],
            source_url=notice.source_url,
            notes=list(notice.notes),
        )


class NoticePage(BaseModel):
    items: list[NoticeItem]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null on the last page"
    )


class NoticeSource(BaseModel):
    """One copy of the notice that was read: where, and when first and last."""

    source: str = Field(description="URL, file name or 'request body'")
    parsed_id: str = Field(description="the id this copy was read under (differs for a reprint)")
    times_seen: int
    first_seen: datetime
    last_seen: datetime


class NoticeDetail(BaseModel):
    notice: NoticeEvent
    sources: list[NoticeSource] = Field(description="every copy read, oldest first")
    stored_at: datetime
    updated_at: datetime


# --- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeFilter:
    regulator: str | None = None
    """An upper-case code, or a prefix when ``regulator_prefix``."""
    regulator_prefix: bool = False
    since: date | None = None
    until: date | None = None
    app: str | None = None
    q: tuple[str, ...] = ()


def notice_filter(
    *,
    regulator: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    app: str | None = None,
    q: str | None = None,
) -> NoticeFilter:
    """The filter of these parameters as given (blank ones are left out); BadParameter names
    the first that is wrong."""
    code, prefix = _regulator(regulator)
    start, end = _day("since", since), _day("until", until)
    if start is not None and end is not None and end < start:
        raise BadParameter("until", f"{end.isoformat()} is before since ({start.isoformat()})")
    name = _text("app", app)
    if name is not None and not query_keys(name):
        raise BadParameter("app", f"{name!r} has no letters or digits to look for")
    words = tuple((_text("q", q) or "").split())
    if len(words) > MAX_WORDS:
        raise BadParameter("q", f"{len(words)} words; at most {MAX_WORDS}")
    return NoticeFilter(code, prefix, start, end, name, words)


def _regulator(value: str | None) -> tuple[str | None, bool]:
    if value is None or not value.strip():
        return None, False
    code = value.strip().upper()
    found = REGULATOR.fullmatch(code) if len(code) <= 41 else None
    if found is None:
        raise BadParameter(
            "regulator",
            f"{value!r} is not a regulator code (letters, digits and '-', like CAC, MIIT or "
            "CAC-HAINAN; end it with '*' for a prefix: CAC*)",
        )
    if found.group("prefix"):
        return code.rstrip("*"), True
    return code, False


def _day(parameter: str, value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise BadParameter(parameter, f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadParameter(parameter, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _text(parameter: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = " ".join(value.split())
    if len(text) > MAX_TEXT:
        raise BadParameter(parameter, f"{len(text)} characters; at most {MAX_TEXT}")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise BadParameter(parameter, "control characters are not allowed")
    return text


def check_limit(limit: int, parameter: str = "limit") -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise BadParameter(parameter, f"{limit} is not between 1 and {MAX_LIMIT}")
    return limit


# --- cursors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """The last notice of a page: the next page starts after it."""

    published_on: date
    notice_id: str


def encode_cursor(position: Position) -> str:
    text = f"{CURSOR_VERSION}|{position.published_on.isoformat()}|{position.notice_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parameter: str = "cursor") -> Position:
    """The position a cursor names; BadParameter for anything this module did not make."""
    problem = "not a cursor this list gave (start again without it)"
    text = cursor.strip()
    if not text or len(text) > 200 or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise BadParameter(parameter, problem)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        version, day, notice_id = raw.split("|", 2)
        published_on = date.fromisoformat(day)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadParameter(parameter, problem) from None
    if version != CURSOR_VERSION or not 1 <= len(notice_id) <= 80:
        raise BadParameter(parameter, problem)
    return Position(published_on, notice_id)


# --- queries ---------------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _title_contains(text: str) -> ColumnElement[bool]:
    """The title contains ``text`` (case-insensitive; as typed, full-width folded, or in
    simplified script)."""
    folded = unicodedata.normalize("NFKC", text)
    forms = {text, folded, _T2S.convert(folded)}
    return or_(
        *(NoticeRow.title.ilike(f"%{_escape_like(form)}%", escape="\\") for form in sorted(forms))
    )


def _conditions(where: NoticeFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.regulator is not None:
        code = func.upper(NoticeRow.regulator_code)
        if where.regulator_prefix:
            conditions.append(code.like(f"{_escape_like(where.regulator)}%", escape="\\"))
        else:
            conditions.append(code == where.regulator)
    if where.since is not None:
        conditions.append(NoticeRow.published_on >= where.since)
    if where.until is not None:
        conditions.append(NoticeRow.published_on <= where.until)
    if where.app is not None:
        naming = select(NoticeEntityRow.notice_id).where(
            NoticeEntityRow.name_key.in_(sorted(query_keys(where.app)))
        )
        conditions.append(or_(NoticeRow.notice_id.in_(naming), _title_contains(where.app)))
    conditions.extend(_title_contains(word) for word in where.q)
    return conditions


def _after(position: Position) -> ColumnElement[bool]:
    return or_(
        NoticeRow.published_on < position.published_on,
        and_(
            NoticeRow.published_on == position.published_on,
            NoticeRow.notice_id > position.notice_id,
        ),
    )


async def list_notices(
    session: AsyncSession,
    where: NoticeFilter | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> NoticePage:
    """One page of stored notices matching ``where``, newest first; ``cursor`` is the
    ``next_cursor`` of the page before (BadParameter when it is not one)."""
    check_limit(limit)
    conditions = _conditions(where or NoticeFilter())
    if cursor:
        conditions.append(_after(decode_cursor(cursor)))
    rows = (
        await session.execute(
            select(NoticeRow.payload)
            .where(*conditions)
            .order_by(NoticeRow.published_on.desc(), NoticeRow.notice_id)
            .limit(limit + 1)
        )
    ).scalars()
    notices = [NoticeEvent.model_validate_json(payload) for payload in rows]
    more = len(notices) > limit
    items = [NoticeItem.of(notice) for notice in notices[:limit]]
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor(Position(last.published_on, last.notice_id))
    return NoticePage(items=items, next_cursor=next_cursor)


async def notice_detail(session: AsyncSession, notice_id: str) -> NoticeDetail | None:
    """A stored notice whole, with every copy read; also by the id a copy folded into it was
    read under. None when there is no such notice."""
    row = await session.get(NoticeRow, notice_id)
    if row is None:
        alias = await session.scalar(
            select(NoticeSourceRow.notice_id)
            .where(NoticeSourceRow.parsed_id == notice_id)
            .order_by(NoticeSourceRow.id)
            .limit(1)
        )
        row = None if alias is None else await session.get(NoticeRow, alias)
    if row is None:
        return None
    sources = await notice_sources(session, row.notice_id)
    return NoticeDetail(
        notice=NoticeEvent.model_validate_json(row.payload),
        sources=[
            NoticeSource(
                source=source.source,
                parsed_id=source.parsed_id,
                times_seen=source.times_seen,
                first_seen=source.first_seen,
                last_seen=source.last_seen,
            )
            for source in sources
        ],
        stored_at=row.created_at,
        updated_at=row.updated_at,
    )
