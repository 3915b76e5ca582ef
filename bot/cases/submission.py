"""A new dossier's legs (one per receiving agency), their due dates, officer pushes and the citizen's receipt."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.address import commune
from dialogs.catalog import Catalog
from dialogs.i18n import N_, translator
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage import filing
from storage.filing import Rows, as_date, rows_of
from storage.models import Dossier, DossierLeg

from .base import catalog_or_default, form_of, proc_title, subject_text
from .notify import applicant_person_key, citizen_chats, citizen_text, enqueue, push_officers
from .reminders import push_if_due_soon

log = logging.getLogger("dvcbot.cases")


async def on_submitted(db: AsyncSession | Rows, dossier: Dossier, calendar: WorkCalendar | None, now: datetime, *,
                       catalog: Catalog | None = None, replied_chat: str | None = None, new: bool = False) -> str:
    """Create the dossier's leg(s), their due dates, and the notifications: a push to every officer of the
    agency and commune, and a receipt to the citizen's chats. Idempotent (does nothing if legs exist), unless
    ``new`` says the caller created the dossier in this very transaction (it has no legs: no query for them).
    The rows are written on the driver (storage/filing.py); ``dossier`` may be a plain object of the model, not
    in any session (the filing step's), whose changes here (applicant, due date) are written here too.

    ``replied_chat`` is the chat that submitted and reads the confirmation in the turn's reply: it gets no
    receipt from the outbox (the same date twice, in either order); instead the receipt's own lines (each
    agency's date, a warning) are returned for that reply."""
    calendar = calendar or DEFAULT_CALENDAR
    rows = rows_of(db)
    if not new and await rows.fetch("SELECT 1 FROM dossier_legs WHERE dossier_id = ? LIMIT 1", dossier.id):
        return ""
    cat = catalog_or_default(catalog)
    # the applicant's own chat, if they linked it to their ID number (read once: the receipt's chats too)
    pkey = applicant_person_key(dossier, cat)
    person_chats = await filing.chats_of_person(rows, pkey) if pkey else []
    if dossier.applicant_key is None:
        others = [c for c in person_chats if c != dossier.submitter_key]
        if others:
            dossier.applicant_key = others[0]
            await rows.execute("UPDATE dossiers SET applicant_key = ? WHERE id = ?", others[0], dossier.id)
    form = form_of(dossier, cat)
    planned = []  # a linked procedure's legs (title, agency name) for the receipt
    if form is not None:
        planned = form.planned_legs(dossier.answers or {}, calendar.to_local(dossier.submitted_at).date())
        plan = [(p.agency, p.days) for p in planned]
    else:  # a dossier of a procedure no longer in the catalogue: one leg, its stored due date
        plan = [(dossier.agency, max(0, calendar.workdays_between(calendar.start_day(dossier.submitted_at),
                                                                   dossier.due_date)))]
    _ = translator("vi")
    title = proc_title(dossier, _, cat)
    legs = []
    for seq, (agency, days) in enumerate(plan, start=1):
        due = calendar.due_date(dossier.submitted_at, days) if form is not None and form.proc.legs \
            else dossier.due_date
        values = dict(dossier_id=dossier.id, seq=seq, agency=agency, commune_code=dossier.commune_code,
                      status=lc.SUBMITTED, processing_days=days, started_at=dossier.submitted_at, due_date=due,
                      pauses=[], paused_workdays=0, version=0, created_at=now, updated_at=now)
        legs.append(DossierLeg(id=await filing.insert_leg(rows, values), **values))
    if (due := max(leg.due_date for leg in legs)) != dossier.due_date:  # (the filing step's: unchanged)
        dossier.due_date = due
        await rows.execute("UPDATE dossiers SET due_date = ? WHERE id = ?", as_date(rows, due), dossier.id)
    # officers of each leg's agency and commune
    unseen: list[DossierLeg] = []
    focal: list[filing.OfficerRow] = []
    for i, leg in enumerate(legs):
        part = f"{title} — {_(planned[i].title)}" if form is not None and form.proc.legs else title
        text = _("📥 Hồ sơ mới {code}: {title}.\nNgười đứng tên: {name}.\nHạn giải quyết: {due}.",
                 code=dossier.code, title=part, name=dossier.applicant_name or _("(chưa rõ)"),
                 due=_.date(leg.due_date))
        if about := subject_text(dossier, _, catalog):
            text = text.replace("\n", "\n" + about + ".\n", 1)
        ups = [p for p in planned if form is not None and form.proc.legs and p.id in planned[i].after]
        if ups:  # a linked dossier's downstream leg (legs[].after): say what it waits for from the start
            text += "\n" + _("Phần này chờ kết quả “{part}” ({agency}); chỉ duyệt được khi đã có kết quả.",
                              part=_(ups[0].title), agency=_(lc.AGENCY_LABELS.get(ups[0].agency, ups[0].agency)))
        officers, focal = await filing.officers_and_focal_points(rows, leg.agency, leg.commune_code)
        # "Nhận xử lý" only for whoever may claim a new dossier (the desk, leaders); a specialist sees it and is
        # pushed again once the desk has received it (actions.receive)
        claimers = [o for o in officers if lc.allowed(o.role, lc.CLAIM, leg.status)]
        viewers = [o for o in officers if o not in claimers]
        see = (f"open:{dossier.code}", _("Xem hồ sơ"))
        await push_officers(rows, claimers, "officer_new", f"new:{leg.id}", text, now, dossier_id=dossier.id,
                             choices=[see, (f"claim:{dossier.code}", _(lc.ACTION_LABELS[lc.CLAIM]))])
        await push_officers(rows, viewers, "officer_new", f"new:{leg.id}", text, now, dossier_id=dossier.id,
                             choices=[see])
        if not officers:
            unseen.append(leg)
        else:
            await push_if_due_soon(rows, dossier, leg, calendar, now, catalog=cat, officers=officers)
    for leg in unseen:  # nobody in scope would ever see it: the focal points are told at once
        await _alert_unassigned(rows, dossier, leg, title, now, focal)
    leg = legs[0]
    # the citizen's receipt
    _c = translator(dossier.lang)
    extra = ""
    if form is not None and form.proc.legs:  # a linked procedure: each agency with its own due date
        extra += "\n" + _c(N_("Hồ sơ được chuyển đến từng cơ quan:")) + "".join(
            "\n" + _c(N_("• {part}: {agency} — hẹn trả {due}"), part=_c(p.title), agency=_c(p.agency_name),
                       due=_c.date(lg.due_date)) for p, lg in zip(planned, legs, strict=False))
    if unseen:  # the date is not promised silently; the commune named (a helper's is not the household's)
        places = list(dict.fromkeys(u.full_name for lg in unseen
                                    if lg.commune_code and (u := commune(lg.commune_code)) is not None))
        extra += "\n" + _c(N_("Lưu ý: {agencies} {place} chưa nhận hồ sơ qua Trợ lý. Cán bộ đầu mối đã được báo để "
                                "chuyển hồ sơ; ngày hẹn trên có thể thay đổi và bạn sẽ được báo lại."),
                             agencies=", ".join(dict.fromkeys(_c(lc.AGENCY_LABELS.get(lg.agency, lg.agency))
                                                              for lg in unseen)),
                             place=_c(N_("ở {commune}"), commune=places[0]) if len(places) == 1 else
                             _c(N_("nơi nộp hồ sơ")))
    receipt = citizen_text(lc.SUBMITTED, dossier, leg, _c, due=dossier.due_date, catalog=cat) + extra
    for chat in await citizen_chats(rows, dossier, person_chats=person_chats):
        if chat != replied_chat:
            await enqueue(rows, chat, "citizen_submitted", f"sub:{dossier.id}:{chat}", receipt, now,
                           dossier_id=dossier.id)
    return extra.strip()


async def _alert_unassigned(rows: Rows, dossier: Dossier, leg: DossierLeg, title: str, now: datetime,
                            everyone: list[filing.OfficerRow]) -> None:
    """A leg whose agency and commune have no active officer: the commune's focal points (any agency, among
    ``everyone``: read with the leg's officers) are told, or every focal point of the agency if the commune has
    none; failing both, it is logged for the admin."""
    _ = translator("vi")
    targets = [o for o in everyone if o.commune_code == leg.commune_code] or \
        [o for o in everyone if o.agency == leg.agency]
    text = _("🚨 Hồ sơ {code} ({title}) gửi đến {agency} tại {commune}, nhưng ở đó chưa có cán bộ nào nhận hồ sơ qua "
             "Trợ lý. Vui lòng chuyển hồ sơ cho đơn vị hoặc mời cán bộ (dvcbot officer add).", code=dossier.code,
             title=title, agency=_(lc.AGENCY_LABELS.get(leg.agency, leg.agency)), commune=leg.commune_code or "-")
    if not await push_officers(rows, targets, "officer_unassigned", f"unassigned:{leg.id}", text, now,
                               dossier_id=dossier.id, choices=[(f"open:{dossier.code}", _("Xem hồ sơ"))]):
        log.warning("dossier %s: leg %s has no officer and no focal point to tell", dossier.code, leg.id)
