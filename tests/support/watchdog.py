"""A test that hangs must say where, then end the run: it must not hold CI until its limit.

pytest-timeout (``timeout`` in pyproject, thread method) ends the process after dumping every
thread's stack. A hang inside the event loop shows there only as ``select()``, so this plugin
prints, shortly before that, the stack of every asyncio task still pending on the test
session's loop, and the test's id. Loaded with ``-p tests.support.watchdog`` (pyproject).
"""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from collections.abc import Generator
from typing import Any

import pytest

LEAD = 15.0
"""Seconds before pytest-timeout's limit at which the tasks are dumped."""


def _timeout(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    value = item.config.getini("timeout")
    return float(value or 0)


def _pending_tasks() -> list[asyncio.Task[Any]]:
    """The pending tasks of every loop; read from another thread, so retried when the set
    changes under the read."""
    for _ in range(20):
        try:
            return [task for task in list(asyncio.tasks._all_tasks) if not task.done()]  # type: ignore[attr-defined]
        except RuntimeError:
            continue
    return []


def dump_tasks(nodeid: str) -> None:
    out = io.StringIO()
    tasks = _pending_tasks()
    print(f"\n=== watchdog: {nodeid} still running; {len(tasks)} pending tasks", file=out)
    for task in tasks:
        print(f"--- {task!r}", file=out)
        try:
            task.print_stack(limit=30, file=out)
        except Exception as error:  # a task finishing under us: say so and go on
            print(f"(stack unavailable: {error})", file=out)
    sys.stderr.write(out.getvalue())
    sys.stderr.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    limit = _timeout(item)
    timer: threading.Timer | None = None
    if limit > LEAD * 2:
        timer = threading.Timer(limit - LEAD, dump_tasks, args=(item.nodeid,))
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
