"""The worker process (bot/workers.py): a worker that dies takes only the call it was running with it."""
from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bot.workers import run_in_worker


def crash_twice(marker: str) -> str:
    """Kills the process it runs in on its first two calls (a render killed mid-job, twice in a row)."""
    path = Path(marker)
    n = int(path.read_text()) if path.exists() else 0
    if n < 2:
        path.write_text(str(n + 1))
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def echo(x: int) -> int:
    return x


async def test_a_dying_worker_fails_only_the_call_it_was_running(tmp_path: Path):
    """Three renders wait while the worker dies under another one, twice: the other three still run (in the pool's
    own queue they would have been failed with it, each crash costing every waiting outbox row a try)."""
    marker = str(tmp_path / "crashes")
    results = await asyncio.gather(run_in_worker(crash_twice, marker), *(run_in_worker(echo, i) for i in range(3)),
                                   return_exceptions=True)
    assert isinstance(results[0], BrokenProcessPool)  # killed on its try and on its one retry
    assert results[1:] == [0, 1, 2]
    assert await run_in_worker(crash_twice, marker) == "survived"  # a new worker, as after any crash


def niceness() -> int:
    return os.nice(0)


async def test_the_worker_renders_at_a_lower_cpu_priority():
    """The worker's renders are follow-ups: on a busy machine a chat's step gets the core first."""
    from bot.workers import WORKER_NICENESS

    assert await run_in_worker(niceness) >= os.nice(0) + min(WORKER_NICENESS, 19 - os.nice(0))
