"""Fan-out of one notice: a CAC-style notice naming 105 apps posted to a running regwatch whose
100,000 subscribers (``--quick``: 10,000) hold 1,000,000 watch items (10 each); every alert
delivered by webhook (and, for a fifth of the subscribers, by email) to local receivers, against
the same deliveries sent by a bare httpx/aiosmtplib loop to the same receivers in the same run.

    python -m bench.fanout [--quick] [--notifiers N] [--database sqlite|postgresql]
                           [--database-url URL] [--smtp-connections N]

Without ``--notifiers`` (as ``make bench`` and ``make bench-quick`` run it) it gives two rows:
one notifier on SQLite (the defaults a user starts with), then two notifier processes in one
consumer group sharing the load, on PostgreSQL when ``$REGWATCH_BENCH_DATABASE_URL`` names a
server, else on the same SQLite file.

How it runs (as a user would): Apache Kafka from ``scripts/kafka`` when ``java`` and ``mvn``
exist (else the embedded broker), one SQLite file in a temporary data dir (``--database
postgresql``: a new database ``regwatch_fanout_<run>`` on the server of ``--database-url`` or
``$REGWATCH_BENCH_DATABASE_URL``, dropped afterwards), and the three services as separate
processes (``regwatch run --only matcher|ingestor|notifier``) with their default settings;
``--notifiers N`` starts N notifier processes, each with its own data dir, in one consumer
group. The bench itself, the load generator and its polling are other processes: nothing
measured shares an event loop with them.

The population is bulk-inserted into the tables the API writes, because 1M items through
``POST /v1/watches/import`` would take minutes: two template subscribers are registered with
``shared.accounts.register_subscriber`` (one with a webhook, one with a webhook and an email
address), then every row any table holds for a template (``subscribers``, its channel targets,
webhook secrets...) is copied for each subscriber with its own id, API key hash, webhook URL
(``/hook/<subscriber id>`` at the receiver) and email address; ``watch_items`` rows are
inserted directly. The matcher loads its watch index from ``watch_items`` when it starts, so
the services are started after the insert.

The watch items, and why: regulators name the apps many people use, and those apps are on
many watchlists. Each subscriber has 10 different watches. 90% of them are apps drawn by a
Zipf law (weight 1/rank) over a catalogue of about 4,500 apps: the 20 most popular (微信,
抖音, 淘宝...) at the top, the other apps of the shipped directory next, then a long tail of
4,000 made-up apps; a watch uses the app's usual name (80%) or another of its names (pinyin,
English). Zipf is what app popularity looks like (downloads and store ranks fall off roughly
as 1/rank), and with 10 draws it puts a top-20 app on almost every watchlist, as the issue
measured (9,972 alerts for 10,000 subscribers). 10% are companies: the groups of the
directory by the same law with Tencent, ByteDance, Alibaba and Baidu first (a group watch
matches every app its companies operate), a third of them made-up companies nobody else
watches. The notice lists the 20 popular apps with their operators, 40 other directory apps
and 45 long-tail apps (table: 序号, App名称, 运营者), with a deadline of 15 working days
from today, so each alert plans its reminders.

What is expected is computed in the bench with the matcher's own rules
(:class:`~services.matcher.matching.WatchIndex` over the same items and the notice as the
ingestor read it), before the notice is posted; it is the set of subscribers that must get
exactly one webhook (and one email when they have an address).

Measured at the receivers (``bench/receiver.py``, its own process, webhook and SMTP sink) by
path / recipient and webhook-id / Message-ID: ``first_delivery_s`` and ``last_delivery_s``
since the POST of the notice (``last_delivery_s`` is null when some were lost:
``last_received_s`` then says when the last one that came arrived); ``lost`` (expected
deliveries never received within the cap: 15 min, quick 5 min, or after 3 minutes without
any), ``duplicates`` (a subscriber receiving the alert more than once on a channel),
``duplicate_webhook_ids`` (webhook-ids that arrived more than once);
``alerts``, ``deliveries``, ``reminders`` and ``database_mib`` (its size: SQLite's pages,
PostgreSQL's ``pg_database_size``) from the database afterwards; per service the CPU
seconds used from the POST to the end and the peak RSS (``/proc``: VmHWM of the service's
process; CPU includes its child processes); per notifier process also ``sent``, the
deliveries it brought to ``delivered`` (its ``/metrics``: the ledger does not record which
instance sent a row), and ``matches_partitions``, the partitions of the matches topic each
member of the notifiers' group held when the notice was posted and at the end.

Baseline: the same webhooks (Standard Webhooks HMAC signature, a body of the same shape) and
emails, to the same receivers, sent by a bare loop: ``aiohttp`` (the client regwatch's sender
uses) with 100 requests in flight (the dispatcher claims 100 due rows per sweep and sends each
at once) and ``aiosmtplib`` on 4 connections (``REGWATCH_SMTP_CONNECTIONS``' default; both
regwatch's and the bare loop's are ``--smtp-connections``), both
at once, after regwatch stopped, for at most the same cap. The same loop with ``httpx`` for
the webhooks runs after it for at most 60 s: ``bare_httpx_per_s`` and ``ratio_vs_bare_httpx``
(httpx costs about ten times aiohttp's CPU per request at this concurrency, so that ratio
flatters regwatch; it is kept for comparison with earlier runs, which used it).
``ratio_vs_bare_loop`` = regwatch's rate (deliveries received /
seconds from the notice POST to the last of them) / the bare loop's rate (sent / seconds from
its first send to its last answer): 0.8 means regwatch delivers the fan-out, reading and
matching the notice included, at 80% of the rate of a loop that only sends. With nothing
lost it is the bare loop's seconds over ``last_delivery_s``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from itertools import accumulate, islice
from pathlib import Path
from typing import Annotated, Any

import aiohttp
import aiosmtplib
import httpx
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)
from prometheus_client.parser import text_string_to_metric_families
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Integer, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.common import emit, local_broker, receiver_process, save
from bench.pipeline import bench_settings, service_env, spawn, stop
from bench.scratch_database import scratch_database
from services.ingestor.intake import parse
from services.matcher.matching import WatchIndex, WatchItem, default_directory
from shared.accounts import register_subscriber
from shared.db import Database
from shared.embedded.ports import free_port
from shared.events import Match, NoticeEvent
from shared.runtime_file import read_runtime_file
from shared.secretbox import KEYS_SETTING, PEPPER_SETTING, new_pepper, new_secret_key
from shared.settings import Settings

ITEMS_PER_SUBSCRIBER = 10
EMAIL_SHARE = 0.2
COMPANY_SHARE = 0.1
TAIL_APPS = 4000
BARE_WEBHOOKS_IN_FLIGHT = 100
SMTP_CONNECTIONS: int = Settings.model_fields["smtp_connections"].default
"""``REGWATCH_SMTP_CONNECTIONS``' default: what the notifiers and the bare loop use unless
``--smtp-connections`` says otherwise."""
HTTPX_SAMPLE_S = 60.0
INSERT_CHUNK = 20_000

DATABASE_URL_ENV = "REGWATCH_BENCH_DATABASE_URL"
POPULAR = (
    "微信",
    "抖音",
    "淘宝",
    "支付宝",
    "QQ",
    "快手",
    "拼多多",
    "美团",
    "百度",
    "小红书",
    "哔哩哔哩",
    "今日头条",
    "京东",
    "微博",
    "高德地图",
    "腾讯视频",
    "爱奇艺",
    "饿了么",
    "钉钉",
    "西瓜视频",
)
BIG_GROUPS = ("tencent", "bytedance", "alibaba", "baidu")
WARM_APP = "基准预热专用应用"
SERVICES = ("matcher", "ingestor", "notifier")  # start order: the matcher loads the index

_HANZI = "安百北博彩创达大德鼎东方飞丰福港广海行和恒华汇佳嘉健金京君凯康乐力联龙美米明南鹏品"
_HANZI += "奇启瑞三森盛世泰天通同万维伟文祥小新信星兴讯阳易逸优宇元云泽智中众卓"
_APP_TAILS = ["助手", "视频", "商城", "阅读", "直播", "浏览器", "出行", "健康", "钱包", "相机"]
_CO_TAILS = ["科技有限公司", "网络科技有限公司", "信息技术有限公司", "文化传媒有限公司"]
_CITIES = ["北京", "上海", "深圳市", "杭州", "广州市", "成都"]


@dataclass(frozen=True)
class Size:
    subscribers: int
    cap_s: float
    goal_s: float


QUICK = Size(10_000, 300.0, 15.0)
FULL = Size(100_000, 900.0, 60.0)


@dataclass
class App:
    name: str
    names: tuple[str, ...]
    developer: str


@dataclass
class Population:
    """Deterministic apps, notice rows and watch items for a number of subscribers."""

    subscribers: int
    seed: int = 15
    apps: list[App] = field(default_factory=list)
    notice_apps: list[App] = field(default_factory=list)
    companies: list[tuple[str, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        directory = default_directory()
        brands = [b for b in directory.brands if b.publisher]
        by_name = {b.names[0]: b for b in brands}
        popular = [by_name[n] for n in POPULAR if n in by_name]
        others = [b for b in brands if b not in popular]
        rng.shuffle(others)
        known = [App(b.names[0], b.names, b.publisher or "") for b in (*popular, *others)]
        tail_names = {self._tail_app(rng) for _ in range(TAIL_APPS * 2)} - {a.name for a in known}
        tail = [App(n, (n,), self._tail_company(rng)) for n in sorted(tail_names)[:TAIL_APPS]]
        rng.shuffle(tail)
        self.apps = known + tail
        self.notice_apps = known[: len(popular)] + others_apps(known, len(popular), 40) + tail[:45]
        groups = sorted(
            directory.groups,
            key=lambda g: (BIG_GROUPS.index(g.id) if g.id in BIG_GROUPS else 99, rng.random()),
        )
        self.companies = [g.names for g in groups]
        self.companies += [(self._tail_company(rng),) for _ in range(len(groups) // 2)]
        rng.shuffle(self.companies[len(BIG_GROUPS) :])

    @staticmethod
    def _tail_app(rng: random.Random) -> str:
        return "".join(rng.choices(_HANZI, k=rng.randint(2, 4))) + rng.choice(_APP_TAILS)

    @staticmethod
    def _tail_company(rng: random.Random) -> str:
        core = "".join(rng.choices(_HANZI, k=rng.randint(2, 4)))
        return rng.choice(_CITIES) + core + rng.choice(_CO_TAILS)

    def items(self, subscriber_ids: list[str]) -> Iterator[tuple[str, str, str]]:
        """(subscriber_id, kind, name): ITEMS_PER_SUBSCRIBER different watches each."""
        rng = random.Random(self.seed + 1)
        app_weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.apps))))
        company_weights = list(accumulate(1 / (r + 1) for r in range(len(self.companies))))
        for sub in subscriber_ids:
            mine: set[tuple[str, str]] = set()
            while len(mine) < ITEMS_PER_SUBSCRIBER:
                if rng.random() < COMPANY_SHARE:
                    names = rng.choices(self.companies, cum_weights=company_weights)[0]
                    watch = ("company", names[0] if rng.random() < 0.8 else rng.choice(names))
                else:
                    app = rng.choices(self.apps, cum_weights=app_weights)[0]
                    watch = ("app", app.name if rng.random() < 0.8 else rng.choice(app.names))
                if watch not in mine:
                    mine.add(watch)
                    yield (sub, *watch)


def others_apps(known: list[App], skip: int, count: int) -> list[App]:
    """``count`` directory apps below the popular ones, spread over their ranks."""
    rest = known[skip:]
    step = max(1, len(rest) // count)
    return rest[::step][:count]


def notice_html(apps: list[App], today: date) -> str:
    """A CAC-style notice: who, what, 15 working days to rectify, a table of the apps."""
    rows = "\n".join(
        f"<tr><td>{n}</td><td>{a.name}</td><td>{a.developer}</td></tr>"
        for n, a in enumerate(apps, 1)
    )
    day = f"{today.year}年{today.month}月{today.day}日"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>关于{apps[0].name}等{len(apps)}款App违法违规收集使用个人信息情况的通报</title></head>
<body><h1>关于{apps[0].name}等{len(apps)}款App违法违规收集使用个人信息情况的通报</h1>
<div class="source"><span>{day}</span> 来源：中国网信网</div>
<div id="content">
<p>针对人民群众反映强烈的App非法获取、超范围收集、过度索权等侵害个人信息的现象，国家互联网信息办公室
依据《中华人民共和国网络安全法》《中华人民共和国个人信息保护法》等法律法规，组织对公众大量使用的App
的个人信息收集使用情况进行了检测。</p>
<p>检测发现，{apps[0].name}等{len(apps)}款App存在违反必要原则收集与其提供的服务无关的个人信息等问题。
国家网信办已通知上述App运营者，要求其自本通报发布之日起15个工作日内完成整改，逾期不整改的，将依法予以处置。</p>
<p>具体名单如下：</p>
<table><tr><th>序号</th><th>App名称</th><th>运营者</th></tr>
{rows}
</table>
<p style="text-align: right">国家互联网信息办公室</p>
<p style="text-align: right">{day}</p>
</div></body></html>
"""


def warm_notice(today: date) -> dict[str, Any]:
    """A notice only the warm-up subscriber watches: its webhook says the pipeline is up."""
    return {
        "schema": "regwatch.notice/v1",
        "notice_id": f"bench-warm-{uuid.uuid4().hex[:8]}",
        "regulator": {"code": "MIIT", "name": "工业和信息化部"},
        "kind": "rectification",
        "title": "关于侵害用户权益行为的APP通报（预热）",
        "published_on": today.isoformat(),
        "entities": [{"kind": "app", "name": WARM_APP, "developer": "某某信息技术有限公司"}],
    }


# --- population in the database ---------------------------------------------------------


@dataclass(frozen=True)
class Template:
    id: str
    webhook_url: str
    email: str | None
    webhook_secret: str


async def register_templates(database_url: str, hook: str) -> tuple[Template, Template]:
    db = Database(database_url)
    await db.migrate()
    made: list[Template] = []
    try:
        for name, email in (("fanout-hook", None), ("fanout-mail", "fanout-template@example.com")):
            url = f"{hook}/template-{name}"
            async with db.session() as session:
                created = await register_subscriber(
                    session,
                    name=name,
                    email=email,
                    webhook_url=url,
                    reminders=None,
                    default_reminders="7d,3d,1d",
                    allow_private=True,
                )
            assert created.webhook_secret is not None
            made.append(Template(created.id, url, email, created.webhook_secret))
    finally:
        await db.dispose()
    return made[0], made[1]


def subscriber_tables(sync: Connection) -> list[tuple[str, list[str]]]:
    """Tables with a ``subscriber_id`` column (and ``subscribers``), parents before children
    (foreign keys hold on PostgreSQL): (name, the columns to copy: all but an integer primary
    key, which the database numbers)."""
    inspector = inspect(sync)
    out = []
    for table, _ in inspector.get_sorted_table_and_fkc_names():
        if table is None:
            continue
        columns = inspector.get_columns(table)
        if table != "subscribers" and not any(c["name"] == "subscriber_id" for c in columns):
            continue
        primary = set(inspector.get_pk_constraint(table)["constrained_columns"])
        numbered = {
            c["name"]
            for c in columns
            if c["name"] in primary and len(primary) == 1 and isinstance(c["type"], Integer)
        }
        out.append((table, [c["name"] for c in columns if c["name"] not in numbered]))
    return out


def quoted(names: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in names)


async def insert_many(
    conn: AsyncConnection, table: str, names: list[str], rows: Iterator[tuple[Any, ...]]
) -> int:
    """One executemany per ``INSERT_CHUNK`` rows (asyncpg and sqlite3 both send the chunk in
    one call); values are bound as read (``text()``: no type conversion either way)."""
    marks = ", ".join(f":c{i}" for i in range(len(names)))
    statement = text(f'INSERT INTO "{table}" ({quoted(names)}) VALUES ({marks})')
    done = 0
    while chunk := [{f"c{i}": v for i, v in enumerate(row)} for row in islice(rows, INSERT_CHUNK)]:
        await conn.execute(statement, chunk)
        done += len(chunk)
    return done


async def clone_subscribers(
    database_url: str, templates: dict[str, Template], plan: list[tuple[str, str, str | None]]
) -> None:
    """Copy every row of each template subscriber for each (id, template id, email) of the
    plan: own id, name, API key hash, webhook URL and email address; one transaction."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            for table, names in await conn.run_sync(subscriber_tables):
                key = "id" if table == "subscribers" else "subscriber_id"
                select = text(f'SELECT {quoted(names)} FROM "{table}" WHERE "{key}" = :id')
                rows = {
                    t.id: [tuple(r) for r in await conn.execute(select, {"id": t.id})]
                    for t in templates.values()
                }
                if not any(rows.values()):
                    continue
                copies = (
                    tuple(
                        cell(c, v, sub, templates[template_id], email)
                        for c, v in zip(names, row, strict=True)
                    )
                    for sub, template_id, email in plan
                    for row in rows[template_id]
                )
                await insert_many(conn, table, names, copies)
    finally:
        await engine.dispose()


def cell(column: str, value: Any, sub: str, template: Template, email: str | None) -> Any:
    if column == "subscriber_id" or value == template.id:
        return sub
    if value == template.webhook_url:
        return template.webhook_url.rsplit("/", 1)[0] + f"/{sub}"
    if template.email is not None and value == template.email:
        return email
    if column == "api_key_hash":
        return f"bench-{sub}"
    if column == "name":
        return f"bench {sub}"
    if column == "id" and isinstance(value, str):
        return f"{value.split('_')[0]}_{uuid.uuid4().hex[:20]}"
    return value


async def insert_watches(database_url: str, items: list[tuple[str, str, str]]) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            stamp = (await conn.execute(text("SELECT created_at FROM subscribers LIMIT 1"))).one()
            names = ["subscriber_id", "kind", "name", "aliases", "created_at"]
            rows = ((*item, "[]", stamp[0]) for item in items)
            await insert_many(conn, "watch_items", names, rows)
    finally:
        await engine.dispose()


async def database_counts(database_url: str, notice_id: str) -> dict[str, Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:

            async def one(sql: str) -> int:
                return int((await conn.execute(text(sql), {"n": notice_id})).scalar_one())

            by_channel = {
                str(channel): int(n)
                for channel, n in await conn.execute(
                    text(
                        "SELECT channel, count(*) FROM deliveries WHERE notice_id = :n"
                        " GROUP BY channel"
                    ),
                    {"n": notice_id},
                )
            }
            return {
                "alerts": await one("SELECT count(*) FROM matcher_alerts WHERE notice_id = :n"),
                "deliveries": sum(by_channel.values()),
                "deliveries_by_channel": by_channel,
                "delivered": await one(
                    "SELECT count(*) FROM deliveries WHERE notice_id = :n"
                    " AND delivered_at IS NOT NULL"
                ),
                "reminders": await one("SELECT count(*) FROM reminders"),
                "database_mib": round(await database_bytes(conn) / 2**20, 1),
            }
    finally:
        await engine.dispose()


async def database_bytes(conn: AsyncConnection) -> int:
    """The database's size when the run ends: SQLite's pages (the file, once the WAL is
    checkpointed), PostgreSQL's ``pg_database_size``."""
    if conn.dialect.name == "sqlite":
        pages = (await conn.execute(text("PRAGMA page_count"))).scalar_one()
        size = (await conn.execute(text("PRAGMA page_size"))).scalar_one()
        return int(pages) * int(size)
    found = await conn.execute(text("SELECT pg_database_size(current_database())"))
    return int(found.scalar_one())


# --- the services as processes -----------------------------------------------------------


def proc_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def cpu_seconds(pid: int) -> float:
    """CPU of a process and its descendants (living ones, and reaped ones via cutime)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for member in proc_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / tick
    return total


def peak_rss_mib(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def process_names(notifiers: int) -> list[str]:
    """The processes in start order: the matcher (it loads the index), the ingestor, then the
    notifiers (``notifier``, ``notifier-2``...: each its own data dir, one consumer group)."""
    extra = [f"notifier-{n}" for n in range(2, notifiers + 1)]
    return [*SERVICES, *extra]


async def start_services(
    env: dict[str, str], base: Path, names: list[str], limit_s: float
) -> dict[str, tuple[subprocess.Popen[bytes], str, float]]:
    """Each process in turn (the first migrates); name -> (process, URL, seconds to start).
    A process that does not start stops those started before it."""
    started: dict[str, tuple[subprocess.Popen[bytes], str, float]] = {}
    try:
        for name in names:
            data_dir = base / name
            began = time.monotonic()
            service = name.split("-", 1)[0]
            proc = spawn(service, {**env, "REGWATCH_DATA_DIR": str(data_dir)}, data_dir)
            started[name] = (proc, "", 0.0)
            while (found := read_runtime_file(data_dir)) is None:
                if proc.poll() is not None or time.monotonic() - began > limit_s:
                    log = (data_dir / "service.log").read_bytes()
                    tail = log.decode(errors="replace")[-2000:]
                    raise RuntimeError(f"regwatch run --only {service} did not start: {tail}")
                await asyncio.sleep(0.2)
            started[name] = (proc, str(found["http"]), round(time.monotonic() - began, 1))
    except BaseException:
        stop([p for p, _, _ in started.values()])
        raise
    return started


async def describe_group(bootstrap: str, group: str, topic: str) -> list[list[int]] | None:
    """The partitions of ``topic`` each member of ``group`` subscribed to it holds (one list
    per member, largest first), None while the group is rebalancing; raises when the broker
    cannot say. Members are not named: every regwatch consumer has the same client id."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    try:
        await admin.start()
        responses = await admin.describe_consumer_groups([group])
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    held: list[list[int]] = []
    for response in responses:
        for described in response.groups:
            if described[0] != 0 or described[2] != "Stable":
                return None
            for member in described[5]:
                metadata, assignment = member[-2], member[-1]
                if topic not in ConsumerProtocolMemberMetadata.decode(metadata).subscription:
                    continue
                parts = ConsumerProtocolMemberAssignment.decode(assignment).assignment
                held.append(sorted(p for name, ps in parts if name == topic for p in ps))
    return sorted(held, key=len, reverse=True)


async def group_partitions(bootstrap: str, group: str, topic: str) -> list[list[int]] | None:
    """:func:`describe_group`, None when the broker cannot say (a figure of the report, not
    worth failing the run)."""
    try:
        return await describe_group(bootstrap, group, topic)
    except Exception:
        return None


async def wait_for_group(
    bootstrap: str, group: str, topic: str, members: int, limit_s: float
) -> list[list[int]] | None:
    """Until ``members`` processes consume ``topic`` in ``group`` (each consumer joins in its
    own time after the process is up), or ``limit_s``; the last assignment seen. A broker
    that cannot describe groups is not waited for."""
    began = time.monotonic()
    while True:
        try:
            held = await describe_group(bootstrap, group, topic)
        except Exception:
            return None
        if (held is not None and len(held) >= members) or time.monotonic() - began > limit_s:
            return held
        await asyncio.sleep(1)


async def sent_by_channel(client: httpx.AsyncClient, url: str) -> Counter[str]:
    """Deliveries this process brought to ``delivered``, per channel, from its ``/metrics``
    (``regwatch_deliveries_total``): the ledger does not record which instance sent a row."""
    sent: Counter[str] = Counter()
    for family in text_string_to_metric_families((await client.get(url + "/metrics")).text):
        for sample in family.samples:
            delivered = sample.labels.get("status") == "delivered"
            if sample.name == "regwatch_deliveries_total" and delivered:
                sent[sample.labels.get("channel", "")] += int(sample.value)
    return sent


async def count(client: httpx.AsyncClient, receiver: str) -> int:
    return int((await client.get(receiver + "/count")).json())


async def wait_for(
    client: httpx.AsyncClient, receiver: str, target: int, cap_s: float, stall_s: float
) -> None:
    """Until the receiver holds ``target`` arrivals, nothing arrived for ``stall_s`` after
    the first, or ``cap_s`` passed."""
    began = time.monotonic()
    last, changed = await count(client, receiver), time.monotonic()
    start = last
    while time.monotonic() - began < cap_s:
        now = await count(client, receiver)
        if now >= target:
            await asyncio.sleep(3)  # a doubled delivery would come right after
            return
        if now != last:
            last, changed = now, time.monotonic()
        elif last > start and time.monotonic() - changed > stall_s:
            return
        await asyncio.sleep(0.5)


# --- the bare loop -----------------------------------------------------------------------


def sign(secret: str, ident: str, stamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{ident}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def webhook_body(sub: str, notice: NoticeEvent, matches: list[Match]) -> bytes:
    data = {
        "type": "notice.matched",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {
            "match_id": uuid.uuid4().hex,
            "subscriber_id": sub,
            "notice": {
                "notice_id": notice.notice_id,
                "regulator": notice.regulator.model_dump(mode="json"),
                "kind": notice.kind,
                "title": notice.title,
                "published_on": notice.published_on.isoformat(),
                "deadline": notice.deadline.model_dump(mode="json") if notice.deadline else None,
            },
            "matches": [m.model_dump(mode="json") for m in matches],
        },
    }
    return json.dumps(data, ensure_ascii=False).encode()


async def bare_loop(
    receiver: str,
    smtp_port: int,
    secret: str,
    notice: NoticeEvent,
    expected: dict[str, list[Match]],
    emails: dict[str, str],
    cap_s: float,
    http: str = "aiohttp",
    smtp_connections: int = SMTP_CONNECTIONS,
) -> dict[str, Any]:
    """The same webhooks and emails, signed and sent by a loop that does nothing else, its
    webhooks through ``http`` ("aiohttp", the client regwatch's sender uses, or "httpx"); it
    stops sending after ``cap_s`` (its rate is then what it sent in that time)."""
    hooks = list(expected)
    mails = [sub for sub in expected if sub in emails]
    stop_at = time.monotonic() + cap_s
    done = {"webhook": 0, "email": 0, "failures": 0}
    ended = {"webhook": 0.0, "email": 0.0}

    async def post_all(post: Callable[[str, bytes, dict[str, str]], Awaitable[int]]) -> None:
        while hooks and time.monotonic() < stop_at:
            sub = hooks.pop()
            body = webhook_body(sub, notice, expected[sub])
            ident, stamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "webhook-id": ident,
                "webhook-timestamp": stamp,
                "webhook-signature": sign(secret, ident, stamp, body),
            }
            try:
                status = await post(f"{receiver}/bare/{sub}", body, headers)
            except (httpx.TransportError, aiohttp.ClientError):  # dropped: counted, sent again
                done["failures"] += 1
                hooks.insert(0, sub)
                continue
            done["failures" if status >= 300 else "webhook"] += 1
        ended["webhook"] = time.monotonic()

    async def mail_all() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port) as smtp:
            while mails and time.monotonic() < stop_at:
                sub = mails.pop()
                message = EmailMessage()
                message["From"] = "regwatch <alerts@regwatch.local>"
                message["To"] = emails[sub]
                message["Subject"] = f"[regwatch] {notice.title}"
                message["Message-ID"] = f"<{uuid.uuid4().hex}@bench>"
                lines = [f"{m.entity.name}: {m.reason}" for m in expected[sub]]
                message.set_content(notice.title + "\n\n" + "\n".join(lines))
                await smtp.send_message(message)
                done["email"] += 1
        ended["email"] = time.monotonic()

    async with contextlib.AsyncExitStack() as stack:
        if http == "httpx":
            limits = httpx.Limits(
                max_connections=BARE_WEBHOOKS_IN_FLIGHT,
                max_keepalive_connections=BARE_WEBHOOKS_IN_FLIGHT,
            )
            client = await stack.enter_async_context(httpx.AsyncClient(limits=limits, timeout=30))

            async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
                return (await client.post(url, content=body, headers=headers)).status_code

        else:
            session = await stack.enter_async_context(
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=BARE_WEBHOOKS_IN_FLIGHT),
                    timeout=aiohttp.ClientTimeout(30),
                )
            )

            async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
                async with session.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    return answer.status

        began = time.monotonic()
        await asyncio.gather(
            *(post_all(post) for _ in range(BARE_WEBHOOKS_IN_FLIGHT)),
            *(mail_all() for _ in range(smtp_connections)),
        )
        seconds = time.monotonic() - began
    return {
        "bare_loop_s": round(seconds, 2),
        "bare_loop_webhook_s": round(ended["webhook"] - began, 2),
        "bare_loop_email_s": round(ended["email"] - began, 2),
        "bare_loop_sent": done["webhook"] + done["email"],
        "bare_loop_failures": done["failures"],
        "bare_loop_per_s": round((done["webhook"] + done["email"]) / max(seconds, 1e-9), 1),
    }


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    size: Size
    notifiers: int = 1
    database: str = "sqlite"
    server_url: str = ""
    """PostgreSQL: a database on the server to connect to while creating the bench's own."""
    logs: Path | None = None
    """Where to copy each process's ``service.log`` (``<name>.log``) when the run ends."""
    smtp_connections: int = SMTP_CONNECTIONS
    """``REGWATCH_SMTP_CONNECTIONS`` of each notifier, and the bare loop's connections."""


@contextlib.asynccontextmanager
async def bench_database(options: Options, base: Path, run: str) -> AsyncIterator[str]:
    """The database of one run: a SQLite file in ``base``, or a new PostgreSQL database
    ``regwatch_fanout_<run>`` on the server, dropped afterwards (the run's secret keys are
    set in this process's environment while it lasts: every process needs the same)."""
    if options.database == "sqlite":
        yield f"sqlite+aiosqlite:///{base / 'regwatch.db'}"
        return
    saved = {key: os.environ.get(key) for key in (KEYS_SETTING, PEPPER_SETTING)}
    async with scratch_database(options.server_url, f"regwatch_fanout_{run}") as url:
        os.environ[KEYS_SETTING], os.environ[PEPPER_SETTING] = new_secret_key(), new_pepper()
        try:
            yield url
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


async def measure(
    options: Options, bootstrap: str, kind: str, receiver: str, smtp_port: int
) -> dict[str, Any]:
    size = options.size
    today = date.today()
    population = Population(size.subscribers)
    html = notice_html(population.notice_apps, today)
    notice = parse(html.encode(), name="fanout.html")
    run = uuid.uuid4().hex[:8]
    rng = random.Random(16)
    subs = [f"sub_fanout{i:08d}" for i in range(size.subscribers)]
    emails = {s: f"{s}@example.com" for s in subs if rng.random() < EMAIL_SHARE}
    began = time.monotonic()
    items = list(population.items(subs))
    index = WatchIndex(
        WatchItem(sub, kind_, name, id=n)  # type: ignore[arg-type]
        for n, (sub, kind_, name) in enumerate(items)
    )
    expected = index.match(notice)
    del index
    expected_s = time.monotonic() - began
    with tempfile.TemporaryDirectory(prefix="regwatch-fanout-") as tmp:
        base = Path(tmp)
        async with bench_database(options, base, run) as database_url:
            hook_template, mail_template = await register_templates(
                database_url, receiver + "/hook"
            )
            templates = {t.id: t for t in (hook_template, mail_template)}
            plan = [
                (s, (mail_template if s in emails else hook_template).id, emails.get(s))
                for s in subs
            ]
            plan.append(("sub_fanoutwarm", hook_template.id, None))
            began = time.monotonic()
            await clone_subscribers(database_url, templates, plan)
            await insert_watches(database_url, [*items, ("sub_fanoutwarm", "app", WARM_APP)])
            insert_s = time.monotonic() - began
            del items

            settings = bench_settings(bootstrap, kind, run, base)
            env = service_env(settings, base, database_url)
            env["REGWATCH_SMTP_PORT"] = str(smtp_port)
            env["REGWATCH_SMTP_CONNECTIONS"] = str(options.smtp_connections)
            env.pop("REGWATCH_DISPATCH_INTERVAL")  # the default, as a user runs it
            if options.database != "sqlite":
                env.update({k: os.environ[k] for k in (KEYS_SETTING, PEPPER_SETTING)})
            names = process_names(options.notifiers)
            started = await start_services(env, base, names, size.cap_s)
            procs = {name: found[0] for name, found in started.items()}
            notifiers = [name for name in names if name.startswith("notifier")]
            group = settings.group_id("notifier")
            try:
                figures = await fan_out(
                    options,
                    started,
                    notifiers,
                    (bootstrap, group, settings.topics.matches),
                    receiver,
                    html,
                    today,
                    expected,
                    emails,
                )
            finally:
                stop(list(procs.values()))
                if options.logs is not None:
                    options.logs.mkdir(parents=True, exist_ok=True)
                    for name in procs:
                        shutil.copy(base / name / "service.log", options.logs / f"{name}.log")
            counts = await database_counts(database_url, figures["notice"].notice_id)

    stored: NoticeEvent = figures.pop("notice")
    posted: float = figures.pop("posted")
    arrived: list[tuple[str, str, float]] = figures.pop("arrived")
    waited_s: float = figures.pop("waited_s")
    hooks = Counter(path.rsplit("/", 1)[1] for path, _, _ in arrived if path.startswith("/hook/"))
    mails = Counter(
        path.split(":", 1)[1].split("@")[0] for path, _, _ in arrived if path.startswith("smtp:")
    )
    webhook_ids = Counter(ident for path, ident, _ in arrived if path.startswith("/hook/"))
    want_mail = {s for s in expected if s in emails}
    lost = sum(1 for s in expected if hooks[s] == 0) + sum(1 for s in want_mail if mails[s] == 0)
    duplicates = sum(n - 1 for n in (*hooks.values(), *mails.values()) if n > 1)
    unexpected = sum(1 for s in hooks if s not in expected) + sum(
        1 for s in mails if s not in want_mail
    )
    times = sorted(at - posted for path, _, at in arrived if path.startswith(("/hook/", "smtp:")))
    webhook_times = [at - posted for path, _, at in arrived if path.startswith("/hook/")]
    mail_times = [at - posted for path, _, at in arrived if path.startswith("smtp:")]
    secret = hook_template.webhook_secret
    connections = options.smtp_connections
    bare = await bare_loop(
        receiver, smtp_port, secret, stored, expected, emails, size.cap_s, "aiohttp", connections
    )
    httpx_cap = min(size.cap_s, HTTPX_SAMPLE_S)
    sample = await bare_loop(
        receiver, smtp_port, secret, stored, expected, emails, httpx_cap, "httpx", connections
    )
    last = times[-1] if times else waited_s
    regwatch_per_s = len(times) / max(last, 1e-9)
    return {
        "notice_apps": len(population.notice_apps),
        "notice_entities_read": len(stored.entities),
        "expected_alerts": len(expected),
        "expected_emails": len(want_mail),
        "matches": sum(len(m) for m in expected.values()),
        **counts,
        "received": len(times),
        "first_delivery_s": round(times[0], 2) if times else None,
        "last_delivery_s": round(last, 2) if times and not lost else None,
        "last_received_s": round(last, 2),
        "regwatch_per_s": round(regwatch_per_s, 1),
        "first_webhook_s": round(min(webhook_times), 2) if webhook_times else None,
        "last_webhook_s": round(max(webhook_times), 2) if webhook_times else None,
        "first_email_s": round(min(mail_times), 2) if mail_times else None,
        "last_email_s": round(max(mail_times), 2) if mail_times else None,
        "lost": lost,
        "duplicates": duplicates,
        "duplicate_webhook_ids": sum(1 for n in webhook_ids.values() if n > 1),
        "unexpected": unexpected,
        **figures,
        **bare,
        "ratio_vs_bare_loop": round(regwatch_per_s / max(bare["bare_loop_per_s"], 1e-9), 3),
        "bare_httpx_sent": sample["bare_loop_sent"],
        "bare_httpx_per_s": sample["bare_loop_per_s"],
        "ratio_vs_bare_httpx": round(regwatch_per_s / max(sample["bare_loop_per_s"], 1e-9), 3),
        "setup": {"expected_s": round(expected_s, 1), "bulk_insert_s": round(insert_s, 1)},
    }


async def fan_out(
    options: Options,
    started: dict[str, tuple[subprocess.Popen[bytes], str, float]],
    notifiers: list[str],
    kafka_group: tuple[str, str, str],
    receiver: str,
    html: str,
    today: date,
    expected: dict[str, list[Match]],
    emails: dict[str, str],
) -> dict[str, Any]:
    """Warm up, post the notice to the running services, wait for its deliveries; the
    services' figures, the notifiers' group, what arrived."""
    procs = {name: found[0] for name, found in started.items()}
    async with httpx.AsyncClient(timeout=httpx.Timeout(120)) as client:
        # warm-up: one alert through every service (consumers have joined their groups)
        ingest = started["ingestor"][1]
        before = await count(client, receiver)
        answer = await client.post(ingest + "/v1/notices", json=warm_notice(today))
        answer.raise_for_status()
        await wait_for(client, receiver, before + 1, 120, 120)
        if await count(client, receiver) <= before:
            raise RuntimeError("the warm-up alert was not delivered within 120 s")
        # every notifier holds its share of the matches topic before the notice comes
        assigned = await wait_for_group(*kafka_group, options.notifiers, 120)
        cpu_before = {name: cpu_seconds(p.pid) for name, p in procs.items()}
        sent_before = {name: await sent_by_channel(client, started[name][1]) for name in notifiers}
        before = await count(client, receiver)
        target = before + len(expected) + sum(1 for s in expected if s in emails)
        posted = time.time()
        answer = await client.post(
            ingest + "/v1/notices",
            content=html.encode(),
            headers={"content-type": "text/html; charset=utf-8"},
        )
        answer.raise_for_status()
        post_s = time.time() - posted
        stored = NoticeEvent.model_validate(answer.json()["notice"])
        await wait_for(client, receiver, target, options.size.cap_s, 180)
        waited_s = time.time() - posted
        services: dict[str, dict[str, Any]] = {
            name: {
                "cpu_s": round(cpu_seconds(p.pid) - cpu_before[name], 1),
                "peak_rss_mib": peak_rss_mib(p.pid),
                "start_s": started[name][2],
            }
            for name, p in procs.items()
        }
        for name in notifiers:
            sent = await sent_by_channel(client, started[name][1]) - sent_before[name]
            services[name]["sent"] = sum(sent.values())
            services[name]["sent_by_channel"] = dict(sorted(sent.items()))
        assigned_after = await group_partitions(*kafka_group)
        arrived = [
            (path, ident, at)
            for path, ident, at in (await client.get(receiver + "/stats")).json()
            if at >= posted
        ]
    return {
        "notice": stored,
        "posted": posted,
        "arrived": arrived,
        "waited_s": waited_s,
        "notice_post_s": round(post_s, 2),
        "services": services,
        "notifier_cpu_s": round(sum(services[n]["cpu_s"] for n in notifiers), 1),
        "matches_partitions": {"at_post": assigned, "at_end": assigned_after},
    }


def size_of(quick: bool, subscribers: int | None) -> Size:
    size = QUICK if quick else FULL
    if subscribers is not None:
        return Size(subscribers, QUICK.cap_s, QUICK.goal_s)
    return size


def run(
    quick: bool,
    *,
    notifiers: int = 1,
    database: str = "sqlite",
    database_url: str | None = None,
    subscribers: int | None = None,
    logs: Path | None = None,
    smtp_connections: int = SMTP_CONNECTIONS,
) -> list[dict[str, Any]]:
    size = size_of(quick, subscribers)
    server_url = database_url or os.environ.get(DATABASE_URL_ENV, "")
    if database == "postgresql" and not server_url:
        raise SystemExit(f"--database postgresql needs --database-url or {DATABASE_URL_ENV}")
    options = Options(size, notifiers, database, server_url, logs, smtp_connections)
    smtp_port = free_port()
    with local_broker() as broker, receiver_process(smtp_port) as receiver:
        figures = asyncio.run(measure(options, broker.bootstrap, broker.kind, receiver, smtp_port))
    result: dict[str, Any] = {
        "bench": "fanout",
        "broker": broker.kind,
        "database": database,
        "notifiers": notifiers,
        "smtp_connections": smtp_connections,
        "subscribers": size.subscribers,
        "watch_items": size.subscribers * ITEMS_PER_SUBSCRIBER,
        **figures,
        "cap_s": size.cap_s,
        "goal": f"last delivery within {size.goal_s:g} s, >= 0.8x the bare loop,"
        " none lost or doubled",
    }
    result["goal_met"] = (
        result["last_delivery_s"] is not None
        and result["last_delivery_s"] <= size.goal_s
        and result["ratio_vs_bare_loop"] >= 0.8
        and result["lost"] == 0
        and result["duplicates"] == 0
        and result["duplicate_webhook_ids"] == 0
    )
    emit(result)
    return [result]


def variants(notifiers: int | None, database: str | None, server_url: str) -> list[tuple[int, str]]:
    """(notifiers, database) of each run: the ones asked for, or by default one notifier on
    SQLite, then two sharing the load (PostgreSQL when a server is given, else SQLite)."""
    if notifiers is not None:
        return [(notifiers, database or "sqlite")]
    if database is not None:
        return [(1, database), (2, database)]
    return [(1, "sqlite"), (2, "postgresql" if server_url else "sqlite")]


SMTP_CONNECTIONS_FIELD = TypeAdapter(Annotated[int, Settings.model_fields["smtp_connections"]])
"""``REGWATCH_SMTP_CONNECTIONS``' field alone: its type and bounds, without the other settings."""


def smtp_connections(text: str) -> int:
    """``--smtp-connections``: a number ``REGWATCH_SMTP_CONNECTIONS`` accepts, checked by the
    setting's own field, so a bad one is refused here rather than when the notifiers start."""
    try:
        return SMTP_CONNECTIONS_FIELD.validate_python(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r}: {exc.errors()[0]['msg']} (REGWATCH_SMTP_CONNECTIONS)"
        ) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 subscribers")
    parser.add_argument(
        "--notifiers",
        type=int,
        help="notifier processes in one consumer group, each its own data dir (default: a"
        " run with 1, then a run with 2)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        help="sqlite: one file; postgresql: a new database per run on the server of"
        f" --database-url, dropped afterwards (default: sqlite, and postgresql for the run"
        f" with 2 notifiers when ${DATABASE_URL_ENV} is set)",
    )
    parser.add_argument(
        "--database-url",
        help=f"a PostgreSQL server's database to connect to (default: ${DATABASE_URL_ENV})",
    )
    parser.add_argument(
        "--smtp-connections",
        type=smtp_connections,
        default=SMTP_CONNECTIONS,
        help="REGWATCH_SMTP_CONNECTIONS of each notifier, and the bare loop's SMTP connections"
        f" (default: {SMTP_CONNECTIONS}, regwatch's default)",
    )
    parser.add_argument("--subscribers", type=int, help=argparse.SUPPRESS)  # smoke runs
    parser.add_argument(
        "--logs", type=Path, help="copy each service process's log into this folder at the end"
    )
    args = parser.parse_args()
    if args.notifiers is not None and args.notifiers < 1:
        parser.error("--notifiers must be at least 1")
    if args.smtp_connections < 1:
        parser.error("--smtp-connections must be at least 1")
    server_url = args.database_url or os.environ.get(DATABASE_URL_ENV, "")
    rows: list[dict[str, Any]] = []
    for notifiers, database in variants(args.notifiers, args.database, server_url):
        rows += run(
            args.quick,
            notifiers=notifiers,
            database=database,
            database_url=args.database_url,
            subscribers=args.subscribers,
            logs=args.logs / f"{notifiers}-{database}" if args.logs else None,
            smtp_connections=args.smtp_connections,
        )
    if args.subscribers is None:  # a smoke run does not replace the figures of a real one
        save("fanout", rows)


if __name__ == "__main__":
    main()
