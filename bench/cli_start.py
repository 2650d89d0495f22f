"""Start-up of the ``regwatch`` command line: ``--help`` and the offline commands, against the
floor and against every service imported up front (how the CLI started before its commands
were imported lazily).

    .venv/bin/python -m bench.cli_start [--quick]

Each command runs ``repeats`` times (``--quick``: 3, else 7) in a fresh process; the bench
writes a small notice and a watchlist to a temporary folder first. Per command, one JSON line
(and ``bench/results/cli_start.json``):

- ``wall_s``, ``cpu_s``: the median wall time and CPU time (user + system) of one run;
- ``peak_rss_mib``: the largest peak RSS of a run (``getrusage(RUSAGE_CHILDREN)`` in a
  small process that starts the command, see ``MEASURE``);
- ``floor_wall_s``, ``floor_rss_mib``: the same for the floor: ``python -c pass`` for the
  offline commands, for ``--help`` a typer app's ``--help`` that imports nothing else;
- ``eager_wall_s``, ``eager_rss_mib``: the same command with every service's CLI and the
  runtime imported first (``import services.ingestor.cli, ..., services.runtime``);
- ``ratio_vs_floor``, ``ratio_vs_eager``: ``wall_s`` over those (below 1: faster than it);
  ``cpu_ratio_vs_eager`` and ``rss_ratio_vs_eager`` the same for CPU time and peak RSS (CPU
  time varies less than wall time on a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import emit, save

NOTICE = """国家互联网信息办公室
关于抖音等3款App违法违规收集使用个人信息情况的通报
2021年5月10日
近期，国家网信办组织对部分App的个人信息收集使用情况进行了检测。
相关App运营者应当自本通报发布之日起15个工作日内完成整改。
1. 抖音（北京微播视界科技有限公司）
2. 快手（北京快手科技有限公司）
3. 腾讯地图（腾讯科技（深圳）有限公司）
"""
WATCHLIST = '[{"kind": "app", "name": "抖音"}, {"kind": "company", "name": "腾讯"}]'

EAGER = (
    "import services.ingestor.cli, services.matcher.cli, services.notifier.cli, "
    "services.ops_cli, services.runtime"
)
"""What ``services/cli.py`` imported before its commands were looked up by name."""
RUN_CLI = "import sys; from services.cli import main; sys.argv[0] = 'regwatch'; main()"
BARE_HELP = (
    "import typer\n"
    "app = typer.Typer(help='A command line that imports nothing else.', add_completion=False)\n"
    "@app.command()\n"
    "def run() -> None:\n"
    "    '''Run it.'''\n"
    "@app.command()\n"
    "def parse() -> None:\n"
    "    '''Parse it.'''\n"
    "app()\n"
)


MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps([done.returncode, wall, cpu, usage.ru_maxrss, done.stderr.decode()[-500:]]))
"""
"""Runs one command and prints its rusage, from a small process of its own: a child's peak RSS
counts what the process that forked it had mapped, so the bench (which has imported more)
does not start the commands itself."""


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one run of ``argv``."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", MEASURE, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    code, wall, cpu, max_rss_kib, err = json.loads(done.stdout)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv[-4:])}: exit {code}: {err}")
    return wall, cpu, max_rss_kib / 1024


def measure(argv: list[str], env: dict[str, str], repeats: int) -> dict[str, float]:
    run_once(argv, env)  # warm: bytecode compiled, files in the page cache
    runs = [run_once(argv, env) for _ in range(repeats)]
    return {
        "wall_s": round(statistics.median(r[0] for r in runs), 3),
        "cpu_s": round(statistics.median(r[1] for r in runs), 3),
        "peak_rss_mib": round(max(r[2] for r in runs), 1),
    }


def commands(folder: Path) -> dict[str, list[str]]:
    notice = folder / "cac.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    watchlist = folder / "watchlist.json"
    watchlist.write_text(WATCHLIST, encoding="utf-8")
    return {
        "--help": ["--help"],
        "notices parse": ["notices", "parse", str(notice)],
        "match": ["match", "--watchlist", str(watchlist), "--notice", str(notice)],
    }


def run(quick: bool) -> list[dict[str, Any]]:
    repeats = 3 if quick else 7
    python = sys.executable
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="regwatch-cli-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "REGWATCH_DATA_DIR": str(folder / "var"), "COLUMNS": "100"}
        # as installed: bytecode cached after the warm-up run (a shell that sets
        # PYTHONDONTWRITEBYTECODE would make every run compile regwatch's sources again)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        floors = {
            "python": measure([python, "-c", "pass"], env, repeats),
            "bare_help": measure([python, "-c", BARE_HELP, "--help"], env, repeats),
        }
        for name, args in commands(folder).items():
            lazy = measure([python, "-c", RUN_CLI, *args], env, repeats)
            eager = measure([python, "-c", f"{EAGER}; {RUN_CLI}", *args], env, repeats)
            floor = floors["bare_help" if name == "--help" else "python"]
            result = {
                "bench": "cli_start",
                "command": f"regwatch {name}",
                **lazy,
                "floor": "typer --help importing nothing" if name == "--help" else "python -c pass",
                "floor_wall_s": floor["wall_s"],
                "floor_cpu_s": floor["cpu_s"],
                "floor_rss_mib": floor["peak_rss_mib"],
                "eager_wall_s": eager["wall_s"],
                "eager_cpu_s": eager["cpu_s"],
                "eager_rss_mib": eager["peak_rss_mib"],
                "ratio_vs_floor": round(lazy["wall_s"] / floor["wall_s"], 2),
                "ratio_vs_eager": round(lazy["wall_s"] / eager["wall_s"], 3),
                "cpu_ratio_vs_eager": round(lazy["cpu_s"] / eager["cpu_s"], 3),
                "rss_ratio_vs_eager": round(lazy["peak_rss_mib"] / eager["peak_rss_mib"], 3),
                "repeats": repeats,
            }
            emit(result)
            results.append(result)
    save("cli_start", results)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 runs per command instead of 7")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
