"""The extraction pool: notices read in worker processes, refused (InputError) beyond the time
and memory limits, a dead worker replaced; ``notices parse`` under an alarm clock."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.ingestor import extraction
from services.ingestor.extract import parse_notice
from services.ingestor.extraction import ExtractionPool, Limits, job, read_job
from shared.errors import InputError
from tests.support.hostile import HEAD, LINE, slow_notice

NOTICE = (HEAD + LINE).encode()
SLOW = slow_notice()
"""Under the line limit, and many seconds to read."""


@pytest.fixture
async def pool() -> AsyncIterator[ExtractionPool]:
    started = ExtractionPool(Limits(workers=1, timeout=60))
    yield started
    started.close()


async def test_a_notice_read_in_a_worker_is_the_notice_read_here(pool: ExtractionPool) -> None:
    attachments = (("list.txt", "1. 蓝鲸出行（成都蓝鲸出行科技有限公司）\n".encode()),)
    read = await pool.read(job(NOTICE, name="n.txt", attachments=attachments))
    assert read == parse_notice(NOTICE, name="n.txt", attachments=attachments)
    assert len(pool.worker_pids()) == 1
    first = pool.worker_pids()
    await pool.read(job(NOTICE, name="again.txt"))
    assert pool.worker_pids() == first  # kept between notices


async def test_input_errors_come_back_as_input_errors(pool: ExtractionPool) -> None:
    with pytest.raises(InputError, match=r"^empty\.txt: file is empty$"):
        await pool.read(job(b" \n", name="empty.txt"))


async def test_a_notice_over_the_time_limit_is_refused_and_its_worker_replaced() -> None:
    pool = ExtractionPool(Limits(workers=1, timeout=0.3))
    try:
        await pool.read(job(NOTICE, name="warm.txt"))
        [before] = pool.worker_pids()
        with pytest.raises(
            InputError,
            match=r"^slow\.txt: the notice took longer than 0\.3 s to read "
            r"\(REGWATCH_EXTRACT_TIMEOUT\); not read$",
        ):
            await pool.read(job(SLOW, name="slow.txt"))
        assert pool.worker_pids() == []
        with pytest.raises(ProcessLookupError):
            os.kill(before, 0)
        read = await pool.read(job(NOTICE, name="after.txt"))  # a new worker
        assert [entity.name for entity in read.entities] == ["星云笔记"]
        assert pool.worker_pids() != [before]
    finally:
        pool.close()


async def test_a_notice_over_the_memory_limit_is_refused() -> None:
    # below what a worker holds once started: the first look at it while it reads kills it
    pool = ExtractionPool(Limits(workers=1, timeout=60, memory_bytes=32 << 20))
    try:
        with pytest.raises(
            InputError,
            match=r"^big\.txt: reading the notice needed more than 32 MiB of memory "
            r"\(REGWATCH_EXTRACT_MEMORY_BYTES\); not read$",
        ):
            await pool.read(job(SLOW, name="big.txt"))
        assert pool.worker_pids() == []
    finally:
        pool.close()


async def test_a_worker_that_dies_on_a_notice_is_replaced(pool: ExtractionPool) -> None:
    await pool.read(job(NOTICE, name="warm.txt"))
    [pid] = pool.worker_pids()
    reading = asyncio.ensure_future(pool.read(job(SLOW, name="crash.txt")))
    await asyncio.sleep(0.3)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(InputError, match=r"^crash\.txt: the reader stopped on this notice \(exit"):
        await reading
    read = await pool.read(job(NOTICE, name="after.txt"))
    assert read.entities and pool.worker_pids() != [pid]


async def test_workers_zero_reads_in_a_thread() -> None:
    pool = ExtractionPool(Limits(workers=0))
    read = await pool.read(job(NOTICE, name="n.txt"))
    assert [entity.name for entity in read.entities] == ["星云笔记"]
    assert pool.worker_pids() == []


def test_a_recursion_error_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def deep(*_args: object, **_kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("services.ingestor.extract.parse_notice", deep)
    with pytest.raises(InputError, match=r"^n\.html: the notice is nested too deeply to read"):
        read_job(job(b"<p>x</p>", name="n.html"))


def test_configure_keeps_a_pool_with_the_same_limits_and_closes_another() -> None:
    extraction.configure(Limits(workers=1, timeout=5))
    first = extraction.pool()
    extraction.configure(Limits(workers=1, timeout=5))
    assert extraction.pool() is first
    extraction.configure(Limits(workers=1, timeout=6))
    assert extraction.pool() is not first
    extraction.shutdown()
    extraction.configure(Limits())


def test_notices_parse_has_the_time_limit(tmp_path: Path) -> None:
    """In its own process (a test runner's alarm clock would be in the way here)."""
    path = tmp_path / "slow.txt"
    path.write_bytes(SLOW)
    env = {**os.environ, "REGWATCH_EXTRACT_TIMEOUT": "0.3", "REGWATCH_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from services.cli import main; main()",
            "notices",
            "parse",
            str(path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the notice took longer than 0.3 s to read (REGWATCH_EXTRACT_TIMEOUT)" in done.stderr
