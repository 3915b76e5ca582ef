"""kill -9 of the real ``dvcbot telegram`` and ``dvcbot zalo`` webhook processes (and their PDF workers) at random
moments while citizens file dossiers: no answer lost, no duplicate dossier, every update processed once, no
double notification.

The scenario and the checks are bench/crash_bench.py's; the suite runs a short version of it for each channel
(the bench runs 100 kills, see docs/benchmarks.md)."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.crash_bench import report, run


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_kill_minus_nine_loses_nothing(channel: str, tmp_path: Path):
    figs = await run(argparse.Namespace(channel=channel, kills=2, chats=2, seed=7, pg=None, keep=False), tmp_path)
    assert figs.ok and figs.kills == 2 and figs.updates >= 2 * 30, report(figs)
