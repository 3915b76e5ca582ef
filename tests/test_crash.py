"""kill -9 of the real ``dvcbot telegram`` webhook process (and its PDF worker) at random moments while citizens
file dossiers: no answer lost, no duplicate dossier, every update processed once, no double notification.

The scenario and the checks are bench/crash_bench.py's; the suite runs a short version of it (the bench runs
100 kills, see docs/benchmarks.md)."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.crash_bench import report, run


async def test_kill_minus_nine_loses_nothing(tmp_path: Path):
    figs = await run(argparse.Namespace(kills=4, chats=3, seed=7, pg=None, keep=False), tmp_path)
    assert figs.ok and figs.kills == 4 and figs.updates >= 3 * 30, report(figs)
