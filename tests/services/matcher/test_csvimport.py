"""CSV import of watch items: every bad row named by line and field, good rows imported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.matcher.csvimport import decode_csv, import_watches, parse_watch_csv
from services.matcher.store import aliases_of, list_watches
from shared.db import Database
from shared.errors import InputError

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
