"""The citizen's side of a submitted dossier: ``/hoso``, ``/theodoi``, supplements, ratings, withdrawal."""
from __future__ import annotations

import copy
import logging
import os
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.codes import normalise_code
from dialogs.i18n import N_, translator
from dialogs.workdays import DEFAULT_CALENDAR, WorkCalendar
from storage.audit_models import AuditEntry
from storage.audit_repo import AuditRepo
from storage.models import Attachment, Dossier, DossierLeg, Rating
from storage.officers_repo import CitizenRepo, LegRepo, OfficerRepo, SupplementRepo, person_key
from storage.repo import DossierRepo

from .base import (
    ActionRefused,
    applicant_id_number,
    citizen_actor,
    field_label,
    form_of,
    proc_title,
    value_text,
)
from .deadlines import days_left, dossier_due
from .links import leg_plan
from .notify import citizen_chats, citizen_text, enqueue, leg_officers, push_officers
from .slips import reappointed
from .transition import transition

log = logging.getLogger("dvcbot.cases")


async def link_chat(db: AsyncSession, user_key: str, id_number: str) -> None:
    """Record that ``user_key`` is the chat of the person with this ID number (so dossiers filed for them by
    someone else notify them too). Only the hash of the number is stored."""
    await CitizenRepo(db).link(user_key, person_key(id_number))


# Wrong “/theodoi” guesses allowed before the door closes: per dossier in a day (whoever guesses, from any
# number of chats), and in all in an hour (someone probing many codes). Each chat also has its own daily limit
# (the engine's MAX_FOLLOW_FAILURES).
FOLLOW_GUESSES_PER_DOSSIER = int(os.environ.get("DVCBOT_FOLLOW_GUESSES_PER_DOSSIER", "10"))
FOLLOW_GUESSES_PER_HOUR = int(os.environ.get("DVCBOT_FOLLOW_GUESSES_PER_HOUR", "200"))
FOLLOW_MISMATCH = "follow.mismatch"


async def follow_dossier(db: AsyncSession, user_key: str, code: str, last4: str, *,
                         catalog: Catalog | None = None, now: datetime | None = None) -> Dossier:
    """“/theodoi CODE 1234”: the applicant's own chat asks to hear about a dossier someone filed for them.
    The last four digits of the applicant's ID number must match; the same refusal is given for an unknown
    code, so codes cannot be probed. Following is read-only: the chat hears of every change and sees the
    dossier in “/hoso”, but only the chat that filed it may answer a supplement request or withdraw it. Wrong
    guesses are limited per dossier and in all (then the officers of the dossier are alerted); the chat is
    linked to the applicant's ID (by its keyed hash), so it also hears about their later dossiers."""
    now = now or datetime.now(UTC)
    dossier = await DossierRepo(db).by_code(normalise_code(code) or code)
    audit = AuditRepo(db)
    if await audit.count(FOLLOW_MISMATCH, since=now - timedelta(hours=1)) >= FOLLOW_GUESSES_PER_HOUR or (
            dossier is not None and await audit.count(FOLLOW_MISMATCH, subject=dossier.code,
                                                      since=now - timedelta(days=1)) >= FOLLOW_GUESSES_PER_DOSSIER):
        raise ActionRefused(N_("Việc theo dõi hồ sơ này đang tạm khóa vì có nhiều lần nhập sai. Vui lòng thử lại "
                               "vào ngày mai, hoặc nhờ cán bộ xã giúp."), "locked")
    idn = applicant_id_number(dossier, catalog) if dossier is not None else None
    digits = "".join(ch for ch in (idn or "") if ch.isdigit())
    if dossier is None or idn is None or len(digits) < 4 or not secrets.compare_digest(digits[-4:], str(last4)):
        await _wrong_follow_guess(db, dossier, user_key, now)
        raise ActionRefused(N_("Mã hồ sơ hoặc 4 số cuối CCCD chưa khớp. Bạn kiểm tra lại giúp nhé."), "mismatch")
    if dossier.applicant_key is None and dossier.submitter_key != user_key:
        dossier.applicant_key = user_key  # notified and listed; never in control (see _controls)
    await CitizenRepo(db).link(user_key, person_key(idn))
    db.add(AuditEntry(at=now, actor_key=user_key, action="follow", subject=dossier.code))
    return dossier


async def _wrong_follow_guess(db: AsyncSession, dossier: Dossier | None, user_key: str, now: datetime) -> None:
    """Record a wrong guess; the guess that reaches a dossier's limit alerts the officers who hold it."""
    audit = AuditRepo(db)
    db.add(AuditEntry(at=now, actor_key=user_key, action=FOLLOW_MISMATCH,
                      subject=dossier.code if dossier is not None else None))
    await db.flush()
    if dossier is None:
        if await audit.count(FOLLOW_MISMATCH, since=now - timedelta(hours=1)) == FOLLOW_GUESSES_PER_HOUR:
            log.warning("/theodoi: %d wrong guesses in an hour across dossiers; following is locked for the hour",
                        FOLLOW_GUESSES_PER_HOUR)
        return
    if await audit.count(FOLLOW_MISMATCH, subject=dossier.code,
                         since=now - timedelta(days=1)) != FOLLOW_GUESSES_PER_DOSSIER:
        return
    log.warning("/theodoi: dossier %s reached %d wrong guesses in a day; following it is locked",
                dossier.code, FOLLOW_GUESSES_PER_DOSSIER)
    _ = translator("vi")
    text = _("⚠️ Có {n} lần nhập sai 4 số cuối CCCD khi xin theo dõi hồ sơ {code} trong một ngày. Việc theo dõi hồ "
             "sơ này đã tạm khóa đến ngày mai. Nếu người dân cần, cán bộ hướng dẫn họ trực tiếp.",
             n=FOLLOW_GUESSES_PER_DOSSIER, code=dossier.code)
    targets: list[Any] = []
    for leg in await LegRepo(db).of_dossier(dossier.id):
        targets += [o for o in await leg_officers(db, leg) if o not in targets]
    await push_officers(db, targets, "officer_follow_alert", f"follow-alert:{dossier.id}:{now.date()}", text, now,
                         dossier_id=dossier.id)


def _is_citizen_of(dossier: Dossier, user_key: str, linked: Iterable[str] = ()) -> bool:
    return user_key in (dossier.submitter_key, dossier.applicant_key) or user_key in set(linked)


def _controls(dossier: Dossier, user_key: str) -> bool:
    """Only the chat that filed the dossier may change it (answer a supplement, withdraw); a follower reads."""
    return user_key == dossier.submitter_key


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
    if not _controls(dossier, actor_key):
        raise ActionRefused(N_("Không tìm thấy yêu cầu bổ sung này."), "not_found")
    extra = sorted(set(answers) - set(req.fields))
    if extra:
        raise ActionRefused(N_("Chỉ được sửa các mục được yêu cầu bổ sung."), "fields")
    leg = await LegRepo(db).get(req.leg_id, lock=True)
    if leg is None:  # a supplement request belongs to a leg (foreign key): never true
        raise ActionRefused(N_("Không tìm thấy yêu cầu bổ sung này."), "not_found")
    form = form_of(dossier, catalog)
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
    await transition(db, dossier, leg, lc.Act(lc.RESUBMIT, citizen_actor(actor_key)), now, calendar,
                      data={"request_id": req.id, "changed": list(changes)}, catalog=catalog)
    # the officer sees what changed
    _ = translator("vi")
    lines = [f"• {field_label(form, p, _)}: {value_text(form, p, c['before'], _)} → "
             f"{value_text(form, p, c['after'], _)}" for p, c in changes.items()]
    text = _("📎 Hồ sơ {code} ({title}) đã được bổ sung.\n{changes}", code=dossier.code,
             title=proc_title(dossier, _, catalog),
             changes="\n".join(lines) if lines else _("(Người dân không thay đổi mục nào.)"))
    requester = await OfficerRepo(db).get(req.requested_by) if req.requested_by else None
    targets = await leg_officers(db, leg)
    if requester is not None and requester.user_key and requester.active and requester not in targets:
        targets = [requester, *targets]
    await push_officers(db, targets, "officer_supplement_received", f"supp:{req.id}", text, now,
                         dossier_id=dossier.id, choices=[(f"open:{dossier.code}", _("Xem hồ sơ"))])
    await _tell_other_parts(db, dossier, leg, req.id, changes, lines, now, calendar, catalog)
    return {"code": dossier.code, "changed": list(changes)}


async def _tell_other_parts(db: AsyncSession, dossier: Dossier, leg: DossierLeg, request_id: int,
                            changes: dict[str, dict[str, Any]], lines: list[str], now: datetime,
                            calendar: WorkCalendar, catalog: Catalog | None) -> None:
    """A supplement for one agency's part of a linked dossier changed answers another part uses (its
    ``legs[].sections``): that part's officers get the same before → after, through the outbox, and are asked to
    check their result if they already issued one. Parts closed without a result are left alone."""
    form = form_of(dossier, catalog)
    if not changes or form is None:
        return
    legs = await LegRepo(db).of_dossier(dossier.id)
    plan = leg_plan(dossier, legs, catalog, calendar)
    _ = translator("vi")
    for other in legs:
        if other.id == leg.id or (other.status in lc.CLOSED and other.status not in lc.WITH_RESULT):
            continue
        used = plan[other.id].sections if other.id in plan else ()
        mine = [line for p, line in zip(changes, lines, strict=True)
                if not used or ((hit := form.lookup(p)) is not None and hit[0].id in used)]
        if not mine:
            continue
        part = _(plan[other.id].title) if other.id in plan else proc_title(dossier, _, catalog)
        text = _("📎 Hồ sơ {code}: người dân đã bổ sung theo yêu cầu của {agency}, có thay đổi ở thông tin mà phần "
                 "“{part}” của bạn sử dụng:\n{changes}", code=dossier.code, part=part, changes="\n".join(mine),
                 agency=_(lc.AGENCY_LABELS.get(leg.agency, leg.agency)))
        if other.status in lc.WITH_RESULT:
            text += "\n" + _("⚠️ Phần này đã có kết quả (số {number}): vui lòng kiểm tra và điều chỉnh nếu cần.",
                             number=other.result_number or "")
        await push_officers(db, await leg_officers(db, other), "officer_supplement_elsewhere",
                            f"suppx:{request_id}:{other.id}", text, now, dossier_id=dossier.id,
                            choices=[(f"open:{dossier.code}", _("Xem hồ sơ"))])


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
        due = dossier_due(legs, calendar, now) or d.due_date
        _ = translator(d.lang)
        label = _(lc.STATUS_LABELS.get(d.status, d.status))
        paused = d.status == lc.NEEDS_SUPPLEMENT  # the clock waits for the citizen: say what to do, not a count
        if paused and _controls(d, user_key):
            label += " — " + _("thời hạn tạm dừng đến khi bạn bổ sung; gõ “bổ sung” để gửi")
        elif paused:  # a follower: the chat that filed it answers
            label += " — " + _("thời hạn tạm dừng đến khi người nộp hồ sơ bổ sung")
        if not closed:  # an apology for a late part gave a new appointment (bot/cases/apology.py)
            again = [x for x in [await reappointed(db, d, leg) for leg in legs if leg.status not in lc.CLOSED] if x]
            if again:
                label += " — " + _("hẹn lại ngày trả kết quả: {date}", date=_.date(max(again)))
        # the time limit runs from the desk's receipt: before it, the date is the estimate the filing gave, not
        # a count of days (“còn 3 ngày làm việc” next to the “2 ngày làm việc” it was told)
        form = form_of(d, catalog)
        clock = form.proc.clock_at(calendar.today(now)) if form is not None else None
        estimate = not closed and not paused and due is not None and clock is not None \
            and clock.starts == "desk_receipt" and all(leg.received_at is None for leg in legs)
        if estimate:
            label += " — " + _("ngày trả kết quả dự kiến: {date}", date=_.date(due))
        out.append({"code": d.code, "procedure": d.procedure_id, "status": d.status, "status_label": label,
                    "due_date": due,
                    "days_left": None if closed or paused or estimate else days_left(due, calendar, now),
                    "closed": closed, "rateable": rateable(d), "rated": d.id in rated})
    return out


def rateable(dossier: Dossier) -> bool:
    """A dossier is rated once it is closed by the agencies (a result or a refusal); a withdrawn one is not."""
    return dossier.status in lc.CLOSED and dossier.status != lc.WITHDRAWN


async def rate(db: AsyncSession, code: str, user_key: str, stars: int, comment: str | None = None, *,
               now: datetime | None = None) -> None:
    """Record the 1–5 rating of a closed dossier, once per dossier: the chat that filed it (perhaps a
    volunteer's) and the applicant's chat share it, and whoever comes second is told who rated."""
    dossier = await LegRepo(db).dossier(code)
    if dossier is None or not _is_citizen_of(dossier, user_key):
        raise ActionRefused(N_("Không tìm thấy hồ sơ {code} của bạn."), "not_found", code=code)
    if dossier.status == lc.WITHDRAWN:
        raise ActionRefused(N_("Hồ sơ {code} đã được rút nên không cần đánh giá."), "withdrawn", code=code)
    if dossier.status not in lc.CLOSED:
        raise ActionRefused(N_("Hồ sơ {code} chưa giải quyết xong; bạn có thể đánh giá sau khi nhận kết quả."),
                            "open", code=code)
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ActionRefused(N_("Vui lòng chọn từ 1 đến 5 sao."), "stars")
    earlier = await CitizenRepo(db).rating(dossier.id)
    if earlier is not None:
        raise _already_rated(dossier, earlier, user_key)
    db.add(Rating(dossier_id=dossier.id, user_key=user_key, stars=stars,
                  comment=(comment or "").strip()[:2000] or None, created_at=now or datetime.now(UTC)))
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError:
        raise ActionRefused(N_("Bạn đã đánh giá hồ sơ {code} rồi. Cảm ơn bạn!"), "rated", code=code) from None


def _already_rated(dossier: Dossier, earlier: Rating, user_key: str) -> ActionRefused:
    """The refusal of a second rating, saying who gave the first one (one rating per dossier)."""
    if earlier.user_key == user_key:
        return ActionRefused(N_("Bạn đã đánh giá hồ sơ {code} rồi. Cảm ơn bạn!"), "rated", code=dossier.code)
    if earlier.user_key == dossier.submitter_key:
        return ActionRefused(N_("Người nộp hồ sơ {code} đã đánh giá {stars} sao thay cho cả hai người (mỗi hồ sơ "
                                "được đánh giá một lần). Cảm ơn bạn!"), "rated", code=dossier.code,
                             stars=earlier.stars)
    return ActionRefused(N_("Người đứng tên hồ sơ {code} đã đánh giá {stars} sao (mỗi hồ sơ được đánh giá một "
                            "lần). Cảm ơn bạn!"), "rated", code=dossier.code, stars=earlier.stars)


async def withdraw(db: AsyncSession, code: str, user_key: str, now: datetime, reason: str | None = None, *,
                   calendar: WorkCalendar | None = None, catalog: Catalog | None = None) -> None:
    """The citizen withdraws an open dossier (every open leg)."""
    calendar = calendar or DEFAULT_CALENDAR
    dossier = await LegRepo(db).dossier(code, lock=True)
    if dossier is None or not _is_citizen_of(dossier, user_key):
        raise ActionRefused(N_("Không tìm thấy hồ sơ {code} của bạn."), "not_found", code=code)
    if not _controls(dossier, user_key):
        raise ActionRefused(N_("Bạn đang theo dõi hồ sơ {code}; chỉ người đã nộp hồ sơ mới rút được."), "follower",
                            code=code)
    legs = [leg for leg in await LegRepo(db).of_dossier(dossier.id, lock=True) if leg.status not in lc.CLOSED]
    if not legs:
        raise ActionRefused(N_("Hồ sơ {code} đã kết thúc, không rút được nữa."), "closed", code=code)
    _ = translator("vi")
    text = _("↩️ Người nộp đã rút hồ sơ {code} ({title}). Không cần xử lý tiếp hồ sơ này.", code=dossier.code,
             title=proc_title(dossier, _, catalog))
    for leg in legs:
        targets = await leg_officers(db, leg)  # whoever holds the leg, or its queue (before the claim is gone)
        ev = await transition(db, dossier, leg, lc.Act(lc.WITHDRAW, citizen_actor(user_key), reason=reason), now,
                              calendar, catalog=catalog, notify=False)
        await push_officers(db, targets, "officer_withdrawn", f"withdrawn:{leg.id}", text, now,
                             dossier_id=dossier.id)
    # one message per citizen action, not one per leg; the chat that withdrew already reads the confirmation
    _c = translator(dossier.lang)
    told = citizen_text(lc.WITHDRAWN, dossier, legs[0], _c, due=None, catalog=catalog)
    for chat in await citizen_chats(db, dossier):
        if chat != user_key:
            await enqueue(db, chat, f"citizen_{lc.WITHDRAWN}", f"ev:{ev.id}:{chat}", told, now,
                          dossier_id=dossier.id)
    for req in await SupplementRepo(db).open_for_chat(user_key):
        if req[1].id == dossier.id:
            req[0].status = "closed"
