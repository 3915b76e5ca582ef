"""/dulieu and /xoadulieu from the chat (Law 91/2025), audited; retention purges on a schedule."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.retention import RetentionPolicy, purge
from bot.service import Runtime
from storage.audit_models import AuditEntry
from storage.models import Dossier, DraftRow, OutboxMessage
from storage.officers_repo import OutboxRepo
from tests.conftest import Chat, jpeg
from tests.test_conversation_funeral import fill_household, fill_until_organizer
from tests.test_officers import submit


async def draft_with_photo(rt: Runtime, user: str) -> tuple[Chat, str]:
    chat = await Chat(rt, user).start()
    await fill_until_organizer(chat)
    await fill_household(chat)
    await chat.expect("contact.phone")
    await chat.say("+84 912 345 678")
    await chat.expect("docs.death_notice")
    await chat.send_file(jpeg(9), "giay-bao-tu.jpg")
    await chat.press("done")
    async with rt.sm() as db:
        answers = (await db.execute(select(DraftRow.answers).where(DraftRow.user_key == user))).scalar_one()
    [sha] = [v["sha256"] for vs in answers.values() if isinstance(vs, list) for v in vs if isinstance(v, dict)]
    return chat, sha


async def audit(rt: Runtime) -> list[tuple[str, str]]:
    async with rt.sm() as db:
        return [(a.actor_key, a.action) for a in (await db.execute(select(AuditEntry))).scalars()]


async def test_view_and_erase_my_data(runtime: Runtime):
    user = "console:citizen"
    code = await submit(runtime, user=user)
    chat, sha = await draft_with_photo(runtime, user)
    await chat.say("1")  # back from the review to a question (edit the first section)
    field = chat.field
    await chat.say("/dulieu")
    text = chat.text()
    assert "Hỗ trợ chi phí mai táng (trợ giúp đột xuất): " in text and "1 ảnh/tệp" in text
    assert "Hồ sơ đã nộp" in text and code in text
    assert chat.field == field  # the same question again: nothing lost
    await chat.say("/xoadulieu")
    assert "Gõ “/xoadulieu đồng ý” để xóa" in chat.text() and "Được giữ lại: hồ sơ đã nộp" in chat.text()
    assert chat.field == field
    await chat.say("/xoadulieu đồng ý")
    assert "Đã xóa dữ liệu của bạn: 1 hồ sơ đang khai" in chat.text()
    assert chat.field == "procedure"  # a fresh start at the menu
    async with runtime.sm() as db:
        assert (await db.execute(select(DraftRow))).first() is None
        assert (await db.execute(select(Dossier.code))).scalar_one() == code  # the submitted dossier is kept
    assert not runtime.attachments.exists(sha)
    assert await audit(runtime) == [(user, "privacy.view"), (user, "privacy.erase")]


async def test_retention_blanks_old_notifications_and_deletes_orphan_files(runtime: Runtime):
    now = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    async with runtime.sm() as db, db.begin():
        for i, age in enumerate((40, 5)):
            await OutboxRepo(db).enqueue(chat_key="console:x", kind="test", dedupe_key=f"r{i}",
                                         payload={"text": "Hồ sơ của NGUYỄN VĂN A"}, now=now - timedelta(days=age))
        for row in (await db.execute(select(OutboxMessage))).scalars():
            row.status = "delivered"
    orphan = runtime.attachments.put(b"\xff\xd8\xff orphan")
    fresh = runtime.attachments.put(b"\xff\xd8\xff fresh")
    # the files' ages against the purge's own clock (``now``), not the machine's: the test keeps its meaning on
    # any day it runs
    old, young = (now - timedelta(days=3)).timestamp(), now.timestamp()
    os.utime(runtime.attachments.path(orphan), (old, old))
    os.utime(runtime.attachments.path(fresh), (young, young))
    async with runtime.sm() as db, db.begin():
        done = await purge(db, now, store=runtime.attachments, policy=RetentionPolicy())
    assert done == {"outbox_blanked": 1, "files_deleted": 1}
    assert not runtime.attachments.exists(orphan) and runtime.attachments.exists(fresh)
    async with runtime.sm() as db:
        rows = {r.dedupe_key: r.payload for r in (await db.execute(select(OutboxMessage))).scalars()}
    assert rows == {"r0": {}, "r1": {"text": "Hồ sơ của NGUYỄN VĂN A"}}
    async with runtime.sm() as db, db.begin():  # running again does nothing more
        assert await purge(db, now, store=runtime.attachments) == {"outbox_blanked": 0, "files_deleted": 0}

