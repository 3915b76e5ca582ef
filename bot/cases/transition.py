"""The one place where a dossier leg's status changes.

:func:`transition` fires the lifecycle machine (dialogs/lifecycle.py) on the leg, keeps its clock
(pauses while waiting for the citizen, timeliness at closing), appends the audit event, lets the
dossier's status follow its legs and tells the citizen, all in the caller's transaction. On a linked dossier
(bot/cases/links.py) it also refuses to finish a leg whose upstream leg has no result yet, hands an upstream
leg's result number on to the legs that wait for it, and closes them when the upstream leg is rejected (the
citizen hears of it once, in the rejection's message).
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.form import PlannedLeg
from dialogs.i18n import translator
from dialogs.schema import Clock
from dialogs.workdays import WorkCalendar
from storage.models import Dossier, DossierEvent, DossierLeg
from storage.officers_repo import LegRepo, SupplementRepo

from .base import field_label, form_of, proc_title, refused
from .deadlines import base_due, closed_pauses
from .links import downstream_of, leg_plan, leg_state, waiting_for
from .notify import leg_officers, notify_citizens, push_officers

log = logging.getLogger("dvcbot.cases")


async def transition(db: AsyncSession, dossier: Dossier, leg: DossierLeg, act: lc.Act, now: datetime,
                      calendar: WorkCalendar, *, data: dict[str, Any] | None = None,
                      catalog: Catalog | None = None, notify: bool = True) -> DossierEvent:
    """Fire ``act`` on ``leg`` (refused by the lifecycle machine's guards and role table with ActionRefused), keep
    its clock, append the event, let the dossier follow its legs and, unless ``notify`` is False, tell the
    citizen. Returns the event."""
    legs = await LegRepo(db).of_dossier(dossier.id)
    plan = leg_plan(dossier, legs, catalog, calendar)
    state = leg_state(leg, legs, plan)  # a downstream leg of a linked dossier waits for its upstream result
    before = leg.status
    try:
        lc.fire(state, act)
    except lc.Refused as exc:
        raise refused(exc) from None
    after = state.state
    _write_status(leg, after, state.claimed_by, now)
    # the clock: the procedure's `clock` in force says when the time limit starts and whether a supplement
    # starts it again (else the days spent waiting for the citizen are added to it)
    clock = _clock(dossier, catalog, calendar.today(now))
    if after == lc.NEEDS_SUPPLEMENT and before != lc.NEEDS_SUPPLEMENT:
        leg.paused_since = now
    if before == lc.NEEDS_SUPPLEMENT and after != lc.NEEDS_SUPPLEMENT and leg.paused_since is not None:
        leg.pauses = [*list(leg.pauses or []), [leg.paused_since.isoformat(), now.isoformat()]]
        leg.paused_since = None
        if clock is not None and clock.restarts_after_supplement and after not in lc.CLOSED:
            leg.due_date = calendar.due_date(now, leg.processing_days)
        else:
            leg.due_date = calendar.due_date_with_pauses(leg.started_at, leg.processing_days, closed_pauses(leg),
                                                         now)
        leg.paused_workdays = max(0, calendar.workdays_between(base_due(leg, calendar), leg.due_date))
    if act.action == lc.RECEIVE and leg.received_at is None:
        leg.received_at = now
        if clock is not None and clock.starts == "desk_receipt":  # the appointment date is set now, not before
            leg.due_date = calendar.due_date(now, leg.processing_days)
    if act.action == lc.APPROVE:
        leg.result_number = act.result_number.strip() if act.result_number else None
    if after in lc.CLOSED and before not in lc.CLOSED and after != lc.WITHDRAWN:
        leg.timeliness = calendar.classify(leg.due_date, now, now)
    ev = DossierEvent(dossier_id=dossier.id, leg_id=leg.id, at=now, from_status=before, to_status=after,
                      actor=act.actor.key, role=act.actor.role, unit=act.actor.unit,
                      reason=(act.reason.strip() if act.reason else None), action=act.action, data=data or None)
    db.add(ev)
    closed_parts: list[str] = []
    if after == lc.REJECTED and before != lc.REJECTED:
        closed_parts = await _close_downstream(db, dossier, leg, legs, plan, now, act.reason, catalog)
    elif act.action == lc.APPROVE:
        await _hand_on_result(db, dossier, leg, legs, plan, now, catalog)
    legs = await _follow_legs(db, dossier)
    overall = max((leg_.due_date for leg_ in legs), default=None)
    if overall is not None:
        dossier.due_date = overall
    await db.flush()
    log.info("leg %s dossier=%s %s: %s -> %s by %s", leg.id, dossier.code, act.action, before, after,
             act.actor.role)
    if notify and after != before:
        items = None
        if act.action == lc.REQUEST_SUPPLEMENT:
            form = form_of(dossier, catalog)
            _ = translator(dossier.lang)
            items = [field_label(form, p, _) for p in act.items]
        sup_due = (data or {}).get("supplement_due")
        await notify_citizens(db, dossier, leg, ev, now, calendar, catalog=catalog, reason=act.reason,
                               items=items, result_number=leg.result_number,
                               supplement_due=date.fromisoformat(sup_due) if sup_due else None,
                               also_closed=closed_parts)
    return ev


async def settle(db: AsyncSession, dossier: Dossier, leg: DossierLeg, to_status: str, actor: lc.Actor, now: datetime,
                 *, reason: str | None = None, data: dict[str, Any] | None = None) -> DossierEvent:
    """Close an open leg on an outside verdict that is no action of the role table (the identity check of the
    police leg: matched → result issued, mismatch → rejected): the status, the audit event, the dossier
    following its legs. The clock is not classified and nobody is notified here (the caller says why)."""
    if leg.status not in lc.OPEN or to_status not in lc.CLOSED:
        raise ValueError(f"settle closes an open leg, not {leg.status} -> {to_status}")
    before = leg.status
    _write_status(leg, to_status, None, now)
    ev = DossierEvent(dossier_id=dossier.id, leg_id=leg.id, at=now, from_status=before, to_status=to_status,
                      actor=actor.key, role=actor.role, unit=actor.unit, reason=reason, action=None, data=data or None)
    db.add(ev)
    if to_status == lc.REJECTED:
        legs = await LegRepo(db).of_dossier(dossier.id)
        await _close_downstream(db, dossier, leg, legs, leg_plan(dossier, legs), now, reason, None)
    await _follow_legs(db, dossier)
    await db.flush()
    log.info("leg %s dossier=%s settled: %s -> %s by %s", leg.id, dossier.code, before, to_status, actor.role)
    return ev


def _clock(dossier: Dossier, catalog: Catalog | None, day: date) -> Clock | None:
    """The dossier's procedure's clock rule in force on ``day`` (None: the procedure left the catalogue)."""
    form = form_of(dossier, catalog)
    return form.proc.clock_at(day) if form is not None else None


def _write_status(leg: DossierLeg, after: str, claimed_by: int | None, now: datetime) -> None:
    """The only place a leg's status is written."""
    before = leg.status
    leg.status = after
    if claimed_by != leg.claimed_by:
        leg.claimed_by = claimed_by
        leg.claimed_at = now if claimed_by is not None else None
    leg.version = (leg.version or 0) + 1
    if after in lc.CLOSED and before not in lc.CLOSED:
        leg.closed_at = now


async def _follow_legs(db: AsyncSession, dossier: Dossier) -> list[DossierLeg]:
    """The dossier's status follows its legs; returns the legs."""
    legs = await LegRepo(db).of_dossier(dossier.id)
    dossier.status = lc.parent_status([leg_.status for leg_ in legs], dossier.status) or dossier.status
    return legs


def _part_title(dossier: Dossier, leg: DossierLeg, plan: dict[int, PlannedLeg], catalog: Catalog | None) -> str:
    """“<procedure> — <leg>” in Vietnamese, for officers' pushes."""
    _ = translator("vi")
    title = proc_title(dossier, _, catalog)
    return f"{title} — {_(plan[leg.id].title)}" if leg.id in plan else title


async def _hand_on_result(db: AsyncSession, dossier: Dossier, leg: DossierLeg, legs: list[DossierLeg],
                          plan: dict[int, PlannedLeg], now: datetime, catalog: Catalog | None) -> None:
    """The upstream leg was approved with its result number: every open leg waiting for it records the number in
    its history and, once it waits for nothing more, its officers are told they can go on."""
    _ = translator("vi")
    for down in downstream_of(leg, legs, plan):
        if down.status in lc.CLOSED:
            continue
        db.add(DossierEvent(dossier_id=dossier.id, leg_id=down.id, at=now, from_status=down.status,
                            to_status=down.status, actor="system", role=lc.SYSTEM, unit=None,
                            reason=None, action=lc.UPSTREAM_RESULT,
                            data={"from_leg": leg.id, "part": plan[leg.id].id, "result_number": leg.result_number}))
        if waiting_for(down, legs, plan) is not None:
            continue
        text = _("📌 Hồ sơ {code} ({title}): đã có kết quả “{upstream}” số {number}, có thể xử lý.",
                 code=dossier.code, title=_part_title(dossier, down, plan, catalog), upstream=_(plan[leg.id].title),
                 number=leg.result_number or "")
        await push_officers(db, await leg_officers(db, down), "officer_upstream_result", f"upres:{down.id}:{leg.id}",
                            text, now, dossier_id=dossier.id, choices=[(f"open:{dossier.code}", _("Xem hồ sơ"))])


async def _close_downstream(db: AsyncSession, dossier: Dossier, leg: DossierLeg, legs: list[DossierLeg],
                            plan: dict[int, PlannedLeg], now: datetime, why: str | None,
                            catalog: Catalog | None) -> list[str]:
    """The upstream leg was rejected: every open leg waiting for it (and for those, in turn) is closed with the
    reason, its open supplement requests close, and its officers are told. Nobody else is notified here: the
    caller's message to the citizen names the closed parts. Returns their titles (msgids)."""
    _ = translator("vi")
    closed: list[str] = []
    todo = [(leg, down) for down in downstream_of(leg, legs, plan)]
    while todo:
        up, down = todo.pop(0)
        if down.status in lc.CLOSED:
            continue
        upstream = _(plan[up.id].title)
        reason = _("Không thực hiện do hồ sơ {part} bị từ chối.", part=upstream[:1].lower() + upstream[1:])
        officers = await leg_officers(db, down)
        before = down.status
        if down.paused_since is not None:  # waiting for the citizen: the pause ends here
            down.pauses = [*list(down.pauses or []), [down.paused_since.isoformat(), now.isoformat()]]
            down.paused_since = None
        for req in await SupplementRepo(db).open_for_leg(down.id):
            req.status = "closed"
        _write_status(down, lc.REJECTED, None, now)
        db.add(DossierEvent(dossier_id=dossier.id, leg_id=down.id, at=now, from_status=before, to_status=lc.REJECTED,
                            actor="system", role=lc.SYSTEM, unit=None, reason=reason, action=lc.UPSTREAM_CLOSED,
                            data={"from_leg": up.id, "part": plan[up.id].id}))
        closed.append(plan[down.id].title)
        text = _("⛔ Hồ sơ {code} ({title}): {reason}", code=dossier.code,
                 title=_part_title(dossier, down, plan, catalog), reason=reason)
        if why:
            text += "\n" + _("Lý do từ chối: {reason}", reason=why.strip())
        await push_officers(db, officers, "officer_upstream_closed", f"upclosed:{down.id}", text, now,
                            dossier_id=dossier.id, choices=[(f"open:{dossier.code}", _("Xem hồ sơ"))])
        todo += [(down, x) for x in downstream_of(down, legs, plan)]
    return closed
