"""Suite-wide fixtures and hooks. Kafka broker choice: tests/support/brokers.py."""

from tests.support.brokers import (
    broker_kind,
    kafka_bootstrap,
    kafka_broker,
    namespace,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
    pytest_terminal_summary,
)

__all__ = [
    "broker_kind",
    "kafka_bootstrap",
    "kafka_broker",
    "namespace",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_terminal_summary",
]
