"""Drafts left halfway: one reminder after a day, one last after a week, expiry (with the files) after 30 days;
quiet hours kept, nothing sent twice across a restart, “tắt nhắc” respected, “Tiếp tục” resumes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.reminders import ReminderPolicy, next_allowed, run_draft_reminders
from bot.service import Runtime
from dialogs.workdays import DEFAULT_CALENDAR
from storage.models import Conversation, DraftRow, OutboxMessage
from tests.conftest import VN, Chat, jpeg

USER = "console:remind"


async def start_funeral(rt: Runtime) -> Chat:
    chat = await Chat(rt, USER).start()
    await chat.say("ho tro chi phi mai tang")
    return chat


async def age_everything(rt: Runtime, when: datetime) -> None:
    """Pretend the chat's last activity was at ``when`` (the rows are stamped with the real clock)."""
    async with rt.sm() as db, db.begin():
        await db.execute(update(DraftRow).values(updated_at=when))
        await db.execute(update(Conversation).values(updated_at=when))


async def job(rt: Runtime, now: datetime, **kw) -> dict[str, int]:
    async with rt.sm() as db, db.begin():
        return await run_draft_reminders(db, now, catalog=rt.catalog, store=rt.attachments, **kw)


async def outbox(rt: Runtime) -> list[OutboxMessage]:
    async with rt.sm() as db:
        return list((await db.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


LAST = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam


async def test_reminders_then_expiry_across_a_restart(db_url, tmp_path):
    rt = await Runtime(db_url, var_dir=tmp_path / "var").open()
    try:
        chat = await start_funeral(rt)
        await chat.say("1")  # who files: the person arranging the funeral
        await age_everything(rt, LAST)
        assert await job(rt, LAST + timedelta(hours=20)) == {"reminded": 0, "expired": 0, "files_deleted": 0}
        assert (await job(rt, LAST + timedelta(days=1, hours=1)))["reminded"] == 1
        assert (await job(rt, LAST + timedelta(days=1, hours=2)))["reminded"] == 0  # once per stage
    finally:
        await rt.close()
    rt = await Runtime(db_url, var_dir=tmp_path / "var").open()  # a restart in between loses and repeats nothing
    try:
        assert (await job(rt, LAST + timedelta(days=2)))["reminded"] == 0
        assert (await job(rt, LAST + timedelta(days=7, hours=1)))["reminded"] == 1
        assert (await job(rt, LAST + timedelta(days=8)))["reminded"] == 0
        rows = await outbox(rt)
        assert [r.kind for r in rows] == ["draft_reminder", "draft_reminder"]
        first, last = rows[0].payload, rows[1].payload
        assert "Hỗ trợ chi phí mai táng" in first["text"] and "Tiếp tục" in first["text"]
        assert first["choices"] == [{"value": "resume:ho-tro-chi-phi-mai-tang", "label": "Tiếp tục"}]
        assert "lần cuối" in last["text"] and "30 ngày" in last["text"]
        assert all(r.chat_key == USER for r in rows)

        done = await job(rt, LAST + timedelta(days=30, hours=1))
        assert done["expired"] == 1
        async with rt.sm() as db:
            assert (await db.execute(select(DraftRow))).first() is None
            conv = (await db.execute(select(Conversation))).scalar_one()
            assert conv.data["state"] == "menu" and conv.data["procedure"] is None
        assert (await outbox(rt))[-1].kind == "draft_expired"
        assert (await job(rt, LAST + timedelta(days=31)))["expired"] == 0
        # the chat comes back after expiry: the menu, nothing crashes
        chat = await Chat(rt, USER).start()
        assert chat.field == "procedure"
    finally:
        await rt.close()


async def test_expiry_deletes_files_nothing_else_uses(sqlite_url, tmp_path):
    rt = await Runtime(sqlite_url, var_dir=tmp_path / "var").open()
    try:
        chat = await start_funeral(rt)
        sha_path = None
        # walk until the first attachment question, answering with a photo there
        for _ in range(60):
            if chat.ask.kind == "attachment":
                await chat.send_file(jpeg(7))
                break
            await chat.say(chat.ask.choices[0].value if chat.ask.choices else "bỏ qua")
        async with rt.sm() as db:
            answers = (await db.execute(select(DraftRow.answers))).scalar_one()
        shas = [v["sha256"] for vs in answers.values() if isinstance(vs, list) for v in vs if isinstance(v, dict)]
        if shas:
            sha_path = rt.attachments.path(shas[0])
            assert sha_path.exists()
        await age_everything(rt, LAST)
        done = await job(rt, LAST + timedelta(days=31))
        assert done["expired"] == 1
        if sha_path is not None:
            assert done["files_deleted"] == 1 and not sha_path.exists()
    finally:
        await rt.close()


async def test_quiet_hours_and_stop_reminders(sqlite_url, tmp_path):
    rt = await Runtime(sqlite_url, var_dir=tmp_path / "var").open()
    try:
        chat = await start_funeral(rt)
        await chat.say("1")
        await chat.press("yes")  # consent: the cause of death is health data
        await age_everything(rt, LAST)
        late = datetime(2026, 11, 24, 22, 30, tzinfo=VN)  # 22:30: queued for 07:00 the next morning
        assert (await job(rt, late))["reminded"] == 1
        row = (await outbox(rt))[0]
        when = row.next_attempt_at if row.next_attempt_at.tzinfo else row.next_attempt_at.replace(tzinfo=UTC)
        assert when == datetime(2026, 11, 25, 7, 0, tzinfo=VN)

        await chat.say("tat nhac")  # typed without diacritics, at a question: the question comes back
        assert "Đã tắt nhắc nhở" in chat.text() and chat.field == "deceased.cause"
        await age_everything(rt, LAST)
        assert (await job(rt, LAST + timedelta(days=7, hours=1)))["reminded"] == 0
        await chat.say("bật nhắc")
        assert "Đã bật lại nhắc nhở" in chat.text() and chat.field == "deceased.cause"
    finally:
        await rt.close()


def test_next_allowed():
    p, cal = ReminderPolicy(), DEFAULT_CALENDAR
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=VN)
    assert next_allowed(noon, p, cal) == noon
    assert next_allowed(datetime(2026, 11, 24, 21, 0, tzinfo=VN), p, cal) == datetime(2026, 11, 25, 7, 0, tzinfo=VN)
    assert next_allowed(datetime(2026, 11, 24, 3, 0, tzinfo=VN), p, cal) == datetime(2026, 11, 24, 7, 0, tzinfo=VN)
    assert next_allowed(datetime(2026, 11, 24, 7, 0, tzinfo=VN), p, cal) == datetime(2026, 11, 24, 7, 0, tzinfo=VN)


async def test_continue_from_the_menu_or_a_question(sqlite_url, tmp_path):
    rt = await Runtime(sqlite_url, var_dir=tmp_path / "var").open()
    try:
        chat = await start_funeral(rt)
        await chat.say("1")
        await chat.press("yes")  # consent: the cause of death is health data
        await chat.expect("deceased.cause")
        await chat.say("menu")
        await chat.expect("procedure")
        await chat.press("resume:ho-tro-chi-phi-mai-tang")  # the reminder's button, days later
        await chat.expect("deceased.cause")
        assert "Bạn đã khai dở hồ sơ này (2 câu đã trả lời)" in chat.text()
        await chat.say("tiếp tục")  # typed at the question itself: the same question again
        await chat.expect("deceased.cause")
        assert "Chúng ta tiếp tục hồ sơ" in chat.text()
        await chat.say("menu")
        await chat.say("tiep tuc")  # typed at the menu with one draft: that draft
        await chat.expect("deceased.cause")
    finally:
        await rt.close()
