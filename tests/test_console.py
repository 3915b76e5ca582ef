"""The console channel: `dvcbot chat --jsonl` as a real process (protocol, kill and resume), and the
human console's rendering and `/tep` attachments."""
from __future__ import annotations

import asyncio
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.console import run_console
from bot.service import Runtime
from storage.repo import DossierRepo
from tests.conftest import jpeg, shared_catalog

REPO = Path(__file__).resolve().parent.parent
FUNERAL = "ho-tro-chi-phi-mai-tang"
ASK_KEYS = {"type", "text", "procedure", "field", "kind", "choices", "optional", "step"}
MESSAGE_KEYS = {"type", "text", "error", "dossier"}
TIMEOUT = 60


def real_jpeg(path: Path) -> Path:
    """A small, real JPEG (a decodable 16x16 image), written to ``path``."""
    try:
        from PIL import Image  # fpdf2 depends on Pillow
    except ImportError:  # pragma: no cover
        path.write_bytes(jpeg(9))
        return path
    Image.new("RGB", (16, 16), (200, 30, 30)).save(path, format="JPEG", quality=80)
    return path


class JsonlBot:
    """`dvcbot chat --jsonl` in a subprocess, one JSON object per line each way."""

    def __init__(self, tmp: Path, user: str = "proto"):
        self.db = f"sqlite+aiosqlite:///{tmp}/x.db"
        self.var = tmp / "var"
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        env.pop("DVCBOT_DB", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--db", self.db, "--var", str(self.var), "chat", "--jsonl",
             "--user", user],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env,
            text=True, encoding="utf-8", bufsize=1)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()
        self.transcript: list[str] = []

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def turn(self) -> list[dict[str, Any]]:
        """Everything the bot says up to and including its one question."""
        out: list[dict[str, Any]] = []
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError("the bot did not answer in time\n" + "".join(self.stderr)[-2000:]) from None
            assert line is not None, "the bot exited mid-turn:\n" + "".join(self.stderr)[-2000:]
            assert line.endswith("\n")
            obj = json.loads(line)
            self.transcript.append(line.rstrip())
            check_line(obj)
            out.append(obj)
            if obj["type"] == "ask":
                return out

    def send(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.lines.empty(), f"the bot said more after its question: {self.lines.queue}"
        self.transcript.append("> " + json.dumps(obj, ensure_ascii=False))
        self.proc.stdin.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self.turn()

    def close(self) -> list[str]:
        """End of input: the bot exits cleanly and says nothing more."""
        self.proc.stdin.close()
        assert self.proc.wait(timeout=TIMEOUT) == 0, "".join(self.stderr)[-2000:]
        rest = []
        while (line := self.lines.get(timeout=TIMEOUT)) is not None:
            rest.append(line)
        return rest

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=TIMEOUT)


def check_line(obj: dict[str, Any]) -> None:
    assert obj["type"] in ("message", "ask")
    if obj["type"] == "message":
        assert set(obj) >= MESSAGE_KEYS
        assert isinstance(obj["text"], str) and isinstance(obj["error"], bool)
        assert obj["dossier"] is None or isinstance(obj["dossier"], str)
        return
    assert set(obj) >= ASK_KEYS, f"ask without {ASK_KEYS - set(obj)}"
    assert isinstance(obj["text"], str) and obj["text"]
    assert isinstance(obj["field"], str) and obj["field"]
    assert isinstance(obj["kind"], str) and isinstance(obj["optional"], bool)
    assert obj["procedure"] is None or isinstance(obj["procedure"], str)
    assert obj["step"] is None or isinstance(obj["step"], str)
    assert isinstance(obj["choices"], list)
    for c in obj["choices"]:
        assert set(c) == {"value", "label"} and isinstance(c["value"], str) and isinstance(c["label"], str)


def ask(turn: list[dict[str, Any]]) -> dict[str, Any]:
    asks = [o for o in turn if o["type"] == "ask"]
    assert len(asks) == 1 and turn[-1] is asks[0], "every turn ends with exactly one ask"
    return asks[0]


def errors(turn: list[dict[str, Any]]) -> list[str]:
    return [o["text"] for o in turn if o["type"] == "message" and o["error"]]


def expect(turn: list[dict[str, Any]], field: str, *, error: bool = False) -> dict[str, Any]:
    a = ask(turn)
    assert a["field"] == field, f"expected {field}, got {a['field']}: {a['text']}"
    assert bool(errors(turn)) == error, f"error messages: {errors(turn)}"
    return a


def cli(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("DVCBOT_DB", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", "--db", f"sqlite+aiosqlite:///{tmp}/x.db", "--var",
                           str(tmp / "var"), *args], capture_output=True, text=True, encoding="utf-8",
                          cwd=REPO, env=env, timeout=TIMEOUT)


@pytest.fixture
def bots(tmp_path):
    started: list[JsonlBot] = []

    def start(user: str = "proto") -> JsonlBot:
        bot = JsonlBot(tmp_path, user)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.kill()


# --------------------------------------------------------------------------------------------
# (a) the JSON-lines protocol, a whole funeral procedure


def test_jsonl_protocol_full_funeral(bots, tmp_path):
    photo = real_jpeg(tmp_path / "giay bao tu.jpg")
    bot = bots()
    first = bot.turn()  # the bot speaks first
    assert first[0]["type"] == "message" and "Xin chào" in first[0]["text"]
    menu = expect(first, "procedure")
    assert menu["kind"] == "choice" and menu["procedure"] is None
    ids = [c["value"] for c in menu["choices"]]
    assert set(ids) == set(shared_catalog().procedures) and FUNERAL in ids

    # a choice by its number
    a = expect(bot.send({"text": str(ids.index(FUNERAL) + 1)}), "filer.role")
    assert a["procedure"] == FUNERAL and a["kind"] == "choice" and a["step"]
    # ... by its label
    label = next(c["label"] for c in a["choices"] if c["value"] == "self")
    c = expect(bot.send({"text": label}), "consent.sensitive")  # the cause of death is health data
    assert c["kind"] == "confirm" and "nguyên nhân" in c["text"]
    expect(bot.send({"text": "đồng ý"}), "deceased.cause")
    # ... by its value
    expect(bot.send({"choice": "thien_tai"}), "deceased.full_name")
    expect(bot.send({"text": "nguyễn văn an"}), "deceased.birth_date")
    t = bot.send({"text": "31/02/1950"})  # no such day
    expect(t, "deceased.birth_date", error=True)
    expect(bot.send({"text": "5/3/1950"}), "deceased.sex")
    expect(bot.send({"text": "Nam"}), "deceased.ethnicity")
    expect(bot.send({"text": "Kinh"}), "deceased.residence")
    expect(bot.send({"text": "Lâm Đồng"}), "deceased.residence")
    expect(bot.send({"text": "duc trong"}), "deceased.residence")
    expect(bot.send({"text": "Thôn 3"}), "deceased.status")
    expect(bot.send({"text": "Đã mất"}), "deceased.death_date")
    expect(bot.send({"text": "10/11/2026"}), "deceased.burial_date")
    expect(bot.send({"text": "12/11/2026"}), "deceased.burial_place")
    expect(bot.send({"text": "Nghĩa trang thôn 3"}), "organizer.kind")
    expect(bot.send({"text": "1"}), "applicant.full_name")
    expect(bot.send({"text": "Nguyễn Văn Bình"}), "applicant.birth_date")
    expect(bot.send({"text": "01/02/1975"}), "applicant.id_number")
    expect(bot.send({"text": "12345"}), "applicant.id_number", error=True)
    a = expect(bot.send({"text": "068 075 001 234"}), "applicant.id_issue_date")
    assert a["optional"] is True
    expect(bot.send({"text": "bỏ qua"}), "applicant.residence")
    expect(bot.send({"text": "Lâm Đồng"}), "applicant.residence")
    expect(bot.send({"text": "Đức Trọng"}), "applicant.residence")
    a = expect(bot.send({"text": "Thôn 3"}), "applicant.same_place")
    assert [c["value"] for c in a["choices"]] == ["yes", "no"]
    expect(bot.send({"choice": "yes"}), "applicant.relation")
    expect(bot.send({"text": "con trai"}), "contact.phone")
    a = expect(bot.send({"text": "+84 912 345 678"}), "docs.death_notice")
    assert a["kind"] == "attachment"
    expect(bot.send({"file": str(tmp_path / "khong-co.jpg")}), "docs.death_notice", error=True)
    a = expect(bot.send({"file": str(photo)}), "docs.death_notice")
    assert "Đã nhận 1 tệp" in a["text"] and [c["value"] for c in a["choices"]] == ["done"]
    t = bot.send({"choice": "done"})
    a = expect(t, "_review")
    assert "NGUYỄN VĂN AN" in "\n".join(o["text"] for o in t)
    expect(bot.send({"choice": "confirm"}), "_sworn")
    t = bot.send({"text": "Tôi xin cam đoan"})  # the sworn statement by its label
    final = [o for o in t if o["type"] == "message" and o["dossier"]]
    assert len(final) == 1
    code = final[0]["dossier"]
    assert code.startswith("MT-") and code in final[0]["text"]
    expect(t, "procedure")  # back at the menu
    # after the last question, one follow-up: the copy of the form, rendered from the outbox; then a clean exit
    [copy] = [json.loads(line) for line in bot.close()]
    assert copy["type"] == "message" and copy["text"] == f"Bản sao tờ khai (PDF) của bạn: {code}.pdf"
    assert copy["file"]["name"] == f"{code}.pdf" and copy["file"]["mime"] == "application/pdf"
    assert Path(copy["file"]["path"]).read_bytes().startswith(b"%PDF-")

    listed = cli(tmp_path, "dossiers", "--json")
    assert listed.returncode == 0, listed.stderr
    [d] = json.loads(listed.stdout)
    assert d["code"] == code and d["procedure"] == FUNERAL and d["status"] == "submitted"
    assert d["answers"]["deceased.full_name"] == "NGUYỄN VĂN AN"
    assert d["answers"]["contact.phone"] == "0912345678"
    assert d["answers"]["organizer.kind"] == "household"
    [att] = d["attachments"]
    assert att["mime"] == "image/jpeg" and att["size"] == photo.stat().st_size and att["name"] is None
    assert att["field"] == "docs.death_notice"
    # the bytes were stored under the var folder, content-addressed
    stored = [p for p in (tmp_path / "var").rglob("*") if p.is_file()]
    assert any(p.read_bytes() == photo.read_bytes() for p in stored)


def test_jsonl_odd_lines(bots):
    bot = bots("odd")
    expect(bot.turn(), "procedure")
    expect(bot.send({"text": "không có thủ tục này"}), "procedure", error=True)
    expect(bot.send({"choice": "no-such-procedure"}), "procedure", error=True)
    # not JSON: the line is taken as text (a greeting, greeted back); blank lines are ignored
    bot.proc.stdin.write("\n   \nxin chào\n")
    bot.proc.stdin.flush()
    turn = bot.turn()
    expect(turn, "procedure")
    assert any(o["type"] == "message" and o["text"].startswith("Xin chào!") for o in turn)
    # a procedure understood from what the person typed
    a = expect(bot.send({"text": "mai táng người chết do thiên tai"}), "filer.role")
    assert a["procedure"] == FUNERAL
    # a JSON value that is not an object is taken as text too; a non-string text is read as text
    bot.proc.stdin.write("[1, 2]\n")
    bot.proc.stdin.flush()
    expect(bot.turn(), "filer.role", error=True)
    expect(bot.send({"text": 1}), "consent.sensitive")
    assert bot.close() == []


# --------------------------------------------------------------------------------------------
# (b) kill the process mid-conversation, start a new one on the same database


async def stored_answers(tmp: Path, user: str) -> dict[str, Any]:
    rt = Runtime(f"sqlite+aiosqlite:///{tmp}/x.db", var_dir=tmp / "var", catalog=shared_catalog())
    await rt.open(migrate=False)
    try:
        s = await rt.session(f"console:{user}")
        return dict(s.draft.answers) if s.draft else {}
    finally:
        await rt.close()


def test_kill_and_resume(bots, tmp_path):
    bot = bots("resume")
    expect(bot.turn(), "procedure")
    expect(bot.send({"choice": FUNERAL}), "filer.role")
    expect(bot.send({"text": "1"}), "consent.sensitive")
    expect(bot.send({"choice": "yes"}), "deceased.cause")
    expect(bot.send({"text": "hỏa hoạn"}), "deceased.full_name")
    expect(bot.send({"text": "Đỗ Văn Hải"}), "deceased.birth_date")
    expect(bot.send({"text": "2/9/1945"}), "deceased.sex")
    bot.kill()  # SIGKILL: no clean shutdown, no chance to flush anything
    assert bot.proc.returncode == -signal.SIGKILL

    again = bots("resume")
    first = again.turn()
    a = expect(first, "deceased.sex")  # the same question where they stopped
    assert "tiếp tục" in first[0]["text"]
    answers = asyncio.run(stored_answers(tmp_path, "resume"))
    assert answers["filer.role"] == "self"
    assert answers["deceased.cause"] == "hoa_hoan"
    assert answers["deceased.full_name"] == "ĐỖ VĂN HẢI"
    assert answers["deceased.birth_date"] == "1945-09-02"
    assert "deceased.sex" not in answers
    # earlier answers are shown when going back
    a = expect(again.send({"text": "quay lại"}), "deceased.birth_date")
    assert "02/09/1945" in a["text"]
    expect(again.send({"text": "02/09/1945"}), "deceased.sex")
    expect(again.send({"text": "nam"}), "deceased.ethnicity")
    again.close()


def test_kill_right_after_sending_loses_nothing_half_done(bots, tmp_path):
    """Killed before reading the reply: the answer is either fully stored or not at all."""
    bot = bots("atomic")
    expect(bot.turn(), "procedure")
    expect(bot.send({"choice": FUNERAL}), "filer.role")
    expect(bot.send({"text": "1"}), "consent.sensitive")
    expect(bot.send({"choice": "yes"}), "deceased.cause")
    bot.proc.stdin.write(json.dumps({"choice": "dich_benh"}) + "\n")
    bot.proc.stdin.flush()
    bot.kill()
    again = bots("atomic")
    a = ask(again.turn())
    answers = asyncio.run(stored_answers(tmp_path, "atomic"))
    if a["field"] == "deceased.cause":
        assert "deceased.cause" not in answers
    else:
        assert a["field"] == "deceased.full_name" and answers["deceased.cause"] == "dich_benh"
    assert answers["filer.role"] == "self"
    again.close()


# --------------------------------------------------------------------------------------------
# (c) the human console


async def test_human_console_numbers_choices_and_attaches_files(tmp_path, sqlite_url, clock):
    photo = real_jpeg(tmp_path / "bao tu.jpg")
    lines = ["(the number of the funeral procedure)", "1", "đồng ý", "1", "Lý Thị Mười", "1/1/1940", "2", "Kinh",
             "Lâm Đồng", "Đức Trọng", "Thôn 1", "1", "10/11/2026", "11/11/2026", "Nghĩa trang", "1", "Lý Văn Một",
             "01/02/1975", "068075001234", "bỏ qua", "Lâm Đồng", "Đức Trọng", "Thôn 1", "1", "con", "0912345678",
             f"/tep {tmp_path / 'khong-co.jpg'}", f"/tep {photo}", "xong", "/thoat", "không được đọc"]
    async with Runtime(sqlite_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog()) as rt:
        ids = [c.value for c in rt.engine.menu_choices(await rt.session("console:an"))]
        lines[0] = str(ids.index(FUNERAL) + 1)
        stdout = io.StringIO()
        await run_console(rt, "an", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout)
        out = stdout.getvalue()
        session = await rt.session("console:an")

    titles = {p.id: p.title for p in shared_catalog().procedures.values()}
    # the menu: numbered procedures, then a prompt
    assert out.startswith("Xin chào")
    for i, pid in enumerate(ids, 1):
        assert f"  {i}. {titles[pid]}" in out
    assert "\n> " in out
    # numbered choices inside a procedure, with the way back and help shown
    assert "  1. Thiên tai (bão, lũ, lốc, sạt lở đất…)" in out
    assert "  2. Nữ" in out
    assert "“quay lại”" in out and "“trợ giúp”" in out
    assert "[Bước " in out
    # files: a hint under the question, a missing file refused, a real one attached
    assert "/tep" in out
    assert "⚠️ Không mở được tệp" in out and "khong-co.jpg" in out
    assert "Đã nhận 1 tệp" in out
    assert "Xin kiểm tra lại thông tin đã khai" in out
    assert out.rstrip().endswith("Tạm biệt! Hồ sơ đang khai đã được lưu.")  # nothing read after /thoat
    answers = session.draft.answers
    assert answers["deceased.sex"] == "nu" and answers["applicant.same_place"] is True
    [f] = answers["docs.death_notice"]
    assert f["mime"] == "image/jpeg" and f["name"] is None and f["size"] == photo.stat().st_size
    assert session.state == "reviewing"


async def test_human_console_end_of_input_keeps_the_draft(tmp_path, sqlite_url, clock):
    async with Runtime(sqlite_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog()) as rt:
        stdout = io.StringIO()
        await run_console(rt, "binh", stdin=io.StringIO(f"{FUNERAL}\nhủy\nkhông\n"), stdout=stdout)
        out = stdout.getvalue()
        session = await rt.session("console:binh")
        async with rt.sm() as db:
            assert await DossierRepo(db).list() == []
    assert "Bạn có chắc muốn hủy" in out and "Được, chúng ta tiếp tục" in out
    assert out.endswith("\n")
    assert session.procedure == FUNERAL and session.draft is not None


async def test_human_console_speaks_the_chosen_language(tmp_path, sqlite_url, clock):
    """After /language everything the console itself adds (hints, file errors, goodbye) is English too."""
    async with Runtime(sqlite_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog()) as rt:
        stdout = io.StringIO()
        lines = ["/language", FUNERAL, f"/tep {tmp_path / 'missing.jpg'}", "/thoat"]
        await run_console(rt, "en", stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout)
        out = stdout.getvalue()
    english = out[out.index("[Step 1/"):]
    assert "(You can type:" in english and "Có thể gõ" not in english
    assert "⚠️ Cannot open the file" in english
    assert out.rstrip().endswith("Goodbye! Your draft has been saved.")


def test_the_console_chat_keeps_its_log_out_of_the_conversation(tmp_path):
    """`dvcbot chat` is read by a person: what the bot logs (a warning for the admin, such as a commune with no
    officer yet) goes to ``var/console.log``, not between the messages; ``--verbose`` puts it on the screen."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    env.pop("DVCBOT_DB", None)
    code = ("import logging, sys; from bot import cli, console; "
            "greet = console.run_console\n"
            "async def run(rt, user, jsonl=False):\n"
            "    logging.getLogger('dvcbot.cases').warning('a warning for the admin')\n"
            "    await greet(rt, user, jsonl=jsonl)\n"
            "console.run_console = run\n"
            "sys.exit(cli.main(sys.argv[1:]))")
    for verbose in ([], ["--verbose"]):
        var = tmp_path / f"var{len(verbose)}"
        done = subprocess.run(
            [sys.executable, "-c", code, *verbose, "--db", f"sqlite+aiosqlite:///{var}.db", "--var", str(var),
             "chat"], input="", capture_output=True, text=True, encoding="utf-8", cwd=REPO, env=env, timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr
        assert "Bạn cần làm thủ tục nào?" in done.stdout
        if verbose:
            assert "a warning for the admin" in done.stderr
        else:
            assert "a warning" not in done.stderr + done.stdout
            assert "a warning for the admin" in (var / "console.log").read_text(encoding="utf-8")


async def test_human_console_tells_what_the_officers_did_meanwhile(tmp_path, sqlite_url, clock):
    """The console chat is a chat channel: what an officer did since the citizen's last message (received,
    supplement asked…) is shown with the next reply, as Telegram and Zalo push it, not only by `dvcbot notify`."""
    from bot import cases
    from dialogs import lifecycle as lc
    from tests.test_officers import do, officer, submit
    async with Runtime(sqlite_url, var_dir=tmp_path / "var", now=clock, catalog=shared_catalog()) as rt:
        code = await submit(rt, user="console:hoa")
        leader = await officer(rt, lc.LEADER)
        await do(rt, leader, cases.claim, code)
        await do(rt, leader, cases.receive, code)
        stdout = io.StringIO()
        await run_console(rt, "hoa", stdin=io.StringIO("chào\n/thoat\n"), stdout=stdout)
        out = stdout.getvalue()
        await do(rt, leader, cases.claim, code)  # nothing left pending for this chat: said once
        stdout = io.StringIO()
        await run_console(rt, "hoa", stdin=io.StringIO("chào\n/thoat\n"), stdout=stdout)
        again = stdout.getvalue()
    assert f"Hồ sơ {code}" in out and "đã được tiếp nhận" in out and "Ngày hẹn trả kết quả" in out
    assert "đã được tiếp nhận" not in again
