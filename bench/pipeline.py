"""The whole pipeline on a real broker: notices posted at a fixed rate -> ingest -> match ->
signed webhook at a local receiver; throughput and p50/p99 latency, against a raw aiokafka
produce -> consume loop at the same rate on the same broker in the same run.

    python -m bench.pipeline [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.common import arrivals, emit, local_broker, percentile, receiver_process, save
from shared.kafka_admin import ensure_topics
from shared.runtime_file import read_runtime_file
from shared.settings import Settings

RATE = 100.0  # notices per second offered: the goal's load
LOW_RATE = 10.0  # and a light load, for the latency when nothing queues


@dataclass(frozen=True)
class Load:
    rate: float
    count: int


REGWATCH = Path(sys.executable).with_name("regwatch")


def notice(i: int, run: str) -> dict[str, Any]:
    """The i-th notice of a run: each has a batch label of its own (below). Published today
    with a deadline two weeks on, so every alert plans its reminders (7d, 3d, 1d before)."""
    batch = zlib.crc32(run.encode()) * 100_000 + i + 1
    today = date.today()
    return {
        "schema": "regwatch.notice/v1",
        "notice_id": f"bench-{run}-{i}",
        "regulator": {"code": "MIIT", "name": "工业和信息化部"},
        "kind": "rectification",
        "title": f"关于侵害用户权益行为的APP通报（基准第{i}批）",
        "published_on": today.isoformat(),
        # same regulator, date and apps: without batch labels of their own, every notice
        # would be a reprint of the first and merged into it (as the ingestor should)
        "batch": f"{today.year}年第{batch}批",
        "deadline": {
            "due_on": (today + timedelta(days=14)).isoformat(),
            "rule": "calendar_days",
            "amount": 14,
            "source_text": "两周内",
        },
        "entities": [
            {"kind": "app", "name": "抖音", "developer": "北京微播视界科技有限公司"},
            {"kind": "app", "name": "某某天气", "developer": "某某信息技术有限公司"},
        ],
    }


async def offered(count: int, rate: float, send: Any) -> dict[int, float]:
    """Call ``send(i)`` at ``rate`` per second without waiting for answers; i -> send time."""
    sent: dict[int, float] = {}
    tasks = []
    start = time.time()
    for i in range(count):
        delay = start + i / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[i] = time.time()
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)
    return sent


def summary(latencies: list[float], first: float, last: float, count: int) -> dict[str, Any]:
    return {
        "delivered": len(latencies),
        "throughput_per_s": round(len(latencies) / max(last - first, 1e-9), 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "lost": count - len(latencies),
    }


async def drive(
    ingest_url: str, subscribers_url: str, loads: list[Load], hook_url: str, db_path: Path
) -> dict[float, dict[str, Any]]:
    """Subscribe, warm up (one notice through to its webhook: consumers have joined their
    groups), then each load in turn: its notices posted at its rate, all webhooks awaited."""
    results: dict[float, dict[str, Any]] = {}
    # no pool timeout: at 100/s the requests queue for a connection while the ingestor is
    # behind, and how long they wait is part of the latency measured
    timeout = httpx.Timeout(60, pool=None)
    async with httpx.AsyncClient(timeout=timeout) as client:
        made = (
            await client.post(
                subscribers_url + "/v1/subscribers", json={"name": "bench", "webhook_url": hook_url}
            )
        ).json()
        auth = {"Authorization": f"Bearer {made['api_key']}"}
        answer = await client.post(
            subscribers_url + "/v1/watches", json={"kind": "app", "name": "Douyin"}, headers=auth
        )
        answer.raise_for_status()
        await asyncio.sleep(1)  # the watch reaches the matcher's live index
        warm = uuid.uuid4().hex[:8]
        await post_and_collect(client, ingest_url, db_path, warm, 1, 1.0, hook_url, 90)
        for load in loads:
            run = uuid.uuid4().hex[:8]
            drain_s = max(60.0, load.count / 8)  # time to deliver the backlog after the load
            results[load.rate] = await post_and_collect(
                client, ingest_url, db_path, run, load.count, load.rate, hook_url, drain_s
            )
    return results


def webhook_ids(db_path: Path, run: str) -> dict[str, int]:
    """webhook-id -> notice number of the run's webhook deliveries recorded so far, read from
    the notifier's ledger (the id is the ledger's: it names the target too)."""
    prefix = f"bench-{run}-"
    with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as conn:
        rows = conn.execute(
            "SELECT id, notice_id FROM deliveries WHERE channel = 'webhook' AND notice_id LIKE ?",
            (prefix + "%",),
        ).fetchall()
    return {ident: int(notice_id.removeprefix(prefix)) for ident, notice_id in rows}


async def post_and_collect(
    client: httpx.AsyncClient,
    ingest_url: str,
    db_path: Path,
    run: str,
    count: int,
    rate: float,
    hook_url: str,
    drain_s: float,
) -> dict[str, Any]:
    async def send(i: int) -> None:
        answer = await client.post(ingest_url + "/v1/notices", json=notice(i, run))
        answer.raise_for_status()

    sent = await offered(count, rate, send)
    deadline = time.time() + drain_s
    got: dict[int, float] = {}
    while time.time() < deadline:
        ids = webhook_ids(db_path, run)
        got = {ids[h]: at for _, h, at in arrivals(hook_url.rsplit("/", 1)[0]) if h in ids}
        if len(got) >= count:
            break
        await asyncio.sleep(0.25)
    latencies = [got[i] - sent[i] for i in got]
    first = min(sent.values())
    last = max(got.values()) if got else first
    return summary(latencies, first, last, count)


def bench_settings(bootstrap: str, kind: str, run: str, data_dir: Path) -> Settings:
    return Settings(
        kafka_bootstrap=bootstrap,
        kafka_idempotence=kind != "tansu",
        topic_namespace=f"bench{run}",
        data_dir=data_dir,
        http_port=0,
        smtp_host="127.0.0.1",
        webhook_allow_private=True,
        dispatch_interval=0.05,
        log_level="WARNING",
    )


async def one_process(
    bootstrap: str, kind: str, loads: list[Load], hook_url: str
) -> dict[float, dict[str, Any]]:
    """``regwatch run``: the three services in one process (the ``make run`` layout), a
    process of its own: the load and its polling are not on the services' event loop."""
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = bench_settings(bootstrap, kind, run, base)
        database_url = f"sqlite+aiosqlite:///{base / 'regwatch.db'}"
        proc = await start_service(None, service_env(settings, base, database_url), base)
        try:
            url = str((read_runtime_file(base) or {})["http"])
            return await drive(url, url, loads, hook_url, base / "regwatch.db")
        finally:
            stop([proc])


def service_env(settings: Settings, data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    env.update(
        {
            "REGWATCH_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
            "REGWATCH_KAFKA_IDEMPOTENCE": str(settings.kafka_idempotence).lower(),
            "REGWATCH_TOPIC_NAMESPACE": settings.topic_namespace,
            "REGWATCH_DATA_DIR": str(data_dir),
            "REGWATCH_DATABASE_URL": database_url,
            "REGWATCH_HTTP_PORT": "0",
            "REGWATCH_SMTP_HOST": "127.0.0.1",
            "REGWATCH_WEBHOOK_ALLOW_PRIVATE": "true",
            "REGWATCH_DISPATCH_INTERVAL": str(settings.dispatch_interval),
            "REGWATCH_LOG_LEVEL": "WARNING",
        }
    )
    return env


def spawn(name: str | None, env: dict[str, str], data_dir: Path) -> subprocess.Popen[bytes]:
    """``regwatch run --only NAME``, or ``regwatch run`` (all three services) without a name."""
    data_dir.mkdir(parents=True, exist_ok=True)
    only = ["--only", name] if name else []
    with (data_dir / "service.log").open("wb") as log:
        return subprocess.Popen([str(REGWATCH), "run", *only], env=env, stdout=log, stderr=log)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each (a clean stop), then wait; kill what is still running after 30 s."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def start_service(
    name: str | None, env: dict[str, str], data_dir: Path
) -> subprocess.Popen[bytes]:
    """``regwatch run --only NAME`` (``regwatch run`` without a name); returns once it wrote
    its runtime file."""
    proc = spawn(name, env, data_dir)
    deadline = time.monotonic() + 60
    while read_runtime_file(data_dir) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = (data_dir / "service.log").read_bytes().decode(errors="replace")[-2000:]
            raise RuntimeError(f"regwatch run {name or ''} did not start: {tail}")
        await asyncio.sleep(0.1)
    return proc


async def three_processes(
    bootstrap: str, kind: str, loads: list[Load], hook_url: str
) -> dict[float, dict[str, Any]]:
    """``regwatch run --only X`` per service, one database (the compose layout, scaled to one
    instance each): the services no longer share one interpreter."""
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = bench_settings(bootstrap, kind, run, base)
        database_url = f"sqlite+aiosqlite:///{base / 'regwatch.db'}"
        procs: list[subprocess.Popen[bytes]] = []
        try:
            urls: dict[str, str] = {}
            for name in ("matcher", "ingestor", "notifier"):  # the first one migrates
                data_dir = base / name
                procs.append(
                    await start_service(
                        name, service_env(settings, data_dir, database_url), data_dir
                    )
                )
                urls[name] = str((read_runtime_file(data_dir) or {})["http"])
            return await drive(
                urls["ingestor"], urls["matcher"], loads, hook_url, base / "regwatch.db"
            )
        finally:
            stop(procs)


async def raw_kafka(bootstrap: str, count: int) -> dict[str, Any]:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=3)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"g-{topic}", auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    got: dict[int, float] = {}

    async def consume() -> None:
        while len(got) < count:
            batch = await consumer.getmany(timeout_ms=200)
            now = time.time()
            for records in batch.values():
                for record in records:
                    got[json.loads(record.value)["i"]] = now
            await consumer.commit()

    reader = asyncio.create_task(consume())
    try:
        await asyncio.sleep(1)  # let the group settle

        async def send(i: int) -> None:
            body = json.dumps(notice(i, "raw") | {"i": i}).encode()
            await producer.send_and_wait(topic, body, key=str(i).encode())

        sent = await offered(count, RATE, send)
        await asyncio.wait_for(reader, 60)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    latencies = [got[i] - sent[i] for i in got]
    return summary(latencies, min(sent.values()), max(got.values()), count)


def run(quick: bool) -> list[dict[str, Any]]:
    seconds = 3 if quick else 10
    loads = [Load(LOW_RATE, int(LOW_RATE * seconds * 2)), Load(RATE, int(RATE * seconds))]
    layouts = {"regwatch": one_process, "split": three_processes}
    with local_broker() as broker, receiver_process() as receiver:
        raw = asyncio.run(raw_kafka(broker.bootstrap, loads[-1].count))
        measured = {
            label: asyncio.run(layout(broker.bootstrap, broker.kind, loads, receiver + "/hook"))
            for label, layout in layouts.items()
        }
    result: dict[str, Any] = {
        "bench": "pipeline",
        "broker": broker.kind,
        "offered_per_s": RATE,
        "notices": loads[-1].count,
        "layouts": {
            "regwatch": "regwatch run: three services in one process",
            "split": "regwatch run --only X: one process per service, one SQLite database",
        },
    }
    for label, by_rate in measured.items():
        result.update({f"{label}_{k}": v for k, v in by_rate[RATE].items()})
    result.update({f"raw_kafka_{k}": v for k, v in raw.items()})
    for label, by_rate in measured.items():
        prefix = "" if label == "regwatch" else f"{label}_"
        figures = by_rate[RATE]
        result[f"{prefix}ratio_vs_raw_kafka"] = round(
            figures["throughput_per_s"] / max(raw["throughput_per_s"], 1e-9), 3
        )
        result[f"{prefix}p99_ratio_vs_raw_kafka"] = round(
            figures["p99_ms"] / max(raw["p99_ms"], 1e-9), 1
        )
    for label, by_rate in measured.items():
        low = by_rate[LOW_RATE]
        result[f"{label}_at_{LOW_RATE:g}_per_s"] = {
            "notices": loads[0].count,
            **{k: low[k] for k in ("delivered", "p50_ms", "p99_ms", "lost")},
        }
    best = min((by_rate[RATE] for by_rate in measured.values()), key=lambda f: f["p99_ms"])
    result["goal"] = "p99 < 250 ms at 100 notices/s"
    result["goal_met"] = best["p99_ms"] < 250 and best["lost"] == 0
    emit(result)
    save("pipeline", [result])
    return [result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
