"""The process-wide worker process for CPU-heavy renders (the form PDF, the daily report's chart).

fpdf2, fontTools and matplotlib are pure Python for the most part and hold the GIL for the whole render
(0.1–0.3 s); in a thread of the process that answers the chats they slow every chat's step down and stall the
event loop. :func:`run_in_worker` runs a picklable call in one worker process started on first use (spawned,
so it inherits no database connection or thread), and replaces a worker that died.

Calls wait for the worker here, one at a time per event loop, rather than in the pool's own queue: when the
worker dies (killed, out of memory), only the call it was running fails with it. Queued in the pool, every call
waiting behind it would fail too, and a row of the outbox would lose one of its tries to each crash that
happened while it waited.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

log = logging.getLogger("dvcbot.workers")

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def worker_pool() -> Executor:
    """The worker process (started on first use; one process: renders queue behind each other)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_in_the_background)
        return _pool


WORKER_NICENESS = 10
"""How much lower the worker's CPU priority is than the process it serves: its renders are follow-ups, and
on a busy machine a chat's step should win the core, not wait behind a PDF."""


def _in_the_background() -> None:
    """The worker process's start: a lower CPU priority (where the system has one)."""
    with contextlib.suppress(AttributeError, OSError):  # (no os.nice on Windows; a container may refuse)
        os.nice(WORKER_NICENESS)


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
    if executor is not None:
        return await loop.run_in_executor(executor, job)
    turn = _turns.setdefault(loop, asyncio.Lock())
    async with turn:  # one call in the worker at a time: a worker that dies takes only its own call with it
        return await _run(loop, job)


async def _run(loop: asyncio.AbstractEventLoop, job: Callable[[], T]) -> T:
    for attempt in range(2):
        pool = worker_pool()
        try:
            return await loop.run_in_executor(pool, job)
        except BrokenProcessPool:
            if attempt == 1:
                raise
            log.warning("the worker process died; starting another")
            _drop_pool(pool)
    raise AssertionError("unreachable")
