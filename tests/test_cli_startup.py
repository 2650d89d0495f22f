"""``regwatch --help`` and the offline commands start without loading the services: the
services' commands are imported only when one of them runs (services/cli.py's COMMANDS)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import COMMANDS, app
from shared.lazy_group import load

HEAVY = ("sqlalchemy", "fastapi", "faststream", "aiokafka", "rapidocr_onnxruntime", "openpyxl")
"""What the services load and a command's help never needs."""

ROOT = Path(__file__).resolve().parent.parent

RUN = """
import json, sys
from services.cli import main

def loaded(*argv):
    sys.argv = ["regwatch", *argv]
    try:
        main()
    except SystemExit:
        pass
    return sorted(name for name in {heavy!r} if name in sys.modules)

print(json.dumps({{" ".join(argv): loaded(*argv) for argv in {commands!r}}}), file=sys.stderr)
"""


def modules_loaded(*commands: list[str], heavy: tuple[str, ...] = HEAVY) -> dict[str, list[str]]:
    """Run the commands one after another in a fresh interpreter; the heavy modules loaded
    after each (cumulative), by command line."""
    code = RUN.format(heavy=heavy, commands=[*commands])
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def test_top_level_help_imports_no_service() -> None:
    # nor asyncio: only commands that reach the database or the broker run an event loop
    assert modules_loaded(["--help"], heavy=(*HEAVY, "asyncio")) == {"--help": []}


def test_a_group_s_help_imports_no_service() -> None:
    groups = [[name, "--help"] for name in COMMANDS]
    loaded = modules_loaded(*groups)
    assert loaded == {" ".join(argv): [] for argv in groups}


def test_offline_commands_load_no_database_broker_or_web_server(tmp_path: Path) -> None:
    notice = tmp_path / "cac.txt"
    notice.write_text(
        "国家互联网信息办公室\n关于抖音等App违法违规收集使用个人信息情况的通报\n2021年5月10日\n"
        "1. 抖音（北京微播视界科技有限公司）\n",
        encoding="utf-8",
    )
    watchlist = tmp_path / "watch.json"
    watchlist.write_text('[{"kind": "app", "name": "抖音"}]', encoding="utf-8")
    parse = ["notices", "parse", str(notice)]
    match = ["match", "--watchlist", str(watchlist), "--notice", str(notice)]
    services = ("sqlalchemy", "fastapi", "faststream", "aiokafka", "services.runtime", "numpy")
    assert modules_loaded(parse, match, heavy=services) == {
        " ".join(parse): [],
        " ".join(match): [],
    }


def test_parsing_an_html_notice_loads_no_reader_of_other_formats(tmp_path: Path) -> None:
    """An HTML notice without pictures or attachments: no OCR, PDF, workbook or Word reader,
    no CSS selector engine (soupsieve, which BeautifulSoup imports, runs on first use), no
    crypto or web framework (the settings need neither), no database or broker."""
    notice = tmp_path / "cac.html"
    notice.write_text(
        "<html><head><meta charset='utf-8'><title>关于抖音等App违法违规收集使用个人信息情况的通报"
        "</title></head><body><p>国家互联网信息办公室</p><p>2021年5月10日</p>"
        "<p>1. 抖音（北京微播视界科技有限公司）</p></body></html>",
        encoding="utf-8",
    )
    readers = tuple(
        f"services.ingestor.extract.{name}"
        for name in (
            "image_reader",
            "ocr",
            "ocr_grid",
            "pdf_reader",
            "xlsx_reader",
            "docx_reader",
            "entities_en",  # English notices only
        )
    )
    heavy = (
        *readers,
        "numpy",
        "onnxruntime",
        "cv2",
        "PIL",
        "openpyxl",
        "soupsieve.css_parser",
        "cryptography",
        "starlette",
        "sqlalchemy",
        "faststream",
        "aiokafka",
    )
    parse = ["notices", "parse", str(notice)]
    assert modules_loaded(parse, heavy=heavy) == {" ".join(parse): []}


def test_regwatch_run_s_code_loads_what_start_up_does_not_need_later() -> None:
    """numpy (pictures), pypinyin's dictionaries (Chinese names) and alembic (the migration,
    in its thread) are loaded when first used, not with the runtime ``regwatch run``
    imports before it starts anything; nor are feedparser, BeautifulSoup and lxml (read when
    a feed or page is), aiohttp (the webhook sender's client, at the first webhook), httpx's
    command line (rich's console, pygments) and the modules of soupsieve and email_validator,
    which libraries import and regwatch never uses."""
    unused = (
        "numpy",
        "aiohttp",
        "pypinyin",
        "alembic",
        "feedparser",
        "bs4",
        "lxml",
        "rich.console",
        "pygments",
        "soupsieve.css_parser",
        "email_validator.rfc_constants",
    )
    code = (
        "import sys, services.cli, services.runtime, services.notifier.service; "
        f"print([m for m in {unused!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    listed = [line.split()[1] for line in result.output.splitlines() if line.startswith("│ ")]
    for name in [*COMMANDS, "run", "match"]:
        assert name in listed


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_command_s_own(name: str) -> None:
    command = load(name, COMMANDS[name].target)
    own = " ".join((command.help or "").split())
    assert own.startswith(COMMANDS[name].help)  # the first sentence at least


def test_version_comes_from_the_package() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"regwatch {version('regwatch')}\n"


@pytest.mark.parametrize(
    ("argv", "flags"),
    [
        (["notices", "list", "--help"], ["--json", "--help"]),
        (["topics", "tail", "--help"], ["--follow", "--from-beginning"]),
        (["sources", "poll", "--help"], ["--all"]),
        (["dlq", "replay", "--help"], ["--all"]),
        (["--help"], ["--version", "--help"]),
    ],
)
def test_flags_show_without_a_type(argv: list[str], flags: list[str]) -> None:
    result = CliRunner().invoke(app, argv, terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│ -")}
    for flag in flags:
        assert flag in rows, result.output
        assert "<bool>" not in rows[flag]
    assert "<bool>" not in result.output
