"""A leg's clock: its due date with the pauses while the citizen supplements, days left, timeliness."""
from __future__ import annotations

from datetime import date, datetime

from dialogs import lifecycle as lc
from dialogs.workdays import WorkCalendar
from storage.models import DossierLeg


def closed_pauses(leg: DossierLeg) -> list[tuple[datetime, datetime | None]]:
    """The leg's finished pauses (waiting for a supplement) as (start, end) pairs."""
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None) for a, b in (leg.pauses or [])]


def base_due(leg: DossierLeg, calendar: WorkCalendar) -> date:
    """The leg's due date without any pause."""
    return calendar.due_date(leg.started_at, leg.processing_days)


def effective_due(leg: DossierLeg, calendar: WorkCalendar, now: datetime) -> date:
    """The leg's due date now: closed pauses are in ``leg.due_date``; an open pause counts until ``now``."""
    if leg.paused_since is None:
        return leg.due_date
    pauses = [*closed_pauses(leg), (leg.paused_since, None)]
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


def dossier_due(legs: list[DossierLeg], calendar: WorkCalendar, now: datetime) -> date | None:
    """A dossier's due date now: its last leg's."""
    return max((effective_due(leg, calendar, now) for leg in legs), default=None)
