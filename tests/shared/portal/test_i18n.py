"""The portal's message catalogs and language choice."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from starlette.requests import Request

import services.runtime  # noqa: F401  (every service registers its templates and messages)
from shared.portal.i18n import (
    CATALOGS,
    LANGUAGES,
    LOCALES,
    Catalogs,
    MessageError,
    Translator,
    parse_accept_language,
    request_language,
)
from shared.portal.templating import template_folders

ROOT = Path(__file__).parents[3]
# t("key") / t('key', ...) in templates; t("link." + state) is checked by the pages' tests
KEY_IN_TEMPLATE = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']\s*[,)]""")
# in code: any string constant (not a docstring) shaped like a key of a catalog's namespace
KEY_SHAPE = re.compile(r"^[a-z_]+(\.[A-Za-z0-9_]+)+$")


def string_constants(source: str) -> set[str]:
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and KEY_SHAPE.match(node.value)
    }


def test_every_catalog_folder_has_the_same_keys_in_each_language() -> None:
    assert CATALOGS.folders, "no catalogs loaded"
    for folder in CATALOGS.folders:
        keys = {lang: set(json.loads((folder / f"{lang}.json").read_text())) for lang in LANGUAGES}
        assert keys["en"] == keys["zh"], folder
        for lang in LANGUAGES:
            texts = json.loads((folder / f"{lang}.json").read_text())
            assert all(text.strip() for text in texts.values()), (folder, lang)


def test_placeholders_are_the_same_in_both_languages() -> None:
    field = re.compile(r"\{(\w+)\}")
    for key, english in CATALOGS.messages["en"].items():
        chinese = CATALOGS.messages["zh"][key]
        assert set(field.findall(english)) == set(field.findall(chinese)), key


def test_chinese_messages_are_chinese() -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    same = {k for k, v in CATALOGS.messages["en"].items() if CATALOGS.messages["zh"][k] == v}
    assert same <= {"product.name", "account.webhook", "account.api.heading"}, same  # names
    untranslated = [
        key
        for key, text in CATALOGS.messages["zh"].items()
        if key not in same and not han.search(text) and key != "account.api.heading"
    ]
    assert not untranslated


def test_every_key_used_in_a_template_exists() -> None:
    folders = template_folders()
    assert "portal" in folders
    used: dict[str, set[str]] = {}
    for prefix, folder in folders.items():
        for path in folder.rglob("*.html"):
            for key in KEY_IN_TEMPLATE.findall(path.read_text(encoding="utf-8")):
                used.setdefault(key, set()).add(f"{prefix}/{path.name}")
    assert "signin.title" in used
    missing = {key: where for key, where in used.items() if key not in CATALOGS.messages["en"]}
    assert not missing


def test_every_key_named_in_portal_code_exists() -> None:
    sources = [
        *(ROOT / "shared" / "portal").rglob("*.py"),
        *(ROOT / "services").rglob("portal*.py"),
        # the keys of the matcher's input errors, which its portal pages translate
        ROOT / "services" / "matcher" / "store.py",
        ROOT / "services" / "matcher" / "csvimport.py",
    ]
    namespaces = {key.split(".")[0] for key in CATALOGS.messages["en"]}
    named: set[str] = set()
    for path in sources:
        for key in string_constants(path.read_text(encoding="utf-8")):
            if key.split(".")[0] in namespaces:
                named.add(key)
    assert {"signin.wrong_key", "error.csrf", "nav.account", "email.link.subject"} <= named
    assert {"input.name.empty", "input.already_watched.company", "import.error.kind"} <= named
    assert named <= set(CATALOGS.messages["en"]), named - set(CATALOGS.messages["en"])


def test_shared_catalogs_are_loaded_first() -> None:
    assert CATALOGS.folders[0] == LOCALES


def test_an_unknown_key_is_an_error_and_values_are_filled_in() -> None:
    t = Translator("zh")
    assert t("signin.too_many", seconds=30) == "来自您地址的失败尝试过多。请在 30 秒后重试。"
    assert Translator("fr").lang == "en"
    with pytest.raises(MessageError):
        t("no.such.key")


def test_catalogs_with_different_keys_are_refused(tmp_path: Path) -> None:
    (tmp_path / "en.json").write_text('{"a.b": "A"}')
    (tmp_path / "zh.json").write_text('{"a.c": "甲"}')
    with pytest.raises(ValueError, match="differ in keys"):
        Catalogs().add(tmp_path)


def test_a_key_cannot_be_defined_twice(tmp_path: Path) -> None:
    (tmp_path / "en.json").write_text('{"nav.account": "Mine"}')
    (tmp_path / "zh.json").write_text('{"nav.account": "我的"}')
    catalogs = Catalogs()
    catalogs.add(LOCALES)
    with pytest.raises(ValueError, match="already defined"):
        catalogs.add(tmp_path)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", ["zh", "en"]),
        ("en-US,en;q=0.9,zh-TW;q=0.5", ["en", "zh"]),
        ("fr-FR, de;q=0.5", []),
        ("de, zh-Hans;q=0.7, en;q=0.8", ["en", "zh"]),
        ("zh;q=0, en", ["en"]),
        ("", []),
        ("zh;q=abc", []),
    ],
)
def test_accept_language(header: str, expected: list[str]) -> None:
    assert parse_accept_language(header) == expected


def _request(query: str = "", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/portal/",
            "query_string": query.encode(),
            "headers": raw,
        }
    )


def test_the_language_of_a_request() -> None:
    assert request_language(_request()) == "en"
    assert request_language(_request(headers={"accept-language": "zh-CN,zh;q=0.9"})) == "zh"
    cookie = {"cookie": "regwatch_lang=en", "accept-language": "zh-CN"}
    assert request_language(_request(headers=cookie)) == "en"
    assert request_language(_request("lang=zh", cookie)) == "zh"
    assert request_language(_request("lang=xx", {"accept-language": "zh"})) == "zh"
