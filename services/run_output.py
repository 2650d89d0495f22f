"""What ``regwatch run`` shows: a short summary on stdout, its logs, and one line at the end.

Log formats (``--log-format``, else ``REGWATCH_LOG_FORMAT`` when set, else ``human``):

- ``human``: only warnings and errors on stderr, one line each (an exception as its type and
  message, no traceback); every line at ``REGWATCH_LOG_LEVEL`` as JSON in
  ``<data dir>/regwatch.log`` (rotated at 10 MB, 3 old files kept), tracebacks included.
- ``json``: JSON lines on stderr at ``REGWATCH_LOG_LEVEL``, no log file (containers).
- ``text``: plain text lines on stderr at ``REGWATCH_LOG_LEVEL``, no log file.

aiokafka warns "Heartbeat failed for group ... because it is rebalancing" whenever a consumer
group's members change, which happens on every normal start (each consumer joining its group
makes the others rejoin): that one message is logged at INFO instead. Its other warnings
(coordinator lost, generation not current...) stay warnings.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Any, Literal, get_args

from shared.logging import JsonFormatter, context_fields, setup_logging
from shared.settings import Settings

LogFormat = Literal["human", "json", "text"]
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)
LOG_FILE = "regwatch.log"
LOG_FILE_BYTES = 10_000_000
LOG_FILE_KEPT = 3
COORDINATOR_LOGGER = "aiokafka.consumer.group_coordinator"


def choose_log_format(option: str | None, settings: Settings) -> str:
    """The ``--log-format`` given, else ``REGWATCH_LOG_FORMAT`` if set, else ``human``."""
    if option:
        return option
    if "log_format" in settings.model_fields_set:
        return settings.log_format
    return "human"


class HumanFormatter(logging.Formatter):
    """``warning: message`` on one line; other libraries' lines name their logger."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += f" ({type(error).__name__}: {error})"
        fields = {**context_fields(), **extra_fields(record)}
        if fields:
            message += " (" + ", ".join(f"{k}={v}" for k, v in fields.items()) + ")"
        where = "" if record.name.startswith("regwatch") else f"{record.name}: "
        return f"{record.levelname.lower()}: {where}{' '.join(message.split())}"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed in ``extra={...}``, the plain values only: None and lists or
    mappings (which repeat the message, like the routes of a warning) stay in the log file."""
    plain = vars(logging.makeLogRecord({}))
    return {
        k: v
        for k, v in vars(record).items()
        if k not in plain
        and k not in ("message", "asctime", "taskName", "color_message")
        and not k.startswith("_")
        and v is not None
        and not isinstance(v, list | tuple | set | dict)
    }


class RebalanceIsInfo(logging.Filter):
    """aiokafka's "Heartbeat failed ... because it is rebalancing" is the normal rejoin of a
    group whose members changed: logged at INFO, not WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and "because it is rebalancing" in str(record.msg):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def setup_run_logging(settings: Settings, log_format: str) -> Path | None:
    """Configure logging for ``regwatch run``; returns the log file (``human`` only)."""
    level = settings.log_level.upper()
    setup_logging(level, "text" if log_format == "human" else log_format)
    coordinator = logging.getLogger(COORDINATOR_LOGGER)
    if not any(isinstance(f, RebalanceIsInfo) for f in coordinator.filters):
        coordinator.addFilter(RebalanceIsInfo())
    if log_format != "human":
        return None
    root = logging.getLogger()
    path = (settings.data_dir / LOG_FILE).resolve()
    to_file = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_KEPT, encoding="utf-8"
    )
    to_file.setFormatter(JsonFormatter())
    to_file.setLevel(root.level)
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setFormatter(HumanFormatter())
    to_stderr.setLevel(max(logging.WARNING, root.level))
    root.handlers[:] = [to_file, to_stderr]
    return path


def summary_lines(info: dict[str, Any], log_file: Path | None, all_services: bool) -> list[str]:
    """Where everything is, one line each, from :meth:`Runtime.describe`."""
    http = str(info.get("http") or "")
    lines = ["regwatch is running (Ctrl-C stops it)"]
    rows: list[tuple[str, str]] = []
    if not all_services:
        rows.append(("services", ", ".join(info.get("services") or [])))
    if http:
        rows += [
            ("portal", f"{http}/portal/"),
            ("API", f"{http}/v1/"),
            ("docs", f"{http}/docs"),
        ]
    if info.get("mail_dir"):
        rows.append(("mail", f"{info['mail_dir']} ({info.get('smtp')})"))
    elif "notifier" in (info.get("services") or []):
        rows.append(("mail", f"sent through SMTP {info.get('smtp')}"))
    broker = info.get("kafka_bootstrap")
    if info.get("kafka") == "external":
        rows.append(("broker", f"Kafka at {broker}"))
    else:
        rows.append(("broker", f"embedded Tansu at {broker} (in memory)"))
    database = str(info.get("database"))
    if database.startswith("sqlite") and ":///" in database:
        database = database.split(":///", 1)[1]  # the file
    rows.append(("database", database))
    if log_file is not None:
        rows.append(("logs", str(log_file)))
    width = max(len(name) for name, _ in rows)
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return lines
