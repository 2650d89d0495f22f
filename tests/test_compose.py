"""docker-compose.yml, Dockerfile and .env.example stay consistent (no Docker engine needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
REGWATCH_SERVICES = ("ingestor", "matcher", "notifier")
NEEDED_ENV = {
    "REGWATCH_KAFKA_BOOTSTRAP": "kafka:9092",
    "REGWATCH_SMTP_HOST": "mailpit",
    "REGWATCH_SMTP_PORT": "1025",
    "REGWATCH_HTTP_HOST": "0.0.0.0",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_all_services_exist(compose: dict[str, Any]) -> None:
    expected = {"kafka", "postgres", "mailpit", "kafka-ui", *REGWATCH_SERVICES}
    assert expected <= set(compose["services"])


def test_kafka_is_apache_kafka_3_9_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert re.fullmatch(r"3\.9\.\d+", tag), tag
    env = _env(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert any(v.endswith(":/var/lib/kafka/data") for v in kafka["volumes"])
    assert "healthcheck" in kafka


def test_postgres_has_volume_and_healthcheck(compose: dict[str, Any]) -> None:
    pg = compose["services"]["postgres"]
    assert pg["image"].startswith("postgres:16")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])


@pytest.mark.parametrize("name", REGWATCH_SERVICES)
def test_regwatch_service(compose: dict[str, Any], name: str) -> None:
    svc = compose["services"][name]
    assert svc["build"] == "."
    assert svc["command"] == ["run", "--only", name]
    assert svc["restart"] == "unless-stopped"
    env = _env(svc)
    for key, value in NEEDED_ENV.items():
        assert env.get(key) == value, key
    assert env["REGWATCH_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["REGWATCH_DATABASE_URL"]
    deps = svc["depends_on"]
    assert deps["kafka"]["condition"] == "service_healthy"
    assert deps["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in svc


def test_every_regwatch_env_var_is_a_setting(compose: dict[str, Any]) -> None:
    fields = {f"REGWATCH_{name.upper()}" for name in Settings.model_fields}
    for name in REGWATCH_SERVICES:
        unknown = {k for k in _env(compose["services"][name]) if k.startswith("REGWATCH_")}
        assert unknown <= fields, unknown - fields


def test_only_one_service_migrates_at_a_time(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("matcher", "notifier"):
        assert services[name]["depends_on"]["ingestor"]["condition"] == "service_healthy"
    assert "mailpit" in services["notifier"]["depends_on"]


def test_tools_point_at_kafka(compose: dict[str, Any]) -> None:
    services = compose["services"]
    ui = _env(services["kafka-ui"])
    assert ui["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == "kafka:9092"
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert any(str(p).endswith(":8025") for p in services["mailpit"]["ports"])


def test_volumes_declared(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    assert {"kafka-data", "postgres-data"} <= declared
    for svc in compose["services"].values():
        for volume in svc.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, source


def test_dockerfile_runs_regwatch_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^USER (?!root)\S+", text, re.M)
    assert 'ENTRYPOINT ["regwatch"]' in text


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    missing = [
        f"REGWATCH_{name.upper()}"
        for name in Settings.model_fields
        if f"REGWATCH_{name.upper()}=" not in text
    ]
    assert not missing, f".env.example does not mention {missing}"


def test_prometheus_scrapes_every_regwatch_service(compose: dict[str, Any]) -> None:
    prom = compose["services"]["prometheus"]
    image, _, tag = prom["image"].partition(":")
    assert image == "prom/prometheus" and tag and tag != "latest"
    assert prom["restart"] == "unless-stopped"
    mounts = [str(v) for v in prom["volumes"]]
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    assert any(v.endswith(":/prometheus") for v in mounts)
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    [job] = [j for j in config["scrape_configs"] if j["job_name"] == "regwatch"]
    assert job["metrics_path"] == "/metrics"
    [dns] = job["dns_sd_configs"]
    assert set(dns["names"]) == set(REGWATCH_SERVICES)
    assert dns["port"] == 8080  # REGWATCH_HTTP_PORT inside the containers


@pytest.mark.parametrize("name", REGWATCH_SERVICES)
def test_regwatch_services_are_healthy_when_ready(compose: dict[str, Any], name: str) -> None:
    svc = compose["services"][name]
    check = " ".join(svc["healthcheck"]["test"])
    assert "/readyz" in check and "8080" in check
    assert _env(svc)["REGWATCH_HTTP_PORT"] == "8080"


def test_notifier_can_be_scaled(compose: dict[str, Any]) -> None:
    """`docker compose up --scale notifier=3`: no fixed name and no single fixed host port."""
    services = compose["services"]
    for name, svc in services.items():
        assert "container_name" not in svc, name
    for port in services["notifier"].get("ports", []):
        host = str(port).rsplit(":", 1)[0]
        assert re.search(r"\d+-\d+\}?$", host), f"notifier host port {host!r} is not a range"


def test_every_service_restarts(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        assert svc.get("restart") in ("unless-stopped", "always"), name


def test_topic_settings_reach_the_services(compose: dict[str, Any]) -> None:
    for name in REGWATCH_SERVICES:
        env = _env(compose["services"][name])
        for key in (
            "REGWATCH_KAFKA_PARTITIONS",
            "REGWATCH_KAFKA_RETENTION",
            "REGWATCH_KAFKA_REPLICATION",
        ):
            assert key in env, (name, key)
