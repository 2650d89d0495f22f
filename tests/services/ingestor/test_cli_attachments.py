"""``--attachment`` on ``regwatch notices parse|ingest``, and the files an HTML notice links to
found next to it (a folder's attachments are read with their page, not on their own)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from services.cli import app

PAGE = """<html><body><h1>关于侵害用户权益行为的APP通报（2023年第2批，总第27批）</h1>
<p>工业和信息化部发现2款APP存在侵害用户权益行为，上述APP应在4月28日前完成整改落实工作。</p>
<p>附件：<a href="{href}">存在问题的APP名单.xlsx</a></p>
<p>工业和信息化部信息通信管理局</p><p>2023年4月21日</p></body></html>"""


def workbook() -> bytes:
    book = Workbook()
    book.active.append(["序号", "应用名称", "应用开发者"])
    book.active.append([1, "咕噜语音", "广州咕噜网络科技有限公司"])
    book.active.append([2, "QQ音乐", "深圳市腾讯计算机系统有限公司"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SMTP_HOST"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    return CliRunner()


def parsed(cli: CliRunner, *args: str) -> dict[str, object]:
    result = cli.invoke(app, ["notices", "parse", *args])
    assert result.exit_code == 0, result.output
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def rows(event: dict[str, object]) -> list[tuple[object, object]]:
    return [(e["name"], e["source"]) for e in event["entities"]]  # type: ignore[attr-defined,index]


def test_parse_with_an_attachment(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "n.html").write_text(PAGE.format(href="https://www.miit.gov.cn/a.xlsx"), "utf-8")
    (tmp_path / "downloaded.xlsx").write_bytes(workbook())
    without = parsed(cli, str(tmp_path / "n.html"))
    assert without["list_incomplete"] is True
    event = parsed(cli, str(tmp_path / "n.html"), "--attachment", str(tmp_path / "downloaded.xlsx"))
    assert rows(event) == [("咕噜语音", "attachment"), ("QQ音乐", "attachment")]
    assert event["list_incomplete"] is False


def test_a_linked_file_next_to_the_page_is_found(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "名单.xlsx").write_bytes(workbook())
    (tmp_path / "n.html").write_text(PAGE.format(href="/files/%E5%90%8D%E5%8D%95.xlsx"), "utf-8")
    assert rows(parsed(cli, str(tmp_path / "n.html")))[0] == ("咕噜语音", "attachment")


def test_a_missing_attachment_is_an_error(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "n.html").write_text(PAGE.format(href="x.xlsx"), "utf-8")
    result = cli.invoke(
        app,
        ["notices", "parse", str(tmp_path / "n.html"), "--attachment", str(tmp_path / "no.xlsx")],
    )
    assert result.exit_code == 1 and "no.xlsx: no such file" in result.stderr


def test_ingest_a_folder_reads_attachments_with_their_page(cli: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "notices"
    root.mkdir()
    (root / "n.html").write_text(PAGE.format(href="list.xlsx"), "utf-8")
    (root / "list.xlsx").write_bytes(workbook())
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = cli.invoke(app, ["notices", "ingest", str(root)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    skipped = {Path(r["path"]).name: r["skipped"] for r in out if "skipped" in r}
    assert skipped["list.xlsx"].startswith("read with ") and "picture" in skipped["photo.png"]
    assert [(Path(r["path"]).name, r["entities"]) for r in out if "outcome" in r] == [("n.html", 2)]
    many = cli.invoke(
        app,
        [
            "notices",
            "ingest",
            str(root / "n.html"),
            str(root / "n.html"),
            "--attachment",
            str(root / "list.xlsx"),
        ],
    )
    assert many.exit_code == 1 and "--attachment goes with one notice file" in many.stderr
