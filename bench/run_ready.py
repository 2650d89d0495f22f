"""Time to ready of ``regwatch run`` on its embedded defaults (Tansu, SQLite, mail sink), from a
fresh data dir, against the same command on the revision before issue 14's start-up work.

    .venv/bin/python -m bench.run_ready [--quick]

Each round starts today's ``regwatch run --log-format json`` and the previous revision's
(``BASELINE_REV``: its ``services`` and ``shared`` exported from git into a temporary folder, as
``bench/previous.py`` does, and run with the same interpreter and packages), one after the
other, each with an empty data dir and a free HTTP port, polls ``/readyz`` every 20 ms until
it answers 200, then stops it with SIGINT (``--quick``: 2 rounds, else 5). One JSON line (and
``bench/results/run_ready.json``):

- ``wall_s``, ``cpu_s``: the median time from starting the process to the first 200 from
  ``/readyz``, and the CPU time (user + system) regwatch and its broker had used by then;
- ``imports_s``, ``joined_s``, ``started_s``: medians of when its log's first line came (the
  code imported, start-up begins), when the last consumer was assigned its partitions, and
  ``regwatch started``, all from the process's start;
- ``previous_*``: the same for ``BASELINE_REV``; ``ratio_vs_previous`` is ``wall_s`` over
  ``previous_wall_s`` and ``cpu_ratio_vs_previous`` the same for CPU time (CPU time varies
  less than wall time on a busy machine);
- ``broker_alone_s``: the embedded broker's own start (spawned until it answers a metadata
  request), the part no change to regwatch can take away;
- ``load_avg``: the 1-minute load average before and after the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import emit, save
from bench.previous import ROOT

BASELINE_REV = "3ced1c2"
"""The last revision before ``regwatch run``'s start-up was made faster (issue 14, item 1)."""

RUN = (
    "import sys\n"
    "sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
    "sys.path.insert(0, {root!r})\n"
    "from services.cli import main\n"
    "sys.argv[0] = 'regwatch'\n"
    "main()\n"
)
"""``regwatch`` from the ``services`` and ``shared`` under ``root``, never the editable
install's: today's from this checkout, the previous one from its export."""
READY_TIMEOUT = 120.0


def export(rev: str) -> Path:
    """``services`` and ``shared`` of ``rev`` in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"regwatch-{rev}-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "services", "shared"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and of its children (running or waited for)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pids.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def phases(log: Path, started: float) -> dict[str, float | None]:
    """When the first log line, the last partition assignment and ``regwatch started`` came."""
    first = joined = done = None
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
            at = datetime.fromisoformat(record["ts"]).timestamp() - started
        except (ValueError, KeyError, TypeError):
            continue
        message = str(record.get("msg", ""))
        first = at if first is None else first
        if "assigned to partitions" in message:
            joined = at
        if message == "regwatch started":
            done = at
    return {"imports_s": first, "joined_s": joined, "started_s": done}


def start_once(code: str, folder: Path) -> dict[str, Any]:
    """One ``regwatch run`` on a fresh data dir: until ``/readyz`` answers, then SIGINT."""
    data = Path(tempfile.mkdtemp(prefix="data-", dir=folder))
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # as installed: a shell's PYTHONDONTWRITEBYTECODE would compile every source each run
        if not key.startswith("REGWATCH_") and key not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    env.update(REGWATCH_DATA_DIR=str(data), REGWATCH_HTTP_PORT=str(port))
    log = data.parent / f"{data.name}.log"
    with log.open("wb") as out:
        started = time.time()
        clock = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "run", "--log-format", "json"],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
        try:
            while not ready(port):
                if proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-800:]
                    raise RuntimeError(f"regwatch run exited with {proc.returncode}: {tail}")
                if time.monotonic() - clock > READY_TIMEOUT:
                    raise RuntimeError(f"regwatch run not ready within {READY_TIMEOUT:g}s")
                time.sleep(0.02)
            wall = time.monotonic() - clock
            cpu = cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"wall_s": wall, "cpu_s": cpu, **phases(log, started)}


def summary(runs: list[dict[str, Any]], prefix: str = "") -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key in ("wall_s", "cpu_s", "imports_s", "joined_s", "started_s"):
        values = [run[key] for run in runs if run.get(key) is not None]
        out[prefix + key] = round(statistics.median(values), 3) if values else None
    return out


def broker_alone() -> float:
    """Seconds from spawning the embedded broker until it answers a metadata request."""
    from shared.embedded.tansu import TansuBroker

    async def once() -> float:
        broker = TansuBroker()
        started = time.monotonic()
        await broker.start()
        elapsed = time.monotonic() - started
        await broker.stop()
        return elapsed

    return asyncio.run(once())


def run(quick: bool) -> dict[str, Any]:
    rounds = 2 if quick else 5
    load_before = os.getloadavg()[0]
    today: list[dict[str, Any]] = []
    previous: list[dict[str, Any]] = []
    baseline = export(BASELINE_REV)
    code, previous_code = RUN.format(root=str(ROOT)), RUN.format(root=str(baseline))
    try:
        with tempfile.TemporaryDirectory(prefix="regwatch-ready-") as tmp:
            folder = Path(tmp)
            start_once(code, folder)  # warm: bytecode compiled, files in the page cache
            start_once(previous_code, folder)
            for _ in range(rounds):
                today.append(start_once(code, folder))
                previous.append(start_once(previous_code, folder))
    finally:
        shutil.rmtree(baseline, ignore_errors=True)
    alone = statistics.median(broker_alone() for _ in range(3))
    mine, before = summary(today), summary(previous, "previous_")
    result: dict[str, Any] = {
        "bench": "run_ready",
        "command": "regwatch run (embedded defaults, fresh data dir) until /readyz is 200",
        **mine,
        "baseline": f"{BASELINE_REV} (before issue 14's start-up work)",
        **before,
        "ratio_vs_previous": round(
            float(mine["wall_s"] or 0) / float(before["previous_wall_s"] or 1), 3
        ),
        "cpu_ratio_vs_previous": round(
            float(mine["cpu_s"] or 0) / float(before["previous_cpu_s"] or 1), 3
        ),
        "broker_alone_s": round(alone, 3),
        "wall_runs_s": [round(r["wall_s"], 2) for r in today],
        "previous_wall_runs_s": [round(r["wall_s"], 2) for r in previous],
        "rounds": rounds,
        "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }
    emit(result)
    save("run_ready", [result])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 rounds instead of 5")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
