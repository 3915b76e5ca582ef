"""What an officer reads: the queue, a dossier (summary, answers, files, history) and its buttons."""
from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.form import follows
from dialogs.forms.render import has_form
from dialogs.i18n import N_, Translator
from dialogs.kinds import display
from dialogs.messages import FileRef, Message
from dialogs.workdays import WorkCalendar
from storage.models import Dossier, DossierEvent, DossierLeg, Officer, SupplementRequest
from storage.officers_repo import OfficerRepo, SupplementRepo

from ..cases import search
from ..cases.actions import scoped
from ..cases.base import field_label, form_of, proc_title, subject_text, unit_text, value_text
from ..cases.deadlines import days_left, effective_due
from ..cases.links import Part, leg_forms, leg_sections, part_of, parts
from ..formcopy import render_form
from .context import ACTION_CHOICE, OfficerCtx

PAGE_SIZE = 10
#: the filter buttons under the queue, in this order (the current filter is left out)
FILTER_BUTTONS = ("mine", "overdue", "due_today", "waiting", "open")
FILTER_HEADS = {"open": N_("Hàng đợi của {unit}"), "mine": N_("Hồ sơ bạn đang xử lý"),
                "unclaimed": N_("Hồ sơ chưa ai nhận"), "due_today": N_("Hồ sơ hạn hôm nay"),
                "overdue": N_("Hồ sơ quá hạn"), "waiting": N_("Hồ sơ chờ người dân bổ sung"),
                "all": N_("Mọi hồ sơ của {unit}")}
FILTER_EMPTY = {"open": N_("Không có hồ sơ nào đang chờ xử lý."), "mine": N_("Bạn chưa nhận xử lý hồ sơ nào."),
                "overdue": N_("Không có hồ sơ nào quá hạn."), "due_today": N_("Không có hồ sơ nào hạn hôm nay."),
                "waiting": N_("Không có hồ sơ nào đang chờ người dân bổ sung.")}
TITLE_CHARS = 40


def _short(text: str, n: int = TITLE_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip(" ,–-") + "…"


async def show_queue(ctx: OfficerCtx, mine: bool = False, *, f: str | None = None, page: int = 1,
                     q: str = "") -> None:
    """A page of the officer's queue under a filter (open legs; their own with ``mine``), or the dossiers a search
    finds: two short lines a dossier, a button each, pages, and the filters as buttons.

    A search term is never put in a button's data or the chat's state: its results fit one page, or the officer
    types more to narrow them."""
    _ = ctx._
    f = f or ("mine" if mine else "open")
    rows = await search.find(ctx.db, ctx.officer, f=f, q=q, calendar=ctx.calendar, now=ctx.now)
    unit = unit_text(ctx.officer.agency, ctx.officer.commune_code, _)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, page), pages) if not q else 1
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    names = await officer_names(ctx.db, {leg.claimed_by for leg, _d in shown if leg.claimed_by})
    if not rows:
        ctx.say(_("Không tìm thấy hồ sơ nào khớp. Gõ mã hồ sơ, họ tên, số điện thoại hoặc số CCCD.") if q else
                _(FILTER_EMPTY.get(f, FILTER_EMPTY["open"])))
    else:
        if q:
            head = _("Kết quả tìm kiếm ({n} hồ sơ):", n=len(rows))
        else:
            head = _(FILTER_HEADS[f], unit=unit) + ": " + _("{n} hồ sơ", n=len(rows))
            if pages > 1:
                head += " · " + _("trang {page}/{pages}", page=page, pages=pages)
        lines = [head]
        for i, (leg, d) in enumerate(shown, 1):
            due = effective_due(leg, ctx.calendar, ctx.now)
            cls = ctx.calendar.classify(due, None, ctx.now) if leg.status in lc.CLOCK_RUNNING else None
            flag = "⚠️ " if cls == "overdue" else "⏰ " if cls == "due_soon" else ""
            who = names.get(leg.claimed_by) if leg.claimed_by else _("chưa ai nhận")
            if leg.claimed_by == ctx.officer.id:
                who = _("bạn")
            part = part_of(await parts(ctx.db, d, ctx.catalog, ctx.calendar), leg)
            title = _(part.title) if part is not None and part.title else proc_title(d, _, ctx.catalog)
            state = _(lc.STATUS_LABELS[leg.status])
            if part is not None and part.waits_for and leg.status not in lc.CLOSED:
                state += " · " + _("chờ “{part}”", part=_(part.waits_for))
            lines.append(_("{i}. {flag}{code} · {name}", i=i, flag=flag, code=d.code,
                           name=d.applicant_name or _("(chưa rõ)")))
            lines.append("    " + _("{title} · {status} · hạn {due} ({left}) · {who}", title=_short(title),
                                    status=state, due=_.date(due), left=left_text(days_left(due, ctx.calendar,
                                                                                             ctx.now), leg, _),
                                    who=who))
        if q and len(rows) > PAGE_SIZE:
            lines.append(_("… và {n} hồ sơ khác. Gõ thêm để thu hẹp kết quả.", n=len(rows) - PAGE_SIZE))
        ctx.say("\n".join(lines))
    choices = [(f"open:{d.code}", d.code) for _leg, d in shown]
    if not q and page > 1:
        choices.append((f"queue:{f}:{page - 1}", _("◀ Trang trước")))
    if not q and page < pages:
        choices.append((f"queue:{f}:{page + 1}", _("Trang sau ▶")))
    for key in FILTER_BUTTONS:
        if key != f or q:
            label = _("Cả hàng đợi") if key == "open" else _(dict(search.FILTERS)[key])
            choices.append((f"queue:{key}:1", label))
    ctx.ask(_("Chọn hồ sơ để xem, gõ mã hồ sơ, hoặc gõ họ tên, số điện thoại, số CCCD để tìm."), "officer.queue",
            choices)


def left_text(left: int | None, leg: DossierLeg, _: Translator) -> str:
    """Days left on a leg as people read it (finished, paused, overdue, today, n days; nothing when unknown),
    in the chat and on the web desk."""
    if leg.status in lc.CLOSED:
        return _(TIMELINESS.get(leg.timeliness or "", N_("đã kết thúc")))
    if leg.status == lc.NEEDS_SUPPLEMENT:
        return _("tạm dừng, chờ bổ sung")
    if left is None:
        return ""
    if left < 0:
        return _("quá hạn {n} ngày", n=-left)
    if left == 0:
        return _("hạn hôm nay")
    return _("còn {n} ngày", n=left)


async def officer_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Officers' full names by id."""
    if not ids:
        return {}
    rows = (await db.execute(select(Officer.id, Officer.full_name).where(Officer.id.in_(list(ids))))).all()
    return {i: n for i, n in rows}


def dossier_summary(dossier: Dossier, leg: DossierLeg, *, calendar: WorkCalendar, now: datetime, _: Translator,
                    catalog: Catalog | None = None, claimant: str | None = None,
                    supplement: SupplementRequest | None = None, events: list[DossierEvent] | None = None,
                    brief: bool = False, legs: list[Part] | None = None) -> str:
    """A dossier as an officer reads it: status and clock, every part of a linked dossier (status, result number,
    what it waits for), answers with their labels, attachments, the last supplement request (and what changed),
    recent history."""
    form = form_of(dossier, catalog)
    due = effective_due(leg, calendar, now)
    lines = [f"📄 {dossier.code} — {proc_title(dossier, _, catalog)}",
             _("Người đứng tên: {name} · nộp lúc {at}", name=dossier.applicant_name or _("(chưa rõ)"),
               at=calendar.to_local(dossier.submitted_at).strftime("%H:%M %d/%m/%Y"))
             + (f"\n{about}" if (about := subject_text(dossier, _, catalog)) else "")
            + ("\n" + _("↪ Nối tiếp hồ sơ {code}", code=src) if (src := follows(dossier.answers or {})) else ""),
             _("Trạng thái: {status} · hạn {due} ({left})", status=_(lc.STATUS_LABELS[leg.status]), due=_.date(due),
               left=left_text(days_left(due, calendar, now), leg, _) if leg.status not in lc.CLOSED
               else _(TIMELINESS.get(leg.timeliness or "", N_("đã kết thúc")))),
             _("Người xử lý: {who}", who=claimant or _("chưa ai nhận"))]
    if leg.result_number:
        lines.append(_("Số văn bản kết quả: {n}", n=leg.result_number))
    lines += parts_lines(leg, legs or [], _)
    if supplement is not None:
        labels = ", ".join(field_label(form, p, _) for p in supplement.fields)
        if supplement.status == "open":
            lines.append(_("⏳ Đang chờ người dân bổ sung: {items}. Lý do: {reason}", items=labels,
                           reason=supplement.reason))
        elif supplement.status == "answered" and supplement.changes is not None:
            lines.append(_("📎 Người dân đã bổ sung ({at}):", at=calendar.to_local(supplement.answered_at)
                           .strftime("%H:%M %d/%m/%Y") if supplement.answered_at else ""))
            if supplement.changes:
                for p, c in supplement.changes.items():
                    lines.append(f"  • {field_label(form, p, _)}: {value_text(form, p, c.get('before'), _)} → "
                                 f"{value_text(form, p, c.get('after'), _)}")
            else:
                lines.append("  " + _("(Người dân không thay đổi mục nào.)"))
    if brief:
        return "\n".join(lines)
    answers = dossier.answers or {}
    current = None
    own = leg_sections(dossier, leg, catalog, calendar)  # a linked dossier's part sees its own sections only
    if form is not None:
        if own is not None:
            lines.append(_("(Chỉ hiện thông tin mà phần việc của bạn sử dụng.)"))
        for slot in form.slots(answers, calendar.today(now)):
            if slot.synthetic or slot.path not in answers or slot.field.kind == "attachment":
                continue
            if own is not None and slot.section.id not in own:
                continue
            title = _(slot.section.title)
            if slot.index is not None and slot.section.repeat is not None:
                title += f" — {_(slot.section.repeat.item_label)} {slot.index + 1}"
            if title != current:
                lines.append(f"【{title}】")
                current = title
            shown = display(slot.field, answers[slot.path], _)
            if leg.agency != dossier.agency and slot.field.kind == "bank_account":
                shown = "•••• " + str(answers[slot.path])[-4:]  # another agency's leg (police) needs no account
            lines.append(f"• {_(slot.field.summary_label)}: {shown}")
    files = [(p, v) for p, v in answers.items()
             if form is not None and getattr(form.field(p), "kind", None) == "attachment" and isinstance(v, list)]
    if files:
        lines.append(_("【Tệp đính kèm】"))
        for p, v in files:
            for a in v:
                if isinstance(a, dict):
                    lines.append(f"• {field_label(form, p, _)}: {a.get('name') or _('(không tên)')} "
                                 f"({a.get('mime', '?')}, {max(1, int(a.get('size', 0)) // 1024)} KB, "
                                 f"{str(a.get('sha256', ''))[:12]})")
    if events:
        lines.append(_("【Lịch sử】"))
        for e in events[-6:]:
            label = lc.event_label(e.action)
            what = _(label) if label else _(lc.STATUS_LABELS.get(e.to_status, e.to_status))
            detail = " · ".join(x for x in (e.reason, _("số {n}", n=(e.data or {}).get("result_number"))
                                            if (e.data or {}).get("result_number") else None) if x)
            lines.append(f"• {calendar.to_local(e.at).strftime('%H:%M %d/%m')} {what} — "
                         f"{_(lc.ROLE_LABELS.get(e.role, e.role))}" + (f": {detail}" if detail else ""))
    return "\n".join(lines)


def parts_lines(leg: DossierLeg, legs: list[Part], _: Translator) -> list[str]:
    """A linked dossier's parts as every agency reads them: each part's agency, status and result number, what it
    waits for; then what this officer's part waits for, or the upstream result it has received."""
    if len(legs) < 2:
        return []
    out = [_("【Các phần việc liên thông】")]
    for p in legs:
        x = p.leg
        line = f"• {_(p.title) if p.title else x.seq} — {_(lc.AGENCY_LABELS.get(x.agency, x.agency))}: " \
               f"{_(lc.STATUS_LABELS[x.status])}"
        if x.result_number:
            line += " · " + _("số {n}", n=x.result_number)
        if p.waits_for and x.status not in lc.CLOSED:
            line += " · " + _("chờ kết quả “{part}”", part=_(p.waits_for))
        if x.id == leg.id:
            line += " " + _("(phần của bạn)")
        out.append(line)
    mine = part_of(legs, leg)
    if mine is not None and leg.status not in lc.CLOSED:
        if mine.waits_for:
            out.append(_("⏳ Phần việc này chờ kết quả “{part}”: chỉ duyệt và trả kết quả được khi đã có kết quả.",
                         part=_(mine.waits_for)))
        for title, number in mine.upstream:
            out.append(_("📌 Đã có kết quả “{part}” số {number}, có thể xử lý.", part=_(title), number=number))
    return out


TIMELINESS = {"early": N_("xong trước hạn"), "on_time": N_("xong đúng hạn"), "late": N_("xong trễ hạn")}


async def show_dossier(ctx: OfficerCtx, code: str, brief: bool = False) -> None:
    """A dossier as the officer reads it, with the plug-ins' lines and the actions the officer may take."""
    _ = ctx._
    d, leg = await scoped(ctx.db, ctx.officer, code, lock=False)
    names = await officer_names(ctx.db, {leg.claimed_by} if leg.claimed_by else set())
    supp = await SupplementRepo(ctx.db).latest_for_leg(leg.id)
    events = list((await ctx.db.execute(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                                        .order_by(DossierEvent.id))).scalars())
    claimant = names.get(leg.claimed_by) if leg.claimed_by else None
    legs = await parts(ctx.db, d, ctx.catalog, ctx.calendar)
    ctx.say(dossier_summary(d, leg, calendar=ctx.calendar, now=ctx.now, _=_, catalog=ctx.catalog,
                            claimant=claimant, supplement=supp, events=events, brief=brief, legs=legs),
            dossier=d.code)
    choices: list[tuple[str, str]] = []
    for extra in ctx.plugins.dossier_extras:  # e.g. the identity check's outcome, and its button for the police
        lines, more = await extra(ctx, d)
        for line in lines:
            ctx.say(line, dossier=d.code)
        choices += more
    mine = part_of(legs, leg)
    for action in available_actions(ctx.officer, leg, waiting=mine is not None and mine.waits_for is not None):
        if action == lc.REASSIGN and not await reassign_people(ctx.db, leg, ctx.officer):
            continue  # a unit with one leader: nobody to give it to
        choices.append((f"{ACTION_CHOICE[action]}:{d.code}", _(lc.ACTION_LABELS[action])))
    if ctx.store is not None:
        choices.append((f"files:{d.code}", _("Xem tệp và tờ khai")))
    choices.append(("queue", _("Về danh sách hồ sơ")))
    if len(choices) == 1 + (ctx.store is not None):
        prompt = _("Hồ sơ này hiện không có thao tác nào dành cho bạn.")
    else:
        prompt = _("Bạn muốn làm gì với hồ sơ này?")
    numbered = action_numbers(choices)
    ctx.ask(prompt, "officer.dossier", [c for c, _n in numbered], keep={"code": d.code},
            numbers=[n for _c, n in numbered])


#: the number each action of a dossier's menu always has, whatever else is offered (“5” is always “Duyệt”);
#: the way back is 0, and what plug-ins add (checks, slips) follows from 20 in their order
ACTION_NUMBERS = {"claim": 1, "receive": 2, "review": 3, "supplement": 4, "approve": 5, "reject": 6,
                  "return": 7, "release": 8, "reassign": 9, "files": 10, "slips": 11, "apology": 12, "queue": 0}


def action_numbers(choices: list[tuple[str, str]]) -> list[tuple[tuple[str, str], int]]:
    """The menu's choices with their fixed numbers, in that order (the way back, 0, last)."""
    extra = iter(range(20, 100))
    numbered = [(c, ACTION_NUMBERS.get(c[0].split(":", 1)[0], -1)) for c in choices]
    numbered = [(c, n if n >= 0 else next(extra)) for c, n in numbered]
    return sorted(numbered, key=lambda cn: (cn[1] == 0, cn[1]))


async def send_files(ctx: OfficerCtx, code: str) -> None:
    """The dossier's attachments and its filled official form (PDF), as files the channel can send."""
    _ = ctx._
    d, leg = await scoped(ctx.db, ctx.officer, code, lock=False)
    form = form_of(d, ctx.catalog)
    sent = 0
    for path, value in (d.answers or {}).items():
        f = form.field(path) if form is not None else None
        if f is None or f.kind != "attachment" or not isinstance(value, list):
            continue
        for k, a in enumerate(value, 1):
            if not isinstance(a, dict) or not a.get("sha256"):
                continue
            ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(a.get("mime", ""), "bin")
            ref = FileRef(sha256=a["sha256"], name=a.get("name") or f"{d.code}-{k}.{ext}",
                          mime=a.get("mime") or "application/octet-stream")
            ctx.replies.append(Message(f"📎 {field_label(form, path, _)} ({k})", file=ref, dossier=d.code))
            sent += 1
    linked = leg_forms(d, leg, ctx.catalog, ctx.calendar)
    if linked is not None:  # a linked dossier: the forms of this officer's own part (legs[].forms)
        part, templates = linked
        part_s = _(part) if part else ""
        for tpl in templates:
            # rendered in the worker process, off the event loop (bot/workers.py)
            pdf = await render_form(d.procedure_id, d.answers or {}, submitted_at=d.submitted_at, code=d.code,
                                    template=tpl)
            sha = await asyncio.to_thread(ctx.store.put, pdf)
            ctx.replies.append(Message(_("📄 Tờ khai phần “{part}” của hồ sơ {code}", part=part_s, code=d.code),
                                       file=FileRef(sha256=sha, name=f"{d.code}-{tpl}.pdf",
                                                    mime="application/pdf"), dossier=d.code))
            sent += 1
        if not templates:
            ctx.say(_("Phần “{part}” không có mẫu tờ khai riêng; xem các câu trả lời và giấy tờ của hồ sơ.",
                      part=part_s), dossier=d.code)
    elif has_form(d.procedure_id):
        pdf = await render_form(d.procedure_id, d.answers or {}, submitted_at=d.submitted_at, code=d.code)
        sha = await asyncio.to_thread(ctx.store.put, pdf)
        ctx.replies.append(Message(_("📄 Tờ khai của hồ sơ {code}", code=d.code),
                                   file=FileRef(sha256=sha, name=f"{d.code}.pdf",
                                                mime="application/pdf"), dossier=d.code))
        sent += 1
    if not sent and linked is None:
        ctx.say(_("Hồ sơ này không có tệp đính kèm."))
    await show_dossier(ctx, d.code, brief=True)


async def reassign_people(db: AsyncSession, leg: DossierLeg, leader: Officer) -> list[Officer]:
    """Whom ``leader`` may give the leg to: whoever of the unit can take it up in its status (waiting for the
    citizen: once it is supplemented), except its holder and the leader themself (who just “Nhận xử lý”)."""
    status = lc.RESUBMITTED if leg.status == lc.NEEDS_SUPPLEMENT else leg.status
    return [o for o in await OfficerRepo(db).in_scope(leg.agency, leg.commune_code, with_chat=False)
            if lc.allowed(o.role, lc.CLAIM, status) and o.id not in (leg.claimed_by, leader.id)]


def available_actions(officer: Officer, leg: DossierLeg, waiting: bool = False) -> list[str]:
    """The buttons to offer: the role table, narrowed by the claim and, for a leg ``waiting`` for its upstream
    leg's result, without approving or returning a result (they would be refused)."""
    mine = leg.claimed_by == officer.id
    out: list[str] = []
    if leg.claimed_by is None and lc.allowed(officer.role, lc.CLAIM, leg.status):
        out.append(lc.CLAIM)
    if mine:
        out += [a for a in lc.STATUS_ACTIONS if a in lc.NEEDS_CLAIM and lc.allowed(officer.role, a, leg.status)
                and not (waiting and a in lc.NEEDS_UPSTREAM)]
    if (mine or (officer.role == lc.LEADER and leg.claimed_by is not None)) and \
            lc.allowed(officer.role, lc.RELEASE, leg.status):
        out.append(lc.RELEASE)
    if lc.allowed(officer.role, lc.REASSIGN, leg.status):
        out.append(lc.REASSIGN)
    return out
