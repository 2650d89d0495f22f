"""``regwatch notices ingest`` over folders, and ``regwatch sources add|list|poll|remove``
against a real feed server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from services.cli import app
from tests.support.feeds import FeedServer, Page, notice_page, rss

NOTICE = (
    "国家互联网信息办公室\n关于星云笔记等2款App违法违规收集使用个人信息情况的通报\n2021年5月10日\n"
    "1. 星云笔记（杭州星云软件有限公司）\n2. 蓝鲸出行（成都蓝鲸出行科技有限公司）\n"
)
OTHER = NOTICE.replace("星云笔记", "松果天气").replace("5月10日", "6月2日")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGWATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("REGWATCH_FEEDS_ALLOW_PRIVATE", "true")
    for name in ("KAFKA_BOOTSTRAP", "DATABASE_URL", "SMTP_HOST", "FEED_INTERVAL"):
        monkeypatch.delenv(f"REGWATCH_{name}", raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, list(args))


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "notices"
    (root / "2021").mkdir(parents=True)
    (root / "2021" / "cac.txt").write_text(NOTICE, encoding="utf-8")
    paragraphs = "".join(f"<p>{line}</p>" for line in OTHER.splitlines())
    (root / "other.html").write_text(f"<html><body>{paragraphs}</body></html>", encoding="utf-8")
    (root / "scan.gif").write_bytes(b"GIF89a")
    (root / "cac.expected.json").write_text("{}", encoding="utf-8")
    (root / "README").write_text("notes", encoding="utf-8")
    (root / ".DS_Store").write_bytes(b"\x00")
    return root


def test_ingest_folder_reads_notices_and_lists_what_it_skipped(
    cli: CliRunner, tmp_path: Path
) -> None:
    root = folder(tmp_path)
    result = run(cli, "notices", "ingest", str(root))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    skipped = {Path(r["path"]).name: r["skipped"] for r in rows if "skipped" in r}
    assert set(skipped) == {"scan.gif", "cac.expected.json", "README"}
    assert "unsupported file type '.gif'" in skipped["scan.gif"]
    assert "NoticeEvent" in skipped["cac.expected.json"]
    assert "no file extension" in skipped["README"]
    ingested = [r for r in rows if "outcome" in r]
    assert [(Path(r["path"]).name, r["outcome"]) for r in ingested] == [
        ("cac.txt", "new"),
        ("other.html", "new"),
    ]
    assert str(rows[-1]["published"]).startswith("deferred")


def test_every_rejected_file_is_named_and_the_rest_are_ingested(
    cli: CliRunner, tmp_path: Path
) -> None:
    good = tmp_path / "good.txt"
    good.write_text(NOTICE, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"notice_id": "x", "title": "t"}), encoding="utf-8")
    missing = tmp_path / "missing.txt"
    result = run(cli, "notices", "ingest", str(empty), str(good), str(event), str(missing))
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    errors = {Path(r["path"]).name: r["error"] for r in rows if "error" in r}
    assert errors["empty.txt"].startswith(f"{empty}: ")
    assert errors["event.json"].startswith(f"{event}: invalid NoticeEvent: regulator")
    assert errors["missing.txt"] == f"{missing}: no such file"
    assert [r["outcome"] for r in rows if "outcome" in r] == ["new"]
    assert result.stderr.startswith("error: 3 of 4 file(s) rejected; first: ")
    assert result.stderr.count("\n") == 1


def test_a_notice_event_json_named_on_its_own_is_ingested(cli: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "cac.txt"
    source.write_text(NOTICE, encoding="utf-8")
    parsed = run(cli, "notices", "parse", str(source))
    assert parsed.exit_code == 0, parsed.output
    event = tmp_path / "cac.json"
    event.write_text(parsed.stdout, encoding="utf-8")
    result = run(cli, "notices", "ingest", str(event))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["outcome"] == "new"


def test_ingest_folder_with_nothing_to_read_fails(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04")
    result = run(cli, "notices", "ingest", str(tmp_path))
    assert result.exit_code == 1 and "no notice files found" in result.stderr


async def test_sources_add_list_poll_and_remove(cli: CliRunner) -> None:
    async def call(*args: str) -> Result:
        return await asyncio.to_thread(run, cli, *args)

    async with FeedServer() as server:
        server.pages["/n1.html"] = Page(
            notice_page("2021年5月10日", [("星云笔记", "杭州星云软件有限公司")])
        )
        server.pages["/rss.xml"] = Page(
            rss([("关于App的通报", server.url("/n1.html"))]), "application/rss+xml", etag='"1"'
        )
        server.pages["/down.xml"] = Page(b"", fail=deque([500]))
        added = await call(
            "sources", "add", server.url("/rss.xml"), "--interval", "30m", "--name", "CAC"
        )
        assert added.exit_code == 0, added.output
        source: dict[str, Any] = json.loads(added.stdout)
        assert (source["name"], source["interval"], source["kind"], source["status"]) == (
            "CAC",
            "30m",
            "auto",
            "new",
        )
        down = json.loads((await call("sources", "add", server.url("/down.xml"))).stdout)
        assert down["schedule"] == "every 15m" and down["schedule_is_default"] is True

        polled = await call("sources", "poll", str(source["id"]))
        assert polled.exit_code == 0, polled.output
        (result, published) = json.loads(polled.stdout)
        assert result["status"] == "ok" and len(result["ingested"]) == 1
        assert result["ingested"][0]["outcome"] == "new"
        assert str(published["published"]).startswith("deferred")

        every = await call("sources", "poll", "--all")
        assert every.exit_code == 1 and "1 source(s) failed" in every.stderr
        assert every.stderr.count("\n") == 1
        statuses = {
            r["source_id"]: r["status"] for r in json.loads(every.stdout) if "source_id" in r
        }
        assert statuses == {source["id"]: "not_modified", down["id"]: "error"}

        listed = await call("sources", "list")
        shown = {s["id"]: s for s in json.loads(listed.stdout)}
        assert shown[source["id"]]["items"]["seen"] == 1
        assert shown[source["id"]]["items"]["ingested"] == 1
        assert shown[source["id"]]["last_poll"] is not None
        assert shown[down["id"]]["status"] == "error" and "HTTP 500" in shown[down["id"]]["error"]
        assert shown[down["id"]]["backoff_until"] is not None

        due = await call("sources", "poll")  # neither due: both were just polled
        assert due.exit_code == 0 and json.loads(due.stdout)[:-1] == []

        removed = await call("sources", "remove", str(down["id"]))
        assert removed.exit_code == 0
        assert [s["id"] for s in json.loads((await call("sources", "list")).stdout)] == [
            source["id"]
        ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sources", "add", "ftp://example.com/feed"], "feed URL scheme must be http or https"),
        (["sources", "add", "https://example.com/rss", "--kind", "json"], "--kind 'json'"),
        (
            ["sources", "add", "https://example.com/rss", "--interval", "soon"],
            "--interval: bad duration",
        ),
        (
            ["sources", "add", "https://example.com/rss", "--schedule", "every 10m Mon-Fri"],
            "--schedule 'every 10m Mon-Fri': days or hours need a time zone",
        ),
        (
            ["sources", "add", "https://example.com/rss", "--interval", "5m", "--schedule", "x"],
            "give --schedule or --interval, not both",
        ),
        (["sources", "schedule", "3", "every 10m"], "no feed source 3"),
        (["sources", "poll", "99"], "no feed source 99"),
        (["sources", "poll", "1", "--all"], "not both"),
        (["sources", "remove", "7"], "no feed source 7"),
    ],
)
def test_sources_errors_are_one_line(cli: CliRunner, args: list[str], message: str) -> None:
    result = run(cli, *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_adding_a_source_twice_is_refused(cli: CliRunner) -> None:
    assert run(cli, "sources", "add", "https://example.com/rss").exit_code == 0
    again = run(cli, "sources", "add", "https://example.com/rss")
    assert again.exit_code == 1 and "already source 1" in again.stderr


def test_published_on_overrides_the_date_read(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "cac.txt"
    path.write_text(NOTICE, encoding="utf-8")
    parsed = run(cli, "notices", "parse", str(path), "--published-on", "2021-05-12")
    assert parsed.exit_code == 0, parsed.output
    assert json.loads(parsed.stdout)["published_on"] == "2021-05-12"
    ingested = run(cli, "notices", "ingest", str(path), "--published-on", "2021-05-12")
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)[0]["outcome"] == "new"
    bad = run(cli, "notices", "parse", str(path), "--published-on", "12/05/2021")
    assert bad.exit_code == 1 and "--published-on: '12/05/2021' is not a date" in bad.stderr


def test_notice_without_a_date_asks_for_published_on(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "undated.txt"
    path.write_text(NOTICE.replace("2021年5月10日\n", ""), encoding="utf-8")
    refused = run(cli, "notices", "parse", str(path))
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(f"error: {path}: no publication date found")
    assert "--published-on YYYY-MM-DD" in refused.stderr
    given = run(cli, "notices", "parse", str(path), "--published-on", "2021-05-10")
    assert given.exit_code == 0, given.output
    assert json.loads(given.stdout)["published_on"] == "2021-05-10"


def test_docx_files_in_folders_are_ingested(cli: CliRunner, tmp_path: Path) -> None:
    document = docx.Document()
    for line in NOTICE.splitlines():
        document.add_paragraph(line)
    document.save(str(tmp_path / "attachment.docx"))
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 truncated")
    result = run(cli, "notices", "ingest", str(tmp_path))
    rows = json.loads(result.stdout)
    by_name = {Path(r["path"]).name: r for r in rows if "path" in r}
    assert by_name["attachment.docx"].get("outcome") == "new", by_name
    assert by_name["broken.docx"]["error"].startswith(str(tmp_path / "broken.docx"))
    assert result.exit_code == 1


# --- notices list ----------------------------------------------------------------------------


def ingested(cli: CliRunner, tmp_path: Path) -> dict[str, str]:
    """NOTICE (CAC, 2021-05-10) and OTHER (2021-06-02), ingested; their ids by file name."""
    (tmp_path / "cac.txt").write_text(NOTICE, encoding="utf-8")
    (tmp_path / "other.txt").write_text(OTHER, encoding="utf-8")
    result = run(cli, "notices", "ingest", str(tmp_path / "cac.txt"), str(tmp_path / "other.txt"))
    assert result.exit_code == 0, result.output
    return {Path(r["path"]).stem: r["notice_id"] for r in json.loads(result.stdout) if "path" in r}


def test_notices_list_prints_a_table_newest_first(cli: CliRunner, tmp_path: Path) -> None:
    ids = ingested(cli, tmp_path)
    result = run(cli, "notices", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["published", "regulator", "notice", "due", "title", "/", "apps"]
    assert lines[1].split()[:3] == ["2021-06-02", "CAC", ids["other"]]
    assert "2 named: 松果天气, 蓝鲸出行" in result.stdout
    assert any(line.split()[:3] == ["2021-05-10", "CAC", ids["cac"]] for line in lines)
    assert result.stderr == ""  # one page: no cursor
    empty = run(cli, "notices", "list", "--app", "微博")
    assert empty.exit_code == 0 and empty.stdout.strip() == "no stored notices match"


def test_notices_list_json_lines_with_filters(cli: CliRunner, tmp_path: Path) -> None:
    ids = ingested(cli, tmp_path)

    def listed(*args: str) -> list[dict[str, Any]]:
        result = run(cli, "notices", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    every = listed()
    assert [item["notice_id"] for item in every] == [ids["other"], ids["cac"]]
    assert every[1]["regulator"]["code"] == "CAC" and every[1]["entity_count"] == 2
    assert every[1]["entities"][0] == {
        "kind": "app",
        "name": "星云笔记",
        "developer": "杭州星云软件有限公司",
    }
    assert [i["notice_id"] for i in listed("--app", "星云笔记")] == [ids["cac"]]
    developer = listed("--app", "杭州星云软件有限公司")  # 星云笔记's and 松果天气's
    assert [i["notice_id"] for i in developer] == [ids["other"], ids["cac"]]
    assert [i["notice_id"] for i in listed("--app", "songguo tianqi")] == [ids["other"]]
    assert [i["notice_id"] for i in listed("--until", "2021-05-31")] == [ids["cac"]]
    assert [i["notice_id"] for i in listed("--regulator", "cac*", "-q", "松果天气")] == [
        ids["other"]
    ]
    assert listed("--regulator", "MIIT") == []


def test_notices_list_pages_with_the_cursor_it_prints(cli: CliRunner, tmp_path: Path) -> None:
    ids = ingested(cli, tmp_path)
    first = run(cli, "notices", "list", "--json", "--limit", "1")
    assert first.exit_code == 0, first.output
    assert [json.loads(line)["notice_id"] for line in first.stdout.splitlines()] == [ids["other"]]
    assert first.stderr.startswith("more: the next page is --cursor ")
    cursor = first.stderr.split()[-1]
    second = run(cli, "notices", "list", "--json", "--limit", "1", "--cursor", cursor)
    assert [json.loads(line)["notice_id"] for line in second.stdout.splitlines()] == [ids["cac"]]
    assert second.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2021-13-01"], "error: --since: '2021-13-01' is not a date (YYYY-MM-DD)"),
        (["--until", "May 5"], "error: --until: 'May 5' is not a date (YYYY-MM-DD)"),
        (["--regulator", "C A C"], "error: --regulator: 'C A C' is not a regulator code"),
        (["-q", "x" * 201], "error: -q/--query: 201 characters; at most 200"),
        (["--limit", "500"], "error: --limit: 500 is not between 1 and 200"),
        (["--cursor", "nope"], "error: --cursor: not a cursor this list gave"),
    ],
)
def test_notices_list_bad_flags_are_one_line_naming_the_flag(
    cli: CliRunner, args: list[str], message: str
) -> None:
    result = run(cli, "notices", "list", *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_sources_schedule_round_trip(cli: CliRunner) -> None:
    added = run(
        cli,
        "sources",
        "add",
        "https://example.com/rss",
        "--schedule",
        "10m Mon-Fri 08:00-19:00 Asia/Shanghai else 2h",
    )
    assert added.exit_code == 0, added.output
    source = json.loads(added.stdout)
    assert source["schedule"] == "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h"
    assert source["next_poll_local"].endswith("+08:00")

    bad = run(cli, "sources", "schedule", str(source["id"]), "every 10m Mon-Fri 18:00-09:00 UTC")
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1
    assert "schedule 'every 10m Mon-Fri 18:00-09:00 UTC': hours '18:00-09:00'" in bad.stderr
    assert "e.g. 'every 10m Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h'" in bad.stderr

    changed = run(cli, "sources", "schedule", str(source["id"]), "every 1h Sat-Sun UTC")
    assert changed.exit_code == 0, changed.output
    (shown,) = json.loads(run(cli, "sources", "list").stdout)
    assert (shown["schedule"], shown["schedule_is_default"]) == ("every 1h Sat-Sun UTC", False)
    assert shown["next_poll"] == json.loads(changed.stdout)["next_poll"]
    assert shown["next_poll_local"].endswith("+00:00")

    back = run(cli, "sources", "schedule", str(source["id"]), "default")
    (shown,) = json.loads(run(cli, "sources", "list").stdout)
    assert back.exit_code == 0
    assert (shown["schedule"], shown["schedule_is_default"]) == ("every 15m", True)
    assert shown["next_poll_local"] is None
