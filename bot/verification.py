"""Identity verification against the national population database (CSDL quốc gia về dân cư), issue #6.

The commune police verify a beneficiary's name, date of birth, ID number and permanent residence
before the commune pays an allowance by bank account (seeds/003, mục III.3). This module is the seam:

* :class:`IdentityVerifier` — the interface: ``verify(db, person, ...) -> VerificationResult``.
  A real connector to the population database would answer ``matched``/``mismatch`` at once;
* :class:`ManualPoliceVerifier` — the embedded implementation: it opens a *manual task*
  (an ``identity_checks`` row) and pushes it to the commune police officers of the dossier's police
  leg; an officer completes it in the officer chat (“Khớp” / “Không khớp” and a note) or with
  ``dvcbot allowance verify``. :func:`record_result` stores the outcome, appends an event to the
  dossier, closes the police leg (result issued when it matches, rejected when it does not) and
  tells listeners (the allowance register) — so the commune officer sees it before approving.

Nothing here logs personal data: only dossier codes, check ids and outcomes.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.i18n import N_, Translator, translator
from dialogs.kinds import format_address
from dialogs.textnorm import fold
from storage.allowance_models import IdentityCheck
from storage.models import Dossier, DossierEvent, DossierLeg, Officer
from storage.officers_repo import OfficerRepo, person_key

from .cases.base import ActionRefused, officer_actor
from .cases.notify import push_officers
from .cases.transition import settle
from .officer_chat.context import OfficerCtx
from .officer_chat.router import officer_chat_of
from .officer_chat.views import show_queue
from .pipeline import Pipeline

log = logging.getLogger("dvcbot.verification")

MATCHED, MISMATCH, PENDING = "matched", "mismatch", "pending"
RESULT_LABELS = {MATCHED: N_("Khớp"), MISMATCH: N_("Không khớp"), PENDING: N_("Đang chờ Công an xác thực")}


@dataclass(frozen=True)
class Person:
    full_name: str
    birth_date: date | None
    id_number: str
    residence: str


@dataclass(frozen=True)
class VerificationResult:
    status: str  # matched | mismatch | pending
    note: str | None = None
    check_id: int | None = None
    source: str = "manual"


class IdentityVerifier(Protocol):
    """Checks a person against the national population database."""

    name: str

    async def verify(self, db: AsyncSession, person: Person, *, dossier: Dossier, leg: DossierLeg | None,
                     now: datetime) -> VerificationResult: ...


# listeners told about every recorded result: async fn(db, dossier, check, now)
Listener = Callable[[AsyncSession, Dossier, IdentityCheck, datetime], Awaitable[None]]
LISTENERS: list[Listener] = []
# who a dossier's check is about: fn(catalog, dossier) -> Person | None (the procedure's YAML says)
PersonSource = Callable[[Any, Dossier], "Person | None"]
PERSON_SOURCES: list[PersonSource] = []


def person_from_answers(answers: dict[str, Any], paths: Mapping[str, str]) -> Person | None:
    """The person whose name, birth date, ID number and residence are the answers at ``paths``."""
    idn = answers.get(paths["id_number"])
    if not isinstance(idn, str):
        return None
    bd = answers.get(paths["birth_date"])
    res = answers.get(paths["residence"])
    return Person(full_name=str(answers.get(paths["full_name"]) or ""),
                  birth_date=date.fromisoformat(bd) if isinstance(bd, str) and len(bd) == 10 else None, id_number=idn,
                  residence=format_address(res) if isinstance(res, dict) else str(res or ""))


def person_of(catalog: Any, dossier: Dossier) -> Person | None:
    return next((p for p in (src(catalog, dossier) for src in PERSON_SOURCES) if p is not None), None)


class ManualPoliceVerifier:
    """The embedded verifier: a task for the commune police, completed by an officer by hand."""

    name = "manual"

    async def verify(self, db: AsyncSession, person: Person, *, dossier: Dossier, leg: DossierLeg | None,
                     now: datetime) -> VerificationResult:
        existing = (await db.execute(select(IdentityCheck).where(IdentityCheck.dossier_id == dossier.id,
                                                                 IdentityCheck.status == PENDING))).scalars().first()
        if existing is not None:
            return VerificationResult(PENDING, check_id=existing.id, source=self.name)
        check = IdentityCheck(dossier_id=dossier.id, leg_id=leg.id if leg else None,
                              person_key=person_key(person.id_number), verifier=self.name, status=PENDING,
                              created_at=now)
        db.add(check)
        await db.flush()
        if leg is not None:
            _ = translator("vi")
            text = _("🛂 Yêu cầu xác thực thông tin trên Cơ sở dữ liệu quốc gia về dân cư: hồ sơ {code}.\n"
                     "Bấm “Xác thực” để xem thông tin và trả lời Khớp / Không khớp.", code=dossier.code)
            people = await OfficerRepo(db).in_scope(leg.agency, leg.commune_code)
            await push_officers(db, people, "officer_identity_check", f"idv:{check.id}", text, now,
                               dossier_id=dossier.id, choices=[(f"idv:open:{check.id}", _("Xác thực"))])
        log.info("identity check %s opened for dossier %s", check.id, dossier.code)
        return VerificationResult(PENDING, check_id=check.id, source=self.name)


DEFAULT_VERIFIER: IdentityVerifier = ManualPoliceVerifier()


async def _check_in_scope(db: AsyncSession, officer: Officer, check_id: int) -> tuple[IdentityCheck, Dossier,
                                                                                        DossierLeg | None]:
    check = await db.get(IdentityCheck, check_id)
    leg = await db.get(DossierLeg, check.leg_id) if check is not None and check.leg_id else None
    if check is None or leg is None or leg.agency != officer.agency or leg.commune_code != officer.commune_code:
        raise ActionRefused(N_("Không tìm thấy yêu cầu xác thực này trong phạm vi của bạn."), "not_found")
    dossier = await db.get(Dossier, check.dossier_id)
    assert dossier is not None  # a check goes with its dossier (on delete cascade)
    return check, dossier, leg


async def record_result(db: AsyncSession, officer: Officer, check_id: int, matched: bool, note: str | None,
                        now: datetime) -> IdentityCheck:
    """An officer's answer to a manual check: stored once, an event on the dossier, the police leg closed."""
    check, dossier, leg = await _check_in_scope(db, officer, check_id)
    if check.status != PENDING:
        raise ActionRefused(N_("Yêu cầu xác thực này đã có kết quả."), "done")
    check.status = MATCHED if matched else MISMATCH
    check.note = (note or "").strip() or None
    check.checked_by = officer.id
    check.checked_at = now
    _ = translator("vi")
    reason = _("Xác thực trên CSDL quốc gia về dân cư: {result}", result=_(RESULT_LABELS[check.status]))
    if check.note:
        reason += f" — {check.note}"
    data = {"verification": check.status, "check_id": check.id, "verifier": check.verifier}
    if leg is not None and leg.status in lc.OPEN:  # the police leg closes on the verdict
        await settle(db, dossier, leg, lc.RESULT_ISSUED if matched else lc.REJECTED, officer_actor(officer), now,
                     reason=reason, data=data)
    else:
        before = leg.status if leg else dossier.status
        db.add(DossierEvent(dossier_id=dossier.id, leg_id=leg.id if leg else None, at=now, from_status=before,
                            to_status=before, actor=officer.user_key or f"officer:{officer.id}", role=officer.role,
                            unit=f"{officer.agency}/{officer.commune_code}", reason=reason, action=None, data=data))
        await db.flush()
    for listener in LISTENERS:
        await listener(db, dossier, check, now)
    log.info("identity check %s for dossier %s: %s", check.id, dossier.code, check.status)
    return check


async def latest_for_dossier(db: AsyncSession, dossier_id: int) -> IdentityCheck | None:
    return (await db.execute(select(IdentityCheck).where(IdentityCheck.dossier_id == dossier_id)
                             .order_by(IdentityCheck.id.desc()))).scalars().first()


def summary_line(check: IdentityCheck | None, _: Translator) -> str | None:
    if check is None:
        return None
    if check.status == PENDING:
        return "🛂 " + _("Xác thực CSDL quốc gia về dân cư: đang chờ Công an cấp xã. Nên chờ kết quả trước khi duyệt.")
    line = "🛂 " + _("Xác thực CSDL quốc gia về dân cư: {result}", result=_(RESULT_LABELS[check.status]))
    if check.note:
        line += f" — {check.note}"
    if check.status == MISMATCH:
        line += "\n⚠️ " + _("Thông tin không khớp: không đưa vào danh sách chi trả; yêu cầu bổ sung hoặc từ chối.")
    return line


def person_card(person: Person, code: str, _: Translator) -> str:
    return _("Hồ sơ {code} — đối chiếu với CSDL quốc gia về dân cư:\n• Họ và tên: {name}\n• Ngày sinh: {dob}\n"
             "• Số định danh cá nhân: {idn}\n• Nơi thường trú: {res}", code=code, name=person.full_name,
             dob=_.date(person.birth_date) if person.birth_date else "—", idn=person.id_number, res=person.residence)


# ---------------------------------------------------------------------------------------------
# the officer chat's plug-in (bot/officer_chat/router.py): registered by register()
# ---------------------------------------------------------------------------------------------
YES_WORDS = {"khop", "dung", "trung khop", "co", "match", "matched"}
NO_WORDS = {"khong khop", "sai", "khong dung", "khong trung", "mismatch", "no match"}
CANCEL = {"huy", "/huy", "thoi", "cancel", "/cancel"}


async def dossier_choices(db: AsyncSession, officer: Officer, dossier: Dossier) -> list[tuple[str, str]]:
    """A “Xác thực” button on a dossier with an open check in this officer's scope."""
    check = await latest_for_dossier(db, dossier.id)
    if check is None or check.status != PENDING or not check.leg_id:
        return []
    leg = await db.get(DossierLeg, check.leg_id)
    if leg is None or leg.agency != officer.agency or leg.commune_code != officer.commune_code:
        return []
    _ = translator("vi")
    return [(f"idv:open:{check.id}", _("Xác thực thông tin người hưởng"))]


async def officer_step(ctx, value: str | None, text: str) -> bool:
    """Serve identity-check buttons and steps in an officer's chat; False if the message is not ours."""
    _ = ctx._
    state = ctx.state or {}
    step = state.get("step")
    key = fold(text).strip(" .!") if text else ""
    if value and not value.startswith("idv:"):
        if step in ("idv_decide", "idv_note"):  # another button: leave the check for later
            ctx.officer.chat_state = {}
            if value == "nav:cancel":
                ctx.say(_("Đã hủy thao tác."))
                return await _back_to_queue(ctx)
        return False
    if value and value.startswith("idv:"):
        verb, _sep, arg = value[4:].partition(":")
        if not arg.isdigit():
            return False
        check_id = int(arg)
        if verb == "open":
            await _show_check(ctx, check_id)
            return True
        if verb in ("ok", "no"):
            ctx.officer.chat_state = {"step": "idv_note", "check": check_id, "matched": verb == "ok"}
            await _ask_note(ctx)
            return True
        return False
    if step == "idv_decide":
        if key in CANCEL:
            ctx.officer.chat_state = {}
            ctx.say(_("Đã hủy thao tác."))
            return await _back_to_queue(ctx)
        if key in YES_WORDS or key in NO_WORDS:
            ctx.officer.chat_state = {"step": "idv_note", "check": state["check"], "matched": key in YES_WORDS}
            await _ask_note(ctx)
            return True
        ctx.say(_("Vui lòng chọn “Khớp” hoặc “Không khớp”, hoặc gõ “hủy”."), error=True)
        await _show_check(ctx, state["check"])
        return True
    if step == "idv_note":
        if key in CANCEL:
            ctx.officer.chat_state = {}
            ctx.say(_("Đã hủy thao tác."))
            return await _back_to_queue(ctx)
        if not text:
            await _ask_note(ctx)
            return True
        note = None if key in ("khong", "khong co", "-", "no", "none") else text
        await record_result(ctx.db, ctx.officer, int(state["check"]), bool(state["matched"]), note, ctx.now)
        ctx.officer.chat_state = {}
        label = RESULT_LABELS[MATCHED if state["matched"] else MISMATCH]
        ctx.say("✅ " + _("Đã ghi kết quả xác thực: {result}. Cán bộ văn hóa - xã hội của xã sẽ thấy kết quả này.",
                         result=_(label)))
        return await _back_to_queue(ctx)
    return False


async def _back_to_queue(ctx) -> bool:
    await show_queue(ctx)
    return True


async def _show_check(ctx, check_id: int) -> None:
    _ = ctx._
    check, dossier, _leg = await _check_in_scope(ctx.db, ctx.officer, check_id)
    if check.status != PENDING:
        ctx.say(_("Yêu cầu xác thực này đã có kết quả: {result}.", result=_(RESULT_LABELS[check.status])))
        await _back_to_queue(ctx)
        return
    person = person_of(ctx.catalog, dossier)
    ctx.say(person_card(person, dossier.code, _) if person else dossier.code)
    ctx.ask(_("Thông tin trên có khớp với Cơ sở dữ liệu quốc gia về dân cư không?"), "officer.identity_check",
            [(f"idv:ok:{check.id}", _("Khớp")), (f"idv:no:{check.id}", _("Không khớp")),
             ("queue", _("Về danh sách hồ sơ"))],
            keep={"step": "idv_decide", "check": check.id})


async def _ask_note(ctx) -> None:
    from dialogs.messages import NAV_CANCEL, Ask
    _ = ctx._
    ctx.replies.append(Ask(text=_("Ghi chú kết quả đối chiếu (ví dụ: sai ngày sinh). Gõ “không” nếu không có."),
                           procedure=None, field="officer.identity_note", kind="text", nav=(NAV_CANCEL,)))


async def dossier_extra(ctx: OfficerCtx, dossier: Dossier) -> tuple[list[str], list[tuple[str, str]]]:
    """The identity check's outcome under a dossier's summary, and its button for the police."""
    line = summary_line(await latest_for_dossier(ctx.db, dossier.id), ctx._)
    return ([line] if line else []), await dossier_choices(ctx.db, ctx.officer, dossier)


def register(pipeline: Pipeline) -> None:
    """The identity check's lines and buttons on a dossier in the officer chat."""
    officer_chat_of(pipeline).add_dossier_extra(dossier_extra)
