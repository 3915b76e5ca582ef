"""The officer's actions as chat steps: pick fields to supplement, type a reason or a result number, pick whom to
reassign to; then the action and the dossier again."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.form import Form
from dialogs.i18n import N_, Translator
from dialogs.messages import NAV_CANCEL, Ask, ChoiceOut
from dialogs.parsing import document_number, match_multi_choice
from dialogs.textnorm import vi_name_key
from storage.models import Dossier, DossierLeg, Officer
from storage.officers_repo import OfficerRepo

from ..cases.actions import (
    approve,
    claim,
    reassign,
    receive,
    reject,
    release,
    request_supplement,
    requestable_fields,
    return_result,
    review,
    scoped,
)
from ..cases.base import ActionRefused, field_label, form_of, officer_actor, refused
from ..cases.links import leg_sections, waiting_title
from .context import OfficerCtx
from .views import reassign_people, show_dossier


async def start_action(ctx: OfficerCtx, action: str, code: str) -> None:
    """The officer chose an action on a dossier: ask what it needs (fields, reason, number, whom) or do it."""
    _ = ctx._
    d, leg = await scoped(ctx.db, ctx.officer, code, lock=False)
    ctx.officer.chat_state = {"code": d.code}
    if action in lc.NEEDS_UPSTREAM:  # a linked dossier's downstream leg: refused before the number is asked
        check_early(ctx.officer, leg, action, await waiting_title(ctx.db, d, leg, ctx.catalog, ctx.calendar))
    if action == lc.REQUEST_SUPPLEMENT:
        check_early(ctx.officer, leg, action)
        options = requestable_fields(d, ctx.catalog, ctx.calendar.today(ctx.now),
                                     leg_sections(d, leg, ctx.catalog, ctx.calendar))
        return ask_fields(ctx, d, options, [])
    if action in (lc.APPROVE, lc.REJECT):
        check_early(ctx.officer, leg, action)
        return await ask_free_text(ctx, "approve_number" if action == lc.APPROVE else "reject_reason", d.code)
    if action == lc.REASSIGN:
        check_early(ctx.officer, leg, action)
        people = await reassign_people(ctx.db, leg, ctx.officer)
        people.sort(key=lambda o: vi_name_key(o.full_name))
        if not people:
            raise ActionRefused(N_("Không có cán bộ nào khác xử lý được hồ sơ ở trạng thái này."), "target")
        ctx.ask(_("Giao hồ sơ {code} cho ai?", code=d.code), "officer.reassign",
                [(f"to:{o.id}", f"{o.full_name} ({_(lc.ROLE_LABELS[o.role])})") for o in people],
                keep={"step": "reassign_pick", "code": d.code})
        return
    if action == lc.RELEASE:  # easy to press by mistake, and the dossier then waits in the common queue
        check_early(ctx.officer, leg, action)
        mine = leg.claimed_by == ctx.officer.id
        question = _("Bỏ nhận xử lý hồ sơ {code}? Hồ sơ sẽ về hàng đợi chung để cán bộ khác nhận.", code=d.code) \
            if mine else _("Bỏ người đang xử lý hồ sơ {code}? Hồ sơ sẽ về hàng đợi chung.", code=d.code)
        ctx.ask(question, "officer.confirm_release", [("yes", _("Đồng ý")), ("no", _("Không"))],
                keep={"step": "confirm_release", "code": d.code})
        return
    return await do_action(ctx, action, d.code)


async def on_confirm_release(ctx: OfficerCtx, value: str | None) -> None:
    """“Đồng ý” releases the claim; “Không” keeps it and shows the dossier; anything else asks again."""
    code = ctx.state["code"]
    if value == "yes":
        return await do_action(ctx, lc.RELEASE, code)
    if value == "no":
        ctx.say(ctx._("Đã giữ nguyên, không bỏ nhận xử lý."))
        return await show_dossier(ctx, code, brief=True)
    ctx.say(ctx._("Chọn “Đồng ý” hoặc “Không”."), error=True)
    await start_action(ctx, lc.RELEASE, code)


def check_early(officer: Officer, leg: DossierLeg, action: str, waiting_for: str | None = None) -> None:
    """Role, status, upstream and claim guards before asking the follow-up questions (reason etc. come later);
    ``waiting_for``: the upstream leg a linked dossier's leg still waits for (bot/cases/links.py)."""
    act = lc.Act(action, officer_actor(officer), reason="x", result_number="x", items=["x"], target=0)
    try:
        lc.check(lc.LegState(leg.status, leg.claimed_by, waiting_for), act)
    except lc.Refused as exc:
        raise refused(exc) from None


def ask_fields(ctx: OfficerCtx, d: Dossier, options: list[str], picked: list[str]) -> None:
    """Ask which fields the citizen must supplement: a multiple choice of the officer's own part's fields, in the
    form's order, each label qualified by its section where needed (Form.label), the sections' numbers in the
    text. Telegram ticks ✅ in place and sends the selection with “Xong”; elsewhere the numbers are typed
    (“1, 3”); a ``sf:<i>`` button toggles one (``picked`` ticked)."""
    _ = ctx._
    form = form_of(d, ctx.catalog)
    choices = [(f"sf:{i}", ("✅ " if p in picked else "") + field_label(form, p, _)) for i, p in enumerate(options)]
    text = _("Chọn các mục người dân cần bổ sung hoặc sửa (chọn được nhiều mục; có thể gõ các số, ví dụ “1, 3”).")
    groups = section_ranges(form, options, _)
    if len(groups) > 1:
        text += "\n" + _("Theo phần: {groups}", groups=" · ".join(groups))
    if picked:
        text += "\n" + _("Đã chọn: {items}", items=", ".join(field_label(form, p, _) for p in picked))
    ctx.officer.chat_state = {"step": "supplement_fields", "code": d.code, "options": options, "picked": picked,
                              "choices": [v for v, _l in choices], "labels": [lab for _v, lab in choices]}
    ctx.replies.append(Ask(text=text, procedure=None, field="officer.supplement_fields", kind="multi_choice",
                           choices=tuple(ChoiceOut(v, lab) for v, lab in choices), multi=True, nav=(NAV_CANCEL,)))


def section_ranges(form: Form | None, paths: list[str], _: Translator) -> list[str]:
    """“Người mất 1–9”, one per run of ``paths`` in the same section (numbered from 1)."""
    out: list[tuple[str, int, int]] = []
    for i, p in enumerate(paths, 1):
        hit = form.lookup(p) if form is not None else None
        title = _(hit[0].title) if hit is not None else ""
        if out and out[-1][0] == title:
            out[-1] = (title, out[-1][1], i)
        else:
            out.append((title, i, i))
    return [f"{t} {a}–{b}" if a != b else f"{t} {a}" for t, a, b in out if t]


async def on_supplement_fields(ctx: OfficerCtx, value: str | None, text: str) -> None:
    """An answer to :func:`ask_fields`: the numbers or labels typed (or sent by Telegram's “Xong”) go on to the
    reason; a button toggles a field, and “sf:done” goes on with the ticked ones."""
    _ = ctx._
    st = ctx.state
    options, picked = list(st.get("options") or []), list(st.get("picked") or [])
    d, _leg = await scoped(ctx.db, ctx.officer, st["code"], lock=False)
    if value == "sf:done":
        if not picked:
            ctx.say(_("Vui lòng chọn ít nhất một mục cần bổ sung."), error=True)
            return ask_fields(ctx, d, options, picked)
        return await ask_free_text(ctx, "supplement_reason", d.code, picked=picked)
    if value and value.startswith("sf:") and value[3:].isdigit() and int(value[3:]) < len(options):
        p = options[int(value[3:])]
        picked = [x for x in picked if x != p] if p in picked else [*picked, p]
        return ask_fields(ctx, d, options, picked)
    if text:
        form = form_of(d, ctx.catalog)
        labelled = [(p, field_label(form, p, _)) for p in options]
        hit = match_multi_choice(text, labelled)
        if hit:
            return await ask_free_text(ctx, "supplement_reason", d.code, picked=hit)
        if hit == []:  # “không”, or Telegram's “Xong” with nothing ticked
            ctx.say(_("Vui lòng chọn ít nhất một mục cần bổ sung."), error=True)
            return ask_fields(ctx, d, options, picked)
    ctx.say(_("Chưa rõ mục nào. Chọn số thứ tự, ví dụ “1, 3”, hoặc gõ “hủy”."), error=True)
    ask_fields(ctx, d, options, picked)


async def ask_free_text(ctx: OfficerCtx, step: str, code: str, picked: list[str] | None = None) -> None:
    """Ask the reason (supplement, reject) or the result number (approve) as free text."""
    _ = ctx._
    if step == "supplement_reason":
        picked = picked if picked is not None else list(ctx.state.get("picked") or [])
        prompt = _("Lý do yêu cầu bổ sung (người dân sẽ đọc lý do này)?")
    elif step == "approve_number":
        prompt = _("Số, ký hiệu văn bản kết quả (ví dụ 123/QĐ-UBND)?")
    else:
        prompt = _("Lý do từ chối (người dân sẽ đọc lý do này)?")
    keep: dict[str, Any] = {"step": step, "code": code}
    if picked is not None:
        keep["picked"] = picked
    ctx.officer.chat_state = keep
    ctx.replies.append(Ask(text=prompt, procedure=None, field=f"officer.{step}", kind="text",
                           nav=(NAV_CANCEL,)))


async def on_free_text(ctx: OfficerCtx, step: str, text: str) -> None:
    """The typed answer to :func:`ask_free_text`: a supplement request is sent; an approval or a rejection, which
    the citizen reads at once and cannot be undone, is first shown back for confirmation."""
    _ = ctx._
    code = ctx.state["code"]
    if step == "supplement_reason":
        return await do_action(ctx, lc.REQUEST_SUPPLEMENT, code, reason=text, items=list(ctx.state.get("picked") or []))
    text = " ".join(text.split())
    if step == "approve_number":
        text = document_number(text)  # (“so 15/2026/GCN”: read back as it is filed)
        if not any(ch.isdigit() for ch in text) or len(text) > 60:
            ctx.say(_("Số, ký hiệu văn bản kết quả cần có chữ số, ví dụ 123/QĐ-UBND."), error=True)
            return await ask_free_text(ctx, step, code)
        question = _("Duyệt hồ sơ {code} với số văn bản kết quả {number}? Người dân sẽ được báo ngay.",
                     code=code, number=text)
    else:
        if len(text) < 5:
            ctx.say(_("Lý do từ chối cần rõ ràng để người dân hiểu, ví dụ “Người mất không thuộc diện hỗ trợ”."),
                    error=True)
            return await ask_free_text(ctx, step, code)
        question = _("Từ chối hồ sơ {code} với lý do: “{reason}”? Người dân sẽ được báo ngay.", code=code, reason=text)
    ctx.ask(question, "officer.confirm", [("yes", _("Đồng ý")), ("fix", _("Sửa"))],
            keep={"step": "confirm", "code": code, "of": step, "text": text})


async def on_confirm(ctx: OfficerCtx, value: str | None) -> None:
    """“Đồng ý” does the approval or rejection shown; “Sửa” asks the number or the reason again."""
    code, of, text = ctx.state["code"], ctx.state["of"], ctx.state["text"]
    if value == "yes":
        if of == "approve_number":
            return await do_action(ctx, lc.APPROVE, code, result_number=text)
        return await do_action(ctx, lc.REJECT, code, reason=text)
    if value == "fix":
        return await ask_free_text(ctx, of, code)
    ctx.say(ctx._("Chọn “Đồng ý” hoặc “Sửa”, hoặc gõ “hủy”."), error=True)
    await on_free_text(ctx, of, text)  # the same question again


async def handed_over(db: AsyncSession, officer: Officer, leg: DossierLeg, action: str) -> str:
    """After ``receive`` or ``approve`` (a msgid with ``{code}``, ``{number}``): where the dossier went, as it is
    in this unit: still with the officer when nobody else could take it up (bot/cases/actions.py's
    keep_claim_if_alone), to the specialists, to the leader, or back to the desk to return the result."""
    if action == lc.APPROVE:
        if leg.claimed_by == officer.id:
            return N_("Đã duyệt hồ sơ {code} (số {number}). Hồ sơ vẫn do bạn giữ để trả kết quả cho người dân.")
        return N_("Đã duyệt hồ sơ {code} (số {number}); hồ sơ chuyển về bộ phận một cửa để trả kết quả.")
    if leg.claimed_by == officer.id:
        return N_("Đã tiếp nhận hồ sơ {code}. Đơn vị chưa có cán bộ khác xử lý bước tiếp theo nên hồ sơ vẫn do bạn "
                  "xử lý. Người dân đã được báo.")
    unit = await OfficerRepo(db).in_scope(leg.agency, leg.commune_code, with_chat=False)
    if any(o.role == lc.SPECIALIST for o in unit):
        return N_("Đã tiếp nhận hồ sơ {code}; hồ sơ chuyển cho công chức chuyên môn. Người dân đã được báo.")
    return N_("Đã tiếp nhận hồ sơ {code}; hồ sơ về hàng đợi của đơn vị để lãnh đạo xử lý tiếp. Người dân đã được "
              "báo.")


async def do_action(ctx: OfficerCtx, action: str, code: str, *, reason: str | None = None,
                    result_number: str | None = None, items: list[str] | None = None,
                    target: int | None = None) -> None:
    """Do ``action`` on the dossier, confirm it, and show the dossier again."""
    _ = ctx._
    db, o, now, cal, cat = ctx.db, ctx.officer, ctx.now, ctx.calendar, ctx.catalog
    ctx.officer.chat_state = {"code": code}
    if action == lc.CLAIM:
        await claim(db, o, code, now, calendar=cal)
        done = _("Bạn đã nhận xử lý hồ sơ {code}.", code=code)
    elif action == lc.RELEASE:
        await release(db, o, code, now, calendar=cal)
        done = _("Đã bỏ nhận xử lý hồ sơ {code}; hồ sơ về hàng đợi chung.", code=code)
    elif action == lc.RECEIVE:
        leg = await receive(db, o, code, now, calendar=cal, catalog=cat)
        done = _(await handed_over(db, o, leg, action), code=code)
    elif action == lc.REVIEW:
        await review(db, o, code, now, calendar=cal, catalog=cat)
        done = _("Đã chuyển hồ sơ {code} sang “đang xem xét”. Người dân đã được báo.", code=code)
    elif action == lc.REQUEST_SUPPLEMENT:
        await request_supplement(db, o, code, items or [], reason or "", now, calendar=cal, catalog=cat)
        done = _("Đã gửi yêu cầu bổ sung cho người dân; thời hạn tạm dừng đến khi họ bổ sung. Bạn sẽ được báo khi "
                 "có phần bổ sung.")
    elif action == lc.APPROVE:
        leg = await approve(db, o, code, result_number or "", now, calendar=cal, catalog=cat)
        done = _(await handed_over(db, o, leg, action), code=code, number=(result_number or "").strip())
    elif action == lc.REJECT:
        await reject(db, o, code, reason or "", now, calendar=cal, catalog=cat)
        done = _("Đã từ chối hồ sơ {code}. Người dân đã được báo lý do.", code=code)
    elif action == lc.RETURN_RESULT:
        await return_result(db, o, code, now, calendar=cal, catalog=cat)
        done = _("Đã trả kết quả hồ sơ {code}. Người dân đã được báo và mời đánh giá.", code=code)
    elif action == lc.REASSIGN:
        await reassign(db, o, code, int(target or 0), now, calendar=cal)
        done = _("Đã giao lại hồ sơ {code}.", code=code)
    else:  # pragma: no cover
        raise ActionRefused(N_("Thao tác không hợp lệ."))
    ctx.say("✅ " + done)
    await show_dossier(ctx, code, brief=True)
