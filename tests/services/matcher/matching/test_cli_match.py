"""``regwatch match``: the offline matcher, with per-watch aliases."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from shared.events import Entity, NoticeEvent, Regulator


def _notice(tmp_path: Path, *entities: Entity) -> Path:
    event = NoticeEvent(
        notice_id="n1",
        regulator=Regulator(code="CAC", name="国家互联网信息办公室"),
        title="关于抖音等App违法违规收集使用个人信息情况的通报",
        published_on=date(2021, 5, 10),
        entities=list(entities),
    )
    path = tmp_path / "n.json"
    path.write_text(event.model_dump_json(by_alias=True), encoding="utf-8")
    return path


def _run(tmp_path: Path, watchlist: object, notice: Path) -> tuple[int, str, str]:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(watchlist, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["match", "--watchlist", str(path), "--notice", str(notice)])
    return result.exit_code, result.stdout, result.stderr


def test_matches_with_score_reason_and_aliases(tmp_path: Path) -> None:
    notice = _notice(
        tmp_path,
        Entity(name="抖音", developer="北京微播视界科技有限公司"),
        Entity(name="飞书", developer="北京字跳网络技术有限公司"),
        Entity(name="QQ阅读", developer="上海阅文信息技术有限公司"),
        Entity(name="酷狗音乐", developer="广州酷狗计算机科技有限公司"),
    )
    watchlist = [
        {"kind": "app", "name": "Douyin"},
        {"kind": "app", "name": "Lark", "aliases": ["飞书", " "]},
        {"kind": "app", "name": "QQ"},
        {"kind": "company", "name": "Tencent"},
    ]
    code, out, err = _run(tmp_path, watchlist, notice)
    assert code == 0, err
    assert [
        (m["watch"]["name"], m["entity"]["name"], m["score"], m["reason"]) for m in json.loads(out)
    ] == [
        ("Douyin", "抖音", 0.95, "pinyin of 抖音 is douyin"),
        (
            "Lark",
            "飞书",
            1.0,
            "via your alias '飞书': app name matches after normalization (飞书 = 飞书)",
        ),
        (
            "Tencent",
            "QQ阅读",
            0.9,
            "developer 上海阅文信息技术有限公司 belongs to Tencent (through China Literature)",
        ),
        (
            "Tencent",
            "酷狗音乐",
            0.9,
            "developer 广州酷狗计算机科技有限公司 belongs to Tencent "
            "(through Tencent Music Entertainment)",
        ),
    ]


@pytest.mark.parametrize(
    ("watchlist", "message"),
    [
        ([{"kind": "app", "name": "Lark", "aliases": "飞书"}], "item 0: aliases must be a list"),
        ([{"kind": "app", "name": "Lark", "aliases": [1]}], "item 0: aliases must be a list"),
        ([{"kind": "app", "name": " "}], "item 0: needs a non-empty name"),
    ],
)
def test_bad_watchlists_get_one_line(tmp_path: Path, watchlist: object, message: str) -> None:
    code, _, err = _run(tmp_path, watchlist, _notice(tmp_path, Entity(name="飞书")))
    assert code == 1 and message in err and err.count("\n") == 1
