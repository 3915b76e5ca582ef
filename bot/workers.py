"""The process-wide worker process for CPU-heavy renders (the form PDF, the daily report's chart).

fpdf2, fontTools and matplotlib are pure Python for the most part and hold the GIL for the whole render
(0.1–0.3 s); in a thread of the process that answers the chats they slow every chat's step down and stall the
event loop. :func:`run_in_worker` runs a picklable call in one worker process started on first use (spawned,
so it inherits no database connection or thread), and replaces a worker that died.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

log = logging.getLogger("dvcbot.workers")

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def worker_pool() -> Executor:
    """The worker process (started on first use; one process: renders queue behind each other)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _drop_pool(broken: Executor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def run_in_worker(fn: Callable[..., T], *args: Any, executor: Executor | None = None, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in the worker process (or ``executor``). A worker that died is replaced and the
    call made once more."""
    job = partial(fn, *args, **kwargs)
    loop = asyncio.get_running_loop()
    for attempt in range(2):
        pool = executor or worker_pool()
        try:
            return await loop.run_in_executor(pool, job)
        except BrokenProcessPool:
            if executor is not None or attempt == 1:
                raise
            log.warning("the worker process died; starting another")
            _drop_pool(pool)
    raise AssertionError("unreachable")
