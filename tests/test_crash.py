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


@pytest.mark.parametrize("target", ["worker", "console"])
async def test_kill_minus_nine_of_one_process_loses_nothing(target: str, tmp_path: Path):
    """bench/crash_targets.py: the PDF worker alone, killed while it renders a form copy (the bot replaces it),
    or the console killed while a citizen types the procedure. (The notifier alone is the bench's: each of its
    kills waits for a citizen to file a dossier first, a minute or two here; see docs/benchmarks.md.)"""
    from bench.crash_targets import TARGETS, Figures
    from bench.crash_targets import report as target_report
    figs = Figures(target=target)
    args = argparse.Namespace(target=target, kills=1 if target == "worker" else 2, chats=2, seed=7, pg=None)
    await TARGETS[target](args, tmp_path, figs)
    assert figs.ok and figs.kills == args.kills and figs.missing_dossiers == 0, target_report(figs)
    assert figs.citizens >= 1 and (target == "console" or figs.form_copies == figs.citizens)
