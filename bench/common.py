"""Shared pieces of the benchmarks: output, results folder, broker, receiver process, stats."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from shared.embedded.local_kafka import LocalBroker, start_apache_kafka, start_tansu
from shared.embedded.ports import free_port

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "os": platform.system()}


def emit(result: dict[str, Any]) -> None:
    """One JSON line on stdout per result."""
    print(json.dumps(result, ensure_ascii=False), flush=True)


def save(name: str, results: list[dict[str, Any]]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    return path


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


@contextlib.contextmanager
def local_broker() -> Iterator[LocalBroker]:
    """Apache Kafka 3.9 when java and mvn exist (as in CI), else the embedded Tansu broker."""
    base = Path(tempfile.mkdtemp(prefix="regwatch-bench-"))
    if shutil.which("java") and shutil.which("mvn"):
        broker = start_apache_kafka(base)
    else:
        broker = start_tansu(base)
    try:
        yield broker
    finally:
        broker.close()
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def receiver_process(smtp_port: int | None = None) -> Iterator[str]:
    """A webhook receiver in its own process (so it does not share our event loop); yields
    its base URL. ``GET /stats`` returns the arrivals: ``[[path, webhook-id, t], ...]``,
    ``GET /count`` their number. With ``smtp_port`` it is also a mail sink on that port
    (arrivals ``["smtp:<recipient>", Message-ID, t]``)."""
    port = free_port()
    smtp = [str(smtp_port)] if smtp_port is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.receiver", str(port), *smtp],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/stats", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"bench receiver did not start: {err[-2000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()


def arrivals(url: str) -> list[tuple[str, str, float]]:
    data = httpx.get(url + "/stats", timeout=30).json()
    return [(path, ident, float(at)) for path, ident, at in data]
