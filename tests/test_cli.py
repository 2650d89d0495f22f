"""The regwatch CLI: JSON on stdout for data, one-line errors and exit 1 otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app

PLAIN = """国家互联网信息办公室
关于抖音等3款App违法违规收集使用个人信息情况的通报
2021年5月10日
近期，国家网信办组织对部分App的个人信息收集使用情况进行了检测。
相关App运营者应当自本通报发布之日起15个工作日内完成整改。
1. 抖音（北京微播视界科技有限公司）
2. 快手（北京快手科技有限公司）
3. 腾讯地图（腾讯科技（深圳）有限公司）
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("REGWATCH_WEBHOOK_ALLOW_PRIVATE", "false")
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SMTP_HOST"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    return CliRunner()


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_parse_prints_the_notice_event(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["notices", "parse", str(write(tmp_path, "cac.txt", PLAIN))])
    assert result.exit_code == 0, result.output
    event = json.loads(result.stdout)
    assert event["schema"] == "regwatch.notice/v1"
    assert event["regulator"]["code"] == "CAC"
    assert event["deadline"]["due_on"] == "2021-05-31"
    assert [(e["name"], e["developer"]) for e in event["entities"]] == [
        ("抖音", "北京微播视界科技有限公司"),
        ("快手", "北京快手科技有限公司"),
        ("腾讯地图", "腾讯科技（深圳）有限公司"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", "", "empty"),
        ("binary.txt", bytes(range(256)) * 4, "cannot decode"),
        ("list.pdf", "%PDF-1.4", "list.pdf"),
        ("none.txt", "国家互联网信息办公室\n关于App的通报\n2021年5月10日\n没有名单。\n", "no apps"),
    ],
)
def test_parse_rejects_bad_files_with_one_line(
    cli: CliRunner, tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    result = cli.invoke(app, ["notices", "parse", str(write(tmp_path, name, content))])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_parse_missing_file(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["notices", "parse", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_subscribe_watch_ingest_and_list_reminders(cli: CliRunner, tmp_path: Path) -> None:
    added = cli.invoke(app, ["subscribers", "add", "--name", "Risk", "--email", "r@example.com"])
    assert added.exit_code == 0, added.output
    subscriber = json.loads(added.stdout)
    assert set(subscriber) == {"id", "api_key", "webhook_secret"}
    assert subscriber["webhook_secret"] is None
    watch = cli.invoke(app, ["watch", "add", subscriber["id"], "--app", "Douyin"])
    assert watch.exit_code == 0, watch.output
    assert json.loads(watch.stdout)["name"] == "Douyin"
    path = write(tmp_path, "cac.txt", PLAIN)
    ingested = cli.invoke(app, ["notices", "ingest", str(path), str(path)])
    assert ingested.exit_code == 0, ingested.output
    results = json.loads(ingested.stdout)
    assert [r.get("outcome") for r in results[:2]] == ["new", "unchanged"]
    assert str(results[2]["published"]).startswith("deferred")
    listed = cli.invoke(app, ["reminders", "list", subscriber["id"]])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subscribers", "add", "--name", "X", "--email", "nope"], "invalid email address"),
        (["subscribers", "add", "--name", "X", "--webhook", "http://127.0.0.1/h"], "127.0.0.1"),
        (["subscribers", "add", "--name", "X"], "at least one channel"),
        (["watch", "add", "sub_missing", "--app", "QQ"], "no subscriber 'sub_missing'"),
        (["watch", "add", "sub_x"], "exactly one of --app"),
        (["reminders", "list", "sub_missing"], "no subscriber"),
    ],
)
def test_cli_errors_are_one_line(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_offline_match(cli: CliRunner, tmp_path: Path) -> None:
    watchlist = write(
        tmp_path,
        "w.json",
        json.dumps(
            [
                {"kind": "app", "name": "Douyin"},
                {"kind": "company", "name": "Tencent"},
                {"kind": "app", "name": "QQ"},
            ]
        ),
    )
    notice = write(tmp_path, "cac.txt", PLAIN)
    result = cli.invoke(app, ["match", "--watchlist", str(watchlist), "--notice", str(notice)])
    assert result.exit_code == 0, result.output
    matches = json.loads(result.stdout)
    assert [(m["watch"]["name"], m["entity"]["name"]) for m in matches] == [
        ("Douyin", "抖音"),
        ("Tencent", "腾讯地图"),
    ]
    assert all(m["reason"] and 0 < m["score"] <= 1 for m in matches)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"kind": "app"}', "expected a JSON list"),
        ('[{"kind": "person", "name": "x"}]', "item 0"),
    ],
)
def test_offline_match_bad_watchlist(
    cli: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    watchlist = write(tmp_path, "w.json", content)
    notice = write(tmp_path, "cac.txt", PLAIN)
    result = cli.invoke(app, ["match", "--watchlist", str(watchlist), "--notice", str(notice)])
    assert result.exit_code == 1 and message in result.stderr


def test_run_refuses_a_public_listener_without_an_admin_token(tmp_path: Path) -> None:
    """``regwatch run`` as a process: exit 1, one line naming both settings, no traceback,
    and nothing started (no data dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    env |= {"REGWATCH_HTTP_HOST": "0.0.0.0", "REGWATCH_DATA_DIR": str(tmp_path / "var")}
    done = subprocess.run(
        [sys.executable, "-c", "from services.cli import main; main()", "run"],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: regwatch will not start: REGWATCH_ADMIN_TOKEN is not set")
    assert "REGWATCH_HTTP_HOST=0.0.0.0" in line
    assert not (tmp_path / "var").exists()
