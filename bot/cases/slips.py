"""The desk's slips of a dossier's leg, from the database: which exist, and the values each shows.

The slips themselves are data (dialogs/forms/slips.py and its templates); this module reads the dossier, the
leg, its supplement requests and its audit trail, and writes the outbox row that sends a citizen their slip
(``slip``: the dossier code, the leg, the slip and the event or request it is about; no personal data). The
notifier renders it when it sends it (bot/slips.py).

* receipt — once the desk has received the leg: the appointment date recorded at receipt (the receive event's
  ``data.due``), who received it, the papers;
* supplement — a supplement request of the leg: its items, reason and deadline;
* refusal — a rejected leg: the reason and who rejected it;
* apology — an apology for a late leg (bot/cases/apology.py): the old and the new appointment date;
* tracking — always, on demand: every leg's hand-overs from the audit trail, due, done, on time or late.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.address import commune
from dialogs.catalog import Catalog
from dialogs.forms.render import has_form
from dialogs.forms.slips import SLIP_KINDS, SLIP_TITLES, slip_file_name
from dialogs.i18n import Translator, translator
from dialogs.kinds import format_address
from dialogs.workdays import WorkCalendar
from storage.models import Dossier, DossierEvent, DossierLeg, SupplementRequest
from storage.officers_repo import LegRepo, OfficerRepo, OutboxRepo, SupplementRepo

from .base import field_label, form_of, planned_leg, proc_title
from .deadlines import days_left, effective_due

KIND = "slip"  # the outbox row kind of a citizen's slip

__all__ = ["KIND", "SLIP_KINDS", "SLIP_TITLES", "available_slips", "enqueue_slip", "reappointed", "slip_file_name",
           "slip_values"]


async def _events(db: AsyncSession, dossier: Dossier) -> list[DossierEvent]:
    return list((await db.execute(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                                  .order_by(DossierEvent.id))).scalars())


def _last(events: list[DossierEvent], leg: DossierLeg, pred) -> DossierEvent | None:
    hits = [e for e in events if e.leg_id == leg.id and pred(e)]
    return hits[-1] if hits else None


def _is_reject(e: DossierEvent) -> bool:
    return e.action == lc.REJECT or (e.to_status == lc.REJECTED and e.from_status != lc.REJECTED)


async def available_slips(db: AsyncSession, dossier: Dossier, leg: DossierLeg) -> list[str]:
    """The slips that exist for this leg now, in :data:`SLIP_KINDS` order."""
    events = await _events(db, dossier)
    have = {"tracking"}
    if leg.received_at is not None:
        have.add("receipt")
    if await SupplementRepo(db).latest_for_leg(leg.id) is not None:
        have.add("supplement")
    if leg.status == lc.REJECTED and _last(events, leg, _is_reject) is not None:
        have.add("refusal")
    if _last(events, leg, lambda e: e.action == lc.REAPPOINT) is not None:
        have.add("apology")
    return [k for k in SLIP_KINDS if k in have]


async def reappointed(db: AsyncSession, dossier: Dossier, leg: DossierLeg) -> date | None:
    """The latest new appointment date given with an apology for this leg, if any."""
    ev = _last(await _events(db, dossier), leg, lambda e: e.action == lc.REAPPOINT)
    raw = (ev.data or {}).get("new_date") if ev is not None else None
    return date.fromisoformat(raw) if raw else None


async def enqueue_slip(db: AsyncSession, dossier: Dossier, leg: DossierLeg, kind: str, ref: int, chats: list[str],
                       now: datetime) -> None:
    """In the action's transaction: slip ``kind`` about event or request ``ref`` for each of the citizen's chats,
    once per chat."""
    _ = translator(dossier.lang)
    text = _("📄 {slip} (PDF): {name}", slip=_(SLIP_TITLES[kind]), name=slip_file_name(dossier.code, kind))
    payload = {"slip": kind, "code": dossier.code, "leg": leg.id, "ref": ref, "lang": dossier.lang, "text": text}
    for chat in chats:
        await OutboxRepo(db).enqueue(chat_key=chat, kind=KIND, dedupe_key=f"{KIND}:{kind}:{leg.id}:{ref}:{chat}",
                                     payload=payload, now=now, dossier_id=dossier.id)


# -- values ---------------------------------------------------------------------------------------------
def _unit(leg: DossierLeg, _: Translator) -> tuple[str, str]:
    """(“UBND cấp xã, Xã Đức Trọng”, “Đức Trọng”): the agency's unit and the place name of the slip's date line."""
    label = _(lc.AGENCY_LABELS.get(leg.agency, leg.agency))
    unit = commune(leg.commune_code) if leg.commune_code else None
    if unit is None:
        return label, ""
    bare = re.sub(r"^(Xã|Phường|Đặc khu|Thị trấn)\s+", "", unit.full_name)
    return f"{label}, {unit.full_name}", bare


def _when(calendar: WorkCalendar, at: datetime | None) -> str:
    if at is None:
        return ""
    local = calendar.to_local(at)
    return f"{local:%H} giờ {local:%M} phút, ngày {local:%d/%m/%Y}"


def _day(_: Translator, d: date | None) -> str:
    return _.date(d) if d is not None else ""


#: the roles as the sheet's narrow columns name them (the slips are written in Vietnamese)
SHORT_ROLES = {lc.DESK: "Một cửa", lc.SPECIALIST: "Chuyên môn", lc.LEADER: "Lãnh đạo", lc.CITIZEN: "Người dân",
               lc.SYSTEM: "Hệ thống"}


async def _actor_name(db: AsyncSession, e: DossierEvent, _: Translator) -> str:
    """Who did an event, as the sheet names them: the officer's name and role, the citizen, the system."""
    role = SHORT_ROLES.get(e.role, e.role)
    if e.role in (lc.CITIZEN, lc.SYSTEM):
        return role
    m = re.search(r"officer[: ](\d+)$", e.actor or "")
    o = await OfficerRepo(db).get(int(m.group(1))) if m else await OfficerRepo(db).by_user_key(e.actor or "")
    return f"{o.full_name} ({role})" if o is not None else role


def _receiver(e: DossierEvent, names: dict[int, str], _: Translator) -> str:
    """Whom a step hands the leg to."""
    data = e.data or {}
    if e.action == lc.REASSIGN and data.get("to") in names:
        return names[data["to"]]
    if e.action == lc.CLAIM:
        return ""
    if e.to_status in (lc.NEEDS_SUPPLEMENT, lc.RESULT_ISSUED, lc.REJECTED, lc.WITHDRAWN) or e.action == lc.REAPPOINT:
        return SHORT_ROLES[lc.CITIZEN]
    if e.to_status in (lc.SUBMITTED, lc.RESUBMITTED, lc.APPROVED):
        return SHORT_ROLES[lc.DESK]
    if e.to_status in (lc.RECEIVED, lc.IN_REVIEW):
        return SHORT_ROLES[lc.SPECIALIST]
    return ""


TIMELY = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn", "withdrawn": "Đã rút"}


async def slip_values(db: AsyncSession, dossier: Dossier, leg: DossierLeg, kind: str, *, calendar: WorkCalendar,
                      now: datetime, catalog: Catalog | None = None,
                      ref: int | None = None) -> tuple[dict[str, Any], datetime] | None:
    """The values slip ``kind`` shows for this leg and the slip's date and time; None when the slip does not
    exist (not received, no request, not rejected, no apology). ``ref``: the request (supplement) or event
    (refusal, apology) the slip is about; the latest by default. Slips are written in Vietnamese."""
    _ = translator("vi")
    form = form_of(dossier, catalog)
    unit, place = _unit(leg, _)
    part = planned_leg(dossier, leg, catalog)
    events = await _events(db, dossier)
    v: dict[str, Any] = {"unit": unit, "place": place, "number": dossier.code, "code": dossier.code,
                         "applicant": dossier.applicant_name or "", "procedure": proc_title(dossier, _, catalog),
                         "part": _(part.title) if part is not None else "", "days": leg.processing_days,
                         "received_at": _when(calendar, leg.received_at or dossier.submitted_at)}
    v.update(_contact(dossier, form))
    if kind == "receipt":
        ev = _last(events, leg, lambda e: e.action == lc.RECEIVE)
        if leg.received_at is None or ev is None:
            return None
        due = (ev.data or {}).get("due")
        v.update(due=_day(_, date.fromisoformat(due) if due else leg.due_date), officer=await _officer(db, ev),
                 docs=_docs(dossier, form, _))
        return v, ev.at
    if kind == "supplement":
        req = await (SupplementRepo(db).get(ref) if ref else SupplementRepo(db).latest_for_leg(leg.id))
        if req is None or req.leg_id != leg.id:
            return None
        v.update(items=[{"label": field_label(form, p, _)} for p in req.fields], reason=req.reason,
                 supplement_due=_day(_, req.due_date), requested_at=_day(_, calendar.today(req.requested_at)),
                 officer=await _officer_id(db, req))
        return v, req.requested_at
    if kind == "refusal":
        ev = _pick(events, leg, ref, _is_reject)
        if ev is None or leg.status != lc.REJECTED:
            return None
        v.update(reason=ev.reason or "", rejected_at=_day(_, calendar.today(ev.at)), officer=await _officer(db, ev))
        return v, ev.at
    if kind == "apology":
        ev = _pick(events, leg, ref, lambda e: e.action == lc.REAPPOINT)
        if ev is None:
            return None
        data = ev.data or {}
        v.update(reason=ev.reason or "", due=_day(_, date.fromisoformat(data["due"])) if data.get("due") else "",
                 new_date=_day(_, date.fromisoformat(data["new_date"])), officer=await _officer(db, ev))
        return v, ev.at
    if kind == "tracking":
        return await _tracking(db, dossier, events, v, calendar, now, catalog, _), now
    raise ValueError(f"no slip {kind!r}")


def _pick(events: list[DossierEvent], leg: DossierLeg, ref: int | None, pred) -> DossierEvent | None:
    if ref:
        return next((e for e in events if e.id == ref and e.leg_id == leg.id and pred(e)), None)
    return _last(events, leg, pred)


async def _officer(db: AsyncSession, e: DossierEvent) -> str:
    m = re.search(r"officer[: ](\d+)$", e.actor or "")
    o = await OfficerRepo(db).get(int(m.group(1))) if m else await OfficerRepo(db).by_user_key(e.actor or "")
    return o.full_name if o is not None else ""


async def _officer_id(db: AsyncSession, req: SupplementRequest) -> str:
    o = await OfficerRepo(db).get(req.requested_by) if req.requested_by else None
    return o.full_name if o is not None else ""


def _contact(dossier: Dossier, form) -> dict[str, str]:
    """The applicant's address and phone as the answers hold them (the block that names the applicant)."""
    answers = dossier.answers or {}
    out = {"address": "", "phone": "", "email": ""}
    if form is None:
        return out
    prefixes = [p.rsplit(".", 1)[0] + "." for p in form.proc.applicant_name_fields]
    for key in sorted(form.field_keys):
        f = form.field(key)
        value = answers.get(key)
        if f is None or value in (None, ""):
            continue
        if f.kind == "address" and not out["address"] and any(key.startswith(p) for p in prefixes) \
                and isinstance(value, dict):
            out["address"] = format_address(value)
        elif f.kind == "phone" and not out["phone"]:
            out["phone"] = str(value)
        elif f.kind == "email" and not out["email"]:
            out["email"] = str(value)
    return out


def _docs(dossier: Dossier, form, _: Translator) -> list[dict[str, str]]:
    """The papers of the dossier: the declaration and every attachment, all received electronically."""
    out = []
    if has_form(dossier.procedure_id):
        out.append({"label": _("Tờ khai"), "form": _("Bản điện tử")})
    for path, value in (dossier.answers or {}).items():
        f = form.field(path) if form is not None else None
        if f is None or f.kind != "attachment" or not isinstance(value, list):
            continue
        for k, a in enumerate(value, 1):
            if isinstance(a, dict):
                out.append({"label": f"{field_label(form, path, _)} ({k})", "form": _("Bản chụp điện tử")})
    return out


async def _tracking(db: AsyncSession, dossier: Dossier, events: list[DossierEvent], v: dict[str, Any],
                    calendar: WorkCalendar, now: datetime, catalog: Catalog | None, _: Translator) -> dict[str, Any]:
    legs = await LegRepo(db).of_dossier(dossier.id)
    titles = {}
    for x in legs:
        p = planned_leg(dossier, x, catalog)
        titles[x.id] = _(p.title) if p is not None else _(lc.AGENCY_LABELS.get(x.agency, x.agency))
    officers = {o.id: o.full_name for x in legs for o in await OfficerRepo(db).in_scope(x.agency, x.commune_code,
                                                                                         with_chat=False)}
    rows = []
    for x in legs:
        due = effective_due(x, calendar, now)
        if x.status in lc.CLOSED:
            timely = TIMELY.get(x.timeliness or "withdrawn", x.timeliness or "")
            done = calendar.to_local(x.closed_at).strftime("%d/%m/%Y") if x.closed_at else ""
        else:
            left = days_left(due, calendar, now)
            timely = f"Quá hạn {-left} ngày" if left < 0 else "Đang giải quyết"
            done = ""
        rows.append({"title": titles[x.id], "agency": _unit(x, _)[0], "due": _day(_, due), "done": done,
                     "timely": timely})
    steps = []
    by_leg = {x.id: x for x in legs}
    for e in events:
        hit = by_leg.get(e.leg_id) if e.leg_id is not None else None
        if hit is None:
            continue
        x = hit
        data = e.data or {}
        label = lc.event_label(e.action)
        what = _(label) if label else _(lc.STATUS_LABELS.get(e.to_status, e.to_status))
        note = " · ".join(s for s in (e.reason,
                                      f"số {data['result_number']}" if data.get("result_number") else None,
                                      f"hẹn lại ngày {_day(_, date.fromisoformat(data['new_date']))}"
                                      if data.get("new_date") else None) if s)
        if x.status in lc.CLOSED and e.to_status == x.status and e.from_status not in lc.CLOSED:
            due_s = TIMELY.get(x.timeliness or "withdrawn", "")
        else:  # the appointment recorded with the step (receipt, apology), if any
            due_s = _day(_, date.fromisoformat(data["due"])) if data.get("due") else ""
        steps.append({"at": calendar.to_local(e.at).strftime("%H:%M\n%d/%m/%Y"), "part": titles[x.id], "what": what,
                      "by": await _actor_name(db, e, _), "to": _receiver(e, officers, _), "due": due_s,
                      "note": note})
    units = list(dict.fromkeys(_unit(x, _)[0] for x in legs))
    v.update(legs=rows, steps=steps, agencies=units[0] if units else "", partners="; ".join(units[1:]))
    return v
