"""Officers' actions on a leg in their scope (agency and commune), shared by the chat and the CLI.

Each action goes through :func:`bot.cases.transition.transition`; refusals raise ActionRefused.
"""
from __future__ import annotations

import os
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.codes import normalise_code
from dialogs.i18n import N_, translator
from dialogs.parsing import document_number
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.models import Dossier, DossierLeg, Officer, SupplementRequest
from storage.officers_repo import LegRepo, OfficerRepo, SupplementRepo

from .base import ActionRefused, form_of, officer_actor, proc_title, refused
from .conflict import refuse_own_dossier
from .links import leg_sections
from .notify import citizen_chats, push_officers
from .slips import enqueue_slip
from .transition import transition


async def scoped(db: AsyncSession, officer: Officer, code: str, *, lock: bool = True) -> tuple[Dossier, DossierLeg]:
    """The dossier and its leg of this officer's agency and commune (row-locked unless ``lock`` is False); refused
    alike when not found or out of scope."""
    canonical = normalise_code(code) or code
    hit = await LegRepo(db).in_scope(canonical, officer.agency, officer.commune_code, lock=lock)
    if hit is None:  # not found and not in jurisdiction look the same
        raise ActionRefused(N_("Không tìm thấy hồ sơ {code} thuộc phạm vi của bạn."), "not_found", code=code)
    return hit


async def claim(db: AsyncSession, officer: Officer, code: str, now: datetime, *,
                calendar: WorkCalendar | None = None) -> DossierLeg:
    """The officer takes the leg (nothing happens if it is already theirs)."""
    d, leg = await scoped(db, officer, code)
    if leg.claimed_by == officer.id:
        return leg
    await transition(db, d, leg, lc.Act(lc.CLAIM, officer_actor(officer)), now, calendar or DEFAULT_CALENDAR)
    return leg


async def release(db: AsyncSession, officer: Officer, code: str, now: datetime, *,
                  calendar: WorkCalendar | None = None) -> DossierLeg:
    """The officer puts the leg back in the queue."""
    d, leg = await scoped(db, officer, code)
    await transition(db, d, leg, lc.Act(lc.RELEASE, officer_actor(officer)), now, calendar or DEFAULT_CALENDAR)
    return leg


async def receive(db: AsyncSession, officer: Officer, code: str, now: datetime, *, note: str | None = None,
                  calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    """The desk receives the dossier; the citizen is told, and so are the specialists who can now take it."""
    d, leg = await scoped(db, officer, code)
    ev = await transition(db, d, leg, lc.Act(lc.RECEIVE, officer_actor(officer), reason=note), now,
                           calendar or DEFAULT_CALENDAR, catalog=catalog)
    # the appointment date given at receipt, in the audit trail (the receipt slip prints it)
    ev.data = {**(ev.data or {}), "due": leg.due_date.isoformat()}
    await enqueue_slip(db, d, leg, "receipt", ev.id, await citizen_chats(db, d), now)
    await keep_claim_if_alone(db, d, leg, officer, now, calendar)
    _ = translator("vi")
    takers = [o for o in await OfficerRepo(db).in_scope(leg.agency, leg.commune_code)
              if o.id != officer.id and o.role == lc.SPECIALIST and lc.allowed(o.role, lc.CLAIM, leg.status)]
    await push_officers(db, takers, "officer_received", f"received:{leg.id}",
                         _("📥 Hồ sơ {code} ({title}) đã được tiếp nhận, chờ công chức chuyên môn xử lý. Hạn giải "
                           "quyết: {due}.", code=d.code, title=proc_title(d, _, catalog), due=_.date(leg.due_date)),
                         now, dossier_id=d.id, choices=[(f"open:{d.code}", _("Xem hồ sơ")),
                                                        (f"claim:{d.code}", _(lc.ACTION_LABELS[lc.CLAIM]))])
    return leg


async def review(db: AsyncSession, officer: Officer, code: str, now: datetime, *,
                 calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    """The leg goes to “being reviewed”; the citizen is told."""
    d, leg = await scoped(db, officer, code)
    await transition(db, d, leg, lc.Act(lc.REVIEW, officer_actor(officer)), now, calendar or DEFAULT_CALENDAR,
                      catalog=catalog)
    return leg


async def keep_claim_if_alone(db: AsyncSession, d: Dossier, leg: DossierLeg, officer: Officer, now: datetime,
                              calendar: WorkCalendar | None = None) -> bool:
    """After a hand-over (receive, approve: lifecycle's RELEASES_CLAIM) the leg goes back to the queue for the
    next desk; when no other active officer of the unit could take it there, the officer who handed it over
    claims it again at once (an audited “claim”, under the same role table), so a lone leader need not. True if
    kept."""
    if leg.claimed_by is not None or not lc.allowed(officer.role, lc.CLAIM, leg.status):
        return False
    others = [o for o in await OfficerRepo(db).in_scope(leg.agency, leg.commune_code, with_chat=False)
              if o.id != officer.id and lc.allowed(o.role, lc.CLAIM, leg.status)]
    if others:
        return False
    await transition(db, d, leg, lc.Act(lc.CLAIM, officer_actor(officer)), now, calendar or DEFAULT_CALENDAR,
                     notify=False)
    return True


def requestable_fields(dossier: Dossier, catalog: Catalog | None = None, today: date | None = None,
                       sections: Collection[str] | None = None) -> list[str]:
    """The paths an officer may ask the citizen to supplement: the questions that apply to the answers (only
    those of ``sections``, a linked leg's own: bot/cases/links.py's leg_sections), in the form's order. A consent
    or an acknowledgement (kinds ``confirm``, ``consent``) is the citizen's to give, not a datum to correct: never
    offered."""
    form = form_of(dossier, catalog)
    answers = dossier.answers or {}
    if form is None:
        return list(answers)
    return [s.path for s in form.slots(answers, today)
            if not s.synthetic and s.field.kind not in ("confirm", "consent")
            and (sections is None or s.section.id in sections)]


def supplement_days() -> int:
    """Working days the citizen has to supplement: a desk setting (``DVCBOT_SUPPLEMENT_DAYS``, 10 by default),
    not a figure of the law; an officer may give another with the request."""
    raw = os.environ.get("DVCBOT_SUPPLEMENT_DAYS", "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 60 else 10


async def request_supplement(db: AsyncSession, officer: Officer, code: str, fields: list[str], reason: str,
                             now: datetime, *, calendar: WorkCalendar | None = None,
                             catalog: Catalog | None = None, days: int | None = None) -> SupplementRequest:
    """Ask the citizen to supplement ``fields`` (paths of the form) for ``reason`` within ``days`` working days
    (:func:`supplement_days` by default); the clock pauses. The citizen reads the deadline."""
    d, leg = await scoped(db, officer, code)
    allowed_paths = requestable_fields(d, catalog, DEFAULT_CALENDAR.today(now),
                                       leg_sections(d, leg, catalog, calendar))
    fields = list(dict.fromkeys(fields))
    bad = [f for f in fields if f not in allowed_paths]
    if bad:
        raise ActionRefused(N_("Mục không có trong hồ sơ: {fields}."), "fields", fields=", ".join(bad))
    act = lc.Act(lc.REQUEST_SUPPLEMENT, officer_actor(officer), reason=reason, items=fields)
    try:
        lc.check(lc.LegState(leg.status, leg.claimed_by), act)
    except lc.Refused as exc:
        raise refused(exc) from None
    for old in await SupplementRepo(db).open_for_leg(leg.id):
        old.status = "closed"
    calendar = calendar or DEFAULT_CALENDAR
    due = calendar.due_date(now, days if days and days > 0 else supplement_days())
    req = SupplementRequest(dossier_id=d.id, leg_id=leg.id, requested_by=officer.id, requested_at=now,
                            fields=fields, reason=reason.strip(), status="open", due_date=due)
    db.add(req)
    await db.flush()
    await transition(db, d, leg, act, now, calendar,
                      data={"request_id": req.id, "fields": fields, "supplement_due": due.isoformat()},
                      catalog=catalog)
    await enqueue_slip(db, d, leg, "supplement", req.id, await citizen_chats(db, d), now)
    return req


async def approve(db: AsyncSession, officer: Officer, code: str, result_number: str, now: datetime, *,
                  note: str | None = None, calendar: WorkCalendar | None = None,
                  catalog: Catalog | None = None) -> DossierLeg:
    """Approve with the result document's number; whoever can return the result is told. The number is the
    citizen's reference to the result, so one without a digit (a slip of the keyboard) is refused; a “số” typed
    before it (“so 15/2026/GCN”) is not part of it."""
    result_number = document_number(result_number or "")
    if not any(ch.isdigit() for ch in result_number):
        raise ActionRefused(N_("Số, ký hiệu văn bản kết quả cần có chữ số, ví dụ 123/QĐ-UBND."), "number")
    d, leg = await scoped(db, officer, code)
    await refuse_own_dossier(db, officer, d)
    await transition(db, d, leg, lc.Act(lc.APPROVE, officer_actor(officer), reason=note, result_number=result_number),
                      now, calendar or DEFAULT_CALENDAR, data={"result_number": (result_number or "").strip()},
                      catalog=catalog)
    await keep_claim_if_alone(db, d, leg, officer, now, calendar)
    # the result now waits at the desk: tell whoever can return it
    _ = translator("vi")
    desk = [o for o in await OfficerRepo(db).in_scope(leg.agency, leg.commune_code)
            if o.id != officer.id and lc.allowed(o.role, lc.RETURN_RESULT, lc.APPROVED)]
    await push_officers(db, desk, "officer_result_ready", f"ready:{leg.id}",
                         _("✅ Hồ sơ {code} ({title}) đã được duyệt (số {number}). Vui lòng trả kết quả cho người dân.",
                           code=d.code, title=proc_title(d, _, catalog), number=leg.result_number or ""),
                         now, dossier_id=d.id, choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return leg


async def reject(db: AsyncSession, officer: Officer, code: str, reason: str, now: datetime, *,
                 calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    """Reject with a reason the citizen reads; open supplement requests close. A dossier waiting for the citizen
    can be rejected (“trả lại hồ sơ do không bổ sung”) once the supplement's deadline has passed."""
    d, leg = await scoped(db, officer, code)
    await refuse_own_dossier(db, officer, d)
    if leg.status == lc.NEEDS_SUPPLEMENT:
        today = (calendar or DEFAULT_CALENDAR).today(now)
        dues = [r.due_date for r in await SupplementRepo(db).open_for_leg(leg.id) if r.due_date is not None]
        if not dues or max(dues) >= today:
            raise ActionRefused(N_("Người dân còn trong hạn bổ sung (đến hết ngày {due}); chỉ từ chối được khi đã quá "
                                   "hạn."), "supplement_due", due=translator("vi").date(max(dues)) if dues else "-")
    ev = await transition(db, d, leg, lc.Act(lc.REJECT, officer_actor(officer), reason=reason), now,
                           calendar or DEFAULT_CALENDAR, catalog=catalog)
    for req in await SupplementRepo(db).open_for_leg(leg.id):
        req.status = "closed"
    await enqueue_slip(db, d, leg, "refusal", ev.id, await citizen_chats(db, d), now)
    return leg


async def return_result(db: AsyncSession, officer: Officer, code: str, now: datetime, *, note: str | None = None,
                        calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> DossierLeg:
    """The result is handed over; the leg closes and the citizen is asked for a rating."""
    d, leg = await scoped(db, officer, code)
    await transition(db, d, leg, lc.Act(lc.RETURN_RESULT, officer_actor(officer), reason=note), now,
                      calendar or DEFAULT_CALENDAR, catalog=catalog)
    return leg


async def reassign(db: AsyncSession, officer: Officer, code: str, to_officer_id: int, now: datetime, *,
                   reason: str | None = None, calendar: WorkCalendar | None = None) -> DossierLeg:
    """A leader gives the leg to another officer of the same agency and commune; both are told."""
    d, leg = await scoped(db, officer, code)
    target = await OfficerRepo(db).get(to_officer_id)
    if target is None or not target.active or target.agency != leg.agency or target.commune_code != leg.commune_code:
        raise ActionRefused(N_("Cán bộ được giao phải cùng cơ quan và cùng xã với hồ sơ."), "target")
    if not lc.allowed(target.role, lc.CLAIM, leg.status):
        raise ActionRefused(N_("Vai trò của {name} không xử lý được hồ sơ ở trạng thái “{status}”."), "target",
                            name=target.full_name, status=lc.STATUS_LABELS[leg.status])
    previous = leg.claimed_by
    await transition(db, d, leg, lc.Act(lc.REASSIGN, officer_actor(officer), reason=reason, target=target.id), now,
                      calendar or DEFAULT_CALENDAR, data={"to": target.id, "from": previous})
    _ = translator("vi")
    if previous is not None and previous not in (officer.id, target.id):  # whoever held it stops working on it
        held = await OfficerRepo(db).get(previous)
        if held is not None:
            await push_officers(db, [held], "officer_unassigned", f"unassign:{leg.id}:{leg.version}",
                                 _("👤 {leader} đã giao hồ sơ {code} cho {name}. Bạn không cần xử lý hồ sơ này "
                                   "nữa.", leader=officer.full_name, code=d.code, name=target.full_name), now,
                                 dossier_id=d.id)
    if target.id != officer.id:
        await push_officers(db, [target], "officer_assigned", f"assign:{leg.id}:{leg.version}",
                             _("👤 {leader} đã giao hồ sơ {code} cho bạn xử lý.", leader=officer.full_name,
                               code=d.code), now, dossier_id=d.id,
                             choices=[(f"open:{d.code}", _("Xem hồ sơ"))])
    return leg


async def queue(db: AsyncSession, officer: Officer, *, include_closed: bool = False,
                mine: bool = False) -> list[tuple[DossierLeg, Dossier]]:
    """The legs in this officer's scope (open ones unless ``include_closed``; only theirs if ``mine``), with their
    dossiers."""
    statuses = None if include_closed else (lc.OPEN | {lc.APPROVED})
    return await LegRepo(db).queue(officer.agency, officer.commune_code, statuses=statuses,
                                   claimed_by=officer.id if mine else None)
