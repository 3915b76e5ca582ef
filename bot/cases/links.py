"""How the legs of a linked (liên thông) dossier depend on each other, as the procedure's ``legs[].after`` says.

A downstream leg (residence, health-insurance card, funeral benefit) waits for its upstream leg's result (the
birth or death extract): it is approved and returned only once the upstream leg is approved with its number
(the guard is dialogs/lifecycle.py's ``waiting_for``), the number is handed on to it (stored on the upstream
leg, recorded on the downstream leg's history, pushed to its officers), and it is closed when the upstream leg
is rejected. This module maps the dossier's legs onto the definition's and answers which leg waits for which;
bot/cases/transition.py acts on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.form import PlannedLeg
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.models import Dossier, DossierLeg
from storage.officers_repo import LegRepo

from .base import form_of


def leg_plan(dossier: Dossier, legs: list[DossierLeg], catalog: Catalog | None = None,
             calendar: WorkCalendar | None = None) -> dict[int, PlannedLeg]:
    """The definition's leg of each dossier leg (by leg id), as planned on the day of submission; empty for a
    procedure without ``legs``. A leg whose place no longer matches its agency is left out."""
    form = form_of(dossier, catalog)
    if form is None or not form.proc.legs:
        return {}
    when: datetime | None = dossier.submitted_at
    day = (calendar or DEFAULT_CALENDAR).to_local(when).date() if when is not None else None
    planned = form.planned_legs(dossier.answers or {}, day)
    out: dict[int, PlannedLeg] = {}
    for leg in legs:
        if 0 < (leg.seq or 0) <= len(planned) and planned[leg.seq - 1].agency == leg.agency:
            out[leg.id] = planned[leg.seq - 1]
    return out


def upstream_of(leg: DossierLeg, legs: list[DossierLeg], plan: dict[int, PlannedLeg]) -> list[DossierLeg]:
    """The legs ``leg`` waits for (only those the dossier has)."""
    mine = plan.get(leg.id)
    if mine is None or not mine.after:
        return []
    return [x for x in legs if x.id != leg.id and x.id in plan and plan[x.id].id in mine.after]


def downstream_of(leg: DossierLeg, legs: list[DossierLeg], plan: dict[int, PlannedLeg]) -> list[DossierLeg]:
    """The legs that wait for ``leg``."""
    mine = plan.get(leg.id)
    if mine is None:
        return []
    return [x for x in legs if x.id != leg.id and x.id in plan and mine.id in plan[x.id].after]


def waiting_for(leg: DossierLeg, legs: list[DossierLeg], plan: dict[int, PlannedLeg]) -> DossierLeg | None:
    """The first upstream leg that has no result yet (the one ``leg`` still waits for), or None."""
    return next((x for x in upstream_of(leg, legs, plan) if x.status not in lc.WITH_RESULT), None)


def leg_state(leg: DossierLeg, legs: list[DossierLeg], plan: dict[int, PlannedLeg]) -> lc.LegState:
    """What the lifecycle machine needs to know about ``leg``, its upstream wait included."""
    wait = waiting_for(leg, legs, plan)
    return lc.LegState(leg.status, leg.claimed_by, waiting_for=plan[wait.id].title if wait is not None else None)


async def waiting_title(db: AsyncSession, dossier: Dossier, leg: DossierLeg, catalog: Catalog | None = None,
                        calendar: WorkCalendar | None = None) -> str | None:
    """The title (a msgid) of the upstream leg ``leg`` still waits for, or None."""
    legs = await LegRepo(db).of_dossier(dossier.id)
    return leg_state(leg, legs, leg_plan(dossier, legs, catalog, calendar)).waiting_for


def leg_forms(dossier: Dossier, leg: DossierLeg, catalog: Catalog | None = None,
              calendar: WorkCalendar | None = None) -> tuple[str | None, tuple[str, ...]] | None:
    """A linked dossier's leg: (its title, the official form templates its agency fills in: ``legs[].forms``);
    None for a single-agency procedure (its form is the procedure's own)."""
    form = form_of(dossier, catalog)
    if form is None or not form.proc.legs:
        return None
    planned = leg_plan(dossier, [leg], catalog, calendar).get(leg.id)
    return (planned.title, planned.forms) if planned is not None else (None, ())


def leg_sections(dossier: Dossier, leg: DossierLeg, catalog: Catalog | None = None,
                 calendar: WorkCalendar | None = None) -> frozenset[str] | None:
    """The form sections a linked dossier's leg uses (``legs[].sections``): what its officers may ask the citizen
    to supplement and whose changes they hear of; None when the leg uses them all."""
    planned = leg_plan(dossier, [leg], catalog, calendar).get(leg.id)
    return frozenset(planned.sections) if planned is not None and planned.sections else None


@dataclass(frozen=True)
class Part:
    """One leg of a dossier as every agency's view shows it."""

    leg: DossierLeg
    title: str | None         # the definition's title (a msgid); None for a single-agency dossier
    waits_for: str | None     # the title of the upstream leg it still waits for
    upstream: tuple[tuple[str, str], ...]  # (title, result number) of the upstream legs that have a result


async def parts(db: AsyncSession, dossier: Dossier, catalog: Catalog | None = None,
                calendar: WorkCalendar | None = None) -> list[Part]:
    """Every leg of the dossier, in order, with what it waits for and the upstream results it has received."""
    legs = await LegRepo(db).of_dossier(dossier.id)
    plan = leg_plan(dossier, legs, catalog, calendar)
    out = []
    for leg in legs:
        wait = waiting_for(leg, legs, plan)
        got = tuple((plan[x.id].title, x.result_number or "") for x in upstream_of(leg, legs, plan)
                    if x.status in lc.WITH_RESULT)
        out.append(Part(leg, plan[leg.id].title if leg.id in plan else None,
                        plan[wait.id].title if wait is not None else None, got))
    return out


def part_of(all_parts: list[Part], leg: DossierLeg) -> Part | None:
    """The :class:`Part` of ``leg``."""
    return next((p for p in all_parts if p.leg.id == leg.id), None)
