"""Notifications of the dossier lifecycle: outbox rows, rendered now in the recipient's language.

Rows are written in the caller's transaction (with the change they announce) and delivered later by
bot/notifier.py. Citizens hear through :func:`citizen_chats` (a linked account's preferred chat),
officers through :func:`push_officers`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.i18n import Translator, translator
from dialogs.workdays import WorkCalendar
from storage import filing
from storage.filing import OfficerRow, Rows, rows_of
from storage.models import Dossier, DossierEvent, DossierLeg, Officer
from storage.officers_repo import LegRepo, OfficerRepo, person_key

from ..accounts import notify_keys
from .base import applicant_id_number, catalog_or_default, form_of, planned_leg, proc_title
from .deadlines import dossier_due, effective_due


async def enqueue(db: AsyncSession | Rows, chat_key: str, kind: str, dedupe: str, text: str, now: datetime, *,
                   dossier_id: int | None = None, choices: Iterable[tuple[str, str]] = ()) -> bool:
    """One outbox row for ``chat_key`` (once per ``dedupe`` key), with optional (value, label) buttons; True if
    queued."""
    payload: dict[str, Any] = {"text": text}
    ch = [{"value": v, "label": lab} for v, lab in choices]
    if ch:
        payload["choices"] = ch
    return await filing.enqueue(rows_of(db), chat_key=chat_key, kind=kind, dedupe_key=dedupe, payload=payload,
                                now=now, dossier_id=dossier_id)


async def citizen_chats(db: AsyncSession | Rows, dossier: Dossier, *, person_chats: list[str] | None = None
                        ) -> list[str]:
    """Who hears about a dossier: the chat that filed it (perhaps a volunteer's), the applicant's own chat
    if known, and any chat linked to the applicant's ID number (``person_chats``, if the caller read them
    in this transaction already)."""
    out = [dossier.submitter_key]
    if dossier.applicant_key:
        out.append(dossier.applicant_key)
    if person_chats is not None:
        out += person_chats
    elif pkey := applicant_person_key(dossier):
        out += await filing.chats_of_person(rows_of(db), pkey)
    seen: list[str] = []
    for k in out:
        if k and k not in seen:
            seen.append(k)
    return await notify_keys(db, seen)  # a linked person's notifications go to their preferred chat


def applicant_person_key(dossier: Dossier, catalog: Catalog | None = None) -> str | None:
    """The hash key of the applicant's ID number in the answers, if any."""
    value = applicant_id_number(dossier, catalog)
    return person_key(value) if value else None


def citizen_text(kind: str, dossier: Dossier, leg: DossierLeg, _: Translator, *, due: date | None,
                  reason: str | None = None, items: list[str] | None = None, result_number: str | None = None,
                  catalog: Catalog | None = None, closed: bool = False,
                  supplement_due: date | None = None, also_closed: list[str] | None = None,
                  others_open: bool = False) -> str:
    """What the citizen reads when a dossier (or one of its legs) reaches status ``kind``; ``others_open``: other
    parts of a linked dossier are still being handled."""
    title = proc_title(dossier, _, catalog)
    whole = title
    # the invitation to rate only once the whole dossier is closed (a linked dossier's other legs may be open)
    rate = "\n" + _("Mời bạn đánh giá chất lượng phục vụ: gõ “đánh giá {code}” rồi chọn từ 1 đến 5 sao.",
                     code=dossier.code) if closed else ""
    part = planned_leg(dossier, leg, catalog) if kind not in (lc.SUBMITTED, lc.WITHDRAWN) else None
    if part is not None:  # a linked procedure: name the part (agency leg) that changed
        title = f"{title} — {_(part.title)}"
    code = dossier.code
    due_s = _.date(due) if due else ""
    if kind == lc.SUBMITTED:
        form = form_of(dossier, catalog)
        clock = form.proc.clock_at(dossier.submitted_at.date()) if form is not None else None
        if clock is not None and clock.starts == "desk_receipt":  # the appointment is set at the desk's receipt
            return _("Biên nhận hồ sơ {code} — {title}.\nNgày trả kết quả dự kiến: {due} (ngày hẹn chính thức "
                     "tính từ khi cơ quan tiếp nhận đủ hồ sơ; bạn sẽ được báo).\nHồ sơ đang chờ cơ quan tiếp "
                     "nhận; bạn không cần làm gì thêm. Gõ “/hoso” để xem tình trạng hồ sơ bất cứ lúc nào.",
                     code=code, title=title, due=due_s)
        return _("Biên nhận hồ sơ {code} — {title}.\nNgày hẹn trả kết quả: {due}.\nHồ sơ đang chờ cơ quan "
                 "tiếp nhận; bạn không cần làm gì thêm. Gõ “/hoso” để xem tình trạng hồ sơ bất cứ lúc nào.",
                 code=code, title=title, due=due_s)
    if kind == lc.RECEIVED:
        return _("Hồ sơ {code} ({title}) đã được tiếp nhận.\nNgày hẹn trả kết quả: {due}.\nBạn không cần làm gì "
                 "thêm; chúng tôi sẽ báo khi hồ sơ có kết quả.", code=code, title=title, due=due_s)
    if kind == lc.IN_REVIEW:
        return _("Hồ sơ {code} ({title}) đang được xem xét, giải quyết.\nNgày hẹn trả kết quả: {due}.\nBạn không "
                 "cần làm gì thêm.", code=code, title=title, due=due_s)
    if kind == lc.NEEDS_SUPPLEMENT:
        lines = "\n".join(f"• {i}" for i in (items or []))
        text = _("Hồ sơ {code} ({title}) cần bổ sung:\n{items}\nLý do: {reason}\nGõ “bổ sung” để gửi các giấy tờ, "
                 "thông tin còn thiếu ngay trong cuộc trò chuyện này. Thời hạn giải quyết tạm dừng cho đến khi "
                 "bạn bổ sung xong.", code=code, title=title, items=lines, reason=reason or "")
        if supplement_due is not None:
            text += "\n" + _("Hạn bổ sung: hết ngày {date}. Quá hạn này, hồ sơ có thể bị trả lại.",
                             date=_.date(supplement_due))
        return text
    if kind == lc.RESUBMITTED:
        form = form_of(dossier, catalog)
        clock = form.proc.clock_at(dossier.submitted_at.date()) if form is not None else None
        if clock is not None and clock.restarts_after_supplement:
            return _("Đã nhận phần bổ sung cho hồ sơ {code} ({title}). Hồ sơ được xử lý tiếp.\nNgày hẹn trả kết "
                     "quả (tính lại từ khi bạn bổ sung đủ): {due}.\nBạn không cần làm gì thêm.", code=code,
                     title=title, due=due_s)
        return _("Đã nhận phần bổ sung cho hồ sơ {code} ({title}). Hồ sơ được xử lý tiếp.\nNgày hẹn trả kết quả "
                 "(không tính thời gian chờ bổ sung): {due}.\nBạn không cần làm gì thêm.", code=code, title=title,
                 due=due_s)
    if kind == lc.APPROVED:
        return _("Hồ sơ {code} ({title}) đã được duyệt, số văn bản kết quả: {number}.\nKết quả đang được chuẩn bị "
                 "để trả; bạn sẽ nhận được thông báo khi có thể nhận kết quả.", code=code, title=title,
                 number=result_number or "")
    if kind == lc.RESULT_ISSUED:
        return _("Hồ sơ {code} ({title}) đã có kết quả (số {number}).\nNếu chưa nhận bản giấy, vui lòng mang căn "
                 "cước đến {agency} để nhận.", code=code, title=title, number=result_number or "",
                 agency=_(part.agency_name) if part is not None else _agency_name(dossier, _, catalog)) + rate
    if kind == lc.REJECTED and part is not None:  # one part of a linked dossier: say so, not the whole dossier
        text = _("Rất tiếc, phần “{part}” của hồ sơ {code} ({title}) không được giải quyết.\nLý do: {reason}",
                 part=_(part.title), code=code, title=whole, reason=reason or "") + _also_closed(also_closed, _)
        if others_open:
            text += "\n" + _("Các phần khác của hồ sơ vẫn được giải quyết tiếp; bạn sẽ được báo khi có kết quả.")
        return text + "\n" + _("Nếu bạn chưa đồng ý, bạn có quyền khiếu nại theo quy định.") + rate
    if kind == lc.REJECTED:
        return _("Rất tiếc, hồ sơ {code} ({title}) không được giải quyết.\nLý do: {reason}\nNếu bạn chưa đồng ý, "
                 "bạn có quyền khiếu nại theo quy định, hoặc nộp hồ sơ mới khi đã đủ điều kiện (gõ “menu”).",
                 code=code, title=title, reason=reason or "") + _also_closed(also_closed, _) + rate
    if kind == lc.WITHDRAWN:
        return _("Hồ sơ {code} ({title}) đã được rút theo yêu cầu. Bạn có thể nộp hồ sơ mới bất cứ lúc nào "
                 "(gõ “menu”).", code=code, title=title)
    return _("Hồ sơ {code} ({title}) có thay đổi: {status}.", code=code, title=title,
             status=_(lc.STATUS_LABELS.get(kind, kind)))


def _also_closed(parts: list[str] | None, _: Translator) -> str:
    """The linked parts that a rejection closes with it, in the same message."""
    if not parts:
        return ""
    return "\n" + _("Vì vậy, các phần liên thông sau cũng không được thực hiện: {parts}.",
                     parts=", ".join(_(p) for p in parts))


def _agency_name(dossier: Dossier, _: Translator, catalog: Catalog | None = None) -> str:
    cat = catalog_or_default(catalog)
    if dossier.procedure_id in cat.procedures:
        return _(cat.get(dossier.procedure_id).agency.name)
    return dossier.agency


async def notify_citizens(db: AsyncSession, dossier: Dossier, leg: DossierLeg, event: DossierEvent, now: datetime,
                           calendar: WorkCalendar, *, catalog: Catalog | None = None, reason: str | None = None,
                           items: list[str] | None = None, result_number: str | None = None,
                           supplement_due: date | None = None, also_closed: list[str] | None = None) -> None:
    """Tell every chat of the dossier's citizen about the status change recorded by ``event``."""
    _ = translator(dossier.lang)
    legs = await LegRepo(db).of_dossier(dossier.id)
    # a part's message (a linked dossier's leg) gives that part's own date, not the dossier's latest
    due = effective_due(leg, calendar, now) if len(legs) > 1 else dossier_due(legs, calendar, now)
    text = citizen_text(event.to_status, dossier, leg, _, due=due, reason=reason, items=items,
                         result_number=result_number, catalog=catalog,
                         closed=all(leg_.status in lc.CLOSED for leg_ in legs), supplement_due=supplement_due,
                         also_closed=also_closed,
                         others_open=any(leg_.status not in lc.CLOSED for leg_ in legs if leg_.id != leg.id))
    for chat in await citizen_chats(db, dossier):
        await enqueue(db, chat, f"citizen_{event.to_status}", f"ev:{event.id}:{chat}", text, now,
                       dossier_id=dossier.id)


async def push_officers(db: AsyncSession | Rows, officers: Iterable[Officer | OfficerRow], kind: str, dedupe: str,
                         text: str,
                         now: datetime, *, dossier_id: int | None = None,
                         choices: Iterable[tuple[str, str]] = ()) -> int:
    """The same push to each active officer with a chat (dedupe key per officer); returns how many were queued."""
    n = 0
    choices = list(choices)
    for o in officers:
        if o.user_key and o.active:
            n += await enqueue(db, o.user_key, kind, f"{dedupe}:{o.id}", text, now, dossier_id=dossier_id,
                                choices=choices)
    return n


async def leg_officers(db: AsyncSession, leg: DossierLeg) -> list[Officer]:
    """Who to tell about a leg: its assignee, or everyone in its agency and commune when nobody has it."""
    if leg.claimed_by is not None:
        o = await OfficerRepo(db).get(leg.claimed_by)
        if o is not None and o.active and o.user_key:
            return [o]
    return await OfficerRepo(db).in_scope(leg.agency, leg.commune_code)
