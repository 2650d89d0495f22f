"""Reading notices off the event loop: a small pool of worker processes, each notice read within
a time and a memory limit.

Extraction (``parse_notice``: decoding, HTML, .docx/.xlsx/.pdf readers, OCR) is CPU-bound and
synchronous. In a thread of the server it held the GIL for seconds at a time (a 100k-line
notice stalled ``/healthz`` for 15 s and the notifier's Kafka session expired), and a thread
cannot be stopped. So each notice is read in a worker process:

- at most ``REGWATCH_EXTRACT_WORKERS`` of them (default: 2, or 1 on one core), started on the
  first notice (tests and CLI commands that read nothing start none) and kept between notices
  (each loads the OCR engine once);
- a notice that takes longer than ``REGWATCH_EXTRACT_TIMEOUT`` seconds has its worker killed
  (a new one is started for the next notice) and is refused with an InputError (422);
- the parent watches each busy worker's resident memory and kills it beyond
  ``REGWATCH_EXTRACT_MEMORY_BYTES`` (an InputError too); an address-space limit
  (``RLIMIT_AS``, four times that plus what the worker maps at start) backs this up against
  one huge allocation, whose MemoryError is refused the same way;
- a worker that dies on a notice (a crash in a C library) is replaced and the notice refused.

The event loop only waits: each busy worker is watched from a thread of the pool's own, which
sleeps in ``poll`` between checks. ``REGWATCH_EXTRACT_WORKERS=0`` reads in a thread of the
server as before, with no time or memory limit (for debugging). ``regwatch notices parse``
(synchronous, one file) reads in its own process under an alarm-clock time limit.

Jobs and results cross the pipe pickled: bytes, names and dates in; a ``NoticeEvent`` (or the
InputError's message) out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypedDict

from typing_extensions import Unpack

from services.ingestor.extract.zipguard import ZipLimits
from shared.errors import InputError
from shared.events import NoticeEvent
from shared.logging import get_logger
from shared.settings import Settings, default_extract_workers

log = get_logger("regwatch.ingestor.extraction")

WATCH_INTERVAL = 0.05
"""Seconds between two looks at a busy worker's memory."""
START_TIMEOUT = 120.0
"""Seconds a new worker may take to start (import the readers) before it is given up on."""
ADDRESS_SPACE_FACTOR = 4
"""The worker's address-space limit: this many times the memory limit, on top of what it maps
once started (the OCR engine alone reserves about 600 MB it never touches)."""
RETIRE_SHARE = 0.5
"""A worker still holding more than this share of the memory limit after a notice is retired
(a fresh one starts for the next notice)."""


@dataclass(frozen=True)
class Limits:
    workers: int = field(default_factory=default_extract_workers)
    timeout: float = 30.0
    memory_bytes: int = 1 << 30
    zip: ZipLimits = field(default_factory=ZipLimits)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            workers=settings.extract_workers,
            timeout=settings.extract_timeout,
            memory_bytes=settings.extract_memory_bytes,
            zip=ZipLimits(max_bytes=settings.max_unzipped_bytes),
        )


@dataclass(frozen=True)
class Job:
    """One notice to read: ``intake.parse``'s arguments."""

    data: bytes
    name: str
    source_url: str | None = None
    published_on: date | None = None
    attachments: tuple[tuple[str, bytes], ...] = ()
    fallback_published_on: date | None = None


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def timeout_error(name: str, limit: float) -> InputError:
    return InputError(
        f"{name}: the notice took longer than {_seconds(limit)} to read "
        "(REGWATCH_EXTRACT_TIMEOUT); not read"
    )


def memory_error(name: str, limit: int) -> InputError:
    return InputError(
        f"{name}: reading the notice needed more than {_mib(limit)} of memory "
        "(REGWATCH_EXTRACT_MEMORY_BYTES); not read"
    )


def read_job(job: Job) -> NoticeEvent:
    """Read one notice here and now (in a worker, or inline). A page nested so deep that a
    reader's recursion gives up is an InputError like any unreadable notice."""
    from services.ingestor.extract import parse_notice

    try:
        return parse_notice(
            job.data,
            name=job.name,
            source_url=job.source_url,
            published_on=job.published_on,
            attachments=job.attachments,
            fallback_published_on=job.fallback_published_on,
        )
    except RecursionError:
        raise InputError(f"{job.name}: the notice is nested too deeply to read; not read") from None


# --- the worker process ----------------------------------------------------------------------


def _vm_size() -> int:
    """Bytes of address space this process maps (0 when /proc does not say)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_address_space(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Linux
        return
    limit = _vm_size() + ADDRESS_SPACE_FACTOR * memory_bytes
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _exit_with(parent: int) -> None:
    """End the worker when its parent is gone (killed: it could not close the pipe), even in
    the middle of a notice."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _worker_main(conn: Connection) -> None:
    """A worker: take its limits, then read the jobs the connection brings until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parent = os.getppid()
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    zip_limits, memory_bytes = conn.recv()
    from services.ingestor.extract import parse_notice, zipguard

    zipguard.configure(zip_limits)
    with contextlib.suppress(Exception):  # warm up: the readers' tables load on first use
        parse_notice("国家互联网信息办公室\n1. 抖音\n".encode(), name="warm-up.txt")
    _limit_address_space(memory_bytes)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone or closed the pool
        last = False
        reply: tuple[str, Any]
        try:
            reply = ("ok", read_job(job))
        except InputError as error:
            reply = ("input", str(error))
        except MemoryError:
            reply, last = ("memory", None), True
        except BaseException as error:  # a bug: the parent raises it (a 500, logged)
            reply = ("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        if last:
            return  # after a MemoryError, start afresh


# --- the parent's side -----------------------------------------------------------------------


class _Worker:
    """A worker process: ``python -m services.ingestor.extraction FD``, talking over a socket
    pair (not ``multiprocessing``'s spawn, which would import the server's main module, and
    all of regwatch with it, into every worker)."""

    def __init__(self, limits: Limits) -> None:
        ours, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parents[2])  # where ``services`` is imported from
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.ingestor.extraction", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the CLI's stdout is its JSON; errors go to stderr
                env=env,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.pid = self.process.pid
        try:
            self.conn.send((limits.zip, limits.memory_bytes))
            if not self.conn.poll(START_TIMEOUT):
                raise RuntimeError(f"the extraction worker did not start in {START_TIMEOUT:g} s")
            self.conn.recv()  # ("ready", pid)
        except (EOFError, OSError) as error:
            self.kill()
            raise RuntimeError(
                f"the extraction worker exited on start (exit code {self.process.poll()})"
            ) from error
        except RuntimeError:
            self.kill()
            raise

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss(self) -> int | None:
        """Resident bytes of the worker, None when /proc does not say."""
        try:
            with open(f"/proc/{self.pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(5)
        with contextlib.suppress(Exception):
            self.conn.close()


class ExtractionPool:
    """Worker processes reading notices within the limits; see the module's description."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._workers: set[_Worker] = set()
        self._closed = False

    async def read(self, job: Job) -> NoticeEvent:
        """The notice read in a worker (or in a thread, with ``workers=0``)."""
        import asyncio  # here: ``regwatch notices parse`` reads in its own thread, no loop

        if self.limits.workers == 0:
            return await asyncio.to_thread(read_job, job)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads(), self._run, job)

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the extraction pool is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.limits.workers, thread_name_prefix="regwatch-extract"
                )
            return self._executor

    def _worker(self) -> _Worker:
        """This thread's worker process, started when it has none (or it died)."""
        worker: _Worker | None = getattr(self._local, "worker", None)
        if worker is not None and worker.alive():
            return worker
        if worker is not None:
            self._retire(worker)
        worker = _Worker(self.limits)
        with self._lock:
            closed = self._closed
            if not closed:
                self._workers.add(worker)
        if closed:
            worker.kill()
            raise RuntimeError("the extraction pool is closed")
        self._local.worker = worker
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
        if getattr(self._local, "worker", None) is worker:
            self._local.worker = None

    def _run(self, job: Job) -> NoticeEvent:
        """Send the job to this thread's worker and watch it: time, memory, death."""
        worker = self._worker()
        try:
            worker.conn.send(job)
        except (OSError, ValueError):  # it died between two notices: a new one, once
            self._retire(worker)
            worker = self._worker()
            worker.conn.send(job)
        started = time.monotonic()
        deadline = started + self.limits.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._retire(worker)
                log.warning(
                    "notice refused: reading it took too long",
                    extra={"source": job.name, "limit_seconds": self.limits.timeout},
                )
                raise timeout_error(job.name, self.limits.timeout)
            try:
                ready = worker.conn.poll(min(left, WATCH_INTERVAL))
            except (OSError, ValueError):
                ready = True  # closed under us (the pool closing): recv says so
            if ready:
                try:
                    kind, value = worker.conn.recv()
                except (EOFError, OSError, ValueError):
                    return self._died(worker, job)
                break
            rss = worker.rss()
            if rss is not None and rss > self.limits.memory_bytes:
                self._retire(worker)
                log.warning(
                    "notice refused: reading it took too much memory",
                    extra={"source": job.name, "rss": rss, "limit": self.limits.memory_bytes},
                )
                raise memory_error(job.name, self.limits.memory_bytes)
        rss = worker.rss()
        if kind == "memory" or (rss is not None and rss > self.limits.memory_bytes * RETIRE_SHARE):
            self._retire(worker)
        if kind == "ok":
            assert isinstance(value, NoticeEvent)
            return value
        if kind == "input":
            raise InputError(value)
        if kind == "memory":
            raise memory_error(job.name, self.limits.memory_bytes)
        raise RuntimeError(f"reading {job.name} failed in the extraction worker: {value}")

    def _died(self, worker: _Worker, job: Job) -> NoticeEvent:
        with self._lock:
            closing = self._closed
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(5)
        code = worker.process.returncode
        self._retire(worker)
        if closing:
            raise RuntimeError("the extraction pool was closed while reading")
        log.error(
            "extraction worker died reading a notice", extra={"source": job.name, "exit": code}
        )
        raise InputError(
            f"{job.name}: the reader stopped on this notice (exit code {code}); not read"
        )

    def close(self) -> None:
        """Stop the workers (a notice being read is refused) and the pool's threads."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            executor, self._executor = self._executor, None
        for worker in workers:
            worker.kill()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [worker.pid for worker in self._workers]


# --- the process's pool ----------------------------------------------------------------------

_pool_lock = threading.Lock()
_pool: ExtractionPool | None = None
_limits: Limits | None = None


def configure(settings: Settings | Limits) -> None:
    """Use these limits from now on (the service and the CLI call this with their settings);
    a pool started with other limits is closed. Also sets the zip limits of this process (for
    ``workers=0`` and ``notices parse``)."""
    global _pool, _limits
    limits = settings if isinstance(settings, Limits) else Limits.from_settings(settings)
    from services.ingestor.extract import zipguard

    zipguard.configure(limits.zip)
    with _pool_lock:
        old = _pool if _pool is not None and _pool.limits != limits else None
        if old is not None:
            _pool = None
        _limits = limits
    if old is not None:
        old.close()


def limits() -> Limits:
    with _pool_lock:
        if _limits is not None:
            return _limits
    configure(Settings())
    assert _limits is not None
    return _limits


def pool() -> ExtractionPool:
    """The process's pool (no worker runs until a notice is read)."""
    global _pool
    current = limits()
    with _pool_lock:
        if _pool is None:
            _pool = ExtractionPool(current)
        return _pool


def shutdown() -> None:
    """Close the process's pool (its workers exit); the next notice starts a new one."""
    global _pool
    with _pool_lock:
        old, _pool = _pool, None
    if old is not None:
        old.close()


async def read(job: Job) -> NoticeEvent:
    return await pool().read(job)


class _Alarm(BaseException):
    """The alarm clock rang (a BaseException: readers' ``except Exception`` let it through)."""


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[bool]:
    """SIGALRM after ``seconds``, when this is the main thread and no other timer is set (a
    test runner's, say); yields whether the alarm is set."""
    usable = (
        threading.current_thread() is threading.main_thread()
        and hasattr(signal, "setitimer")
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    )
    if not usable:
        yield False
        return

    def ring(_signum: int, _frame: Any) -> None:
        raise _Alarm

    signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


def read_here(job: Job) -> NoticeEvent:
    """Read a notice in this process (``regwatch notices parse``): zip limits as configured,
    and the time limit by alarm clock when it can be set."""
    timeout = limits().timeout
    try:
        with _alarm(timeout):
            return read_job(job)
    except _Alarm:
        raise timeout_error(job.name, timeout) from None


class JobOptions(TypedDict, total=False):
    """What a caller may say about a notice besides its bytes and name (``Job``'s fields)."""

    source_url: str | None
    published_on: date | None
    attachments: Sequence[tuple[str, bytes]]
    fallback_published_on: date | None


def job(data: bytes, *, name: str, **options: Unpack[JobOptions]) -> Job:
    return Job(
        data,
        name,
        options.get("source_url"),
        options.get("published_on"),
        tuple(options.get("attachments", ())),
        options.get("fallback_published_on"),
    )


if __name__ == "__main__":  # a worker, started by ``_Worker``
    _worker_main(Connection(int(sys.argv[1])))
