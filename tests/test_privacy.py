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
