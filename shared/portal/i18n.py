"""The portal's languages: message catalogs and which language a request gets.

Messages are flat JSON catalogs, one file per language with the same keys
(``shared/portal/locales/en.json`` and ``zh.json``; a service may add its own pair with
:func:`add_messages`). Values are ``str.format`` templates: ``t("signin.retry", seconds=30)``.

A request's language: ``?lang=en|zh`` (then kept in the ``regwatch_lang`` cookie), else that
cookie, else the first supported language of ``Accept-Language`` by preference, else English.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request

LANGUAGES: Final = ("en", "zh")
DEFAULT_LANGUAGE: Final = "en"
LANGUAGE_NAMES: Final = {"en": "English", "zh": "中文"}
HTML_LANG: Final = {"en": "en", "zh": "zh-CN"}
LANG_COOKIE: Final = "regwatch_lang"
LANG_PARAM: Final = "lang"
LOCALES: Final = Path(__file__).parent / "locales"


class MessageError(KeyError):
    """A message key no catalog has (a programming error: the tests render every page)."""


class Catalogs:
    """Messages per language, from one or more folders of ``<lang>.json`` files."""

    def __init__(self) -> None:
        self.messages: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        self.folders: list[Path] = []

    def add(self, folder: Path) -> None:
        """Add ``folder``'s catalogs (every language must be there, with the same keys, and
        no key may already be defined with another text)."""
        if folder in self.folders:
            return
        loaded = {lang: _load(folder / f"{lang}.json") for lang in LANGUAGES}
        keys = {lang: set(messages) for lang, messages in loaded.items()}
        first = keys[LANGUAGES[0]]
        for lang, names in keys.items():
            if names != first:
                raise ValueError(
                    f"{folder}: {lang}.json and {LANGUAGES[0]}.json differ in keys "
                    f"{sorted(names ^ first)}"
                )
        for lang, messages in loaded.items():
            for key, text in messages.items():
                known = self.messages[lang].get(key)
                if known is not None and known != text:
                    raise ValueError(f"{folder}: message {key!r} ({lang}) is already defined")
            self.messages[lang].update(messages)
        self.folders.append(folder)

    def text(self, lang: str, key: str, values: Mapping[str, Any]) -> str:
        messages = self.messages.get(lang) or self.messages[DEFAULT_LANGUAGE]
        template = messages.get(key)
        if template is None:
            template = self.messages[DEFAULT_LANGUAGE].get(key)
        if template is None:
            raise MessageError(f"no portal message {key!r}")
        return template.format(**values) if values else template


def _load(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path}: expected a JSON object of strings")
    return data


CATALOGS: Final = Catalogs()
CATALOGS.add(LOCALES)


def add_messages(folder: Path) -> None:
    """Add a service's own catalogs (``<folder>/en.json`` and ``<folder>/zh.json``)."""
    CATALOGS.add(folder)


class Translator:
    """``t(key, **values)`` in one language; what templates call."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **values: Any) -> str:
        return CATALOGS.text(self.lang, key, values)


def parse_accept_language(header: str) -> list[str]:
    """Supported languages of an ``Accept-Language`` header, most preferred first
    (``zh-CN,zh;q=0.9,en;q=0.8`` -> ``["zh", "en"]``)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        fields = part.strip().split(";")
        tag = fields[0].strip().lower()
        if not tag:
            continue
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    seen: list[str] = []
    for _, _, lang in sorted(ranked):
        if lang not in seen:
            seen.append(lang)
    return seen


def requested_language(request: Request) -> str | None:
    """A language asked for in the query (``?lang=zh``), else None."""
    value = request.query_params.get(LANG_PARAM, "").strip().lower()
    return value if value in LANGUAGES else None


def request_language(request: Request) -> str:
    """The language of the response to ``request``."""
    asked = requested_language(request)
    if asked is not None:
        return asked
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    preferred = parse_accept_language(request.headers.get("accept-language", ""))
    return preferred[0] if preferred else DEFAULT_LANGUAGE
