"""Linked accounts through the runtime, with console chat keys: one-time codes, a shared draft,
notifications to the preferred chat, refused codes. The Telegram↔Zalo version is in tests/test_zalo.py."""
from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from bot import accounts
from bot.notifier import MemorySender, Notifier
from dialogs.messages import Incoming
from storage.officers_repo import OutboxRepo
from tests.conftest import Chat, FixedClock

PROC = "ho-tro-chi-phi-mai-tang"


def code_in(chat: Chat) -> str:
    m = re.search(r"Mã liên kết của bạn: ([0-9A-Z]{8})", chat.text())
    assert m, chat.text()
    return m.group(1)


async def test_link_two_chats_and_continue_the_same_draft(runtime):
    an = await Chat(runtime, "console:an").start()
    await an.press(PROC)
    await an.say("1")
    await an.press("yes")  # consent to the cause of death (health data)
    await an.expect("deceased.cause")
    await an.say("/lienket")
    code = code_in(an)
    assert an.field == "deceased.cause"  # the question comes again, unchanged
    other = await Chat(runtime, "console:an-dien-thoai").start()
    assert other.field == "procedure"  # not linked yet: its own conversation
    await other.say(f"/lienket {code.lower()}")
    assert "Đã liên kết tài khoản" in other.text() and "Chào bạn quay lại" in other.text()
    await other.expect("deceased.cause")
    await other.say("Thiên tai")  # answered on the other chat…
    await an.say("nguyen van an")  # …the next one on the first
    assert (await an.answers())["deceased.cause"] == "thien_tai"
    assert (await other.answers()) == (await an.answers())
    # the code is one-time
    third = await Chat(runtime, "console:ke-la").start()
    await third.say(f"/lienket {code}")
    assert third.error and "không đúng hoặc đã hết hạn" in third.error.text
    assert third.field == "procedure"


async def test_two_linked_chats_writing_at_once_do_not_race(runtime):
    a = await Chat(runtime, "console:a").start()
    await a.say("/lienket")
    b = await Chat(runtime, "console:b").start()
    await b.say(f"/lienket {code_in(a)}")
    await a.press(PROC)
    # both type "1" at the same moment: one answers the role question, the other the next one (no lost update)
    await asyncio.gather(runtime.handle("console:a", Incoming(text="1")),
                         runtime.handle("console:b", Incoming(text="1")))
    s = await runtime.session("console:b")
    assert s.draft.answers.get("filer.role") == "self" and s.draft.answers.get("consent.sensitive") is True
    assert runtime.locks._locks == {}


async def test_expired_wrong_and_own_codes_are_refused(runtime, clock):
    a = await Chat(runtime, "console:a").start()
    await a.say("/lienket")
    code = code_in(a)
    await a.say(f"/lienket {code}")
    assert a.error and "chính cuộc trò chuyện này" in a.error.text
    b = await Chat(runtime, "console:b").start()
    await b.say("/lienket ZZZZZZZZ")
    assert b.error and "không đúng hoặc đã hết hạn" in b.error.text
    runtime.now = FixedClock(clock.when + timedelta(minutes=16))
    await b.say(f"/lienket {code}")
    assert b.error and "không đúng hoặc đã hết hạn" in b.error.text
    async with runtime.sm() as db:
        assert await accounts.account_of(db, "console:b") is None
        assert await accounts.conversation_key(db, "console:b") == "console:b"
    # not linked: /thongbao explains
    await b.say("/thongbao zalo")
    assert b.error and "chưa liên kết" in b.error.text and b.field == "procedure"


async def test_notifications_go_to_the_preferred_chat(runtime):
    from tests.test_officers import submit
    a = await Chat(runtime, "console:a").start()
    await a.say("/lienket")
    b = await Chat(runtime, "zalo:b1").start()
    await b.say(f"/lienket {code_in(a)}")
    assert "Thông báo về hồ sơ sẽ gửi về cửa sổ dòng lệnh (console) “a”" in b.text()
    await b.say("/thongbao zalo")
    assert "Từ nay thông báo về hồ sơ sẽ gửi về Zalo" in b.text()
    await a.say("/thongbao")
    assert "Thông báo đang gửi về Zalo" in a.text() and "“/thongbao console:a” hoặc “/thongbao zalo”" in a.text()
    code = await submit(runtime, user="console:a")
    async with runtime.sm() as db:
        rows = await OutboxRepo(db).list(dossier_id=None, kind="citizen_submitted")
    assert [r.chat_key for r in rows] == ["zalo:b1"]
    zalo, console = MemorySender("zalo"), MemorySender("console")
    await Notifier(runtime.sm, [zalo, console], now=lambda: runtime.now() + timedelta(minutes=1)).drain()
    assert [k for k, _p in zalo.sent] == ["zalo:b1"] and zalo.sent[0][1]["text"].startswith(f"Biên nhận hồ sơ {code}")
    assert console.sent == []
    await a.say("/thongbao đây")
    assert "gửi về cửa sổ dòng lệnh" in a.text()
    async with runtime.sm() as db:
        assert await accounts.notify_keys(db, ["zalo:b1", "console:x"]) == ["console:a", "console:x"]


async def test_wrong_codes_are_limited_per_chat_and_day(runtime, clock):
    """A one-time code cannot be found by trying many: after five wrong (or expired) codes in a day the chat
    is refused before the code is even looked up — a right code too — until the next day. The count is kept
    like /theodoi's (the conversation's ``throttle``), so it survives a restart and holds across processes."""
    a = await Chat(runtime, "console:a").start()
    await a.say("/lienket")
    code = code_in(a)
    guesser = await Chat(runtime, "telegram:666").start()
    await guesser.press(PROC)  # a draft under way: the refusals keep its question
    await guesser.expect("filer.role")
    wrong = [c for c in ("ZZZZZZZZ", "00000000", "11111111", "22222222", "33333333") if c != code]
    for guess in wrong[:accounts.MAX_LINK_FAILURES]:
        await guesser.say(f"/lienket {guess}")
        assert guesser.error and "không đúng hoặc đã hết hạn" in guesser.error.text
    assert accounts.MAX_LINK_FAILURES == len(wrong) == 5
    await guesser.say(f"/lienket {code}")  # the right code now: refused all the same
    assert guesser.error and "sai mã liên kết quá nhiều lần hôm nay" in guesser.error.text
    assert guesser.field == "filer.role"
    async with runtime.sm() as db:
        assert await accounts.account_of(db, "telegram:666") is None
    # asking for a code of one's own and refusals of a real code are not guesses; other chats are not limited
    await guesser.say("/lienket")
    own = code_in(guesser)
    b = await Chat(runtime, "console:b").start()
    await b.say(f"/lienket {code}")  # the code was not spent by the refused attempt
    assert "Đã liên kết tài khoản" in b.text()
    # the next day the chat may try again
    runtime.now = type(clock)(clock.when + timedelta(days=1))
    await guesser.say("/lienket WRONG000")
    assert guesser.error and "không đúng hoặc đã hết hạn" in guesser.error.text
    await a.say(f"/lienket {own}")  # (the guesser's code of yesterday has expired)
    assert a.error and "không đúng hoặc đã hết hạn" in a.error.text
    await guesser.say("/lienket")
    await a.say(f"/lienket {code_in(guesser)}")
    assert "Đã liên kết tài khoản" in a.text()


async def test_own_code_and_linked_refusals_do_not_count(runtime):
    a = await Chat(runtime, "console:a").start()
    for _ in range(accounts.MAX_LINK_FAILURES + 1):
        await a.say("/lienket")
        code = code_in(a)
        await a.say(f"/lienket {code}")
        assert a.error and "chính cuộc trò chuyện này" in a.error.text
    b = await Chat(runtime, "console:b").start()
    await b.say("/lienket")
    await a.say(f"/lienket {code_in(b)}")
    assert "Đã liên kết tài khoản" in a.text()


async def test_wrong_codes_from_many_chats_stop_linking_for_the_hour_and_alert(runtime, monkeypatch):
    """A chat alone stops after 5 wrong codes a day; many chats guessing together stop at the hourly limit of all
    chats: linking is refused for the hour (even a right code), the focal points are alerted, the audit names the
    chats and never the codes typed."""
    from sqlalchemy import select

    from bot import cases as off
    from dialogs import lifecycle as lc
    from storage.audit_models import AuditEntry
    monkeypatch.setattr(accounts, "LINK_GUESSES_PER_HOUR", 3)
    async with runtime.sm() as db, db.begin():
        _o, invite = await off.add_officer(db, full_name="Trần Lan", agency="commune", commune_code="25222",
                                          role=lc.LEADER, focal_point=True, now=runtime.now())
        await off.redeem_invite(db, invite, "console:focal", runtime.now())
    owner = await Chat(runtime, "console:owner").start()
    await owner.say("/lienket")
    code = code_in(owner)
    for i in range(3):
        guesser = await Chat(runtime, f"console:guess{i}").start()
        await guesser.say("/lienket ZZZZ2222")
        assert "Mã liên kết không đúng" in guesser.text()
    late = await Chat(runtime, "console:late").start()
    await late.say(f"/lienket {code}")  # a right code, but the door is closed for the hour
    assert "tạm ngừng nhận mã liên kết" in late.text() and "Đã liên kết" not in late.text()
    async with runtime.sm() as db:
        alerts = await OutboxRepo(db).list(kind="officer_link_alert")
        rows = list((await db.execute(select(AuditEntry).where(AuditEntry.action == "link.mismatch"))).scalars())
    assert [a.chat_key for a in alerts] == ["console:focal"] and "dò mã" in alerts[0].payload["text"]
    assert len(rows) == 3 and all("ZZZZ" not in str(r.details) and r.subject is None for r in rows)
