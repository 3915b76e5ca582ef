"""The web desk's only door to the officer side: every call into bot/cases and bot/officer_chat goes through here.

The web desk acts through the same public functions of bot/cases as the officer chat (claim, receive,
request_supplement, approve, …), and offers the actions the chat offers (bot/officer_chat's own rule), so the
permissions, the jurisdiction, the audit events and the citizen's notifications (outbox rows) are the chat's
own. When the officer side moves, this file is the one to change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.forms.slips import SLIP_TITLES
from dialogs.i18n import N_, Translator
from dialogs.textnorm import vi_name_key
from dialogs.workdays import WorkCalendar
from storage.models import Dossier, DossierEvent, DossierLeg, Officer, SupplementRequest
from storage.officers_repo import LegRepo, OfficerRepo, OutboxRepo, SupplementRepo

from .. import cases
from ..cases import ActionRefused
from ..cases.base import subject_of
from ..cases.links import leg_forms, leg_sections, parts, waiting_title
from ..cases.search import FILTERS, find
from ..officer_chat.context import CHOICE_ACTIONS
from ..officer_chat.steps import check_early, handed_over
from ..officer_chat.views import available_actions, left_text

__all__ = [
    "ACTIONS",
    "FILTERS",
    "SLIP_TITLES",
    "ActionRefused",
    "apologise",
    "available",
    "available_slips",
    "can_apologise",
    "days_left",
    "deadline_class",
    "effective_due",
    "enqueue_report",
    "events",
    "field_label",
    "find_legs",
    "latest_supplement",
    "left_text",
    "leg_forms",
    "leg_sections",
    "legs_in",
    "legs_of",
    "names",
    "outbox_for",
    "part_title",
    "parts",
    "perform",
    "perform_check",
    "proc_title",
    "queue",
    "reappointed",
    "reassign_targets",
    "render_slip",
    "requestable",
    "scoped",
    "subject",
    "unit_text",
    "waiting_title",
]

#: URL verb → lifecycle action (the chat's own button verbs)
ACTIONS: dict[str, str] = dict(CHOICE_ACTIONS)
VERB: dict[str, str] = {v: k for k, v in ACTIONS.items()}

effective_due = cases.effective_due
days_left = cases.days_left
deadline_class = cases.deadline_class
unit_text = cases.unit_text
queue = cases.queue
find_legs = find
available_slips = cases.available_slips  # the desk's slips of a leg (bot/cases/slips.py)
reappointed = cases.reappointed
can_apologise = cases.can_apologise
available = available_actions  # the chat's buttons: the role table, narrowed by the claim and the upstream wait
perform_check = check_early  # the chat's guards before its follow-up questions

STALE = N_("Hồ sơ {code} vừa được người khác thay đổi. Vui lòng xem lại hồ sơ trước khi thao tác.")

# the chat's confirmations, word for word (the same msgids, so the same translations)
DONE = {
    lc.CLAIM: N_("Bạn đã nhận xử lý hồ sơ {code}."),
    lc.RELEASE: N_("Đã trả hồ sơ {code} về hàng đợi."),
    lc.RECEIVE: N_("Đã tiếp nhận hồ sơ {code}; hồ sơ chuyển cho công chức chuyên môn. Người dân đã được báo."),
    lc.REVIEW: N_("Đã chuyển hồ sơ {code} sang “đang xem xét”. Người dân đã được báo."),
    lc.REQUEST_SUPPLEMENT: N_("Đã gửi yêu cầu bổ sung cho người dân; thời hạn tạm dừng đến khi họ bổ sung. "
                              "Bạn sẽ được báo khi có phần bổ sung."),
    lc.APPROVE: N_("Đã duyệt hồ sơ {code} (số {number}); hồ sơ chuyển về bộ phận một cửa để trả kết quả."),
    lc.REJECT: N_("Đã từ chối hồ sơ {code}. Người dân đã được báo lý do."),
    lc.RETURN_RESULT: N_("Đã trả kết quả hồ sơ {code}. Người dân đã được báo và mời đánh giá."),
    lc.REASSIGN: N_("Đã giao lại hồ sơ {code}."),
}


async def scoped(db: AsyncSession, officer: Officer, code: str, *, lock: bool = False) -> tuple[Dossier, DossierLeg]:
    """The dossier and the officer's agency's leg of it; a dossier outside their agency and commune is refused
    exactly as an unknown code is (the chat's wording)."""
    return await cases.scoped(db, officer, code, lock=lock)


async def perform(db: AsyncSession, officer: Officer, action: str, code: str, now: datetime, *,
                  calendar: WorkCalendar, catalog: Catalog, version: int | None = None, reason: str | None = None,
                  result_number: str | None = None, items: list[str] | None = None,
                  target: int | None = None) -> tuple[str, dict[str, Any]]:
    """Do ``action`` through the officer functions the chat uses; returns the chat's confirmation (msgid and
    parameters). ``version`` is the leg version the page showed: an action on a leg changed since is refused."""
    _d, leg = await scoped(db, officer, code, lock=True)
    if version is not None and leg.version != version:
        raise ActionRefused(STALE, "stale", code=code)
    if action in (lc.REQUEST_SUPPLEMENT, lc.REJECT) and not (reason or "").strip():
        raise ActionRefused(N_("Vui lòng nhập lý do (người dân sẽ đọc lý do này)."), "reason")
    if action == lc.APPROVE and not (result_number or "").strip():
        raise ActionRefused(N_("Vui lòng nhập số, ký hiệu văn bản kết quả."), "number")
    if action == lc.CLAIM:
        await cases.claim(db, officer, code, now, calendar=calendar)
    elif action == lc.RELEASE:
        await cases.release(db, officer, code, now, calendar=calendar)
    elif action == lc.RECEIVE:
        leg = await cases.receive(db, officer, code, now, calendar=calendar, catalog=catalog)
    elif action == lc.REVIEW:
        await cases.review(db, officer, code, now, calendar=calendar, catalog=catalog)
    elif action == lc.REQUEST_SUPPLEMENT:
        if not items:
            raise ActionRefused(N_("Vui lòng chọn ít nhất một mục cần bổ sung."), "fields")
        await cases.request_supplement(db, officer, code, items, reason or "", now, calendar=calendar,
                                          catalog=catalog)
    elif action == lc.APPROVE:
        leg = await cases.approve(db, officer, code, result_number or "", now, calendar=calendar, catalog=catalog)
    elif action == lc.REJECT:
        await cases.reject(db, officer, code, reason or "", now, calendar=calendar, catalog=catalog)
    elif action == lc.RETURN_RESULT:
        await cases.return_result(db, officer, code, now, calendar=calendar, catalog=catalog)
    elif action == lc.REASSIGN:
        await cases.reassign(db, officer, code, int(target or 0), now, reason=reason, calendar=calendar)
    else:
        raise ActionRefused(N_("Thao tác không hợp lệ."), "action")
    done = await handed_over(db, officer, leg, action) if action in (lc.RECEIVE, lc.APPROVE) else DONE[action]
    return done, {"code": code, "number": (result_number or "").strip()}


async def reassign_targets(db: AsyncSession, leg: DossierLeg, officer: Officer | None = None) -> list[Officer]:
    """Whom a leader may give the leg to: not its holder, nor the leader themself (they “Nhận xử lý”), in
    Vietnamese order of given names."""
    return sorted((o for o in await OfficerRepo(db).in_scope(leg.agency, leg.commune_code, with_chat=False)
                   if lc.allowed(o.role, lc.CLAIM, leg.status) and o.id != leg.claimed_by
                   and (officer is None or o.id != officer.id)), key=lambda o: vi_name_key(o.full_name))


def _form(dossier: Dossier, catalog: Catalog):
    return catalog.form(dossier.procedure_id) if dossier.procedure_id in catalog.forms else None


def field_label(dossier: Dossier, path: str, catalog: Catalog, _: Translator) -> str:
    """As the chat says it (dialogs Form.label): repeat items numbered, a label two sections share qualified."""
    form = _form(dossier, catalog)
    return form.label(path, _) if form is not None else path


@dataclass
class Item:
    path: str
    label: str


@dataclass
class Group:
    title: str
    items: list[Item]


def requestable(dossier: Dossier, catalog: Catalog, today: date, _: Translator, leg: DossierLeg | None = None,
                calendar: WorkCalendar | None = None) -> list[Group]:
    """The supplement picker: the questions that apply (of ``leg``'s own sections on a linked dossier), grouped by
    section (repeats numbered)."""
    paths = cases.requestable_fields(dossier, catalog, today,
                                     leg_sections(dossier, leg, catalog, calendar) if leg is not None else None)
    form = _form(dossier, catalog)
    groups: dict[str, Group] = {}
    for p in paths:
        title = _("Khác")
        if form is not None and form.lookup(p):
            sec = form.lookup(p)[0]
            title = _(sec.title)
        groups.setdefault(title, Group(title, [])).items.append(Item(p, field_label(dossier, p, catalog, _)))
    return list(groups.values())


def proc_title(dossier: Dossier, catalog: Catalog, _: Translator) -> str:
    return _(catalog.get(dossier.procedure_id).title) if dossier.procedure_id in catalog.procedures \
        else dossier.procedure_id


def subject(dossier: Dossier, catalog: Catalog, _: Translator) -> tuple[str, str] | None:
    """(label, name): whom the dossier is about when not the applicant (“Người mất”, …), as the chat says it."""
    hit = subject_of(dossier, catalog)
    return (_(hit[0]), hit[1]) if hit else None


def part_title(dossier: Dossier, leg: DossierLeg, catalog: Catalog, _: Translator) -> str | None:
    """A linked procedure's part (the agency's leg) as the definition names it."""
    form = _form(dossier, catalog)
    if form is None or not form.proc.legs:
        return None
    planned = form.planned_legs(dossier.answers or {})
    if 0 < (leg.seq or 0) <= len(planned) and planned[leg.seq - 1].agency == leg.agency:
        return _(planned[leg.seq - 1].title)
    return None


async def legs_of(db: AsyncSession, dossier: Dossier) -> list[DossierLeg]:
    return await LegRepo(db).of_dossier(dossier.id)


async def events(db: AsyncSession, dossier: Dossier) -> list[DossierEvent]:
    return list((await db.execute(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                                  .order_by(DossierEvent.id))).scalars())


async def latest_supplement(db: AsyncSession, leg: DossierLeg) -> SupplementRequest | None:
    return await SupplementRepo(db).latest_for_leg(leg.id)


async def names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = (await db.execute(select(Officer.id, Officer.full_name).where(Officer.id.in_(list(ids))))).all()
    return {i: n for i, n in rows}


async def enqueue_report(db: AsyncSession, officer: Officer, stamp: str, day: date, now: datetime, text: str,
                         png64: str) -> bool:
    """A focal point's report, queued as the reports module queues one on demand (kind, dedupe key, payload)."""
    return await OutboxRepo(db).enqueue(
        chat_key=officer.user_key, kind="officer_daily_report", dedupe_key=f"report:{stamp}:{officer.id}", now=now,
        payload={"text": text, "image_png": png64,
                 "image_name": f"bao-cao-{officer.agency}-{officer.commune_code}-{day.isoformat()}"})


async def legs_in(db: AsyncSession, *, agency: str | None, commune_code: str | None):
    """Every leg (with its dossier) of an agency and commune, or of every agency of a commune."""
    return await LegRepo(db).all_with_dossier(agency=agency, commune_code=commune_code)


async def outbox_for(db: AsyncSession, *, chat_key: str | None = None, kind: str | None = None,
                     dossier_id: int | None = None):
    return await OutboxRepo(db).list(chat_key=chat_key, kind=kind, dossier_id=dossier_id)


async def render_slip(db: AsyncSession, dossier: Dossier, leg: DossierLeg, kind: str, *, calendar: WorkCalendar,
                      now: datetime, catalog: Catalog) -> bytes | None:
    """A slip of the leg as PDF (the chat's own rendering, bot/slips.py); None if the leg has none of this kind."""
    from ..slipcopy import render_slip as render
    return await render(db, dossier, leg, kind, calendar=calendar, now=now, catalog=catalog)


async def apologise(db: AsyncSession, officer: Officer, code: str, new_date: date, reason: str, now: datetime, *,
                    calendar: WorkCalendar, catalog: Catalog, version: int | None = None) -> DossierEvent:
    """The apology with a new appointment date (bot/cases/apology.py), refused on a leg changed since the page."""
    _d, leg = await scoped(db, officer, code, lock=True)
    if version is not None and leg.version != version:
        raise ActionRefused(STALE, "stale", code=code)
    return await cases.apologise(db, officer, code, new_date, reason, now, calendar=calendar, catalog=catalog)
