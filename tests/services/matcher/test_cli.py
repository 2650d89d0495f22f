"""``regwatch subscribers ...`` and ``regwatch watch ...``: JSON out, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cli import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SMTP_HOST", "WEBHOOK_ALLOW_PRIVATE"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    return CliRunner()


def ok(cli: CliRunner, *args: str) -> Any:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(cli: CliRunner, *args: str) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    return result.stderr


def test_rotate_key(cli: CliRunner) -> None:
    made = ok(cli, "subscribers", "add", "--name", "A", "--email", "a@example.com",
              "--timezone", "Europe/Berlin")  # fmt: skip
    rotated = ok(cli, "subscribers", "rotate-key", made["id"])
    assert rotated["id"] == made["id"]
    assert rotated["api_key"].startswith("rw_") and rotated["api_key"] != made["api_key"]
    assert "no subscriber 'sub_nope'" in one_line_error(
        cli, "subscribers", "rotate-key", "sub_nope"
    )
    assert "unknown time zone" in one_line_error(
        cli, "subscribers", "add", "--name", "B", "--email", "b@x.org", "--timezone", "Moon/Base"
    )


def test_watch_add_list_remove(cli: CliRunner) -> None:
    sub = ok(cli, "subscribers", "add", "--name", "A", "--email", "a@example.com")["id"]
    added = ok(
        cli, "watch", "add", sub, "--app", "抖音", "--alias", "Douyin", "--alias", "抖音短视频"
    )
    assert (added["name"], added["aliases"], added["created"]) == (
        "抖音",
        ["Douyin", "抖音短视频"],
        True,
    )
    assert ok(cli, "watch", "add", sub, "--app", "抖音")["created"] is False
    ok(cli, "watch", "add", sub, "--company", "腾讯")
    assert [w["name"] for w in ok(cli, "watch", "list", sub)] == ["抖音", "腾讯"]
    assert ok(cli, "watch", "remove", sub, str(added["id"]))["removed"] is True
    assert [w["name"] for w in ok(cli, "watch", "list", sub)] == ["腾讯"]
    assert "has no watch item" in one_line_error(cli, "watch", "remove", sub, str(added["id"]))
    assert "no subscriber" in one_line_error(cli, "watch", "list", "sub_nope")


def test_watch_import_reports_partial_success(cli: CliRunner, tmp_path: Path) -> None:
    sub = ok(cli, "subscribers", "add", "--name", "A", "--email", "a@example.com")["id"]
    good = tmp_path / "good.csv"
    good.write_text("kind,name,aliases\napp,抖音,Douyin\ncompany,腾讯\n", encoding="utf-8")
    report = ok(cli, "watch", "import", sub, str(good))
    assert (report["added"], report["failed"], report["errors"]) == (2, 0, [])

    mixed = tmp_path / "mixed.csv"
    mixed.write_text("app,快手\napp\nfirm,阿里巴巴\napp,抖音\n", encoding="utf-8")
    result = cli.invoke(app, ["watch", "import", sub, str(mixed)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["rows"], report["added"], report["existing"], report["failed"]) == (4, 1, 1, 2)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "row"), (3, "kind")]
    assert result.stderr == (
        "error: 2 of 4 row(s) not imported; first: line 2: row: expected kind,name[,aliases]\n"
    )
    assert [w["name"] for w in ok(cli, "watch", "list", sub)] == ["抖音", "腾讯", "快手"]

    assert "no such file" in one_line_error(cli, "watch", "import", sub, str(tmp_path / "x.csv"))
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfeapp")
    assert "not UTF-8" in one_line_error(cli, "watch", "import", sub, str(binary))
    assert "no subscriber" in one_line_error(cli, "watch", "import", "sub_nope", str(good))


def test_the_watch_limit_holds_on_the_command_line(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGWATCH_MAX_WATCHES_PER_SUBSCRIBER", "2")
    sub = ok(cli, "subscribers", "add", "--name", "A", "--email", "a@example.com")["id"]
    ok(cli, "watch", "add", sub, "--app", "抖音")
    csv_file = tmp_path / "watches.csv"
    csv_file.write_text("app,快手\napp,微信\n", encoding="utf-8")
    assert one_line_error(cli, "watch", "import", sub, str(csv_file)) == (
        "error: import refused, nothing imported: you watch 1 item and the file has 2 rows "
        "(2 new), which would pass the limit of 2 watch items per subscriber\n"
    )
    ok(cli, "watch", "add", sub, "--app", "快手")
    assert one_line_error(cli, "watch", "add", sub, "--app", "微信") == (
        "error: watch limit reached: you watch 2 items and the limit is 2 per subscriber; "
        "remove some to add more\n"
    )
    assert ok(cli, "watch", "add", sub, "--app", "抖音")["created"] is False
    assert [w["name"] for w in ok(cli, "watch", "list", sub)] == ["抖音", "快手"]


@pytest.mark.parametrize(
    ("reminders", "meant"),
    [
        ("7x", "bad duration '7x': did you mean '7d' or '7s'?"),
        ("7d,3 days", "bad duration '3 days': did you mean '3d'?"),
        ("d1", "bad duration 'd1': did you mean '1d'?"),
        ("7", "bad duration '7': did you mean '7m', '7h' or '7d'?"),
    ],
)
def test_bad_reminders_say_what_was_meant(cli: CliRunner, reminders: str, meant: str) -> None:
    error = one_line_error(
        cli, "subscribers", "add", "--name", "A", "--email", "a@example.com",
        "--reminders", reminders,
    )  # fmt: skip
    assert error.startswith(f"error: invalid reminders {reminders!r}: {meant}")
    assert "(a number and a unit: ms, s, m, h, d, w)" in error
