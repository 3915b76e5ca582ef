"""The desk's slips as PDF files: rendered in the worker process for officers, and for citizens as the notifier's
preparer of ``slip`` outbox rows (bot/cases/slips.py writes them with the receive, supplement and reject
actions): rendered, stored in the attachment store and handed to the sender exactly as the citizen's form copy
(bot/formcopy.py, whose ``attach`` registers this preparer too). The officer chat's steps are bot/slips.py.
"""
from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.catalog import Catalog
from dialogs.forms.slips import SLIP_TITLES, render_slip_pdf, slip_file_name
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.attachments import AttachmentStore
from storage.models import Dossier, DossierLeg
from storage.officers_repo import LegRepo

from .cases.slips import KIND, slip_values
from .notifier import PermanentError
from .workers import run_in_worker

MIME = "application/pdf"


async def render_slip(db: AsyncSession, dossier: Dossier, leg: DossierLeg, kind: str, *, calendar: WorkCalendar,
                      now: datetime, catalog: Catalog | None = None, ref: int | None = None,
                      executor: Executor | None = None) -> bytes | None:
    """Slip ``kind`` of the leg as PDF bytes (None if the leg has no such slip), rendered off the event loop."""
    got = await slip_values(db, dossier, leg, kind, calendar=calendar, now=now, catalog=catalog, ref=ref)
    if got is None:
        return None
    values, when = got
    return await run_in_worker(render_slip_pdf, kind, values, day=calendar.today(when), when=calendar.to_local(when),
                               code=dossier.code, executor=executor)


class SlipCopies:
    """The notifier's preparer of ``slip`` rows: the payload gains ``file`` once the slip is rendered and stored."""

    def __init__(self, sm: async_sessionmaker, store: AttachmentStore, *, calendar: WorkCalendar | None = None,
                 catalog: Catalog | None = None, executor: Executor | None = None):
        self.sm, self.store, self.executor = sm, store, executor
        self.calendar = calendar or DEFAULT_CALENDAR
        self.catalog = catalog

    async def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        code, kind = str(payload.get("code") or ""), str(payload.get("slip") or "")
        async with self.sm() as db:
            d = (await db.execute(select(Dossier).where(Dossier.code == code))).scalar_one_or_none()
            leg = await LegRepo(db).get(int(payload.get("leg") or 0))
            if d is None or leg is None or leg.dossier_id != d.id or kind not in SLIP_TITLES:
                raise PermanentError("no such slip")
            ref = payload.get("ref")
            pdf = await render_slip(db, d, leg, kind, calendar=self.calendar, now=datetime.now(UTC),
                                    catalog=self.catalog, ref=int(ref) if ref else None, executor=self.executor)
        if pdf is None:
            raise PermanentError("the slip no longer exists")
        sha = await asyncio.to_thread(self.store.put, pdf)
        return {**payload, "file": {"sha256": sha,
                                    "name": slip_file_name(code, kind), "mime": MIME}}


def attach(notifier: Any, runtime: Any, *, executor: Executor | None = None) -> SlipCopies:
    """Make ``notifier`` deliver citizens' slips (rendered with ``runtime``'s database and attachment store)."""
    prep = SlipCopies(runtime.sm, runtime.attachments, calendar=getattr(runtime, "calendar", None),
                      catalog=getattr(runtime, "catalog", None), executor=executor)
    notifier.preparers[KIND] = prep
    return prep
