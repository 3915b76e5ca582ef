"""The data subject's rights from the chat (Personal Data Protection Law 91/2025/QH15, in force 01/01/2026):

* ``/dulieu`` — what we hold about this chat and the people it filed for: drafts (with how many answers and
  files), submitted dossiers (code, procedure, in whose name), linked chats; the answers themselves are shown
  at each draft's review step, not echoed here;
* ``/xoadulieu`` — says what would be deleted and what is kept and why, then ``/xoadulieu đồng ý`` deletes the
  drafts (and the files nothing else uses), the conversation's state, this chat's link to other chats and its
  stored updates, and blanks the texts of notifications already delivered. Submitted dossiers are kept for the
  records period the law sets; the officers handling them still need them.

Both are recorded in the audit log (``storage/audit_models.py``) with counts only. A pipeline handler at
``PLUGINS - 5``: after officers and account commands, before the citizen's conversation.
"""
from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import translator
from dialogs.messages import Message, Reply
from dialogs.textnorm import fold
from storage.account_models import AccountIdentity, AccountLinkCode
from storage.audit_models import AuditEntry
from storage.channel_models import TelegramUpdate
from storage.db import rowcount
from storage.models import Attachment, Conversation, DraftRow, OutboxMessage
from storage.officers_repo import LegRepo

from .accounts import account_of, identities
from .pipeline import PASS, PLUGINS, Pass, Pipeline, Turn
from .reminders import attachment_digests

VIEW = ("/dulieu", "/du_lieu")
ERASE = ("/xoadulieu", "/xoa_du_lieu")
CONFIRM_WORDS = ("dong y", "xac nhan", "co", "ok", "yes")


def register(pipeline: Pipeline) -> None:
    pipeline.add(privacy_handler, name="privacy", order=PLUGINS - 5)


def _command(text: str) -> tuple[str, str] | None:
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return None
    head = parts[0].lower().split("@", 1)[0]
    arg = parts[1] if len(parts) > 1 else ""
    if head in VIEW:
        return "view", arg
    if head in ERASE:
        return "erase", arg
    return None


async def privacy_handler(turn: Turn) -> list[Reply] | Pass:
    msg = turn.message
    if turn.start or msg.file is not None or msg.files or not (msg.text or "").startswith("/"):
        return PASS
    cmd = _command(msg.text or "")
    if cmd is None:
        return PASS
    what, arg = cmd
    session = await turn.load_session()
    _ = translator(session.lang or "vi")
    key = turn.conv_key or turn.user_key
    if what == "view":
        text = await _holdings_text(turn.db, turn.user_key, key, turn.runtime, _)
        await _audit(turn, "privacy.view", {})
        return [Message(text), turn.runtime.engine.safe_prompt(session)]
    if fold(arg).strip(" .!") not in CONFIRM_WORDS:
        return [Message(_(
            "Gõ “/xoadulieu đồng ý” để xóa:\n• các hồ sơ đang khai dở và ảnh đã gửi kèm;\n• chỗ bạn đang khai, ngôn "
            "ngữ, cài đặt nhắc nhở;\n• liên kết của cuộc trò chuyện này với Zalo/Telegram khác;\n• nội dung các tin "
            "đã gửi cho bạn.\nĐược giữ lại: hồ sơ đã nộp (cơ quan đang giải quyết hoặc phải lưu trữ theo thời hạn "
            "pháp luật quy định) và nhật ký ghi nhận yêu cầu xóa này.")), turn.runtime.engine.safe_prompt(session)]
    counts = await _erase(turn.db, turn.user_key, key, turn.runtime)
    await _audit(turn, "privacy.erase", counts)
    turn.session = None  # the conversation starts over: a fresh session, greeting and menu
    session = await turn.load_session()
    replies: list[Reply] = [Message(_(
        "Đã xóa dữ liệu của bạn: {drafts} hồ sơ đang khai, {files} tệp ảnh, {links} liên kết. Hồ sơ đã nộp "
        "({dossiers}) được giữ lại theo quy định.", drafts=counts["drafts"], files=counts["files"],
        links=counts["links"], dossiers=counts["dossiers_kept"]))]
    replies += turn.runtime.engine.start(session).replies
    return replies


async def _audit(turn: Turn, action: str, details: dict[str, Any]) -> None:
    turn.db.add(AuditEntry(at=turn.now, actor_key=turn.user_key, action=action, details=details))


async def _holdings_text(db: AsyncSession, user_key: str, key: str, runtime: Any, _: Any) -> str:
    drafts = list((await db.execute(select(DraftRow).where(DraftRow.user_key == key))).scalars())
    dossiers = await LegRepo(db).for_citizen(key)
    if key != user_key:
        dossiers += [d for d in await LegRepo(db).for_citizen(user_key) if d not in dossiers]
    lines = [_("Dữ liệu Trợ lý đang lưu về cuộc trò chuyện này:")]
    if drafts:
        lines.append(_("Hồ sơ đang khai dở:"))
        for d in drafts:
            title = _(runtime.catalog.get(d.procedure_id).title) if d.procedure_id in runtime.catalog.procedures \
                else d.procedure_id
            lines.append(_("• {title}: {n} câu trả lời, {files} ảnh/tệp", title=title, n=len(d.answers or {}),
                           files=len(attachment_digests(d.answers))))
    else:
        lines.append(_("Không có hồ sơ đang khai dở."))
    if dossiers:
        lines.append(_("Hồ sơ đã nộp (người đứng tên):"))
        for dossier in dossiers:
            title = _(runtime.catalog.get(dossier.procedure_id).title) \
                if dossier.procedure_id in runtime.catalog.procedures else dossier.procedure_id
            lines.append(f"• {dossier.code} — {title} — {dossier.applicant_name or '-'}")
    else:
        lines.append(_("Không có hồ sơ đã nộp."))
    account = await account_of(db, user_key)
    links = await identities(db, account.id) if account is not None else []
    others = sorted({k.split(":", 1)[0] for k in links if k != user_key})
    if others:
        lines.append(_("Liên kết với: {chats}", chats=", ".join(others)))
    lines.append(_("Từng câu trả lời của hồ sơ đang khai xem ở bước “Xem lại”. Gõ “/xoadulieu” để xóa dữ liệu "
                   "không còn cần."))
    return "\n".join(lines)


async def _erase(db: AsyncSession, user_key: str, key: str, runtime: Any) -> dict[str, int]:
    drafts = list((await db.execute(select(DraftRow).where(DraftRow.user_key == key))).scalars())
    shas: set[str] = set()
    for d in drafts:
        shas |= attachment_digests(d.answers)
    for (data,) in (await db.execute(select(Conversation.data).where(Conversation.user_key == key))).all():
        shas |= attachment_digests(data)  # files received for a question not answered yet
    await db.execute(delete(DraftRow).where(DraftRow.user_key == key))
    await db.execute(delete(Conversation).where(Conversation.user_key.in_({key, user_key})))
    kept = set((await db.execute(select(Attachment.sha256).where(Attachment.sha256.in_(shas)))).scalars()) \
        if shas else set()
    files = await asyncio.to_thread(runtime.attachments.delete_many, shas - kept)
    links = rowcount(await db.execute(delete(AccountIdentity).where(AccountIdentity.user_key == user_key)))
    await db.execute(delete(AccountLinkCode).where(AccountLinkCode.user_key == user_key))
    await db.execute(delete(TelegramUpdate).where(TelegramUpdate.chat_key == user_key,
                                                  TelegramUpdate.status != "pending"))
    await db.execute(update(OutboxMessage).where(OutboxMessage.chat_key == user_key,
                                                 OutboxMessage.status == "delivered").values(payload={}))
    dossiers = len(await LegRepo(db).for_citizen(key))
    return {"drafts": len(drafts), "files": files, "links": int(links), "dossiers_kept": dossiers}
