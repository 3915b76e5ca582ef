"""An officer's queue as the chat and the web desk both show it: filters, search, order.

The filters are the desk's own words (“mine”, “due today”, “overdue”, “waiting for the citizen”…), and the search
takes a code, a name, a phone number or an ID number, the way an officer at the counter would type it.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.i18n import N_
from dialogs.textnorm import fold
from dialogs.workdays import WorkCalendar
from storage.models import Dossier, DossierLeg, Officer

from .actions import queue
from .deadlines import effective_due

#: (filter, label): the open legs, then narrower views of them, then everything including closed legs
FILTERS = [("open", N_("Đang xử lý")), ("mine", N_("Của tôi")), ("unclaimed", N_("Chưa ai nhận")),
           ("due_today", N_("Hạn hôm nay")), ("overdue", N_("Quá hạn")), ("waiting", N_("Chờ người dân bổ sung")),
           ("all", N_("Tất cả, kể cả đã xong"))]
FILTER_KEYS = frozenset(k for k, _l in FILTERS)


def _digits(v: Any) -> str:
    return "".join(ch for ch in str(v) if ch.isdigit())


def matches(d: Dossier, q: str) -> bool:
    """Search by code, name, phone or CCCD (folded; digits compared as digits)."""
    q = q.strip()
    if not q:
        return True
    fq = fold(q).strip()
    if fq.replace("-", "") in fold(d.code).replace("-", ""):
        return True
    names = [d.applicant_name or ""] + [v for k, v in (d.answers or {}).items()
                                        if k.endswith("full_name") and isinstance(v, str)]
    if any(fq in fold(n) for n in names):
        return True
    dq = _digits(q)
    if len(dq) >= 4 and dq == re.sub(r"[\s.\-+]", "", q):
        for k, v in (d.answers or {}).items():
            if isinstance(v, str) and ("phone" in k or "id_number" in k) and dq in _digits(v):
                return True
    return False


def passes(leg: DossierLeg, officer: Officer, f: str, *, calendar: WorkCalendar, now: datetime) -> bool:
    """Whether the leg is shown under filter ``f``."""
    if f == "all":
        return True
    if leg.status in lc.CLOSED:
        return False
    running = leg.status in lc.CLOCK_RUNNING
    today = calendar.today(now)
    if f == "mine":
        return leg.claimed_by == officer.id
    if f == "unclaimed":
        return leg.claimed_by is None
    if f == "due_today":
        return running and effective_due(leg, calendar, now) == today
    if f == "overdue":
        return running and effective_due(leg, calendar, now) < today
    if f == "waiting":
        return leg.status == lc.NEEDS_SUPPLEMENT
    return True


async def find(db: AsyncSession, officer: Officer, *, f: str = "open", q: str = "", calendar: WorkCalendar,
               now: datetime, include_closed: bool = False) -> list[tuple[DossierLeg, Dossier]]:
    """The legs in the officer's scope under filter ``f`` that match the search ``q``, soonest due first.

    A search looks at closed legs too: the officer at the counter is often asked about a finished one."""
    f = f if f in FILTER_KEYS else "open"
    legs = await queue(db, officer, include_closed=include_closed or f == "all" or bool(q.strip()),
                       mine=f == "mine")
    return [(leg, d) for leg, d in legs
            if (passes(leg, officer, f, calendar=calendar, now=now) or (q.strip() and f == "open"))
            and matches(d, q)]
