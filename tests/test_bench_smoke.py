"""The benchmark stays runnable: bench/engine_bench.py's main with tiny parameters (no timing assertions)."""
from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "engine_bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("engine_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_bench_main_runs_with_tiny_parameters(tmp_path):
    bench = load_bench()
    out = io.StringIO()
    with redirect_stdout(out):
        rc = bench.main(["--quick", "--budget", "0", "--users", "1", "--concurrency", "2", "--engine-users", "1",
                         "--sqlite-steps", "5", "--memory-conversations", "2", "--sessions", "3",
                         "--dir", str(tmp_path), "--json"])
    assert rc == 0
    text = out.getvalue()
    for name in ("bare engine", "bare SQLite", "runtime (lean step), one user at a time", "before: ORM step",
                 "2 users at once"):
        assert name in text
    assert "per in-flight conversation" in text and "Python:" in text
    figures = json.loads(text[text.index("\n{") + 1:])
    results = figures["results"]
    seq = results["runtime (lean step), one user at a time"]
    assert seq["conversations"] == 1 and seq["steps"] == bench.STEPS_PER_CONVERSATION
    assert results["runtime (lean step), 2 users at once"]["conversations"] >= 1
    assert results["before: ORM step, one user at a time"]["conversations"] == 1
    assert results["bare SQLite UPDATE+COMMIT per step"]["steps"] == 5
    mem = figures["memory"]
    assert mem["conversations"] == 2 and mem["conv_row"] > 0 and mem["draft_row"] > 0 and mem["python_bytes"] > 0


def test_conversation_script_matches_the_procedure():
    """The scripted conversation still walks the funeral procedure to a dossier (the engine alone)."""
    bench = load_bench()
    r = bench.bare_engine(1)
    assert r.conversations == 1 and r.steps == bench.STEPS_PER_CONVERSATION


TELEGRAM_BENCH = BENCH.parent / "telegram_bench.py"


def test_telegram_bench_main_runs_with_tiny_parameters(tmp_path):
    """bench/telegram_bench.py: the echo baseline and our webhook, one citizen through the whole funeral
    procedure over loopback HTTP (no timing assertions)."""
    spec = importlib.util.spec_from_file_location("telegram_bench", TELEGRAM_BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    out = io.StringIO()
    with redirect_stdout(out):
        rc = bench.main(["--quick", "--budget", "0", "--chats", "1", "--concurrency", "2", "--messages", "2",
                         "--no-warm-up", "--open-chats", "2", "--open-rate", "40", "--open-seconds", "0.1",
                         "--dir", str(tmp_path), "--json"])
    assert rc == 0
    text = out.getvalue()
    echo_name = "BASELINE bare aiogram echo bot, 2 chats"
    seq_name = "ours: funeral procedure, SQLite file, one chat"
    con_name = "ours: funeral procedure, SQLite file, 2 chats"
    menu_name = "ours: text at the menu, SQLite file, 2 chats"
    for name in (echo_name, seq_name, con_name, menu_name, "ours/echo throughput", "the filing step",
                 "before: ORM step, funeral, SQLite file, one chat", "open loop: 2 chats"):
        assert name in text
    figures = json.loads(text[text.index("\n{") + 1:])
    results = figures["results"]
    assert results[echo_name]["updates"] == 2 and results[menu_name]["updates"] == 2
    for name in (seq_name, con_name):
        assert results[name]["chats"] == 1 and results[name]["updates"] == bench.UPDATES_PER_CONVERSATION
        assert results[name]["reply_p50_ms"] > 0 and results[name]["http_p99_ms"] > 0
    assert set(figures["ratios"]) == {"throughput_ours_over_echo", "reply_p50_ours_over_echo",
                                      "reply_p99_ours_over_echo"}
    ch = figures["channel"]
    assert ch["failed"] == 0 and ch["stale"] == 0 and ch["api_errors"] == 0
    loop = figures["open_loop"]
    assert loop["updates"] >= 2  # (scheduled for 0.1 s: each chat's first update at least)
    walked = sum((i * len(bench.FUNERAL)) // 2 for i in range(2))  # the open loop's citizens, spread out first
    assert ch["turns"] == ch["accepted"] == 2 * bench.UPDATES_PER_CONVERSATION + 2 + walked + loop["updates"]


SCALEOUT_BENCH = BENCH.parent / "scaleout_bench.py"


@pytest.mark.skipif(not os.environ.get("DVCBOT_TEST_PG"), reason="no PostgreSQL server: set DVCBOT_TEST_PG")
def test_scaleout_bench_runs_one_citizen_on_one_and_two_processes():
    """bench/scaleout_bench.py: real `dvcbot telegram` processes (1, then 2) on one PostgreSQL database, one citizen
    whose updates alternate between them; nothing duplicated, reordered or lost (no timing assertions)."""
    spec = importlib.util.spec_from_file_location("scaleout_bench", SCALEOUT_BENCH)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    out = io.StringIO()
    with redirect_stdout(out):
        rc = bench.main(["--quick", "--no-warm-up", "--concurrency", "1", "--citizens", "1", "--json"])
    text = out.getvalue()
    assert "2 processes / 1 process throughput" in text
    figures, _end = json.JSONDecoder().raw_decode(text[text.index("\n{") + 1:])  # (a failed run names its folder)
    assert figures["ratio_2_over_1"] > 0
    for n in ("1", "2"):
        run = figures["runs"][n]
        assert run["duplicates"] == run["losses"] == 0, text
    crossed = figures["runs"]["2"]["replies_out_of_order"] + figures["runs"]["2"]["stuck"]
    assert crossed == 0, text  # a chat's replies keep their order across processes
    for n in ("1", "2"):
        run = figures["runs"][n]
        assert run["citizens"] == 1 and run["updates"] == bench.UPDATES_PER_CONVERSATION
        assert run["reorderings"] == 0, text
    assert rc == 0, text


SOAK_BENCH = BENCH.parent / "soak_bench.py"


def test_soak_bench_runs_with_tiny_parameters():
    """bench/soak_bench.py: the bot in its own process, 20 chats over the webhook for a few seconds on a SQLite
    file; nothing lost or doubled (no timing assertions)."""
    import subprocess
    out = subprocess.run([sys.executable, str(SOAK_BENCH), "--quick", "--seconds", "3", "--drain", "30", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=BENCH.parent.parent)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for name in ("updates/s", "reply p50 / p99", "ERRORS", "LOSSES", "DUPLICATES", "CPU, bot process"):
        assert name in out.stdout
    figures = json.loads(out.stdout[out.stdout.index("\n{") + 1:])
    assert figures["chats"] == 20 and figures["updates"] >= 20 and figures["ok"]
    assert figures["errors"] == figures["losses"] == figures["duplicates"] == 0
    assert figures["channel"]["turns"] == figures["channel"]["accepted"] == figures["updates"]
