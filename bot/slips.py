"""The officer chat's slips: every dossier gets “In phiếu” (the slips that exist for the officer's leg, each sent
as a file, bot/slipcopy.py) and, on an overdue leg the officer may write about, “Xin lỗi, hẹn lại ngày trả”: the
new date (a working day after today), the reason, then the letter as a PDF draft to sign (bot/cases/apology.py).
"""
from __future__ import annotations

import asyncio
from datetime import date

from dialogs.forms.slips import SLIP_TITLES, slip_file_name
from dialogs.i18n import N_
from dialogs.messages import NAV_CANCEL, Ask, FileRef, Message
from dialogs.parsing import Invalid, parse_date
from dialogs.textnorm import fold
from storage.models import Dossier

from .cases import ActionRefused, apology, scoped
from .cases.slips import available_slips, reappointed
from .officer_chat.context import OfficerCtx
from .officer_chat.router import officer_chat_of
from .officer_chat.views import show_dossier
from .pipeline import Pipeline
from .slipcopy import MIME, render_slip

# -- the officer chat ------------------------------------------------------------------------------------
STEP_DATE, STEP_REASON = "apology_date", "apology_reason"
PASS_WORDS = {"huy", "/huy", "thoi", "bo", "cancel", "/cancel", "quay lai", "/back", "/hoso", "hoso", "ho so",
              "/hangdoi", "menu", "/menu", "/start", "/cuatoi"}


async def send_slip(ctx: OfficerCtx, code: str, kind: str) -> None:
    """One slip of the officer's leg, as a file."""
    _ = ctx._
    d, leg = await scoped(ctx.db, ctx.officer, code, lock=False)
    pdf = await render_slip(ctx.db, d, leg, kind, calendar=ctx.calendar, now=ctx.now, catalog=ctx.catalog) \
        if kind in SLIP_TITLES and ctx.store is not None else None
    if pdf is None:
        ctx.say(_("Hồ sơ này chưa có phiếu này."), error=True)
    else:
        sha = await asyncio.to_thread(ctx.store.put, pdf)
        ctx.replies.append(Message(_("📄 {slip} — hồ sơ {code}", slip=_(SLIP_TITLES[kind]), code=d.code),
                                   file=FileRef(sha256=sha, name=slip_file_name(d.code, kind),
                                                mime=MIME), dossier=d.code))
    await show_dossier(ctx, d.code, brief=True)


async def list_slips(ctx: OfficerCtx, code: str) -> None:
    """The slips that exist for the officer's leg, one button each."""
    _ = ctx._
    d, leg = await scoped(ctx.db, ctx.officer, code, lock=False)
    kinds = await available_slips(ctx.db, d, leg)
    choices = [(f"slip:{k}:{d.code}", _(SLIP_TITLES[k])) for k in kinds]
    choices.append((f"open:{d.code}", _("Về hồ sơ")))
    ctx.ask(_("Chọn phiếu cần in của hồ sơ {code}:", code=d.code), "officer.slips", choices, keep={"code": d.code})


def ask_date(ctx: OfficerCtx, code: str) -> None:
    ctx.officer.chat_state = {"step": STEP_DATE, "code": code}
    ctx.replies.append(Ask(text=ctx._("Ngày hẹn trả kết quả mới (một ngày làm việc sau hôm nay, ví dụ {example})?",
                                      example=ctx._.date(ctx.calendar.add_workdays(ctx.calendar.today(ctx.now), 2))),
                           procedure=None, field=f"officer.{STEP_DATE}", kind="text", nav=(NAV_CANCEL,)))


def ask_reason(ctx: OfficerCtx, code: str, new_date: str) -> None:
    ctx.officer.chat_state = {"step": STEP_REASON, "code": code, "date": new_date}
    ctx.replies.append(Ask(text=ctx._("Lý do chậm trả kết quả (người dân sẽ đọc lý do này)?"), procedure=None,
                           field=f"officer.{STEP_REASON}", kind="text", nav=(NAV_CANCEL,)))


async def start_apology(ctx: OfficerCtx, code: str) -> None:
    d, leg = await scoped(ctx.db, ctx.officer, code, lock=False)
    apology.check(ctx.officer, leg, ctx.calendar, ctx.now)
    ask_date(ctx, d.code)


async def on_date(ctx: OfficerCtx, code: str, text: str) -> None:
    _ = ctx._
    today = ctx.calendar.today(ctx.now)
    try:
        day = parse_date(text, today=today, prefer_past=False, not_before=today)
        apology.check_date(day, ctx.calendar, ctx.now)
    except Invalid as exc:
        ctx.say(_(str(exc)), error=True)
        return ask_date(ctx, code)
    except ActionRefused as exc:
        ctx.say(exc.text("vi"), error=True)
        return ask_date(ctx, code)
    ask_reason(ctx, code, day.isoformat())


async def on_reason(ctx: OfficerCtx, code: str, new_date: str, text: str) -> None:
    _ = ctx._
    if len(" ".join(text.split())) < 5:
        ctx.say(_("Vui lòng ghi rõ lý do chậm trả kết quả (người dân sẽ đọc lý do này)."), error=True)
        return ask_reason(ctx, code, new_date)
    ev = await apology.apologise(ctx.db, ctx.officer, code, date.fromisoformat(new_date), text, ctx.now,
                                 calendar=ctx.calendar, catalog=ctx.catalog)
    ctx.officer.chat_state = {"code": code}
    ctx.say("✅ " + _("Đã hẹn lại ngày trả kết quả {date} và báo cho người dân. Phiếu xin lỗi dưới đây để trình ký.",
                      date=_.date(date.fromisoformat(new_date))))
    d, leg = await scoped(ctx.db, ctx.officer, code, lock=False)
    pdf = await render_slip(ctx.db, d, leg, "apology", calendar=ctx.calendar, now=ctx.now, catalog=ctx.catalog,
                            ref=ev.id) if ctx.store is not None else None
    if pdf is not None:
        sha = await asyncio.to_thread(ctx.store.put, pdf)
        ctx.replies.append(Message(_("📄 {slip} — hồ sơ {code}", slip=_(SLIP_TITLES["apology"]), code=code),
                                   file=FileRef(sha256=sha, name=slip_file_name(code, "apology"),
                                                mime=MIME), dossier=code))
    await show_dossier(ctx, code, brief=True)


async def slip_step(ctx: OfficerCtx, value: str | None, text: str) -> bool:
    """The officer chat's slip and apology steps; False leaves the message to the chat."""
    st = ctx.state
    if value:
        verb, _sep, arg = value.partition(":")
        if verb == "slips" and arg:
            await list_slips(ctx, arg)
            return True
        if verb == "slip" and arg:
            kind, _sep, code = arg.partition(":")
            await send_slip(ctx, code, kind)
            return True
        if verb == "apology" and arg:
            await start_apology(ctx, arg)
            return True
        return False
    step = st.get("step")
    if step not in (STEP_DATE, STEP_REASON) or not text or fold(text).strip(" .!") in PASS_WORDS:
        return False
    if step == STEP_DATE:
        await on_date(ctx, str(st.get("code")), text)
    else:
        await on_reason(ctx, str(st.get("code")), str(st.get("date")), text)
    return True


async def slip_extra(ctx: OfficerCtx, dossier: Dossier) -> tuple[list[str], list[tuple[str, str]]]:
    """“In phiếu” on every dossier; the apology on an overdue leg; the new date once given."""
    _ = ctx._
    _d, leg = await scoped(ctx.db, ctx.officer, dossier.code, lock=False)
    lines: list[str] = []
    again = await reappointed(ctx.db, dossier, leg)
    if again is not None:
        lines.append(_("🗓 Đã xin lỗi và hẹn lại ngày trả kết quả: {date}.", date=_.date(again)))
    buttons = [(f"slips:{dossier.code}", _(PRINT))] if ctx.store is not None else []
    if apology.can_apologise(ctx.officer, leg, ctx.calendar, ctx.now):
        buttons.append((f"apology:{dossier.code}", _(APOLOGY)))
    return lines, buttons


PRINT = N_("In phiếu")
APOLOGY = N_("Xin lỗi, hẹn lại ngày trả")


def register(pipeline: Pipeline) -> None:
    chat = officer_chat_of(pipeline)
    chat.add_step(slip_step)
    chat.add_dossier_extra(slip_extra)
