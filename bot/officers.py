"""Dossier lifecycle backend: legs and deadlines, officer actions, citizen notifications, the officer chat.

Everything here runs inside the caller's open transaction (an ``AsyncSession``)
and never commits. A status change, its audit event and the notifications it
causes (rows in the outbox, delivered later by bot/notifier.py) are written
together, so either all of them happen or none.

Entry points
------------
* citizen side (called by the runtime and the dialog engine):
  :func:`on_submitted`, :func:`open_supplement_requests`, :func:`resubmit`,
  :func:`citizen_dossiers`, :func:`rate`, :func:`withdraw`, :func:`link_chat`;
* officers: :func:`add_officer`, :func:`redeem_invite`, :func:`officer_for`,
  the actions :func:`claim`, :func:`release`, :func:`receive`, :func:`review`,
  :func:`request_supplement`, :func:`approve`, :func:`reject`,
  :func:`return_result`, :func:`reassign`, the queue :func:`queue`, and the chat
  :func:`handle_officer_message` (channel-agnostic ``Message``/``Ask`` replies);
* the daily scan :func:`scan_deadlines` (due tomorrow / overdue pushes).

Refusals raise :class:`ActionRefused` with a Vietnamese message (a gettext msgid).
See docs/lifecycle.md.
"""
from __future__ import annotations

import copy
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.codes import ALPHABET, find_code, normalise_code
from dialogs.form import Form
from dialogs.i18n import N_, Translator, translator
from dialogs.kinds import display
from dialogs.messages import NAV_CANCEL, Ask, ChoiceOut, Incoming, Message, Reply
from dialogs.parsing import match_choice, match_multi_choice
from dialogs.textnorm import fold
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.models import Attachment, Dossier, DossierEvent, DossierLeg, Officer, Rating, SupplementRequest
from storage.repo import DossierRepo
from storage.officers_repo import (
    CitizenRepo, LegRepo, OfficerRepo, OutboxRepo, SupplementRepo, person_key, secret_hash,
)

log = logging.getLogger("dvcbot.officers")

INVITE_PREFIX = "CANBO"
INVITE_LEN = 10  # Crockford base32 symbols: 50 random bits
INVITE_VALID_DAYS = 14
QUEUE_BUTTONS = 20


class ActionRefused(Exception):
    """An action that is not allowed; ``message`` is a Vietnamese gettext msgid formatted with ``params``."""

    def __init__(self, message: str, code: str = "refused", /, **params: Any):
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.code = code
        self.params = params

    def text(self, lang: str = "vi") -> str:
        _ = translator(lang)
        return _(self.message, **{k: _(v) if isinstance(v, str) else v for k, v in self.params.items()})


def _refused(exc: lc.Refused) -> ActionRefused:
    return ActionRefused(exc.message, exc.code, **exc.params)


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return Catalog.load()


def _cat(catalog: Catalog | None) -> Catalog:
    return catalog or _default_catalog()


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=DEFAULT_CALENDAR.tz)
    return dt.astimezone(timezone.utc)


# =============================================================================================
# deadlines
# =============================================================================================
def _pauses(leg: DossierLeg) -> list[tuple[datetime, datetime | None]]:
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None) for a, b in (leg.pauses or [])]


def base_due(leg: DossierLeg, calendar: WorkCalendar) -> date:
    return calendar.due_date(leg.started_at, leg.processing_days)


def effective_due(leg: DossierLeg, calendar: WorkCalendar, now: datetime) -> date:
    """The leg's due date now: closed pauses are in ``leg.due_date``; an open pause counts until ``now``."""
    if leg.paused_since is None:
        return leg.due_date
    pauses = _pauses(leg) + [(leg.paused_since, None)]
    return calendar.due_date_with_pauses(leg.started_at, leg.processing_days, pauses, now)


def days_left(due: date, calendar: WorkCalendar, now: datetime) -> int:
    """Working days from today to the due day: 0 on the day, negative once late."""
    today = calendar.today(now)
    if due >= today:
        return calendar.workdays_between(today, due)
    return -max(1, calendar.workdays_between(due, today))


def deadline_class(leg: DossierLeg, calendar: WorkCalendar, now: datetime) -> str:
    """early / on_time / late for a closed leg; overdue / due_soon / in_time for an open one."""
    if leg.status in lc.CLOSED:
        return leg.timeliness or "withdrawn"
    return calendar.classify(effective_due(leg, calendar, now), None, now)


def _dossier_due(legs: list[DossierLeg], calendar: WorkCalendar, now: datetime) -> date | None:
    return max((effective_due(leg, calendar, now) for leg in legs), default=None)


# =============================================================================================
# notifications (outbox rows, rendered now in the recipient's language)
# =============================================================================================
async def _enqueue(db: AsyncSession, chat_key: str, kind: str, dedupe: str, text: str, now: datetime, *,
                   dossier_id: int | None = None, choices: Iterable[tuple[str, str]] = ()) -> bool:
    payload: dict[str, Any] = {"text": text}
    ch = [{"value": v, "label": lab} for v, lab in choices]
    if ch:
        payload["choices"] = ch
    return await OutboxRepo(db).enqueue(chat_key=chat_key, kind=kind, dedupe_key=dedupe, payload=payload,
                                        now=now, dossier_id=dossier_id)


async def citizen_chats(db: AsyncSession, dossier: Dossier) -> list[str]:
    """Who hears about a dossier: the chat that filed it (perhaps a volunteer's), the applicant's own chat
    if known, and any chat linked to the applicant's ID number."""
    out = [dossier.submitter_key]
    if dossier.applicant_key:
        out.append(dossier.applicant_key)
    pkey = _applicant_person_key(dossier)
    if pkey:
        out += await CitizenRepo(db).chats_of_person(pkey)
    seen: list[str] = []
    for k in out:
        if k and k not in seen:
            seen.append(k)
    from . import accounts  # issue #8: a linked person's notifications go to their preferred chat
    return await accounts.notify_keys(db, seen)


def _applicant_person_key(dossier: Dossier, catalog: Catalog | None = None) -> str | None:
    answers = dossier.answers or {}
    cat = _cat(catalog)
    prefixes: list[str] = []
    if dossier.procedure_id in cat.procedures:
        prefixes = [p.rsplit(".", 1)[0] for p in cat.get(dossier.procedure_id).applicant_name_fields if "." in p]
    for prefix in prefixes + ["applicant", "person"]:
        value = answers.get(f"{prefix}.id_number")
        if isinstance(value, str) and value.strip():
            return person_key(value)
    return None


def _proc_title(dossier: Dossier, _: Translator, catalog: Catalog | None = None) -> str:
    """The procedure's title, to be quoted in parentheses: its own last parenthesis becomes a dash
    (“Hỗ trợ chi phí mai táng – trợ giúp đột xuất”, not “(… (trợ giúp đột xuất))”)."""
    cat = _cat(catalog)
    if dossier.procedure_id not in cat.procedures:
        return dossier.procedure_id
    return re.sub(r"\s*\(([^()]*)\)\s*$", r" – \1", _(cat.get(dossier.procedure_id).title))


def _field_label(form: Form | None, path: str, _: Translator) -> str:
    f = form.field(path) if form else None
    if f is None:
        return path
    label = _(f.summary_label)
    m = re.match(r"^[a-z_]+\[(\d+)\]\.", path)
    if m:
        sec = form.lookup(path)[0]
        if sec.repeat:
            label += f" ({_(sec.repeat.item_label)} {int(m.group(1)) + 1})"
    return label


def _value_text(form: Form | None, path: str, value: Any, _: Translator) -> str:
    f = form.field(path) if form else None
    if f is None:
        return str(value)
    if f.kind == "attachment" and isinstance(value, list):
        names = [v.get("name") or v.get("sha256", "")[:10] for v in value if isinstance(v, dict)]
        return ", ".join(names) if names else _("(không có tệp)")
    return display(f, value, _)


def _citizen_text(kind: str, dossier: Dossier, leg: DossierLeg, _: Translator, *, due: date | None,
                  reason: str | None = None, items: list[str] | None = None, result_number: str | None = None,
                  catalog: Catalog | None = None) -> str:
    title = _proc_title(dossier, _, catalog)
    part = _planned_leg(dossier, leg, catalog) if kind != lc.SUBMITTED else None
    if part is not None:  # a linked procedure: name the part (agency leg) that changed
        title = f"{title} — {_(part.title)}"
    code = dossier.code
    due_s = _.date(due) if due else ""
    if kind == lc.SUBMITTED:
        return _("Biên nhận hồ sơ {code} — {title}.\nNgày hẹn trả kết quả: {due}.\nHồ sơ đang chờ cơ quan "
                 "tiếp nhận; bạn không cần làm gì thêm. Gõ “/hoso” để xem tình trạng hồ sơ bất cứ lúc nào.",
                 code=code, title=title, due=due_s)
    if kind == lc.RECEIVED:
        return _("Hồ sơ {code} ({title}) đã được tiếp nhận.\nNgày hẹn trả kết quả: {due}.\nBạn không cần làm gì "
                 "thêm; chúng tôi sẽ báo khi hồ sơ có kết quả.", code=code, title=title, due=due_s)
    if kind == lc.IN_REVIEW:
        return _("Hồ sơ {code} ({title}) đang được xem xét, giải quyết.\nNgày hẹn trả kết quả: {due}.\nBạn không "
                 "cần làm gì thêm.", code=code, title=title, due=due_s)
    if kind == lc.NEEDS_SUPPLEMENT:
        lines = "\n".join(f"• {i}" for i in (items or []))
        return _("Hồ sơ {code} ({title}) cần bổ sung:\n{items}\nLý do: {reason}\nGõ “bổ sung” để gửi các giấy tờ, "
                 "thông tin còn thiếu ngay trong cuộc trò chuyện này. Thời hạn giải quyết tạm dừng cho đến khi "
                 "bạn bổ sung xong.", code=code, title=title, items=lines, reason=reason or "")
    if kind == lc.RESUBMITTED:
        return _("Đã nhận phần bổ sung cho hồ sơ {code} ({title}). Hồ sơ được xử lý tiếp.\nNgày hẹn trả kết quả "
                 "(không tính thời gian chờ bổ sung): {due}.\nBạn không cần làm gì thêm.", code=code, title=title,
                 due=due_s)
    if kind == lc.APPROVED:
        return _("Hồ sơ {code} ({title}) đã được duyệt, số văn bản kết quả: {number}.\nKết quả đang được chuẩn bị "
                 "để trả; bạn sẽ nhận được thông báo khi có thể nhận kết quả.", code=code, title=title,
                 number=result_number or "")
    if kind == lc.RESULT_ISSUED:
        return _("Hồ sơ {code} ({title}) đã có kết quả (số {number}).\nNếu chưa nhận bản giấy, vui lòng mang căn "
                 "cước đến {agency} để nhận.\nMời bạn đánh giá chất lượng phục vụ: gõ “đánh giá” và chọn từ 1 "
                 "đến 5 sao.", code=code, title=title, number=result_number or "",
                 agency=_(part.agency_name) if part is not None else _agency_name(dossier, _, catalog))
    if kind == lc.REJECTED:
        return _("Rất tiếc, hồ sơ {code} ({title}) không được giải quyết.\nLý do: {reason}\nNếu bạn chưa đồng ý, "
                 "bạn có quyền khiếu nại theo quy định, hoặc nộp hồ sơ mới khi đã đủ điều kiện (gõ “menu”).\n"
                 "Mời bạn đánh giá chất lượng phục vụ: gõ “đánh giá”.", code=code, title=title, reason=reason or "")
    if kind == lc.WITHDRAWN:
        return _("Hồ sơ {code} ({title}) đã được rút theo yêu cầu. Bạn có thể nộp hồ sơ mới bất cứ lúc nào "
                 "(gõ “menu”).", code=code, title=title)
    return _("Hồ sơ {code} ({title}) có thay đổi: {status}.", code=code, title=title,
             status=_(lc.STATUS_LABELS.get(kind, kind)))


def unit_text(agency: str, commune_code: str | None, _: Translator) -> str:
    """An officer's unit as people read it: “UBND cấp xã, Xã Đức Trọng (24958)”."""
    from dialogs.address import commune
    label = _(lc.AGENCY_LABELS[agency]) if agency in lc.AGENCY_LABELS else agency
    unit = commune(commune_code) if commune_code else None
    place = f"{unit.full_name} ({unit.code})" if unit is not None else (commune_code or "-")
    return f"{label}, {place}"


def _agency_name(dossier: Dossier, _: Translator, catalog: Catalog | None = None) -> str:
    cat = _cat(catalog)
    if dossier.procedure_id in cat.procedures:
        return _(cat.get(dossier.procedure_id).agency.name)
    return dossier.agency


async def _notify_citizens(db: AsyncSession, dossier: Dossier, leg: DossierLeg, event: DossierEvent, now: datetime,
                           calendar: WorkCalendar, *, catalog: Catalog | None = None, reason: str | None = None,
                           items: list[str] | None = None, result_number: str | None = None) -> None:
    _ = translator(dossier.lang)
    legs = await LegRepo(db).of_dossier(dossier.id)
    due = _dossier_due(legs, calendar, now)
    text = _citizen_text(event.to_status, dossier, leg, _, due=due, reason=reason, items=items,
                         result_number=result_number, catalog=catalog)
    for chat in await citizen_chats(db, dossier):
        await _enqueue(db, chat, f"citizen_{event.to_status}", f"ev:{event.id}:{chat}", text, now,
                       dossier_id=dossier.id)


async def _push_officers(db: AsyncSession, officers: Iterable[Officer], kind: str, dedupe: str, text: str,
                         now: datetime, *, dossier_id: int | None = None,
                         choices: Iterable[tuple[str, str]] = ()) -> int:
    n = 0
    choices = list(choices)
    for o in officers:
        if o.user_key and o.active:
            n += await _enqueue(db, o.user_key, kind, f"{dedupe}:{o.id}", text, now, dossier_id=dossier_id,
                                choices=choices)
    return n


async def _leg_officers(db: AsyncSession, leg: DossierLeg) -> list[Officer]:
    """Who to tell about a leg: its assignee, or everyone in its agency and commune when nobody has it."""
    if leg.claimed_by is not None:
        o = await OfficerRepo(db).get(leg.claimed_by)
        if o is not None and o.active and o.user_key:
            return [o]
    return await OfficerRepo(db).in_scope(leg.agency, leg.commune_code)


# =============================================================================================
# the transition: one place where a leg's status changes
# =============================================================================================
def _actor(o: Officer) -> lc.Actor:
    return lc.Actor(key=o.user_key or f"officer:{o.id}", role=o.role, officer_id=o.id,
                    unit=f"{o.agency}/{o.commune_code}")


def _citizen_actor(user_key: str) -> lc.Actor:
    return lc.Actor(key=user_key, role=lc.CITIZEN)


async def _transition(db: AsyncSession, dossier: Dossier, leg: DossierLeg, act: lc.Act, now: datetime,
                      calendar: WorkCalendar, *, data: dict[str, Any] | None = None,
                      catalog: Catalog | None = None, notify: bool = True) -> DossierEvent:
    state = lc.LegState(leg.status, leg.claimed_by)
    before = leg.status
    try:
        lc.fire(state, act)
    except lc.Refused as exc:
        raise _refused(exc) from None
    after = state.state
    leg.status = after
    if state.claimed_by != leg.claimed_by:
        leg.claimed_by = state.claimed_by
        leg.claimed_at = now if state.claimed_by is not None else None
    leg.version = (leg.version or 0) + 1
    # the clock
    if after == lc.NEEDS_SUPPLEMENT and before != lc.NEEDS_SUPPLEMENT:
        leg.paused_since = now
    if before == lc.NEEDS_SUPPLEMENT and after != lc.NEEDS_SUPPLEMENT and leg.paused_since is not None:
        leg.pauses = list(leg.pauses or []) + [[leg.paused_since.isoformat(), now.isoformat()]]
        leg.paused_since = None
        leg.due_date = calendar.due_date_with_pauses(leg.started_at, leg.processing_days, _pauses(leg), now)
        leg.paused_workdays = max(0, calendar.workdays_between(base_due(leg, calendar), leg.due_date))
    if act.action == lc.RECEIVE and leg.received_at is None:
        leg.received_at = now
    if act.action == lc.APPROVE:
        leg.result_number = act.result_number.strip() if act.result_number else None
    if after in lc.CLOSED and before not in lc.CLOSED:
        leg.closed_at = now
        if after != lc.WITHDRAWN:
            leg.timeliness = calendar.classify(leg.due_date, now, now)
    ev = DossierEvent(dossier_id=dossier.id, leg_id=leg.id, at=now, from_status=before, to_status=after,
                      actor=act.actor.key, role=act.actor.role, unit=act.actor.unit,
                      reason=(act.reason.strip() if act.reason else None), action=act.action, data=data or None)
    db.add(ev)
    # the dossier follows its legs
    legs = await LegRepo(db).of_dossier(dossier.id)
    dossier.status = lc.parent_status([leg_.status for leg_ in legs], dossier.status) or dossier.status
    overall = max((leg_.due_date for leg_ in legs), default=None)
    if overall is not None:
        dossier.due_date = overall
    await db.flush()
    log.info("leg %s dossier=%s %s: %s -> %s by %s", leg.id, dossier.code, act.action, before, after,
             act.actor.role)
    if notify and after != before:
        items = None
        if act.action == lc.REQUEST_SUPPLEMENT:
            form = _form(dossier, catalog)
            _ = translator(dossier.lang)
            items = [_field_label(form, p, _) for p in act.items]
        await _notify_citizens(db, dossier, leg, ev, now, calendar, catalog=catalog, reason=act.reason,
                               items=items, result_number=leg.result_number)
    return ev


def _form(dossier: Dossier, catalog: Catalog | None) -> Form | None:
    cat = _cat(catalog)
    return cat.form(dossier.procedure_id) if dossier.procedure_id in cat.forms else None


def _planned_leg(dossier: Dossier, leg: DossierLeg, catalog: Catalog | None = None):
    """The definition-side leg (title, agency name) of a linked procedure's dossier leg; None otherwise."""
    form = _form(dossier, catalog)
    if form is None or not form.proc.legs:
        return None
    planned = form.planned_legs(dossier.answers or {})
    same = [p for p in planned if p.agency == leg.agency]
    if 0 < (leg.seq or 0) <= len(planned) and planned[leg.seq - 1].agency == leg.agency:
        return planned[leg.seq - 1]
    return same[0] if len(same) == 1 else None


# =============================================================================================
# citizen side
# =============================================================================================
async def on_submitted(db: AsyncSession, dossier: Dossier, calendar: WorkCalendar | None, now: datetime, *,
                       catalog: Catalog | None = None) -> None:
    """Create the dossier's leg(s), their due dates, and the notifications: a push to every officer of the
    agency and commune, and a receipt to the citizen's chats. Idempotent (does nothing if legs exist)."""
    calendar = calendar or DEFAULT_CALENDAR
    repo = LegRepo(db)
    if await repo.of_dossier(dossier.id):
        return
    cat = _cat(catalog)
    # the applicant's own chat, if they linked it to their ID number
    if dossier.applicant_key is None:
        pkey = _applicant_person_key(dossier, cat)
        chats = await CitizenRepo(db).chats_of_person(pkey) if pkey else []
        others = [c for c in chats if c != dossier.submitter_key]
        if others:
            dossier.applicant_key = others[0]
    form = _form(dossier, cat)
    planned = []  # a linked procedure's legs (title, agency name) for the receipt
    if form is not None:
        planned = form.planned_legs(dossier.answers or {}, calendar.to_local(dossier.submitted_at).date())
        plan = [(p.agency, p.days) for p in planned]
    else:  # a dossier of a procedure no longer in the catalogue: one leg, its stored due date
        plan = [(dossier.agency, max(0, calendar.workdays_between(calendar.start_day(dossier.submitted_at),
                                                                   dossier.due_date)))]
    _ = translator("vi")
    title = _proc_title(dossier, _, cat)
    legs = []
    for seq, (agency, days) in enumerate(plan, start=1):
        due = calendar.due_date(dossier.submitted_at, days) if form is not None and form.proc.legs \
            else dossier.due_date
        leg = DossierLeg(dossier_id=dossier.id, seq=seq, agency=agency, commune_code=dossier.commune_code,
                         status=lc.SUBMITTED, processing_days=days, started_at=dossier.submitted_at,
                         due_date=due, pauses=[], paused_workdays=0, version=0)
        db.add(leg)
        legs.append(leg)
    await db.flush()
    dossier.due_date = max(leg.due_date for leg in legs)
    # officers of each leg's agency and commune
    for i, leg in enumerate(legs):
        part = f"{title} — {_(planned[i].title)}" if form is not None and form.proc.legs else title
        text = _("📥 Hồ sơ mới {code}: {title}.\nNgười đứng tên: {name}.\nHạn giải quyết: {due}.",
                 code=dossier.code, title=part, name=dossier.applicant_name or _("(chưa rõ)"),
                 due=_.date(leg.due_date))
        officers = await OfficerRepo(db).in_scope(leg.agency, leg.commune_code)
        await _push_officers(db, officers, "officer_new", f"new:{leg.id}", text, now, dossier_id=dossier.id,
                             choices=[(f"open:{dossier.code}", _("Xem hồ sơ")),
                                      (f"claim:{dossier.code}", _(lc.ACTION_LABELS[lc.CLAIM]))])
    leg = legs[0]
    # the citizen's receipt
    _c = translator(dossier.lang)
    receipt = _citizen_text(lc.SUBMITTED, dossier, leg, _c, due=dossier.due_date, catalog=cat)
    if form is not None and form.proc.legs:  # a linked procedure: each agency with its own due date
        receipt += "\n" + _c(N_("Hồ sơ được chuyển đến từng cơ quan:")) + "".join(
            "\n" + _c(N_("• {part}: {agency} — hẹn trả {due}"), part=_c(p.title), agency=_c(p.agency_name),
                       due=_c.date(lg.due_date)) for p, lg in zip(planned, legs))
    for chat in await citizen_chats(db, dossier):
        await _enqueue(db, chat, "citizen_submitted", f"sub:{dossier.id}:{chat}", receipt, now,
                       dossier_id=dossier.id)


async def link_chat(db: AsyncSession, user_key: str, id_number: str) -> None:
    """Record that ``user_key`` is the chat of the person with this ID number (so dossiers filed for them by
    someone else notify them too). Only the hash of the number is stored."""
    await CitizenRepo(db).link(user_key, person_key(id_number))


def _applicant_id_number(dossier: Dossier, catalog: Catalog | None = None) -> str | None:
    answers = dossier.answers or {}
    cat = _cat(catalog)
    prefixes: list[str] = []
    if dossier.procedure_id in cat.procedures:
        prefixes = [p.rsplit(".", 1)[0] for p in cat.get(dossier.procedure_id).applicant_name_fields if "." in p]
    for prefix in prefixes + ["applicant", "person"]:
        value = answers.get(f"{prefix}.id_number")
        if isinstance(value, str) and value.strip():
            return value
    return None


async def follow_dossier(db: AsyncSession, user_key: str, code: str, last4: str, *,
                         catalog: Catalog | None = None) -> Dossier:
    """“/theodoi CODE 1234”: the applicant's own chat asks to hear about a dossier someone filed for them.
    The last four digits of the applicant's ID number must match; the same refusal is given for an unknown
    code, so codes cannot be probed. The chat is then linked to the applicant's ID (by its hash), so it also
    hears about their later dossiers."""
    dossier = await DossierRepo(db).by_code(normalise_code(code) or code)
    idn = _applicant_id_number(dossier, catalog) if dossier is not None else None
    digits = "".join(ch for ch in (idn or "") if ch.isdigit())
    if len(digits) < 4 or not secrets.compare_digest(digits[-4:], str(last4)):
        raise ActionRefused(N_("Mã hồ sơ hoặc 4 số cuối CCCD chưa khớp. Bạn kiểm tra lại giúp nhé."), "mismatch")
    if dossier.applicant_key is None and dossier.submitter_key != user_key:
        dossier.applicant_key = user_key
    await CitizenRepo(db).link(user_key, person_key(idn))
    return dossier


def _is_citizen_of(dossier: Dossier, user_key: str, linked: Iterable[str] = ()) -> bool:
    return user_key in (dossier.submitter_key, dossier.applicant_key) or user_key in set(linked)


async def open_supplement_requests(db: AsyncSession, user_key: str) -> list[dict[str, Any]]:
    """Open supplement requests for dossiers this chat submitted (or is the applicant of)."""
    out = []
    for req, d in await SupplementRepo(db).open_for_chat(user_key):
        out.append({"id": req.id, "code": d.code, "procedure": d.procedure_id, "fields": list(req.fields),
                    "reason": req.reason, "answers": copy.deepcopy(d.answers)})
    return out


async def resubmit(db: AsyncSession, request_id: int, answers: dict[str, Any], actor_key: str, now: datetime, *,
                   calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> dict[str, Any]:
    """Apply the citizen's new values for the requested fields, record before/after, move the leg
    needs_supplement → resubmitted (the clock resumes) and tell the officer what changed."""
    calendar = calendar or DEFAULT_CALENDAR
    req = await SupplementRepo(db).get(request_id, lock=True)
    if req is None or req.status != "open":
        raise ActionRefused(N_("Yêu cầu bổ sung này không còn mở."), "closed")
    dossier = (await db.execute(select(Dossier).where(Dossier.id == req.dossier_id).with_for_update())).scalar_one()
    if not _is_citizen_of(dossier, actor_key):
        raise ActionRefused(N_("Không tìm thấy yêu cầu bổ sung này."), "not_found")
    extra = sorted(set(answers) - set(req.fields))
    if extra:
        raise ActionRefused(N_("Chỉ được sửa các mục được yêu cầu bổ sung."), "fields")
    leg = await LegRepo(db).get(req.leg_id, lock=True)
    form = _form(dossier, catalog)
    old = dossier.answers or {}
    changes: dict[str, dict[str, Any]] = {}
    for path in req.fields:
        if path not in answers:
            continue
        before, after = old.get(path), answers[path]
        if before != after:
            changes[path] = {"before": copy.deepcopy(before), "after": copy.deepcopy(after)}
    new_answers = copy.deepcopy(old)
    for path, ch in changes.items():
        new_answers[path] = ch["after"]
        f = form.field(path) if form else None
        if f is not None and f.kind == "attachment" and isinstance(ch["after"], list):
            known = {(a.get("sha256")) for a in (ch["before"] or []) if isinstance(a, dict)}
            for a in ch["after"]:
                if isinstance(a, dict) and a.get("sha256") and a["sha256"] not in known:
                    db.add(Attachment(dossier_id=dossier.id, field_path=path, sha256=a["sha256"],
                                      mime=a.get("mime", "application/octet-stream"), size=int(a.get("size", 0)),
                                      name=a.get("name")))
    dossier.answers = new_answers
    req.status = "answered"
    req.answered_at = now
    req.answered_by = actor_key
    req.changes = changes
    await _transition(db, dossier, leg, lc.Act(lc.RESUBMIT, _citizen_actor(actor_key)), now, calendar,
                      data={"request_id": req.id, "changed": list(changes)}, catalog=catalog)
    # the officer sees what changed
    _ = translator("vi")
    lines = [f"• {_field_label(form, p, _)}: {_value_text(form, p, c['before'], _)} → "
             f"{_value_text(form, p, c['after'], _)}" for p, c in changes.items()]
    text = _("📎 Hồ sơ {code} ({title}) đã được bổ sung.\n{changes}", code=dossier.code,
             title=_proc_title(dossier, _, catalog),
             changes="\n".join(lines) if lines else _("(Người dân không thay đổi mục nào.)"))
    requester = await OfficerRepo(db).get(req.requested_by) if req.requested_by else None
    targets = await _leg_officers(db, leg)
    if requester is not None and requester.user_key and requester.active and requester not in targets:
        targets = [requester] + targets
    await _push_officers(db, targets, "officer_supplement_received", f"supp:{req.id}", text, now,
                         dossier_id=dossier.id, choices=[(f"open:{dossier.code}", _("Xem hồ sơ"))])
    return {"code": dossier.code, "changed": list(changes)}


async def citizen_dossiers(db: AsyncSession, user_key: str, calendar: WorkCalendar | None, now: datetime, *,
                           catalog: Catalog | None = None) -> list[dict[str, Any]]:
    """The dossiers this chat filed or is the applicant of, newest first."""
    calendar = calendar or DEFAULT_CALENDAR
    dossiers = await LegRepo(db).for_citizen(user_key)
    rated = await CitizenRepo(db).rated_ids([d.id for d in dossiers])
    out = []
    for d in dossiers:
        legs = await LegRepo(db).of_dossier(d.id)
        closed = d.status in lc.CLOSED
        due = _dossier_due(legs, calendar, now) or d.due_date
        _ = translator(d.lang)
        label = _(lc.STATUS_LABELS.get(d.status, d.status))
        paused = d.status == lc.NEEDS_SUPPLEMENT  # the clock waits for the citizen: say what to do, not a count
        if paused:
            label += " — " + _("thời hạn tạm dừng đến khi bạn bổ sung; gõ “bổ sung” để gửi")
        out.append({"code": d.code, "procedure": d.procedure_id, "status": d.status, "status_label": label,
                    "due_date": due, "days_left": None if closed or paused else days_left(due, calendar, now),
                    "closed": closed, "rated": d.id in rated})
    return out


async def rate(db: AsyncSession, code: str, user_key: str, stars: int, comment: str | None = None, *,
               now: datetime | None = None) -> None:
    """Record the citizen's 1–5 rating of a closed dossier, once."""
    dossier = await LegRepo(db).dossier(code)
    if dossier is None or not _is_citizen_of(dossier, user_key):
        raise ActionRefused(N_("Không tìm thấy hồ sơ {code} của bạn."), "not_found", code=code)
    if dossier.status not in lc.CLOSED:
        raise ActionRefused(N_("Hồ sơ {code} chưa giải quyết xong; bạn có thể đánh giá sau khi nhận kết quả."),
                            "open", code=code)
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ActionRefused(N_("Vui lòng chọn từ 1 đến 5 sao."), "stars")
    if await CitizenRepo(db).rating(dossier.id) is not None:
        raise ActionRefused(N_("Bạn đã đánh giá hồ sơ {code} rồi. Cảm ơn bạn!"), "rated", code=code)
    db.add(Rating(dossier_id=dossier.id, user_key=user_key, stars=stars,
                  comment=(comment or "").strip()[:2000] or None, created_at=now or datetime.now(timezone.utc)))
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError:
        raise ActionRefused(N_("Bạn đã đánh giá hồ sơ {code} rồi. Cảm ơn bạn!"), "rated", code=code) from None


async def withdraw(db: AsyncSession, code: str, user_key: str, now: datetime, reason: str | None = None, *,
                   calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> None:
    """The citizen withdraws an open dossier (every open leg)."""
    calendar = calendar or DEFAULT_CALENDAR
    dossier = await LegRepo(db).dossier(code, lock=True)
    if dossier is None or not _is_citizen_of(dossier, user_key):
        raise ActionRefused(N_("Không tìm thấy hồ sơ {code} của bạn."), "not_found", code=code)
    legs = [leg for leg in await LegRepo(db).of_dossier(dossier.id, lock=True) if leg.status not in lc.CLOSED]
    if not legs:
        raise ActionRefused(N_("Hồ sơ {code} đã kết thúc, không rút được nữa."), "closed", code=code)
    _ = translator("vi")
    text = _("↩️ Người nộp đã rút hồ sơ {code} ({title}). Không cần xử lý tiếp hồ sơ này.", code=dossier.code,
             title=_proc_title(dossier, _, catalog))
    for leg in legs:
        targets = await _leg_officers(db, leg)  # whoever holds the leg, or its queue (before the claim is gone)
        await _transition(db, dossier, leg, lc.Act(lc.WITHDRAW, _citizen_actor(user_key), reason=reason), now,
                          calendar, catalog=catalog)
        await _push_officers(db, targets, "officer_withdrawn", f"withdrawn:{leg.id}", text, now,
                             dossier_id=dossier.id)
    for req in await SupplementRepo(db).open_for_chat(user_key):
        if req[1].id == dossier.id:
            req[0].status = "closed"


# =============================================================================================
# officers: registration
# =============================================================================================
def new_invite_code() -> str:
    bits = secrets.randbits(5 * INVITE_LEN)
    token = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(INVITE_LEN)))
    return f"{INVITE_PREFIX}-{token[:5]}-{token[5:]}"


_INVITE_RE = re.compile(r"^(?:/canbo(?:@\w+)?\s*)?(canbo[\s\-_.]*[0-9a-z][0-9a-z\s\-_.]{9,20})$", re.I)
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def normalise_invite(text: str | None) -> str | None:
    """The canonical invite code in ``"/canbo CANBO-XXXXX-XXXXX"`` or the bare code, else None."""
    if not text:
        return None
    m = _INVITE_RE.match(text.strip())
    if not m:
        return None
    compact = re.sub(r"[\s\-_.]", "", m.group(1)).upper()
    token = compact[len(INVITE_PREFIX):].translate(_CONFUSABLES)
    if len(token) != INVITE_LEN or any(c not in ALPHABET for c in token):
        return None
    return f"{INVITE_PREFIX}-{token[:5]}-{token[5:]}"


def is_invite_attempt(text: str | None) -> bool:
    """``/canbo ...``, or something shaped like an invite code."""
    if not text:
        return False
    t = text.strip()
    return t.lower().startswith("/canbo") or normalise_invite(t) is not None


async def add_officer(db: AsyncSession, *, full_name: str, agency: str, commune_code: str, role: str,
                      focal_point: bool = False, now: datetime | None = None,
                      valid_days: int = INVITE_VALID_DAYS) -> tuple[Officer, str]:
    """Register an officer; returns the officer and the one-time invite code to send to the bot."""
    if role not in lc.OFFICER_ROLES:
        raise ActionRefused(N_("Vai trò không hợp lệ: {role}."), "role", role=role)
    if not full_name.strip() or not agency.strip() or not commune_code.strip():
        raise ActionRefused(N_("Cần họ tên, cơ quan và mã xã."), "fields")
    now = now or datetime.now(timezone.utc)
    code = new_invite_code()
    o = await OfficerRepo(db).add(full_name=full_name.strip(), agency=agency.strip(),
                                  commune_code=commune_code.strip(), role=role, focal_point=focal_point,
                                  invite_hash=secret_hash(code),
                                  invite_expires_at=now + timedelta(days=valid_days) if valid_days else None)
    return o, code


async def new_invite(db: AsyncSession, officer_id: int, now: datetime, valid_days: int = INVITE_VALID_DAYS) -> str:
    o = await OfficerRepo(db).get(officer_id, lock=True)
    if o is None:
        raise ActionRefused(N_("Không có cán bộ số {id}."), "not_found", id=officer_id)
    code = new_invite_code()
    o.invite_hash = secret_hash(code)
    o.invite_expires_at = now + timedelta(days=valid_days) if valid_days else None
    return code


async def redeem_invite(db: AsyncSession, code: str, user_key: str, now: datetime | None = None) -> Officer | None:
    """Bind the chat to the officer the invite code was made for; the code then stops working."""
    canonical = normalise_invite(code)
    if canonical is None:
        return None
    repo = OfficerRepo(db)
    o = await repo.by_invite(secret_hash(canonical))
    now = now or datetime.now(timezone.utc)
    if o is None or not o.active or (o.invite_expires_at is not None and o.invite_expires_at < now):
        return None
    current = await repo.by_user_key(user_key, lock=True)
    if current is not None and current.id != o.id:
        current.user_key = None  # one chat is one officer
        await db.flush()
    o.user_key = user_key
    o.invite_hash = None
    o.invite_expires_at = None
    o.chat_state = {}
    await db.flush()
    return o


async def officer_for(db: AsyncSession, user_key: str) -> Officer | None:
    return await OfficerRepo(db).by_user_key(user_key)


# =============================================================================================
# officers: actions (shared by the chat and the CLI)
# =============================================================================================
async def _scoped(db: AsyncSession, officer: Officer, code: str, *, lock: bool = True) -> tuple[Dossier, DossierLeg]:
    canonical = normalise_code(code) or code
    hit = await LegRepo(db).in_scope(canonical, officer.agency, officer.commune_code, lock=lock)
    if hit is None:  # not found and not in jurisdiction look the same
        raise ActionRefused(N_("Không tìm thấy hồ sơ {code} thuộc phạm vi của bạn."), "not_found", code=code)
    return hit


async def claim(db: AsyncSession, officer: Officer, code: str, now: datetime, *,
                calendar: WorkCalendar | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    if leg.claimed_by == officer.id:
        return leg
    await _transition(db, d, leg, lc.Act(lc.CLAIM, _actor(officer)), now, calendar or DEFAULT_CALENDAR)
    return leg


async def release(db: AsyncSession, officer: Officer, code: str, now: datetime, *,
                  calendar: WorkCalendar | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    await _transition(db, d, leg, lc.Act(lc.RELEASE, _actor(officer)), now, calendar or DEFAULT_CALENDAR)
    return leg


async def receive(db: AsyncSession, officer: Officer, code: str, now: datetime, *, note: str | None = None,
                  calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    await _transition(db, d, leg, lc.Act(lc.RECEIVE, _actor(officer), reason=note), now,
                      calendar or DEFAULT_CALENDAR, catalog=catalog)
    return leg


async def review(db: AsyncSession, officer: Officer, code: str, now: datetime, *,
                 calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    await _transition(db, d, leg, lc.Act(lc.REVIEW, _actor(officer)), now, calendar or DEFAULT_CALENDAR,
                      catalog=catalog)
    return leg


def requestable_fields(dossier: Dossier, catalog: Catalog | None = None, today: date | None = None) -> list[str]:
    """The paths an officer may ask the citizen to supplement: the questions that apply to the answers."""
    form = _form(dossier, catalog)
    answers = dossier.answers or {}
    if form is None:
        return list(answers)
    return [s.path for s in form.slots(answers, today) if not s.synthetic]


async def request_supplement(db: AsyncSession, officer: Officer, code: str, fields: list[str], reason: str,
                             now: datetime, *, calendar: WorkCalendar | None = None,
                             catalog: Catalog | None = None) -> SupplementRequest:
    d, leg = await _scoped(db, officer, code)
    allowed_paths = requestable_fields(d, catalog, DEFAULT_CALENDAR.today(now))
    fields = list(dict.fromkeys(fields))
    bad = [f for f in fields if f not in allowed_paths]
    if bad:
        raise ActionRefused(N_("Mục không có trong hồ sơ: {fields}."), "fields", fields=", ".join(bad))
    act = lc.Act(lc.REQUEST_SUPPLEMENT, _actor(officer), reason=reason, items=fields)
    try:
        lc.check(lc.LegState(leg.status, leg.claimed_by), act)
    except lc.Refused as exc:
        raise _refused(exc) from None
    for old in await SupplementRepo(db).open_for_leg(leg.id):
        old.status = "closed"
    req = SupplementRequest(dossier_id=d.id, leg_id=leg.id, requested_by=officer.id, requested_at=now,
                            fields=fields, reason=reason.strip(), status="open")
    db.add(req)
    await db.flush()
    await _transition(db, d, leg, act, now, calendar or DEFAULT_CALENDAR,
                      data={"request_id": req.id, "fields": fields}, catalog=catalog)
    return req


async def approve(db: AsyncSession, officer: Officer, code: str, result_number: str, now: datetime, *,
                  note: str | None = None, calendar: WorkCalendar | None = None,
                  catalog: Catalog | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    await _transition(db, d, leg, lc.Act(lc.APPROVE, _actor(officer), reason=note, result_number=result_number),
                      now, calendar or DEFAULT_CALENDAR, data={"result_number": (result_number or "").strip()},
                      catalog=catalog)
    # the result now waits at the desk: tell whoever can return it
    _ = translator("vi")
    desk = [o for o in await OfficerRepo(db).in_scope(leg.agency, leg.commune_code)
            if o.id != officer.id and lc.allowed(o.role, lc.RETURN_RESULT, lc.APPROVED)]
    await _push_officers(db, desk, "officer_result_ready", f"ready:{leg.id}",
                         _("✅ Hồ sơ {code} ({title}) đã được duyệt (số {number}). Vui lòng trả kết quả cho người dân.",
                           code=d.code, title=_proc_title(d, _, catalog), number=leg.result_number or ""),
                         now, dossier_id=d.id, choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return leg


async def reject(db: AsyncSession, officer: Officer, code: str, reason: str, now: datetime, *,
                 calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    await _transition(db, d, leg, lc.Act(lc.REJECT, _actor(officer), reason=reason), now,
                      calendar or DEFAULT_CALENDAR, catalog=catalog)
    for req in await SupplementRepo(db).open_for_leg(leg.id):
        req.status = "closed"
    return leg


async def return_result(db: AsyncSession, officer: Officer, code: str, now: datetime, *, note: str | None = None,
                        calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    await _transition(db, d, leg, lc.Act(lc.RETURN_RESULT, _actor(officer), reason=note), now,
                      calendar or DEFAULT_CALENDAR, catalog=catalog)
    return leg


async def reassign(db: AsyncSession, officer: Officer, code: str, to_officer_id: int, now: datetime, *,
                   reason: str | None = None, calendar: WorkCalendar | None = None) -> DossierLeg:
    d, leg = await _scoped(db, officer, code)
    target = await OfficerRepo(db).get(to_officer_id)
    if target is None or not target.active or target.agency != leg.agency or target.commune_code != leg.commune_code:
        raise ActionRefused(N_("Cán bộ được giao phải cùng cơ quan và cùng xã với hồ sơ."), "target")
    if not lc.allowed(target.role, lc.CLAIM, leg.status):
        raise ActionRefused(N_("Vai trò của {name} không xử lý được hồ sơ ở trạng thái “{status}”."), "target",
                            name=target.full_name, status=lc.STATUS_LABELS[leg.status])
    previous = leg.claimed_by
    await _transition(db, d, leg, lc.Act(lc.REASSIGN, _actor(officer), reason=reason, target=target.id), now,
                      calendar or DEFAULT_CALENDAR, data={"to": target.id, "from": previous})
    _ = translator("vi")
    if previous is not None and previous not in (officer.id, target.id):  # whoever held it stops working on it
        held = await OfficerRepo(db).get(previous)
        if held is not None:
            await _push_officers(db, [held], "officer_unassigned", f"unassign:{leg.id}:{leg.version}",
                                 _("👤 {leader} đã giao hồ sơ {code} cho {name}. Bạn không cần xử lý hồ sơ này "
                                   "nữa.", leader=officer.full_name, code=d.code, name=target.full_name), now,
                                 dossier_id=d.id)
    if target.id != officer.id:
        await _push_officers(db, [target], "officer_assigned", f"assign:{leg.id}:{leg.version}",
                             _("👤 {leader} đã giao hồ sơ {code} cho bạn xử lý.", leader=officer.full_name,
                               code=d.code), now, dossier_id=d.id,
                             choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return leg


async def queue(db: AsyncSession, officer: Officer, *, include_closed: bool = False,
                mine: bool = False) -> list[tuple[DossierLeg, Dossier]]:
    statuses = None if include_closed else (lc.OPEN | {lc.APPROVED})
    return await LegRepo(db).queue(officer.agency, officer.commune_code, statuses=statuses,
                                   claimed_by=officer.id if mine else None)


# =============================================================================================
# deadline pushes (run once a day by the notifier's scheduler; dedupe keys make reruns harmless)
# =============================================================================================
async def scan_deadlines(db: AsyncSession, calendar: WorkCalendar | None, now: datetime, *,
                         catalog: Catalog | None = None) -> int:
    """Push "due tomorrow" (once per leg and due date) and "overdue" (once per leg and day while it stays
    overdue) to the assignee, or to every officer of the leg's agency and commune if nobody holds it.
    Legs waiting for the citizen (clock paused) get nothing. Safe to run as often as you like: the dedupe
    keys ``due:<leg>:<due date>:<officer>`` and ``overdue:<leg>:<day>:<officer>`` queue each push once."""
    calendar = calendar or DEFAULT_CALENDAR
    today = calendar.today(now)
    tomorrow = calendar.next_workday(today)
    n = 0
    _ = translator("vi")
    for leg, d in await LegRepo(db).all_with_dossier(statuses=lc.CLOCK_RUNNING):
        due = effective_due(leg, calendar, now)
        title = _proc_title(d, _, catalog)
        status = _(lc.STATUS_LABELS[leg.status])
        if due == tomorrow:
            text = _("⏰ Hồ sơ {code} ({title}) đến hạn vào ngày làm việc tiếp theo ({due}).\nTrạng thái: {status}.",
                     code=d.code, title=title, due=_.date(due), status=status)
            kind, dedupe = "officer_due_tomorrow", f"due:{leg.id}:{due.isoformat()}"
        elif due < today:
            text = _("⚠️ Hồ sơ {code} ({title}) đã quá hạn {days} ngày làm việc (hạn {due}).\nTrạng thái: {status}.",
                     code=d.code, title=title, days=-days_left(due, calendar, now), due=_.date(due), status=status)
            # a reminder each working day while it stays overdue (once a day: the key holds today's date)
            kind, dedupe = "officer_overdue", f"overdue:{leg.id}:{today.isoformat()}"
        else:
            continue
        n += await _push_officers(db, await _leg_officers(db, leg), kind, dedupe, text, now, dossier_id=d.id,
                                  choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return n


# =============================================================================================
# the officer chat
# =============================================================================================
QUEUE_WORDS = {"/hoso", "hoso", "ho so", "/hangdoi", "hang doi", "hangdoi", "/start", "/menu", "menu", "queue",
               "danh sach", "/queue", "lam moi"}
MINE_WORDS = {"/cuatoi", "cua toi", "ho so cua toi", "mine"}
CANCEL_WORDS = {"huy", "/huy", "thoi", "bo", "cancel", "/cancel", "quay lai", "/back"}
HELP_WORDS = {"tro giup", "/help", "help", "huong dan", "?", "/trogiup"}

CHOICE_ACTIONS = {"claim": lc.CLAIM, "release": lc.RELEASE, "receive": lc.RECEIVE, "review": lc.REVIEW,
                  "supplement": lc.REQUEST_SUPPLEMENT, "approve": lc.APPROVE, "reject": lc.REJECT,
                  "return": lc.RETURN_RESULT, "reassign": lc.REASSIGN}
ACTION_CHOICE = {v: k for k, v in CHOICE_ACTIONS.items()}


@dataclass
class _Ctx:
    db: AsyncSession
    officer: Officer
    now: datetime
    calendar: WorkCalendar
    catalog: Catalog
    _: Translator
    replies: list[Reply]
    store: Any = None  # storage.attachments.AttachmentStore: files an officer opens from the chat

    @property
    def state(self) -> dict[str, Any]:
        return self.officer.chat_state or {}

    def set_state(self, **values: Any) -> None:
        self.officer.chat_state = dict(values)

    def say(self, text: str, error: bool = False, dossier: str | None = None) -> None:
        self.replies.append(Message(text, error=error, dossier=dossier))

    def ask(self, text: str, field: str, choices: list[tuple[str, str]], *, multi: bool = False,
            keep: dict[str, Any] | None = None) -> None:
        state = dict(keep or {})
        state["choices"] = [v for v, _l in choices]
        self.officer.chat_state = state
        self.replies.append(Ask(text=text, procedure=None, field=field, kind="choice",
                                choices=tuple(ChoiceOut(v, lab) for v, lab in choices), multi=multi))


async def handle_officer_message(db: AsyncSession, officer: Officer, incoming: Incoming, now: datetime, *,
                                 calendar: WorkCalendar | None = None,
                                 catalog: Catalog | None = None, attachments: Any = None) -> list[Reply]:
    """One turn of an officer's chat. The reply list always ends with exactly one ``Ask``."""
    ctx = _Ctx(db, officer, now, calendar or DEFAULT_CALENDAR, _cat(catalog), translator("vi"), [], attachments)
    try:
        await _officer_turn(ctx, incoming)
    except ActionRefused as exc:
        ctx.replies = [r for r in ctx.replies if not isinstance(r, Ask)]
        ctx.say(exc.text("vi"), error=True)
        code = (ctx.state or {}).get("code")
        try:
            if not code:
                raise exc
            await _show_dossier(ctx, code, brief=True)
        except ActionRefused:
            ctx.officer.chat_state = {}
            await _show_queue(ctx)
    if not ctx.replies or not isinstance(ctx.replies[-1], Ask):
        await _show_queue(ctx)
    return ctx.replies


def _resolve_choice(ctx: _Ctx, incoming: Incoming) -> tuple[str | None, str]:
    """(choice value or None, typed text). A typed number or label picks from the last question's choices."""
    text = (incoming.text or "").strip()
    if incoming.choice:
        return incoming.choice, text
    last = ctx.state.get("choices") or []
    if text and last:
        if re.fullmatch(r"\d{1,3}", text):
            i = int(text)
            if 1 <= i <= len(last):
                return last[i - 1], text
    return None, text


async def _officer_turn(ctx: _Ctx, incoming: Incoming) -> None:
    _ = ctx._
    value, text = _resolve_choice(ctx, incoming)
    key = fold(text).strip(" .!") if text else ""
    step = ctx.state.get("step")
    from . import allowances  # issue #6: identity checks by the commune police, “/danhsach” export
    if await allowances.officer_step(ctx, value, text):
        return
    from .web import chat as web_chat  # the web desk's one-time sign-in code, “/dangnhap”
    if await web_chat.officer_step(ctx, value, text):
        return

    if value is None and key in HELP_WORDS:
        ctx.say(_("Bạn là cán bộ {role}, {unit}.\nGõ “/hoso” để xem hàng đợi, gõ mã hồ sơ để mở một hồ sơ, "
                  "“/cuatoi” để xem hồ sơ bạn đang xử lý, “hủy” để bỏ thao tác đang làm.",
                  role=_(lc.ROLE_LABELS[ctx.officer.role]),
                  unit=unit_text(ctx.officer.agency, ctx.officer.commune_code, _)))
        return await _show_queue(ctx)
    if value is None and key in QUEUE_WORDS:
        return await _show_queue(ctx)
    if value is None and key in MINE_WORDS:
        return await _show_queue(ctx, mine=True)
    if step and value is None and key in CANCEL_WORDS:
        ctx.say(_("Đã hủy thao tác."))
        return await _show_dossier(ctx, ctx.state["code"], brief=True)

    # a multi-step action in progress
    if step == "supplement_fields":
        return await _on_supplement_fields(ctx, value, text)
    if step in ("supplement_reason", "approve_number", "reject_reason") and value is None and text:
        return await _on_free_text(ctx, step, text)
    if step == "reassign_pick" and value and value.startswith("to:"):
        return await _do(ctx, lc.REASSIGN, ctx.state["code"], target=int(value[3:]))

    if value:
        verb, _sep, arg = value.partition(":")
        if verb == "queue":
            return await _show_queue(ctx)
        if verb == "mine":
            return await _show_queue(ctx, mine=True)
        if verb == "open" and arg:
            return await _show_dossier(ctx, arg)
        if verb == "files" and arg:
            return await _send_files(ctx, arg)
        if verb in CHOICE_ACTIONS and arg:
            return await _start_action(ctx, CHOICE_ACTIONS[verb], arg)
    code = find_code(text) if text else None
    if code:
        return await _show_dossier(ctx, code)
    if step in ("supplement_reason", "approve_number", "reject_reason", "reassign_pick"):
        ctx.say(_("Vui lòng trả lời câu hỏi, hoặc gõ “hủy” để bỏ thao tác."), error=True)
        return await _reask(ctx)
    if text or value:
        ctx.say(_("Chưa rõ yêu cầu. Chọn một hồ sơ trong danh sách, gõ mã hồ sơ, hoặc gõ “trợ giúp”."), error=True)
    await _show_queue(ctx)


async def _reask(ctx: _Ctx) -> None:
    step, code = ctx.state.get("step"), ctx.state.get("code")
    if step == "reassign_pick":
        return await _start_action(ctx, lc.REASSIGN, code)
    return await _ask_free_text(ctx, step, code)


async def _show_queue(ctx: _Ctx, mine: bool = False) -> None:
    _ = ctx._
    rows = await queue(ctx.db, ctx.officer, mine=mine)
    names = await _officer_names(ctx.db, {leg.claimed_by for leg, _d in rows if leg.claimed_by})
    if not rows:
        ctx.say(_("Không có hồ sơ nào đang chờ xử lý.") if not mine else _("Bạn chưa nhận xử lý hồ sơ nào."))
    else:
        head = _("Hồ sơ bạn đang xử lý ({n}):", n=len(rows)) if mine else \
            _("Hàng đợi của {unit} ({n} hồ sơ):", unit=unit_text(ctx.officer.agency, ctx.officer.commune_code, _),
              n=len(rows))
        lines = [head]
        for i, (leg, d) in enumerate(rows, 1):
            due = effective_due(leg, ctx.calendar, ctx.now)
            cls = ctx.calendar.classify(due, None, ctx.now) if leg.status not in lc.CLOSED else None
            flag = "⚠️ " if cls == "overdue" else "⏰ " if cls == "due_soon" else ""
            who = names.get(leg.claimed_by) if leg.claimed_by else _("chưa ai nhận")
            if leg.claimed_by == ctx.officer.id:
                who = _("bạn")
            left = days_left(due, ctx.calendar, ctx.now)
            lines.append(_("{i}. {flag}{code} · {title} · {status} · hạn {due} ({left}) · {who}", i=i, flag=flag,
                           code=d.code, title=_proc_title(d, _, ctx.catalog), status=_(lc.STATUS_LABELS[leg.status]),
                           due=_.date(due), left=_left_text(left, leg, _), who=who))
        ctx.say("\n".join(lines))
    choices = [(f"open:{d.code}", d.code) for leg, d in rows[:QUEUE_BUTTONS]]
    choices.append(("mine", _("Hồ sơ của tôi")) if not mine else ("queue", _("Cả hàng đợi")))
    ctx.ask(_("Chọn hồ sơ để xem, hoặc gõ mã hồ sơ."), "officer.queue", choices)


def _left_text(left: int, leg: DossierLeg, _: Translator) -> str:
    if leg.status == lc.NEEDS_SUPPLEMENT:
        return _("tạm dừng, chờ bổ sung")
    if left < 0:
        return _("quá hạn {n} ngày", n=-left)
    if left == 0:
        return _("hạn hôm nay")
    return _("còn {n} ngày", n=left)


async def _officer_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await db.execute(select(Officer.id, Officer.full_name).where(Officer.id.in_(list(ids))))).all()
    return {i: n for i, n in rows}


def dossier_summary(dossier: Dossier, leg: DossierLeg, *, calendar: WorkCalendar, now: datetime, _: Translator,
                    catalog: Catalog | None = None, claimant: str | None = None,
                    supplement: SupplementRequest | None = None, events: list[DossierEvent] | None = None,
                    brief: bool = False) -> str:
    """A dossier as an officer reads it: status and clock, answers with their labels, attachments, the last
    supplement request (and what changed), recent history."""
    form = _form(dossier, catalog)
    due = effective_due(leg, calendar, now)
    lines = [f"📄 {dossier.code} — {_proc_title(dossier, _, catalog)}",
             _("Người đứng tên: {name} · nộp lúc {at}", name=dossier.applicant_name or _("(chưa rõ)"),
               at=calendar.to_local(dossier.submitted_at).strftime("%H:%M %d/%m/%Y")),
             _("Trạng thái: {status} · hạn {due} ({left})", status=_(lc.STATUS_LABELS[leg.status]), due=_.date(due),
               left=_left_text(days_left(due, calendar, now), leg, _) if leg.status not in lc.CLOSED
               else _(_TIMELINESS.get(leg.timeliness or "", N_("đã kết thúc")))),
             _("Người xử lý: {who}", who=claimant or _("chưa ai nhận"))]
    if leg.result_number:
        lines.append(_("Số văn bản kết quả: {n}", n=leg.result_number))
    if supplement is not None:
        labels = ", ".join(_field_label(form, p, _) for p in supplement.fields)
        if supplement.status == "open":
            lines.append(_("⏳ Đang chờ người dân bổ sung: {items}. Lý do: {reason}", items=labels,
                           reason=supplement.reason))
        elif supplement.status == "answered" and supplement.changes is not None:
            lines.append(_("📎 Người dân đã bổ sung ({at}):", at=calendar.to_local(supplement.answered_at)
                           .strftime("%H:%M %d/%m/%Y") if supplement.answered_at else ""))
            if supplement.changes:
                for p, c in supplement.changes.items():
                    lines.append(f"  • {_field_label(form, p, _)}: {_value_text(form, p, c.get('before'), _)} → "
                                 f"{_value_text(form, p, c.get('after'), _)}")
            else:
                lines.append("  " + _("(Người dân không thay đổi mục nào.)"))
    if brief:
        return "\n".join(lines)
    answers = dossier.answers or {}
    current = None
    if form is not None:
        for slot in form.slots(answers, calendar.today(now)):
            if slot.synthetic or slot.path not in answers or slot.field.kind == "attachment":
                continue
            title = _(slot.section.title)
            if slot.index is not None:
                title += f" — {_(slot.section.repeat.item_label)} {slot.index + 1}"
            if title != current:
                lines.append(f"【{title}】")
                current = title
            shown = display(slot.field, answers[slot.path], _)
            if leg.agency != dossier.agency and slot.field.kind == "bank_account":
                shown = "•••• " + str(answers[slot.path])[-4:]  # another agency's leg (police) needs no account
            lines.append(f"• {_(slot.field.summary_label)}: {shown}")
    files = [(p, v) for p, v in answers.items() if form is not None and form.field(p) is not None
             and form.field(p).kind == "attachment" and isinstance(v, list)]
    if files:
        lines.append(_("【Tệp đính kèm】"))
        for p, v in files:
            for a in v:
                if isinstance(a, dict):
                    lines.append(f"• {_field_label(form, p, _)}: {a.get('name') or _('(không tên)')} "
                                 f"({a.get('mime', '?')}, {max(1, int(a.get('size', 0)) // 1024)} KB, "
                                 f"{str(a.get('sha256', ''))[:12]})")
    if events:
        lines.append(_("【Lịch sử】"))
        for e in events[-6:]:
            what = _(lc.ACTION_LABELS.get(e.action or "", "")) if e.action else _(lc.STATUS_LABELS.get(e.to_status,
                                                                                                    e.to_status))
            lines.append(f"• {calendar.to_local(e.at).strftime('%H:%M %d/%m')} {what} — "
                         f"{_(lc.ROLE_LABELS.get(e.role, e.role))}" + (f": {e.reason}" if e.reason else ""))
    return "\n".join(lines)


_TIMELINESS = {"early": N_("xong trước hạn"), "on_time": N_("xong đúng hạn"), "late": N_("xong trễ hạn")}


async def _show_dossier(ctx: _Ctx, code: str, brief: bool = False) -> None:
    _ = ctx._
    d, leg = await _scoped(ctx.db, ctx.officer, code, lock=False)
    names = await _officer_names(ctx.db, {leg.claimed_by} if leg.claimed_by else set())
    supp = await SupplementRepo(ctx.db).latest_for_leg(leg.id)
    events = list((await ctx.db.execute(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                                        .order_by(DossierEvent.id))).scalars())
    ctx.say(dossier_summary(d, leg, calendar=ctx.calendar, now=ctx.now, _=_, catalog=ctx.catalog,
                            claimant=names.get(leg.claimed_by), supplement=supp, events=events, brief=brief),
            dossier=d.code)
    from . import verification  # issue #6: the identity check's outcome, and its button for the police
    idv = verification.summary_line(await verification.latest_for_dossier(ctx.db, d.id), _)
    if idv:
        ctx.say(idv, dossier=d.code)
    choices = await verification.dossier_choices(ctx.db, ctx.officer, d)
    for action in _available(ctx.officer, leg):
        choices.append((f"{ACTION_CHOICE[action]}:{d.code}", _(lc.ACTION_LABELS[action])))
    if ctx.store is not None:
        choices.append((f"files:{d.code}", _("Xem tệp và tờ khai")))
    choices.append(("queue", _("Về hàng đợi")))
    if len(choices) == 1 + (ctx.store is not None):
        prompt = _("Hồ sơ này hiện không có thao tác nào dành cho bạn.")
    else:
        prompt = _("Bạn muốn làm gì với hồ sơ này?")
    ctx.ask(prompt, "officer.dossier", choices, keep={"code": d.code})


async def _send_files(ctx: _Ctx, code: str) -> None:
    """The dossier's attachments and its filled official form (PDF), as files the channel can send."""
    from dialogs.forms.render import has_form, render_pdf  # fpdf2 is loaded only when an officer asks
    from dialogs.messages import FileRef
    _ = ctx._
    d, _leg = await _scoped(ctx.db, ctx.officer, code, lock=False)
    form = _form(d, ctx.catalog)
    sent = 0
    for path, value in (d.answers or {}).items():
        f = form.field(path) if form is not None else None
        if f is None or f.kind != "attachment" or not isinstance(value, list):
            continue
        for k, a in enumerate(value, 1):
            if not isinstance(a, dict) or not a.get("sha256"):
                continue
            ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}.get(a.get("mime", ""), "bin")
            ref = FileRef(path=str(ctx.store.path(a["sha256"])), name=a.get("name") or f"{d.code}-{k}.{ext}",
                          mime=a.get("mime") or "application/octet-stream")
            ctx.replies.append(Message(f"📎 {_field_label(form, path, _)} ({k})", file=ref, dossier=d.code))
            sent += 1
    if has_form(d.procedure_id):
        pdf = render_pdf(d.procedure_id, d.answers or {}, submitted_at=d.submitted_at, code=d.code)
        sha = ctx.store.put(pdf)
        ctx.replies.append(Message(_("📄 Tờ khai của hồ sơ {code}", code=d.code),
                                   file=FileRef(path=str(ctx.store.path(sha)), name=f"{d.code}.pdf",
                                                mime="application/pdf"), dossier=d.code))
        sent += 1
    if not sent:
        ctx.say(_("Hồ sơ này không có tệp đính kèm."))
    await _show_dossier(ctx, d.code, brief=True)


def _available(officer: Officer, leg: DossierLeg) -> list[str]:
    """The buttons to offer: the role table, narrowed by the claim."""
    mine = leg.claimed_by == officer.id
    out = []
    if leg.claimed_by is None and lc.allowed(officer.role, lc.CLAIM, leg.status):
        out.append(lc.CLAIM)
    if mine:
        out += [a for a in lc.STATUS_ACTIONS if a in lc.NEEDS_CLAIM and lc.allowed(officer.role, a, leg.status)]
    if (mine or officer.role == lc.LEADER and leg.claimed_by is not None) and \
            lc.allowed(officer.role, lc.RELEASE, leg.status):
        out.append(lc.RELEASE)
    if lc.allowed(officer.role, lc.REASSIGN, leg.status):
        out.append(lc.REASSIGN)
    return out


async def _start_action(ctx: _Ctx, action: str, code: str) -> None:
    _ = ctx._
    d, leg = await _scoped(ctx.db, ctx.officer, code, lock=False)
    ctx.officer.chat_state = {"code": d.code}
    if action == lc.REQUEST_SUPPLEMENT:
        _check_early(ctx.officer, leg, action)
        options = requestable_fields(d, ctx.catalog, ctx.calendar.today(ctx.now))
        return _ask_fields(ctx, d, options, [])
    if action in (lc.APPROVE, lc.REJECT):
        _check_early(ctx.officer, leg, action)
        return await _ask_free_text(ctx, "approve_number" if action == lc.APPROVE else "reject_reason", d.code)
    if action == lc.REASSIGN:
        _check_early(ctx.officer, leg, action)
        people = [o for o in await OfficerRepo(ctx.db).in_scope(leg.agency, leg.commune_code, with_chat=False)
                  if lc.allowed(o.role, lc.CLAIM, leg.status) and o.id != leg.claimed_by]
        if not people:
            raise ActionRefused(N_("Không có cán bộ nào khác xử lý được hồ sơ ở trạng thái này."), "target")
        ctx.ask(_("Giao hồ sơ {code} cho ai?", code=d.code), "officer.reassign",
                [(f"to:{o.id}", f"{o.full_name} ({_(lc.ROLE_LABELS[o.role])})") for o in people],
                keep={"step": "reassign_pick", "code": d.code})
        return
    return await _do(ctx, action, d.code)


def _check_early(officer: Officer, leg: DossierLeg, action: str) -> None:
    """Role, status and claim guards before asking the follow-up questions (reason etc. come later)."""
    act = lc.Act(action, _actor(officer), reason="x", result_number="x", items=["x"], target=0)
    try:
        lc.check(lc.LegState(leg.status, leg.claimed_by), act)
    except lc.Refused as exc:
        raise _refused(exc) from None


def _ask_fields(ctx: _Ctx, d: Dossier, options: list[str], picked: list[str]) -> None:
    _ = ctx._
    form = _form(d, ctx.catalog)
    choices = [(f"sf:{i}", ("✅ " if p in picked else "") + _field_label(form, p, _)) for i, p in enumerate(options)]
    choices.append(("sf:done", _("Xong, nhập lý do")))
    text = _("Chọn các mục người dân cần bổ sung hoặc sửa (có thể chọn nhiều, ví dụ “1, 3”), rồi chọn “Xong”.")
    if picked:
        text += "\n" + _("Đã chọn: {items}", items=", ".join(_field_label(form, p, _) for p in picked))
    ctx.ask(text, "officer.supplement_fields", choices, multi=True,
            keep={"step": "supplement_fields", "code": d.code, "options": options, "picked": picked})


async def _on_supplement_fields(ctx: _Ctx, value: str | None, text: str) -> None:
    _ = ctx._
    st = ctx.state
    options, picked = list(st.get("options") or []), list(st.get("picked") or [])
    d, _leg = await _scoped(ctx.db, ctx.officer, st["code"], lock=False)
    if value == "sf:done":
        if not picked:
            ctx.say(_("Vui lòng chọn ít nhất một mục cần bổ sung."), error=True)
            return _ask_fields(ctx, d, options, picked)
        return await _ask_free_text(ctx, "supplement_reason", d.code, picked=picked)
    if value and value.startswith("sf:") and value[3:].isdigit() and int(value[3:]) < len(options):
        p = options[int(value[3:])]
        picked = [x for x in picked if x != p] if p in picked else picked + [p]
        return _ask_fields(ctx, d, options, picked)
    if text:
        form = _form(d, ctx.catalog)
        labelled = [(p, _field_label(form, p, _)) for p in options]
        hit = match_multi_choice(text, labelled)
        if hit:
            return await _ask_free_text(ctx, "supplement_reason", d.code, picked=hit)
    ctx.say(_("Chưa rõ mục nào. Chọn số thứ tự, ví dụ “1, 3”, hoặc gõ “hủy”."), error=True)
    _ask_fields(ctx, d, options, picked)


async def _ask_free_text(ctx: _Ctx, step: str, code: str, picked: list[str] | None = None) -> None:
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


async def _on_free_text(ctx: _Ctx, step: str, text: str) -> None:
    code = ctx.state["code"]
    if step == "supplement_reason":
        return await _do(ctx, lc.REQUEST_SUPPLEMENT, code, reason=text, items=list(ctx.state.get("picked") or []))
    if step == "approve_number":
        return await _do(ctx, lc.APPROVE, code, result_number=text)
    return await _do(ctx, lc.REJECT, code, reason=text)


async def _do(ctx: _Ctx, action: str, code: str, *, reason: str | None = None, result_number: str | None = None,
              items: list[str] | None = None, target: int | None = None) -> None:
    _ = ctx._
    db, o, now, cal, cat = ctx.db, ctx.officer, ctx.now, ctx.calendar, ctx.catalog
    ctx.officer.chat_state = {"code": code}
    if action == lc.CLAIM:
        await claim(db, o, code, now, calendar=cal)
        done = _("Bạn đã nhận xử lý hồ sơ {code}.", code=code)
    elif action == lc.RELEASE:
        await release(db, o, code, now, calendar=cal)
        done = _("Đã trả hồ sơ {code} về hàng đợi.", code=code)
    elif action == lc.RECEIVE:
        await receive(db, o, code, now, calendar=cal, catalog=cat)
        done = _("Đã tiếp nhận hồ sơ {code}; hồ sơ chuyển cho công chức chuyên môn. Người dân đã được báo.", code=code)
    elif action == lc.REVIEW:
        await review(db, o, code, now, calendar=cal, catalog=cat)
        done = _("Đã chuyển hồ sơ {code} sang “đang xem xét”. Người dân đã được báo.", code=code)
    elif action == lc.REQUEST_SUPPLEMENT:
        await request_supplement(db, o, code, items or [], reason or "", now, calendar=cal, catalog=cat)
        done = _("Đã gửi yêu cầu bổ sung cho người dân; thời hạn tạm dừng đến khi họ bổ sung. Bạn sẽ được báo khi "
                 "có phần bổ sung.")
    elif action == lc.APPROVE:
        await approve(db, o, code, result_number or "", now, calendar=cal, catalog=cat)
        done = _("Đã duyệt hồ sơ {code} (số {number}); hồ sơ chuyển về bộ phận một cửa để trả kết quả.",
                 code=code, number=(result_number or "").strip())
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
    await _show_dossier(ctx, code, brief=True)


# =============================================================================================
# routing from the runtime (bot/service.py)
# =============================================================================================
async def officer_turn(db: AsyncSession, user_key: str, incoming: Incoming, now: datetime, *,
                       calendar: WorkCalendar | None = None, catalog: Catalog | None = None,
                       attachments: Any = None) -> list[Reply] | None:
    """The runtime's hook: replies if this chat is an officer's (or redeems an invite), else None."""
    officer = await OfficerRepo(db).by_user_key(user_key, lock=True)
    text = (incoming.text or "").strip()
    if officer is None:
        if not is_invite_attempt(text):
            return None
        code = text.split(None, 1)[1] if text.lower().startswith("/canbo") and " " in text else text
        officer = await redeem_invite(db, code, user_key, now)
        _ = translator("vi")
        if officer is None:
            return [Message(_("Mã mời không đúng, đã dùng hoặc đã hết hạn. Vui lòng xin mã mới."), error=True),
                    Ask(text=_("Gõ “menu” để dùng trợ lý như người dân."), procedure=None, field="officer.invite",
                        kind="text")]
        replies = [Message(_("Xin chào {name}! Tài khoản này đã được đăng ký là {role}, {unit}. Bạn sẽ nhận "
                             "thông báo khi có hồ sơ mới.", name=officer.full_name,
                             role=_(lc.ROLE_LABELS[officer.role]),
                             unit=unit_text(officer.agency, officer.commune_code, _)))]
        return replies + await handle_officer_message(db, officer, Incoming(text="/hoso"), now, calendar=calendar,
                                                      catalog=catalog, attachments=attachments)
    return await handle_officer_message(db, officer, incoming, now, calendar=calendar, catalog=catalog,
                                        attachments=attachments)
