"""Run every benchmark: ``python -m bench.run [--quick] [--only NAME ...]``.

Each benchmark runs in its own process (``python -m bench.<name>``), prints one JSON line per
result (passed through here) and writes ``bench/results/<name>.json``; this runner then draws
``bench/results/summary.png``. A benchmark that fails is reported as
``{"bench": NAME, "error": ...}`` and the others still run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from bench.common import RESULTS, emit

BENCHES = (
    "ingest",
    "ocr",
    "hostile",
    "matcher",
    "webhooks",
    "dispatch",
    "email_compose",
    "fair_claim",
    "pipeline",
    "fanout",
    "stages",
    "reminders",
    "imports",
    "chat_burst",
    "freshness",
    "cli_start",
    "matcher_start",
    "run_ready",
)


def run_one(name: str, quick: bool) -> list[dict[str, Any]]:
    started = time.monotonic()
    args = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if quick else [])]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    results = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            try:
                results.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    if proc.returncode != 0 or not results:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        results.append({"bench": name, "error": " | ".join(tail) or f"exit {proc.returncode}"})
    for result in results:
        result.setdefault("seconds", round(time.monotonic() - started, 1))
        emit(result)
    return results


def plot(all_results: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = [
        (f"{r['bench']}{'/' + str(r['watch_items']) if 'watch_items' in r else ''}", key, r[key])
        for r in all_results
        for key in r
        if key.startswith("ratio_vs_") and isinstance(r[key], int | float)
    ]
    if not ratios:
        return
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.4 * len(ratios)))
    labels = [f"{name} ({key.removeprefix('ratio_vs_')})" for name, key, _ in ratios]
    ax.barh(labels, [value for _, _, value in ratios], color="#3b7dd8")
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("regwatch / baseline measured in the same run (log scale)")
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(RESULTS / "summary.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under 3 minutes")
    parser.add_argument("--only", nargs="*", choices=BENCHES, default=list(BENCHES))
    args = parser.parse_args()
    all_results: list[dict[str, Any]] = []
    for name in args.only:
        all_results.extend(run_one(name, args.quick))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "all.json").write_text(json.dumps(all_results, indent=2, ensure_ascii=False))
    plot(all_results)
    failed = [r["bench"] for r in all_results if "error" in r]
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
