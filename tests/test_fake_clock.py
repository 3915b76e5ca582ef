"""``dvcbot --now`` / ``DVCBOT_NOW``: commands on a pretend date-time, on a throw-away database only."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime

from bot.cli import main as cli_main
from bot.fakeclock import parse_now
from tests.conftest import VN
from tests.test_officers import COMMUNE, submit


async def _cli(*argv: str) -> int:
    return await asyncio.to_thread(cli_main, list(argv))


def test_the_date_is_read_in_vietnam_time():
    assert parse_now("2027-02-03 14:50") == datetime(2027, 2, 3, 14, 50, tzinfo=VN)
    assert parse_now("2027-02-03") == datetime(2027, 2, 3, 8, 0, tzinfo=VN)
    assert parse_now("2027-02-03T07:50:00+00:00").astimezone(VN).hour == 14


async def test_commands_run_on_the_pretend_clock_of_an_empty_database(db_url, tmp_path, capsys, monkeypatch):
    base = ["--db", db_url, "--var", str(tmp_path / "var")]
    add = ["officer", "add", "--name", "Võ Minh", "--agency", "commune", "--commune", COMMUNE,
           "--role", "receiving_desk", "--json"]
    assert await _cli(*base, "--now", "2027-02-03 14:50", *add) == 0
    out = capsys.readouterr()
    assert "Đang chạy với ngày giả 03/02/2027 14:50" in out.err
    assert json.loads(out.out)["expires_at"].startswith("2027-02-17")  # 14 days after the pretend now
    # the database is now a pretend one: later runs (and DVCBOT_NOW) keep working on it
    monkeypatch.setenv("DVCBOT_NOW", "2027-02-10")
    assert await _cli(*base, "officer", "invite", "1") == 0
    assert "ngày giả 10/02/2027 08:00" in capsys.readouterr().err


async def test_a_database_with_real_data_is_refused(runtime, db_url, tmp_path, capsys):
    await submit(runtime)  # filed on the real (test) clock
    base = ["--db", db_url, "--var", str(tmp_path / "var"), "--now", "2027-02-03 14:50"]
    assert await _cli(*base, "officer", "list") == 2
    assert "đã có dữ liệu thật" in capsys.readouterr().err
    assert await _cli(*base, "telegram") == 2  # the channels talk to real people
    assert "--now chỉ dùng được với" in capsys.readouterr().err
    assert await _cli("--now", "mai", "officer", "list") == 2
    assert "2027-02-03 14:50" in capsys.readouterr().err
