"""Freshness: from a notice appearing in a feed to its alert arriving at a webhook.

    python -m bench.freshness [--quick]

A local feed server (``bench/feed_server.py``, its own process) serves an RSS feed; regwatch
runs in this process on the embedded defaults (``Runtime``: Tansu broker, SQLite) with the
feed added through ``POST /v1/sources`` (schedule ``every 1s``), one subscriber watching 抖音
and a webhook to a local receiver (``bench/receiver.py``, its own process). Each round
publishes a new notice page naming 抖音 and waits for its webhook; the time is split by the
feed server's and receiver's clocks and the rows each stage writes:

- ``poll_wait``: the item appearing -> the first feed read listing it (the poll interval's
  share, reported apart);
- ``fetch_extract_store``: that read -> the notice stored (listing parsed, page fetched,
  notice read and stored with its outbox row: ``notices.created_at``);
- ``publish_match``: stored -> the matcher's alert row (outbox relay, broker, matcher);
- ``deliver``: the alert row -> the webhook at the receiver (outbox, broker, notifier,
  dispatcher, signed POST);
- ``after_poll`` (the sum of the last three) and ``total``.

Baseline in the same run: the same kind of notice page POSTed to ``/v1/notices`` (no feed):
post -> webhook. ``ratio_vs_direct_post`` = p50 ``after_poll`` / p50 direct.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import httpx

from bench.common import arrivals, emit, percentile, receiver_process, save
from services.runtime import Runtime
from shared.embedded.ports import free_port
from shared.settings import Settings

SCHEDULE = "every 1s"
WATCHED = ("抖音", "北京微播视界科技有限公司")


def notice_html(label: str, n: int) -> str:
    """A CAC notice naming 抖音, with a batch and an app of its own (so that each is a notice
    of its own, not a reprint or an update of the one before)."""
    today = date.today()
    apps = [WATCHED, (f"基准{label}应用{n}", f"基准{label}{n}号科技有限公司")]
    batch = n * 2 + (label == "D") + 1
    title = (
        f"关于{apps[0][0]}等{len(apps)}款App违法违规收集使用个人信息情况的通报"
        f"（{today.year}年第{batch}批）"
    )
    rows = "".join(f"<p>{i}. {escape(a)}（{escape(d)}）</p>" for i, (a, d) in enumerate(apps, 1))
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<h1>{title}</h1><p>国家互联网信息办公室</p>"
        f"<p>{today.year}年{today.month}月{today.day}日</p>"
        "<p>近期，有关部门对部分App收集使用个人信息的情况进行了检测，发现下列App存在问题。</p>"
        f"<p>相关App运营者应当自本通报发布之日起15个工作日内完成整改。</p>{rows}</body></html>"
    )


@contextlib.contextmanager
def feed_server_process() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.feed_server", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/log", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"feed server did not start: {err[-2000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()


def epoch(value: str) -> float:
    """A stored UTC time (SQLite text) as seconds since the epoch."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def stage_times(db_path: Path, page_url: str) -> tuple[float, float]:
    """When the notice read from ``page_url`` was stored, and when the matcher alerted it."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        stored, alerted = conn.execute(
            "SELECT n.created_at, a.created_at FROM feed_items f"
            " JOIN notices n ON n.notice_id = f.notice_id"
            " JOIN matcher_alerts a ON a.notice_id = f.notice_id"
            " WHERE f.url = ?",
            (page_url,),
        ).fetchone()
    return epoch(stored), epoch(alerted)


async def next_arrival(hooks: str, seen: int, timeout: float = 60) -> float:  # noqa: ASYNC109
    """The time of the webhook after the first ``seen`` ones."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await asyncio.to_thread(arrivals, hooks)
        if len(got) > seen:
            return got[seen][2]
        await asyncio.sleep(0.02)
    raise RuntimeError(f"no webhook within {timeout:.0f} s")


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
    }


async def measure(rounds: int, feed: str, hooks: str, data_dir: Path) -> dict[str, Any]:
    settings = Settings(
        data_dir=data_dir,
        http_port=0,
        feed_interval="1s",  # the sweep checks every second for due sources
        feeds_allow_private=True,
        webhook_allow_private=True,
        dispatch_interval=0.05,
        log_level="WARNING",
    )
    # a sweep busy past the next second is skipped: apscheduler says so at WARNING each time
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    runtime = Runtime(settings)
    await runtime.start()
    try:
        async with httpx.AsyncClient(base_url=runtime.http_url, timeout=60) as api:
            made = await api.post(
                "/v1/subscribers", json={"name": "bench", "webhook_url": hooks + "/hook"}
            )
            made.raise_for_status()
            auth = {"Authorization": f"Bearer {made.json()['api_key']}"}
            watch = await api.post(
                "/v1/watches", json={"kind": "app", "name": "抖音"}, headers=auth
            )
            watch.raise_for_status()
            source = await api.post(
                "/v1/sources", json={"url": feed + "/rss.xml", "schedule": SCHEDULE}
            )
            source.raise_for_status()
            await asyncio.sleep(1)  # the watch reaches the matcher's live index
            seen = 0
            stages: dict[str, list[float]] = {
                k: []
                for k in (
                    "poll_wait",
                    "fetch_extract_store",
                    "publish_match",
                    "deliver",
                    "after_poll",
                    "total",
                )
            }
            direct: list[float] = []
            async with httpx.AsyncClient(base_url=feed, timeout=30) as server:
                for n in range(rounds + 1):  # the first of each is a warm-up
                    ident = f"r{n}"
                    html = notice_html("F", n)
                    appeared = (
                        await server.post(
                            "/publish", json={"id": ident, "title": ident, "html": html}
                        )
                    ).json()["at"]
                    try:
                        arrived = await next_arrival(hooks, seen)
                    except RuntimeError:  # say where it stopped: the source, the feed's log
                        print((await api.get("/v1/sources")).text, file=sys.stderr)
                        print((await server.get("/log")).text[-3000:], file=sys.stderr)
                        raise
                    seen += 1
                    log = (await server.get("/log")).json()
                    polled = min(t for t, ids in log["feed"] if ident in ids)
                    page_url = f"{feed}/n/{ident}.html"
                    stored, alerted = await asyncio.to_thread(
                        stage_times, data_dir / "regwatch.db", page_url
                    )
                    body = notice_html("D", n).encode()
                    sent = time.time()
                    posted = await api.post(
                        "/v1/notices", content=body, headers={"Content-Type": "text/html"}
                    )
                    posted.raise_for_status()
                    reached = await next_arrival(hooks, seen)
                    seen += 1
                    if n == 0:
                        continue
                    stages["poll_wait"].append(polled - appeared)
                    stages["fetch_extract_store"].append(stored - polled)
                    stages["publish_match"].append(alerted - stored)
                    stages["deliver"].append(arrived - alerted)
                    stages["after_poll"].append(arrived - polled)
                    stages["total"].append(arrived - appeared)
                    direct.append(reached - sent)
    finally:
        await runtime.stop()
    result: dict[str, Any] = {
        "bench": "freshness",
        "rounds": rounds,
        "schedule": SCHEDULE,
        "poll_check_s": 1.0,
        **{name: summary(values) for name, values in stages.items()},
        "direct_post": summary(direct),
    }
    result["ratio_vs_direct_post"] = round(
        result["after_poll"]["p50_ms"] / max(result["direct_post"]["p50_ms"], 1e-9), 2
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 20")
    args = parser.parse_args()
    rounds = 5 if args.quick else 20
    with (
        feed_server_process() as feed,
        receiver_process() as hooks,
        tempfile.TemporaryDirectory(prefix="regwatch-freshness-") as tmp,
    ):
        result = asyncio.run(measure(rounds, feed, hooks, Path(tmp)))
    emit(result)
    save("freshness", [result])


if __name__ == "__main__":
    main()
