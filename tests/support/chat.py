"""Local stand-ins for chat platforms that check what the platform checks and answer as its
documentation says.

:class:`FakeDingTalk`: custom group robots at ``/robot/send?access_token=...``. Per robot: the
token must be known; with a secret, ``timestamp`` (ms, within an hour) and ``sign`` (base64
HMAC-SHA256 of ``"{timestamp}\\n{secret}"`` keyed with the secret) must match; with a keyword,
the message must contain it; the body must be a known ``msgtype`` with its fields. Over the
robot's rate (20 a minute) it answers ``130101 send too fast`` and blocks the robot for 10
minutes. Every answer is HTTP 200 with ``{"errcode", "errmsg"}``, as DingTalk's are.

:class:`FakeWeCom`: group robots at ``/cgi-bin/webhook/send?key=...``: an unknown key is
``93000 invalid webhook url``; the body must be ``text`` (content at most 2048 bytes) or
``markdown`` (content at most 4096 bytes); over 20 a minute is ``45009 api freq out of limit``.

:class:`FakeFeishu`: custom bots at ``/open-apis/bot/v2/hook/<token>``. With a secret, the body's
``timestamp`` (seconds, within an hour) and ``sign`` (base64 HMAC-SHA256 keyed with
``"{timestamp}\n{secret}"`` over nothing) must match (``19021``); with a keyword, the message
must contain it (``19024``); a body over 20 KB or of an unknown shape is ``9499 Bad Request``;
over 5 a second or 100 a minute is ``11232 frequency limited psm``. Answers are
``{"code", "msg", "data"}``.

:class:`FakeSlack`: incoming webhooks at ``/services/...``: ``200 ok``; an unknown hook is
``404 no_service``, an archived channel ``410 channel_is_archived``; a body without ``text`` or
``blocks``, over 50 blocks, a section over 3000 or a header over 150 characters is
``400 invalid_blocks``/``invalid_payload``; more than one a second is ``429`` with
``Retry-After``.

:class:`FakeTeams`: workflow webhooks at ``/workflows/<id>``: ``202 Accepted`` for a message
with one Adaptive Card attachment; another shape is ``400``, over 28 KB ``413``, more than 4 a
second ``429`` with ``Retry-After``.

``FAKES`` names the stand-in of every chat channel; :func:`add_robot` adds a target as
``/v1/channels`` does and :func:`rows_of` lists a channel's deliveries.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import h11
from sqlalchemy import select

from services.notifier.models import DeliveryRow
from services.notifier.targets import NewTarget, add_target
from shared.db import Database
from tests.support.http_server import HOST, Answer, H11Server


@dataclass
class Robot:
    token: str
    secret: str | None = None
    keyword: str | None = None
    per_minute: int = 20
    window: float = 60.0
    per_second: int = 1000
    block_for: float = 600.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    blocked_until: float = 0.0


class _Fake(H11Server):
    """A platform's robots or hooks, by name; ``path`` is the URL path of robot ``{name}``."""

    path = "/{name}"

    def __init__(self) -> None:
        super().__init__()
        self.robots: dict[str, Robot] = {}
        self.gone: set[str] = set()
        self.lags: list[float] = []
        """Seconds each next request spends on its way before the platform counts it (a slow
        network), in order; none once the list is used up."""

    async def arrive(self) -> None:
        if self.lags:
            await asyncio.sleep(self.lags.pop(0))

    async def __aenter__(self) -> Self:
        await self.start_serving()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop_serving()

    def robot(self, name: str, **options: Any) -> Robot:
        self.robots[name] = Robot(name, **options)
        return self.robots[name]

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.port}" + self.path.format(name=name)

    @staticmethod
    def _refuse(robot: Robot, code: int, message: str) -> tuple[int, str]:
        robot.refused.append((code, message))
        return code, message


class _CodeFake(_Fake):
    """A platform answering HTTP 200 with a code and its message in JSON (``keys``)."""

    keys = ("errcode", "errmsg")

    async def answer(self, request: h11.Request, body: bytes) -> Answer | None:
        await self.arrive()
        code, message = self._check(request, body)
        reply = json.dumps({self.keys[0]: code, self.keys[1]: message, "data": {}}).encode()
        return Answer(200, [("content-type", "application/json")], reply)

    def _check(self, request: h11.Request, body: bytes) -> tuple[int, str]:
        raise NotImplementedError

    @staticmethod
    def _at(request: h11.Request, path: str) -> bool:
        return request.method == b"POST" and urlsplit(request.target.decode("latin-1")).path == path

    def _named(self, request: h11.Request, key: str) -> Robot | None:
        """The robot the query parameter ``key`` names (None: no such robot)."""
        return self.robots.get(_query(request).get(key, ""))


def _query(request: h11.Request) -> dict[str, str]:
    target = urlsplit(request.target.decode("latin-1"))
    return {name: values[0] for name, values in parse_qs(target.query).items()}


class FakeDingTalk(_CodeFake):
    path = "/robot/send?access_token={name}"

    def _check(self, request: h11.Request, body: bytes) -> tuple[int, str]:
        if not self._at(request, "/robot/send"):
            return 404, "not found"
        robot = self._named(request, "access_token")
        if robot is None:
            return 300001, "token is not exist"
        now = time.time()
        if robot.secret:
            query = _query(request)
            stamp, given = query.get("timestamp", ""), query.get("sign", "")
            if not stamp.isdigit() or abs(int(stamp) / 1000 - now) > 3600:
                return self._refuse(robot, 310000, "invalid timestamp")
            digest = hmac.new(
                robot.secret.encode(), f"{stamp}\n{robot.secret}".encode(), hashlib.sha256
            ).digest()
            if not hmac.compare_digest(given, base64.b64encode(digest).decode()):
                return self._refuse(robot, 310000, "sign not match")
        try:
            document = json.loads(body)
            kind = document["msgtype"]
            content = document[kind]
            text = content["text"] if kind == "markdown" else content["content"]
            title = content.get("title", "") if kind == "markdown" else ""
            if kind == "markdown" and not (title and text):
                raise KeyError("title")
        except (ValueError, KeyError, TypeError):
            return self._refuse(robot, 40035, "缺少参数 json")
        if robot.keyword and robot.keyword not in f"{title}{text}":
            return self._refuse(robot, 310000, "keywords not in content")
        if now < robot.blocked_until:
            return self._refuse(robot, 130101, "send too fast, exceed 20 times per minute")
        recent = [at for at in robot.sent_at if at > now - robot.window]
        if len(recent) >= robot.per_minute:
            robot.blocked_until = now + robot.block_for
            return self._refuse(robot, 130101, "send too fast, exceed 20 times per minute")
        robot.sent_at.append(now)
        robot.messages.append(document)
        return 0, "ok"


class FakeWeCom(_CodeFake):
    path = "/cgi-bin/webhook/send?key={name}"

    def _check(self, request: h11.Request, body: bytes) -> tuple[int, str]:
        if not self._at(request, "/cgi-bin/webhook/send"):
            return 404, "not found"
        robot = self._named(request, "key")
        if robot is None:
            return 93000, "invalid webhook url"
        try:
            document = json.loads(body)
            kind = document["msgtype"]
            content = document[kind]["content"]
            limit = {"text": 2048, "markdown": 4096}[kind]
        except (ValueError, KeyError, TypeError):
            return self._refuse(robot, 40008, "invalid message type")
        if not isinstance(content, str) or len(content.encode()) > limit:
            return self._refuse(robot, 40058, f"{kind}.content exceed max length {limit}")
        now = time.time()
        recent = [at for at in robot.sent_at if at > now - robot.window]
        if len(recent) >= robot.per_minute:
            return self._refuse(robot, 45009, "api freq out of limit")
        robot.sent_at.append(now)
        robot.messages.append(document)
        return 0, "ok"


class FakeFeishu(_CodeFake):
    path = "/open-apis/bot/v2/hook/{name}"
    keys = ("code", "msg")

    def robot(self, name: str, **options: Any) -> Robot:
        return super().robot(name, **{"per_second": 5, "per_minute": 100, **options})

    def _check(self, request: h11.Request, body: bytes) -> tuple[int, str]:
        path = urlsplit(request.target.decode("latin-1")).path
        prefix = "/open-apis/bot/v2/hook/"
        if request.method != b"POST" or not path.startswith(prefix):
            return 404, "not found"
        bot = self.robots.get(path.removeprefix(prefix))
        if bot is None:
            return 19001, "param invalid: incoming webhook access token invalid"
        if len(body) > 20_000:
            return self._refuse(bot, 9499, "Bad Request")
        try:
            document = json.loads(body)
            kind = document["msg_type"]
            if kind == "interactive":
                card = document["card"]
                shown = card["header"]["title"]["content"] + json.dumps(
                    card["elements"], ensure_ascii=False
                )
            else:
                shown = document["content"]["text"]
        except (ValueError, KeyError, TypeError):
            return self._refuse(bot, 9499, "Bad Request")
        now = time.time()
        if bot.secret:
            stamp = str(document.get("timestamp", ""))
            key = f"{stamp}\n{bot.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            fresh = stamp.isdigit() and abs(int(stamp) - now) <= 3600
            if not fresh or not hmac.compare_digest(str(document.get("sign", "")), expected):
                return self._refuse(
                    bot,
                    19021,
                    "sign match fail or timestamp is not within one hour from current time",
                )
        if bot.keyword and bot.keyword not in shown:
            return self._refuse(bot, 19024, "Key Words Not Found")
        last_second = [at for at in bot.sent_at if at > now - 1]
        last_minute = [at for at in bot.sent_at if at > now - bot.window]
        if len(last_second) >= bot.per_second or len(last_minute) >= bot.per_minute:
            return self._refuse(bot, 11232, "frequency limited psm")
        bot.sent_at.append(now)
        bot.messages.append(document)
        return 0, "success"


class _PlainFake(_Fake):
    """A platform answering in plain HTTP statuses, one hook per path."""

    prefix = "/"

    def _hook(self, request: h11.Request) -> tuple[Robot | None, str]:
        path = urlsplit(request.target.decode("latin-1")).path
        name = path.removeprefix(self.prefix)
        return self.robots.get(name), name

    @staticmethod
    def _paced(robot: Robot, per_second: int) -> bool:
        now = time.time()
        if len([at for at in robot.sent_at if at > now - 1]) >= per_second:
            return False
        robot.sent_at.append(now)
        return True


class FakeSlack(_PlainFake):
    prefix = "/services/"
    path = "/services/{name}"

    async def answer(self, request: h11.Request, body: bytes) -> Answer | None:
        await self.arrive()
        robot, name = self._hook(request)
        plain = [("content-type", "text/plain")]
        if robot is None:
            return Answer(404, plain, b"no_service")
        if name in self.gone:
            return Answer(410, plain, b"channel_is_archived")
        try:
            document = json.loads(body)
            blocks = document.get("blocks", [])
            if not document.get("text") and not blocks:
                raise ValueError
        except (ValueError, AttributeError):
            return Answer(400, plain, b"invalid_payload")
        if len(blocks) > 50 or any(_too_long(block) for block in blocks):
            robot.refused.append((400, "invalid_blocks"))
            return Answer(400, plain, b"invalid_blocks")
        if not self._paced(robot, 1):
            robot.refused.append((429, "rate_limited"))
            return Answer(429, [*plain, ("retry-after", "1")], b"rate_limited")
        robot.messages.append(document)
        return Answer(200, plain, b"ok")


def _too_long(block: dict[str, Any]) -> bool:
    text = (block.get("text") or {}).get("text", "")
    limit = 150 if block.get("type") == "header" else 3000
    return len(text) > limit


class FakeTeams(_PlainFake):
    prefix = "/workflows/"
    path = "/workflows/{name}"

    async def answer(self, request: h11.Request, body: bytes) -> Answer | None:
        await self.arrive()
        robot, _name = self._hook(request)
        plain = [("content-type", "application/json")]
        if robot is None:
            return Answer(404, plain, b'{"error":{"code":"TriggerNotFound"}}')
        if len(body) > 28_000:
            return Answer(413, plain, b'{"error":{"code":"RequestEntityTooLarge"}}')
        try:
            document = json.loads(body)
            [attachment] = document["attachments"]
            card = attachment["content"]
            valid = (
                document["type"] == "message"
                and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
                and card["type"] == "AdaptiveCard"
                and isinstance(card["body"], list)
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            robot.refused.append((400, "bad card"))
            return Answer(400, plain, b'{"error":{"code":"InvalidRequestContent"}}')
        if not self._paced(robot, 4):
            robot.refused.append((429, "throttled"))
            return Answer(429, [*plain, ("retry-after", "1")], b'{"error":{"code":"Throttled"}}')
        robot.messages.append(document)
        return Answer(202, plain, b"")


FAKES: dict[str, type[_Fake]] = {
    "dingtalk": FakeDingTalk,
    "wecom": FakeWeCom,
    "feishu": FakeFeishu,
    "slack": FakeSlack,
    "teams": FakeTeams,
}
"""The local stand-in of each chat channel."""


async def add_robot(
    db: Database, subscriber_id: str, channel: str, url: str, **options: str | None
) -> str:
    """A chat target added as ``/v1/channels`` adds it (secret encrypted); its id."""
    async with db.session() as session:
        row = await add_target(
            session, subscriber_id, NewTarget(channel, url, **options), datetime.now(UTC)
        )
        return row.id


async def rows_of(db: Database, channel: str) -> list[DeliveryRow]:
    """The deliveries of a channel."""
    async with db.read_session() as session:
        found = await session.scalars(select(DeliveryRow).where(DeliveryRow.channel == channel))
        return list(found.all())
