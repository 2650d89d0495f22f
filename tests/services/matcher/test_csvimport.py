"""CSV import of watch items: every bad row named by line and field, good rows imported."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from services.matcher.csvimport import (
    ImportLimitError,
    decode_csv,
    import_watches,
    parse_watch_csv,
    read_watch_csv,
)
from services.matcher.models import MatcherOutboxRow, WatchRow
from services.matcher.store import (
    BATCH_BYTES,
    BATCH_ITEMS,
    WATCHLIST_STREAM,
    aliases_of,
    list_watches,
)
from shared.db import Database
from shared.errors import InputError
from shared.events import WatchlistEvent

MakeSubscriber = Callable[..., Awaitable[str]]

GOOD_AND_BAD = """kind,name,aliases
app,抖音,Douyin|TikTok China
company,腾讯

# a comment line
person,张三
app,
app,微信,WeChat,Weixin
"app","QQ音乐","QQ Music"
APP,快手
app,Kuaishou,x|{}
""".format("|".join(f"a{i}" for i in range(21)))


def test_rows_and_problems() -> None:
    parsed = parse_watch_csv(GOOD_AND_BAD)
    assert [(r.line, r.watch.kind, r.watch.name, r.watch.aliases) for r in parsed.rows] == [
        (2, "app", "抖音", ("Douyin", "TikTok China")),
        (3, "company", "腾讯", ()),
        (9, "app", "QQ音乐", ("QQ Music",)),
        (10, "app", "快手", ()),
    ]
    assert [str(p) for p in parsed.problems] == [
        "line 6: kind: must be app or company, not 'person'",
        "line 7: name: watch name is empty",
        "line 8: row: 4 columns, expected at most 3 (separate aliases with |, not commas)",
        "line 11: aliases: too many aliases (22, limit 20)",
    ]
    assert parsed.total == 8


def test_header_is_optional_and_bom_is_ignored() -> None:
    text = decode_csv("\ufeffapp,抖音\r\ncompany,腾讯\r\n".encode())
    assert [r.watch.name for r in parse_watch_csv(text).rows] == ["抖音", "腾讯"]
    assert parse_watch_csv("kind,name\n").rows == []


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"app,\xff\xfe", "not UTF-8"), (b"x" * 10_000_001, "too large")],
)
def test_undecodable_csv_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode_csv(data)


def test_broken_quoting_is_reported() -> None:
    parsed = parse_watch_csv('app,抖音\napp,"QQ\n')
    assert [r.watch.name for r in parsed.rows] == ["抖音"]
    assert [p.field for p in parsed.problems] == ["row"]


async def test_import_is_partial_and_idempotent(
    db: Database, make_subscriber: MakeSubscriber
) -> None:
    sub = await make_subscriber(db)
    seen: list[int] = []
    result = await import_watches(db, sub, parse_watch_csv(GOOD_AND_BAD), progress=seen.append)
    report = result.as_dict()
    assert (report["rows"], report["added"], report["existing"], report["failed"]) == (8, 4, 0, 4)
    assert sum(seen) == 8
    again = await import_watches(db, sub, parse_watch_csv("app,抖音,抖音 App\napp,微博\n"))
    assert (again.added, again.existing, again.failed) == (1, 1, 0)
    async with db.session() as session:
        rows = await list_watches(session, sub)
    assert [(r.name, aliases_of(r)) for r in rows] == [
        ("抖音", ["Douyin", "TikTok China", "抖音 App"]),
        ("腾讯", []),
        ("QQ音乐", ["QQ Music"]),
        ("快手", []),
        ("微博", []),
    ]


async def watchlist_events(db: Database) -> list[tuple[str, WatchlistEvent]]:
    async with db.session() as session:
        rows = await session.execute(
            select(MatcherOutboxRow.key, MatcherOutboxRow.payload)
            .where(MatcherOutboxRow.topic == WATCHLIST_STREAM)
            .order_by(MatcherOutboxRow.id)
        )
        return [(key, WatchlistEvent.model_validate_json(payload)) for key, payload in rows]


def generated_csv(rows: int) -> bytes:
    lines = ["kind,name,aliases"]
    for i in range(rows):
        lines.append(f"app,应用{i}号,App {i}|Yingyong {i}" if i % 3 else f"company,Company {i} Ltd")
    return ("\n".join(lines) + "\n").encode()


async def test_a_100k_row_import_is_one_transaction_with_one_event_per_batch(
    db: Database, make_subscriber: MakeSubscriber
) -> None:
    sub = await make_subscriber(db)
    parsed = read_watch_csv(generated_csv(100_000))
    seen: list[int] = []
    result = await import_watches(db, sub, parsed, progress=seen.append, limit=100_000)
    assert (result.rows, result.added, result.existing, result.failed) == (100_000, 100_000, 0, 0)
    assert sum(seen) == 100_000
    events = await watchlist_events(db)
    assert len(events) == 100_000 // BATCH_ITEMS  # not one per row
    assert max(len(json.dumps(e.dump())) for _, e in events) < BATCH_BYTES  # a Kafka message
    assert {key for key, _ in events} == {sub}
    assert {(e.op, e.subscriber_id) for _, e in events} == {("added", sub)}
    items = [w for _, e in events for w in e.items()]
    async with db.session() as session:
        stored = await session.execute(
            select(WatchRow.id).where(WatchRow.subscriber_id == sub).order_by(WatchRow.id)
        )
        assert [w.id for w in items] == list(stored.scalars())  # every item once, in order
    assert [(w.kind, w.name, w.aliases) for w in items[:2]] == [
        ("company", "Company 0 Ltd", []),
        ("app", "应用1号", ["App 1", "Yingyong 1"]),
    ]


async def test_an_import_past_the_watch_limit_is_refused_as_a_whole(
    db: Database, make_subscriber: MakeSubscriber
) -> None:
    sub = await make_subscriber(db)
    await import_watches(db, sub, parse_watch_csv("app,抖音\napp,快手\n"), limit=4)
    before = await watchlist_events(db)
    text = "kind,name\napp,抖音\napp,微信\napp,微博\nrobot,x\n"  # 2 new, 1 existing, 1 bad
    with pytest.raises(ImportLimitError) as refused:
        await import_watches(db, sub, parse_watch_csv(text), limit=3)
    assert str(refused.value) == (
        "import refused, nothing imported: you watch 2 items and the file has 4 rows (2 new), "
        "which would pass the limit of 3 watch items per subscriber"
    )
    async with db.session() as session:
        assert [r.name for r in await list_watches(session, sub)] == ["抖音", "快手"]
    assert await watchlist_events(db) == before
    # exactly at the limit is allowed; rows already watched do not count
    result = await import_watches(db, sub, parse_watch_csv(text), limit=4)
    assert (result.added, result.existing, result.failed) == (2, 1, 1)


async def test_aliases_past_the_limit_once_merged_fail_that_row_only(
    db: Database, make_subscriber: MakeSubscriber
) -> None:
    sub = await make_subscriber(db)
    first = "|".join(f"a{i}" for i in range(15))
    more = "|".join(f"b{i}" for i in range(10))
    text = f"app,抖音,{first}\napp,快手\napp,抖音,{more}\n"
    result = await import_watches(db, sub, parse_watch_csv(text))
    assert (result.added, result.existing, result.failed) == (2, 0, 1)
    assert [(p.line, p.field) for p in result.problems] == [(3, "aliases")]
    assert "too many aliases (25, limit 20)" in result.problems[0].message
