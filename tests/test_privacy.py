"""Personal data (ID numbers, phone numbers, names, dates of birth) never appears in the logs.

A whole conversation, wrong answers included, and the filing are run with every logger of ours at DEBUG
(SQLAlchemy keeps its own WARNING default, as in production); nothing the citizen typed may be logged.
"""
from __future__ import annotations

import logging

from bot.service import Runtime
from tests.conftest import Chat
from tests.test_conversation_funeral import fill_until_organizer, finish

PERSONAL = ["068075001234", "068 075 001 234", "0912345678", "912 345 678", "NGUYỄN VĂN BÌNH", "Nguyễn Văn Bình",
            "NGUYỄN VĂN AN", "nguyễn văn an", "1950-03-05", "5/3/1950", "01/02/1975", "1975-02-01",
            "079080001234"]


async def test_no_personal_data_in_logs(chat: Chat, runtime: Runtime, caplog):
    caplog.set_level(logging.DEBUG)
    await fill_until_organizer(chat)
    await chat.say("1")
    await chat.say("Nguyễn Văn Bình")
    await chat.say("01/02/1975")
    await chat.say("079080001234")  # a real province code, but born in 1980: refused
    assert chat.error
    await chat.expect("applicant.id_number")
    await chat.say("068 075 001 234")
    await chat.say("bỏ qua")
    await chat.say("Lâm Đồng")
    await chat.say("Đức Trọng")
    await chat.say("Thôn 3")
    await chat.say("có")
    await chat.say("con trai")
    await finish(chat)
    await chat.press("confirm")
    await chat.press("yes")
    code = chat.dossier
    assert code
    await chat.say("/hoso")

    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "chat step" in logged and code in logged  # the runtime does log, without values
    for value in PERSONAL:
        assert value not in logged, f"{value!r} was logged"


async def test_database_errors_do_not_quote_answers(db_url):
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            try:
                await conn.execute(text("SELECT no_such_column FROM no_such_table WHERE x = :v"),
                                   {"v": "068075001234"})
            except Exception as exc:
                assert "068075001234" not in str(exc)
            else:
                raise AssertionError("the statement should have failed")
    finally:
        await engine.dispose()


async def test_telegram_conversation_with_hostile_files_and_a_flood_logs_nothing_personal(runtime: Runtime,
                                                                                          caplog):
    """The Telegram channel at DEBUG: typed ID number, shared phone contact, a document whose *name* carries the
    ID number and the applicant's name, a refused polyglot, a damaged PDF (pypdf would quote its bytes), a flood
    of messages holding the ID number, and a late message. Nothing personal in the logs; the uploaded name is
    stored nowhere; the person key in the database is not the plain hash of the ID number."""
    import hashlib

    from sqlalchemy import text

    from bot.inbound import InboundLimits
    from tests.conftest import jpeg, pdf
    from tests.fakes.telegram_api import FakeTelegramAPI
    from tests.test_telegram import Bot

    caplog.set_level(logging.DEBUG)
    fake = await FakeTelegramAPI().start()
    tg = await Bot(runtime, fake, inbound=InboundLimits(chat_rate=0.001, chat_burst=40, global_rate=10_000,
                                                        global_burst=10_000)).start()
    c = 7373
    leaky = "CCCD_068075001234_NGUYEN_VAN_BINH.pdf"
    try:
        await tg.say(c, "/start")
        await tg.press(c, "Hỗ trợ chi phí mai táng")
        await tg.press(c, "Tôi là người đứng ra mai táng")
        await tg.press(c, "Tôi đồng ý")  # consent: the cause of death is health data
        await tg.press(c, "Thiên tai")
        for t in ("nguyễn văn an", "5/3/1950"):
            await tg.say(c, t)
        await tg.press(c, "Nam")
        for t in ("Kinh", "Lâm Đồng", "duc trong", "Thôn 3", "1", "10/11/2026", "12/11/2026", "Nghĩa trang thôn 3"):
            await tg.say(c, t)
        await tg.press(c, "Hộ gia đình hoặc cá nhân")
        for t in ("Nguyễn Văn Bình", "01/02/1975", "079080001234", "068 075 001 234"):
            await tg.say(c, t)
        await tg.press(c, "Bỏ qua")
        for t in ("Lâm Đồng", "Đức Trọng", "Thôn 3"):
            await tg.say(c, t)
        await tg.press(c, "Có")
        await tg.say(c, "con trai")
        await tg.send(fake.contact_update(c, "+84912345678"))
        await tg.send(fake.document_update(c, pdf() + b"<script>068075001234</script>", leaky))  # refused
        await tg.send(fake.document_update(c, b"%PDF-1.4\n1 0 obj << /Name (068075001234) >>\n%%EOF", leaky))
        await tg.send(fake.document_update(c, pdf(), leaky))  # accepted, under no name of the citizen's
        await tg.send(fake.photo_update(c, jpeg(3)))
        await tg.press(c, "Xong")
        await tg.press(c, "Đúng, nộp hồ sơ")
        await tg.press(c, "Tôi xin cam đoan")
        assert "Mã hồ sơ: MT-" in "\n".join(m.text or "" for m in fake.sent(c))
        for _ in range(45):  # a flood carrying the ID number: limited, and logged without it
            await tg.post(fake.text_update(c, "068075001234 " * 300))
        await tg.channel.join(20)
        assert tg.channel.stats.limited > 0
    finally:
        await tg.stop()
        await fake.stop()

    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    for value in [*PERSONAL, "NGUYEN_VAN_BINH", "068075001234"]:
        assert value not in logged, f"{value!r} was logged"
    async with runtime.sm() as db:
        names = (await db.execute(text("SELECT name FROM attachments"))).scalars().all()
        answers = (await db.execute(text("SELECT answers FROM dossiers"))).scalars().all()
        keys = (await db.execute(text("SELECT person_key FROM chat_links"))).scalars().all()
    assert names and all(n is None for n in names)
    assert "NGUYEN_VAN_BINH" not in str(answers) and "CCCD_" not in str(answers)
    plain = hashlib.sha256(b"person:068075001234").hexdigest()
    assert plain not in keys  # (links made by /theodoi are HMACs: tests/test_storage_security.py)
