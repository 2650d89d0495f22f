"""Hostile notices against a running ingestor: ``python -m bench.hostile [--quick]``.

Starts ``regwatch run --only ingestor`` (embedded broker, SQLite) in its own process, measures
``/healthz`` latency idle (the baseline, same run), then posts each hostile input to
``POST /v1/notices`` while probing ``/healthz`` every 20 ms, and samples the resident memory
of the server and of its extraction workers every 20 ms. Per input: the answer (status, the
start of the message), seconds to answer, ``/healthz`` p50/p99/max during it and
``ratio_vs_idle_p99``, the server's and the workers' peak RSS and ``ratio_vs_idle_rss``.

Inputs (``tests/support/hostile.py``): a zip-bomb .docx (2 GB of zeros in 2 MB; 200 MB in
--quick), the same lying about its size in the central directory, 100,000 nested ``<div>``s, a
100,000-line notice, a decompression-bomb PNG, a PDF whose stream inflates to 1 GB, an
854-byte PDF with a 200-inch page, and a slow notice that reads within the time limit (a
long CPU-bound extraction: 19,000 list lines, 3,000 in --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import emit, percentile, save
from shared.runtime_file import read_runtime_file
from tests.support import hostile

REGWATCH = Path(sys.executable).with_name("regwatch")
PROBE_EVERY = 0.02
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Case:
    name: str
    media: str
    build: Callable[[], bytes]


def cases(quick: bool) -> list[Case]:
    found = [
        Case(
            "zip-bomb.docx",
            DOCX,
            lambda: hostile.zip_bomb_docx(200_000_000 if quick else 2_000_000_000),
        ),
        Case("deep.html", "text/html", lambda: hostile.deep_html(100_000)),
        Case("long.txt", "text/plain", lambda: hostile.long_notice(100_000)),
        Case("bomb.png", "application/octet-stream", hostile.bomb_png),
        Case("slow.txt", "text/plain", lambda: hostile.slow_notice(3_000 if quick else 19_000)),
    ]
    if not quick:
        found[1:1] = [Case("lying-zip-bomb.docx", DOCX, hostile.lying_zip_bomb_docx)]
        found += [
            Case("bomb.pdf", "application/octet-stream", lambda: hostile.bomb_pdf(1_000_000_000)),
            Case("huge-page.pdf", "application/octet-stream", hostile.huge_page_pdf),
        ]
    return found


# --- the server and its memory ---------------------------------------------------------------


def rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def workers_of(pid: int) -> list[int]:
    """The server's extraction workers (``python -m services.ingestor.extraction``)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    with contextlib.suppress(OSError), open(f"/proc/{child}/cmdline", "rb") as c:
                        if b"services.ingestor.extraction" in c.read():
                            found.append(int(child))
    return found


@contextlib.contextmanager
def ingestor(base: Path) -> Iterator[tuple[str, int]]:
    """``regwatch run --only ingestor``; yields its URL and pid."""
    data_dir = base / "var"
    data_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    env.update(
        REGWATCH_DATA_DIR=str(data_dir),
        REGWATCH_HTTP_PORT="0",
        REGWATCH_LOG_LEVEL="WARNING",
        REGWATCH_FEED_INTERVAL="24h",
    )
    log = (base / "service.log").open("wb")
    proc = subprocess.Popen(
        [str(REGWATCH), "run", "--only", "ingestor"], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while (running := read_runtime_file(data_dir)) is None or not running.get("http"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (base / "service.log").read_bytes().decode(errors="replace")[-2000:]
                raise RuntimeError(f"regwatch run --only ingestor did not start: {tail}")
            time.sleep(0.1)
        yield str(running["http"]), proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Watch:
    latencies: list[float]
    server_peak: int = 0
    workers_peak: int = 0


async def probe(http: httpx.AsyncClient, pid: int, stop: asyncio.Event, watch: Watch) -> None:
    """``/healthz`` every PROBE_EVERY seconds, and the memory of the server and its workers,
    until ``stop``."""
    while not stop.is_set():
        started = time.perf_counter()
        answer = await http.get("/healthz")
        watch.latencies.append(time.perf_counter() - started)
        answer.raise_for_status()
        watch.server_peak = max(watch.server_peak, rss(pid))
        watch.workers_peak = max(watch.workers_peak, sum(rss(w) for w in workers_of(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PROBE_EVERY)


def latency(values: list[float]) -> dict[str, float]:
    return {
        "healthz_p50_ms": round(1000 * statistics.median(values), 2),
        "healthz_p99_ms": round(1000 * percentile(values, 99), 2),
        "healthz_max_ms": round(1000 * max(values), 2),
    }


async def idle(http: httpx.AsyncClient, pid: int, seconds: float) -> Watch:
    watch = Watch([])
    stop = asyncio.Event()
    task = asyncio.create_task(probe(http, pid, stop, watch))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    return watch


async def hostile_case(http: httpx.AsyncClient, pid: int, case: Case) -> dict[str, Any]:
    body = case.build()
    watch = Watch([])
    stop = asyncio.Event()
    task = asyncio.create_task(probe(http, pid, stop, watch))
    started = time.perf_counter()
    answer = await http.post(
        "/v1/notices",
        content=body,
        params={"filename": case.name},
        headers={"content-type": case.media},
        timeout=600,
    )
    seconds = time.perf_counter() - started
    stop.set()
    await task
    try:
        body_json = answer.json()
        detail = body_json.get("detail") if answer.status_code >= 400 else body_json["outcome"]
    except ValueError:  # a 500 from the server: plain text
        detail = answer.text
    return {
        "input": case.name,
        "bytes": len(body),
        "status": answer.status_code,
        "answer": str(detail)[:160],
        "seconds": round(seconds, 2),
        "probes": len(watch.latencies),
        **latency(watch.latencies),
        "server_peak_rss_mb": round(watch.server_peak / 2**20, 1),
        "workers_peak_rss_mb": round(watch.workers_peak / 2**20, 1),
    }


async def run(quick: bool) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="regwatch-hostile-") as tmp,
        ingestor(Path(tmp)) as (
            url,
            pid,
        ),
    ):
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            # one ordinary notice first: the first worker starts (as it would on a server's
            # first notice), then the idle baseline
            warm = await http.post(
                "/v1/notices",
                content=(hostile.HEAD + hostile.LINE).encode(),
                headers={"content-type": "text/plain"},
            )
            warm.raise_for_status()
            baseline = await idle(http, pid, 2.0 if quick else 5.0)
            base = latency(baseline.latencies)
            base_rss = baseline.server_peak
            emit({"bench": "hostile", "input": "idle", **base, "rss_mb": base_rss / 2**20})
            for case in cases(quick):
                result = await hostile_case(http, pid, case)
                result.update(
                    bench="hostile",
                    idle_healthz_p99_ms=base["healthz_p99_ms"],
                    ratio_vs_idle_p99=round(
                        result["healthz_p99_ms"] / max(base["healthz_p99_ms"], 0.01), 2
                    ),
                    ratio_vs_idle_rss=round(
                        result["server_peak_rss_mb"] * 2**20 / max(base_rss, 1), 2
                    ),
                )
                emit(result)
                results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, under a minute")
    args = parser.parse_args()
    results = asyncio.run(run(args.quick))
    save("hostile", results)


if __name__ == "__main__":
    main()
