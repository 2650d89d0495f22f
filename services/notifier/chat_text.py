"""What a chat message says about an alert, in Chinese or English (pure).

The same facts as the email: the regulator and the notice's title and date, the deadline and
the days left, every matched app with the reason in words, and links to the notice and to the
portal. Chat platforms cap a message's size (Feishu 20 KB): :func:`as_markdown` cuts the list of
apps and says how many more there are, with the link to see them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import quote

from services.notifier.payloads import (
    DEADLINE_REMINDER,
    DIGEST,
    ENDPOINT_DISABLED,
    NOTICE_ESCALATED,
    NOTICE_MATCHED,
    TEST_EVENT,
)
from services.notifier.reminders import days_left

WORDS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        NOTICE_MATCHED: "{regulator} 通报了您关注的应用",
        NOTICE_ESCALATED: "升级：{regulator} 要求下架您关注的应用",
        DEADLINE_REMINDER: "整改期限提醒：{regulator}",
        DIGEST: "regwatch 摘要：{count} 条提醒",
        ENDPOINT_DISABLED: "regwatch：Webhook 地址已停用",
        TEST_EVENT: "regwatch 测试消息",
        "published": "发布日期：{day}",
        "deadline": "整改期限：{day}（还剩 {days} 天）",
        "deadline_today": "整改期限：{day}（今天到期）",
        "deadline_passed": "整改期限：{day}（已过期 {days} 天）",
        "apps": "涉及的应用（{count}）：",
        "app": "{entity}（关注项：{watch}；{reason}）",
        "developer": "，开发者 {developer}",
        "more": "……另有 {count} 项，见通报全文",
        "incomplete": "注意：{note}",
        "notice_link": "通报原文",
        "portal_link": "在 regwatch 中查看",
        "test": "这是一条测试消息：机器人配置正确。",
        "item": "{title}",
    },
    "en": {
        NOTICE_MATCHED: "{regulator} named apps you watch",
        NOTICE_ESCALATED: "Escalation: {regulator} ordered apps you watch removed",
        DEADLINE_REMINDER: "Deadline reminder: {regulator}",
        DIGEST: "regwatch digest: {count} alerts",
        ENDPOINT_DISABLED: "regwatch: webhook endpoint disabled",
        TEST_EVENT: "regwatch test message",
        "published": "Published: {day}",
        "deadline": "Deadline: {day} ({days} days left)",
        "deadline_today": "Deadline: {day} (due today)",
        "deadline_passed": "Deadline: {day} (passed {days} days ago)",
        "apps": "Apps named ({count}):",
        "app": "{entity} (watch: {watch}; {reason})",
        "developer": ", developer {developer}",
        "more": "... and {count} more: see the notice",
        "incomplete": "Note: {note}",
        "notice_link": "The notice",
        "portal_link": "Open in regwatch",
        "test": "This is a test message: the robot is set up right.",
        "item": "{title}",
    },
}
LANGUAGES: Final = tuple(WORDS)


@dataclass(frozen=True)
class ChatMessage:
    """A message before a platform's format: its title, lines of facts, the apps (cut first
    when it is too long) and links."""

    title: str
    lines: list[str] = field(default_factory=list)
    apps: list[str] = field(default_factory=list)
    apps_heading: str = ""
    more: str = ""
    """The line that replaces cut apps (``{count}`` is filled in)."""
    links: list[tuple[str, str]] = field(default_factory=list)


def language_of(value: str | None) -> str:
    return value if value in WORDS else "zh"


def chat_message(
    kind: str,
    data: dict[str, Any],
    *,
    language: str,
    now: datetime,
    public_url: str | None,
) -> ChatMessage:
    """The message of an alert of type ``kind`` whose webhook ``data`` is ``data``."""
    words = WORDS[language_of(language)]
    if kind == DIGEST:
        return _digest(data, words, language, now, public_url)
    if kind == TEST_EVENT:
        return ChatMessage(words[TEST_EVENT], [words["test"]])
    if kind == ENDPOINT_DISABLED:
        return ChatMessage(
            words[ENDPOINT_DISABLED], [str(data.get("url", "")), str(data.get("error", ""))]
        )
    notice: dict[str, Any] = data.get("notice") or {}
    regulator = _regulator(notice, language)
    title = words.get(kind, words[NOTICE_MATCHED]).format(regulator=regulator)
    lines = [str(notice.get("title") or "")]
    if notice.get("published_on"):
        lines.append(words["published"].format(day=notice["published_on"]))
    deadline = notice.get("deadline") or {}
    if deadline.get("due_on"):
        due = date.fromisoformat(str(deadline["due_on"]))
        left = days_left(due, now)
        key = "deadline" if left > 0 else "deadline_today" if left == 0 else "deadline_passed"
        lines.append(words[key].format(day=due.isoformat(), days=abs(left)))
    if notice.get("list_note"):
        lines.append(words["incomplete"].format(note=notice["list_note"]))
    matches: list[dict[str, Any]] = data.get("matches") or []
    apps = [_app(match, words) for match in matches]
    links = []
    if notice.get("source_url"):
        links.append((words["notice_link"], str(notice["source_url"])))
    if public_url:
        links.append((words["portal_link"], portal_link(public_url, kind, data)))
    return ChatMessage(
        title,
        [line for line in lines if line],
        apps,
        words["apps"].format(count=len(apps)),
        words["more"],
        links,
    )


def portal_link(public_url: str, kind: str, data: dict[str, Any]) -> str:
    """Where the portal shows this alert: its own page when it names its ``match_id``, the
    deadlines for a reminder, else the alerts."""
    base = public_url.rstrip("/") + "/portal"
    match_id = data.get("match_id")
    if isinstance(match_id, str) and match_id:
        return f"{base}/alerts/{quote(match_id, safe='')}"
    return f"{base}/deadlines" if kind == DEADLINE_REMINDER else f"{base}/alerts"


def _digest(
    data: dict[str, Any], words: dict[str, str], language: str, now: datetime, public: str | None
) -> ChatMessage:
    alerts: list[dict[str, Any]] = data.get("alerts") or []
    items = []
    for alert in alerts:
        inner = chat_message(
            str(alert.get("type")),
            alert.get("data") or {},
            language=language,
            now=now,
            public_url=None,
        )
        items.append(f"{inner.title}: {inner.lines[0] if inner.lines else ''}".rstrip(": "))
    links = [(words["portal_link"], public.rstrip("/") + "/portal/alerts")] if public else []
    return ChatMessage(words[DIGEST].format(count=len(alerts)), [], items, "", words["more"], links)


def _regulator(notice: dict[str, Any], language: str) -> str:
    regulator = notice.get("regulator") or {}
    name = str(regulator.get("name") or "")
    code = str(regulator.get("code") or "")
    if language == "zh":
        return name or code
    return f"{code} ({name})" if code and name and code != name else code or name


def _app(match: dict[str, Any], words: dict[str, str]) -> str:
    entity = match.get("entity") or {}
    watch = match.get("watch") or {}
    text = words["app"].format(
        entity=entity.get("name", ""), watch=watch.get("name", ""), reason=match.get("reason", "")
    )
    if entity.get("developer"):
        text += words["developer"].format(developer=entity["developer"])
    return text


def as_markdown(message: ChatMessage, limit: int, *, prefix: str = "") -> tuple[str, str]:
    """(title, markdown text) within ``limit`` UTF-8 bytes together: apps are cut from the end
    and replaced by the "N more" line when the whole does not fit. ``prefix`` (a keyword a
    robot requires) starts the title and the text."""
    title = f"{prefix} {message.title}".strip()

    def build(shown: int) -> str:
        out = [f"### {title}", ""]
        out += [
            f"- {_md(line)}" if index else f"**{_md(line)}**"
            for index, line in enumerate(message.lines)
        ]
        if message.apps:
            out += ["", message.apps_heading] if message.apps_heading else [""]
            out += [f"{n}. {_md(app)}" for n, app in enumerate(message.apps[:shown], 1)]
            if shown < len(message.apps):
                out.append(message.more.format(count=len(message.apps) - shown))
        if message.links:
            out += ["", " | ".join(f"[{_md(label)}]({url})" for label, url in message.links)]
        return "\n".join(out)

    shown = len(message.apps)
    text = build(shown)
    while shown > 0 and len((title + text).encode()) > limit:
        shown -= 1
        text = build(shown)
    if len((title + text).encode()) > limit:  # no app left to cut: the lines themselves
        text = text.encode()[: max(0, limit - len(title.encode()))].decode("utf-8", "ignore")
    return title, text


def _md(text: str) -> str:
    """Plain text in markdown: the characters that would start a link or emphasis escaped."""
    return "".join(f"\\{c}" if c in "\\`*_[]<>" else c for c in text)
