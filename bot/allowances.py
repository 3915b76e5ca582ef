"""Allowances paid by bank account (issue #6): the register, reported changes, confirmation, the export.

See docs/allowances.md. Two procedures are data (dialogs/procedures/):
``nhan-tro-cap-qua-tai-khoan`` (registration) and ``bao-thay-doi-nhan-tro-cap`` (a change: new account,
moved away, death, benefit level), linked by the beneficiary's ID number. This module is what the
runtime calls around the dialog engine:

* :func:`before_step` — ``/xacnhan CODE`` / ``/tuchoi CODE`` (or the buttons of the confirmation
  request) from the chat that registered the old account; a typed number picking one of the banks
  offered after an ambiguous bank name;
* :func:`after_step` — as soon as the beneficiary's ID number is answered (and again at submission):
  a second registration for the same person is stopped politely and pointed to the change procedure,
  a change for someone not registered is pointed to the registration; an ambiguous bank name gets
  its candidates as buttons;
* :func:`on_submitted` — in the submission's transaction: the register row and the identity check
  (bot/verification.py) for a registration; the change row, and for a new account the confirmation
  request to the registering chat (outbox), for a change.

The register keeps only what the social-affairs export needs. Account numbers are never logged;
notifications show only their last 4 digits.
"""
from __future__ import annotations

import csv
import logging
import secrets
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import banks
from dialogs import lifecycle as lc
from dialogs.codes import ALPHABET
from dialogs.i18n import N_, translator
from dialogs.kinds import format_address
from dialogs.kinds.bank import BankPick
from dialogs.messages import Ask, ChoiceOut, Incoming, Message
from dialogs.protocol import Outcome, Submit
from dialogs.textnorm import fold
from storage.allowance_models import AllowanceBeneficiary, AllowanceChange, IdentityCheck
from storage.models import Dossier, DossierEvent
from storage.officers_repo import LegRepo, person_key, secret_hash

from . import verification
from .cases.notify import enqueue
from .officer_chat.router import officer_chat_of
from .officer_chat.views import show_queue
from .pipeline import PASS, PLUGINS, Pipeline, Turn, Pass

log = logging.getLogger("dvcbot.allowances")

REG = "nhan-tro-cap-qua-tai-khoan"
CHG = "bao-thay-doi-nhan-tro-cap"
CONFIRM_DAYS = 7
CODE_LEN = 6
_VN = ZoneInfo("Asia/Ho_Chi_Minh")
ACTIVE = "active"
AWAITING = "awaiting_confirmation"
DEAD_DOSSIER = (lc.REJECTED, lc.WITHDRAWN)

ALLOWANCE_LABELS = {"uu_dai": N_("Trợ cấp ưu đãi người có công"),
                    "xa_hoi": N_("Trợ cấp xã hội hằng tháng (bảo trợ xã hội)"),
                    "ca_hai": N_("Cả hai loại trợ cấp")}
FILER_LABELS = {"self": N_("Người hưởng tự đăng ký"), "guardian": N_("Người giám hộ"),
                "authorised": N_("Người được ủy quyền")}


# =============================================================================================
# the register
# =============================================================================================
async def active_registration(db: AsyncSession, id_number: str) -> AllowanceBeneficiary | None:
    """The person's current registration: still receiving here, and its dossier not rejected or withdrawn."""
    rows = (await db.execute(
        select(AllowanceBeneficiary, Dossier.status).outerjoin(Dossier, Dossier.id == AllowanceBeneficiary.dossier_id)
        .where(AllowanceBeneficiary.person_key == person_key(id_number), AllowanceBeneficiary.status == ACTIVE)
        .order_by(AllowanceBeneficiary.id.desc()))).all()
    return next((b for b, status in rows if status not in DEAD_DOSSIER), None)


def _d(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def _on_registration(db: AsyncSession, dossier: Dossier, now: datetime) -> list[Message]:
    a = dossier.answers or {}
    _ = translator(dossier.lang)
    res = a.get("beneficiary.residence")
    ben = AllowanceBeneficiary(
        person_key=person_key(a["beneficiary.id_number"]), commune_code=dossier.commune_code, dossier_id=dossier.id,
        registered_chat=dossier.submitter_key, full_name=str(a.get("beneficiary.full_name") or ""),
        birth_date=_d(a.get("beneficiary.birth_date")), id_number=a["beneficiary.id_number"],
        residence=format_address(res) if isinstance(res, dict) else None, phone=a.get("beneficiary.phone"),
        allowance_type=str(a.get("allowance.type") or ""), filer_kind=str(a.get("filer.kind") or "self"),
        rep_name=a.get("rep.full_name"), rep_id_number=a.get("rep.id_number"), rep_relation=a.get("rep.relation"),
        account_owner=a.get("account.owner") or "beneficiary", bank_bin=str(a["account.bank"]),
        account_number=str(a["account.number"]), holder_name=str(a.get("account.holder") or "").upper(),
        status=ACTIVE, identity_status=verification.PENDING, created_at=now, updated_at=now)
    db.add(ben)
    await db.flush()
    # the commune police leg: verify the beneficiary against the national population database
    legs = await LegRepo(db).of_dossier(dossier.id)
    police = next((leg for leg in legs if leg.agency == "police"), None)
    person = verification.person_from_answers(a)
    result = await verification.DEFAULT_VERIFIER.verify(db, person, dossier=dossier, leg=police, now=now)
    log.info("allowance registration dossier=%s beneficiary=%s identity=%s", dossier.code, ben.id, result.status)
    return [Message(_("Công an cấp xã sẽ đối chiếu thông tin người hưởng với Cơ sở dữ liệu quốc gia về dân cư. "
                      "Trợ cấp chỉ chuyển vào tài khoản {bank} ({account}) sau khi thông tin được xác thực và xã "
                      "cập nhật danh sách chi trả; trong thời gian chờ, người hưởng vẫn nhận tiền mặt như hiện nay.",
                      bank=banks.bank_label(ben.bank_bin).split(" — ")[0],
                      account=banks.masked_account(ben.account_number)))]


async def _identity_listener(db: AsyncSession, dossier: Dossier, check: IdentityCheck, now: datetime) -> None:
    ben = (await db.execute(select(AllowanceBeneficiary).where(AllowanceBeneficiary.dossier_id == dossier.id)))\
        .scalars().first()
    if ben is not None:
        ben.identity_status = check.status
        ben.identity_note = check.note
        ben.updated_at = now


verification.LISTENERS.append(_identity_listener)


# =============================================================================================
# changes
# =============================================================================================
def new_confirm_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _i in range(CODE_LEN))


async def _on_change(db: AsyncSession, dossier: Dossier, now: datetime) -> list[Message]:
    a = dossier.answers or {}
    _ = translator(dossier.lang)
    ben = await active_registration(db, str(a.get("beneficiary.id_number") or ""))
    if ben is None:  # the chat checked this before submission; a race (the registration closed meanwhile)
        return [Message(_("Chưa tìm thấy đăng ký nhận trợ cấp qua tài khoản đang hiệu lực cho số CCCD này; "
                          "cán bộ xã sẽ liên hệ để làm rõ."))]
    kind = str(a.get("change.kind"))
    ch = AllowanceChange(beneficiary_id=ben.id, dossier_id=dossier.id, kind=kind, status="recorded",
                         reported_by=dossier.submitter_key, data={}, created_at=now)
    if kind == "new_account":
        code = new_confirm_code()
        ch.status = AWAITING
        ch.confirm_chat = ben.registered_chat
        ch.confirm_code_hash = secret_hash(code)
        ch.expires_at = now + timedelta(days=CONFIRM_DAYS)
        ch.new_bank_bin = str(a.get("new.bank"))
        ch.new_account_number = str(a.get("new.number"))
        ch.new_holder_name = str(a.get("new.holder") or "").upper()
        db.add(ch)
        await db.flush()
        new_bank = banks.bank_label(ch.new_bank_bin).split(" — ")[0]
        text = _("🔐 Yêu cầu đổi tài khoản nhận trợ cấp của {name} (hồ sơ {code}):\n• Tài khoản đang dùng: {old_bank} "
                  "{old}\n• Tài khoản mới: {new_bank} {new}\nTài khoản mới chỉ có hiệu lực khi bạn xác nhận tại đây. "
                  "Nếu đúng là bạn yêu cầu, chọn “Đồng ý đổi” hoặc gõ “/xacnhan {pin}”. Nếu không phải bạn, chọn "
                  "“Không đồng ý” (hoặc gõ “/tuchoi {pin}”): tài khoản cũ vẫn được giữ. Mã có hiệu lực {days} ngày.",
                  name=ben.full_name, code=dossier.code, old_bank=banks.bank_label(ben.bank_bin).split(" — ")[0],
                  old=banks.masked_account(ben.account_number), new_bank=new_bank,
                  new=banks.masked_account(ch.new_account_number), pin=code, days=CONFIRM_DAYS)
        await enqueue(db, ben.registered_chat, "allowance_confirm", f"alw:{ch.id}:{ben.registered_chat}", text, now,
                       dossier_id=dossier.id, choices=[(f"alw:ok:{code}", _("Đồng ý đổi")),
                                                       (f"alw:no:{code}", _("Không đồng ý"))])
        log.info("allowance change %s (new account) awaits confirmation, dossier=%s", ch.id, dossier.code)
        return [Message(_("Đã gửi yêu cầu xác nhận tới kênh chat đã dùng để đăng ký tài khoản cũ. Tài khoản mới "
                          "({bank} {account}) chỉ có hiệu lực khi được xác nhận ở đó trong {days} ngày; trong thời gian "
                          "chờ, trợ cấp vẫn chuyển vào tài khoản cũ. Nếu không còn dùng kênh chat đó, vui lòng mang "
                          "căn cước đến Ủy ban nhân dân cấp xã.", bank=new_bank,
                          account=banks.masked_account(ch.new_account_number), days=CONFIRM_DAYS))]
    if kind == "moved":
        ben.status, ben.closed_at = "moved", now
        ch.data = {"date": a.get("moved.date")}
        msg = _("Đã ghi nhận người hưởng chuyển đi; tên người hưởng được đưa ra khỏi danh sách chi trả qua tài khoản "
                "của xã. Tại nơi ở mới, vui lòng liên hệ Ủy ban nhân dân cấp xã để tiếp tục hưởng trợ cấp.")
    elif kind == "deceased":
        ben.status, ben.closed_at = "deceased", now
        ch.data = {"date": a.get("death.date")}
        msg = _("Xin chia buồn cùng gia đình. Đã ghi nhận và dừng chi trả trợ cấp qua tài khoản. Cán bộ xã sẽ hướng "
                "dẫn gia đình về trợ cấp mai táng (nếu có).")
    else:
        ben.benefit_note = str(a.get("level.description") or "")[:300]
        msg = _("Đã ghi nhận thay đổi mức hưởng; cán bộ xã sẽ kiểm tra và cập nhật danh sách chi trả.")
    ben.updated_at = now
    db.add(ch)
    await db.flush()
    log.info("allowance change %s (%s) recorded, dossier=%s", ch.id, kind, dossier.code)
    return [Message(msg)]


async def decide_change(db: AsyncSession, user_key: str, code: str, accept: bool, now: datetime,
                        lang: str = "vi") -> tuple[bool, str]:
    """The registering chat confirms (or refuses) a new account. Returns (ok, message)."""
    _ = translator(lang)
    code = code.strip().upper()
    ch = (await db.execute(select(AllowanceChange).where(AllowanceChange.confirm_code_hash == secret_hash(code))))\
        .scalars().first()
    if ch is None or ch.confirm_chat != user_key:  # a wrong code and another chat's code look the same
        return False, _("Mã xác nhận không đúng. Vui lòng kiểm tra lại tin nhắn yêu cầu xác nhận.")
    if ch.status != AWAITING:
        return False, _("Yêu cầu đổi tài khoản này đã được xử lý trước đó.")
    expires = ch.expires_at
    if expires is not None and expires < now:
        ch.status, ch.decided_at = "expired", now
        return False, _("Mã xác nhận đã hết hạn; tài khoản cũ vẫn được giữ. Nếu vẫn muốn đổi, vui lòng báo thay đổi "
                        "lại.")
    ben = await db.get(AllowanceBeneficiary, ch.beneficiary_id)
    if ben is None or ben.status != ACTIVE:
        ch.status, ch.decided_at = "expired", now
        return False, _("Người hưởng không còn trong danh sách chi trả qua tài khoản; không đổi được tài khoản.")
    dossier = await db.get(Dossier, ch.dossier_id) if ch.dossier_id else None
    ch.decided_at = now
    if accept:
        ch.status = "confirmed"
        ben.bank_bin, ben.account_number = ch.new_bank_bin, ch.new_account_number
        ben.holder_name = ch.new_holder_name or ben.holder_name
        ben.account_changed_at = ben.updated_at = now
        text = _("Đã xác nhận. Từ kỳ chi trả tới, trợ cấp được chuyển vào tài khoản mới {bank} {account}.",
                 bank=banks.bank_label(ben.bank_bin).split(" — ")[0], account=banks.masked_account(ben.account_number))
        reason = N_("Kênh chat đăng ký tài khoản cũ đã xác nhận đổi tài khoản.")
    else:
        ch.status = "refused"
        text = _("Đã ghi nhận bạn không đồng ý. Tài khoản cũ vẫn được giữ; cán bộ xã sẽ xem xét yêu cầu này.")
        reason = N_("Kênh chat đăng ký tài khoản cũ không đồng ý đổi tài khoản; giữ tài khoản cũ.")
    if dossier is not None:
        _vi = translator("vi")
        db.add(DossierEvent(dossier_id=dossier.id, at=now, from_status=dossier.status, to_status=dossier.status,
                            actor=user_key, role=lc.CITIZEN, reason=_vi(reason), action=None,
                            data={"allowance_change": ch.status, "change_id": ch.id}))
        if ch.reported_by != user_key:
            _ = translator(dossier.lang)
            await enqueue(db, ch.reported_by, "allowance_decided", f"alwd:{ch.id}:{ch.reported_by}",
                           _("Hồ sơ {code}: {result}", code=dossier.code, result=_(reason)), now,
                           dossier_id=dossier.id)
    await db.flush()
    log.info("allowance change %s %s", ch.id, ch.status)
    return True, text


# =============================================================================================
# the turn pipeline's plug-in (bot/pipeline.py)
# =============================================================================================
def _parse_confirm(msg: Incoming) -> tuple[bool, str] | None:
    if msg.choice and msg.choice.startswith("alw:"):
        verb, _sep, code = msg.choice[4:].partition(":")
        if verb in ("ok", "no") and code:
            return verb == "ok", code
        return None
    text = fold(msg.text or "")
    for words, accept in ((("/xacnhan", "xacnhan", "xac nhan", "/confirm"), True),
                          (("/tuchoi", "tuchoi", "tu choi", "/refuse"), False)):
        for w in words:
            if text.startswith(w + " "):
                code = text[len(w):].strip().replace(" ", "").replace("-", "")
                if len(code) == CODE_LEN and code.isalnum():
                    return accept, code
    return None


def register(pipeline: Pipeline) -> None:
    """The plug-in handler (``/xacnhan``, bank picks by number) and the step and submission hooks."""
    pipeline.add(plugin_turn, name="allowances", order=PLUGINS)
    pipeline.after_step(lambda turn, session, outcome: after_step(turn.db, turn.runtime, session, turn.message,
                                                                    outcome))
    pipeline.on_submitted(lambda turn, dossier: on_submitted(turn.db, dossier, turn.now))
    officer_chat_of(pipeline).add_step(officer_step)  # identity checks, “/danhsach”


async def plugin_turn(turn: Turn) -> Pass:
    """Answer the citizen's step before the engine when :func:`before_step` does; always passes the turn on."""
    outcome = await before_step(turn.db, turn.runtime, await turn.load_session(), turn.message)
    if outcome is not None:
        turn.outcome = outcome
    return PASS


async def before_step(db: AsyncSession, rt, session, msg: Incoming | None) -> Outcome | None:
    if msg is None:
        return None
    parsed = _parse_confirm(msg)
    if parsed is not None:
        ok, text = await decide_change(db, session.user, parsed[1], parsed[0], rt.now(), session.lang)
        return Outcome(replies=[Message(text, error=not ok), rt.engine.safe_prompt(session)])
    pending = session.pending
    options = pending.options if isinstance(pending, BankPick) else []
    text = (msg.text or "").strip()
    if options and msg.choice is None and text.isdigit() and 1 <= int(text) <= len(options):
        return rt.engine.handle(session, Incoming(choice=options[int(text) - 1]))
    return None


async def after_step(db: AsyncSession, rt, session, msg: Incoming | None, outcome: Outcome) -> Outcome:
    draft = session.draft if session.supplement is None else None
    if draft is not None and session.procedure in (REG, CHG) and isinstance(draft.answers.get("beneficiary.id_number"),
                                                                               str):
        just = outcome.accepted and draft.history and draft.history[-1] == "beneficiary.id_number"
        if just or outcome.request(Submit) is not None:
            problem = await _link_problem(db, session)
            if problem is not None:
                return _stop(rt, session, outcome, *problem)
    if draft is not None and outcome.accepted and draft.history and session.procedure in rt.catalog.procedures:
        outcome = _recheck_accounts(rt, session, outcome)
    return _bank_choices(session, msg, outcome)


def _recheck_accounts(rt, session, outcome: Outcome) -> Outcome:
    """A changed bank can make the account number already given invalid (Agribank: 13 digits): ask it again."""
    from dialogs.parsing import Invalid
    draft, form = session.draft, rt.catalog.form(session.procedure)
    changed = draft.history[-1]
    f_changed = form.field(changed)
    if f_changed is None or f_changed.kind != "bank":
        return outcome
    _ = translator(session.lang)
    for path, value in list(draft.answers.items()):
        f = form.field(path)
        if f is None or f.kind != "bank_account" or f.bank_field != changed or not isinstance(value, str):
            continue
        try:
            banks.parse_account(value, draft.answers.get(changed))
        except Invalid as exc:
            del draft.answers[path]
            draft.history = [p for p in draft.history if p != path]
            session.dirty_drafts.add(draft.procedure)
            session.pending = None
            note = Message(_("Câu trả lời “{label}” không còn khớp với thông tin vừa sửa: {reason} Vui lòng trả lời lại "
                             "câu này.", label=_(f.summary_label), reason=_(exc.message, **exc.params)))
            head = [r for r in outcome.replies if not isinstance(r, Ask)]
            return replace(outcome, replies=head + [note, rt.engine.safe_prompt(session)])
    return outcome


async def _link_problem(db: AsyncSession, session) -> tuple[str, str | None] | None:
    """(message, procedure to suggest) when the registration / change does not fit the register."""
    _ = translator(session.lang)
    a = session.draft.answers
    ben = await active_registration(db, a["beneficiary.id_number"])
    if session.procedure == REG:
        if ben is None:
            return None
        d = await db.get(Dossier, ben.dossier_id) if ben.dossier_id else None
        state = _(lc.STATUS_LABELS.get(d.status, d.status)) if d else _("đã đăng ký")
        # the dossier code is shown only to the chat that filed it (an ID number alone does not disclose it)
        mine = d is not None and ben.registered_chat == session.user
        return (_("Người có số CCCD này đã đăng ký nhận trợ cấp qua tài khoản ({state}{code}), nên không cần "
                  "đăng ký lại. Nếu muốn đổi tài khoản, báo chuyển nơi ở, báo người hưởng qua đời hoặc thay đổi mức "
                  "hưởng, vui lòng chọn “Báo thay đổi của người đang hưởng trợ cấp”.",
                  code=", " + d.code if mine else "", state=state), CHG)
    if ben is None:
        return (_("Chưa tìm thấy đăng ký nhận trợ cấp qua tài khoản nào với số CCCD này. Nếu người hưởng chưa "
                  "đăng ký, vui lòng chọn “Đăng ký nhận trợ cấp hằng tháng qua tài khoản ngân hàng”."), REG)
    if fold(str(a.get("beneficiary.full_name") or "")) != fold(ben.full_name):
        return (_("Họ tên người hưởng không khớp với thông tin đã đăng ký cho số CCCD này. Vui lòng kiểm tra lại họ "
                  "tên và số CCCD (gõ “quay lại” để sửa họ tên)."), None)
    return None


def _stop(rt, session, outcome: Outcome, text: str, suggest: str | None) -> Outcome:
    """Drop the ID answer; re-ask it (suggest None) or go to the menu with the right procedure first."""
    draft = session.draft
    draft.answers.pop("beneficiary.id_number", None)
    draft.history = [p for p in draft.history if p != "beneficiary.id_number"]
    draft.revision += 1
    session.dirty_drafts.add(draft.procedure)
    if suggest is None and outcome.request(Submit) is None:
        session.pending = None
        return Outcome(replies=[Message(text, error=True), rt.engine.safe_prompt(session)], accepted=True)
    current = session.procedure
    rt.engine.handle(session, Incoming(text="menu"))  # the draft is kept (without the ID just refused)
    if not suggest:
        return Outcome(replies=[Message(text, error=True), rt.engine.safe_prompt(session)], accepted=True)
    # a short list of its own, numbered 1, 2: the procedure that applies, or this one again (to retype the ID)
    offer = Outcome()
    rt.engine.offer_candidates(session, [suggest] + ([current] if current and current != suggest else []), offer)
    return Outcome(replies=[Message(text, error=True)] + offer.replies, accepted=True)


def _bank_choices(session, msg: Incoming | None, outcome: Outcome) -> Outcome:
    """An ambiguous bank name: offer the candidates as buttons (a typed number picks one, see before_step)."""
    last = outcome.replies[-1] if outcome.replies else None
    if not isinstance(last, Ask) or last.kind != "bank":
        return outcome
    opts = banks.ambiguity_choices(msg.text) if msg is not None and msg.text and msg.choice is None \
        and any(isinstance(r, Message) and r.error for r in outcome.replies) else []
    if opts:
        outcome.replies[-1] = replace(last, choices=tuple(ChoiceOut(v, lab) for v, lab in opts))
        session.pending = BankPick(path=last.field, options=[v for v, _l in opts])
    elif isinstance(session.pending, BankPick):
        session.pending = None
    return outcome


async def on_submitted(db: AsyncSession, dossier: Dossier, now: datetime) -> list[Message]:
    """Called by the runtime right after a new dossier and its legs were created (same transaction)."""
    if dossier.procedure_id == REG:
        return await _on_registration(db, dossier, now)
    if dossier.procedure_id == CHG:
        return await _on_change(db, dossier, now)
    return []


# =============================================================================================
# the verified list for the social-affairs office
# =============================================================================================
EXPORT_COLUMNS = [
    ("stt", N_("STT")), ("full_name", N_("Họ và tên")), ("birth_date", N_("Ngày sinh")),
    ("id_number", N_("Số CCCD/định danh cá nhân")), ("residence", N_("Nơi thường trú")),
    ("phone", N_("Số điện thoại")), ("allowance_type", N_("Loại trợ cấp")), ("filer", N_("Người đăng ký")),
    ("receiver", N_("Người nhận thay")), ("bank_name", N_("Ngân hàng")), ("bank_short", N_("Tên viết tắt")),
    ("bank_bin", N_("Mã BIN")), ("account_number", N_("Số tài khoản")), ("holder_name", N_("Chủ tài khoản")),
    ("verification", N_("Xác thực CSDL dân cư")), ("benefit_note", N_("Ghi chú mức hưởng")),
    ("dossier", N_("Mã hồ sơ")), ("registered", N_("Ngày đăng ký")),
]


async def export_rows(db: AsyncSession, commune_code: str, lang: str = "vi") -> list[dict[str, Any]]:
    """One row per verified beneficiary of a commune still receiving by account (identity matched)."""
    _ = translator(lang)
    rows = (await db.execute(
        select(AllowanceBeneficiary, Dossier).outerjoin(Dossier, Dossier.id == AllowanceBeneficiary.dossier_id)
        .where(AllowanceBeneficiary.commune_code == commune_code, AllowanceBeneficiary.status == ACTIVE,
               AllowanceBeneficiary.identity_status == verification.MATCHED)
        .order_by(AllowanceBeneficiary.full_name, AllowanceBeneficiary.id))).all()
    out = []
    for b, d in rows:
        if d is not None and d.status in DEAD_DOSSIER:
            continue
        bank = banks.bank_list().by_bin(b.bank_bin)
        out.append({
            "stt": len(out) + 1, "full_name": b.full_name,
            "birth_date": b.birth_date.strftime("%d/%m/%Y") if b.birth_date else "", "id_number": b.id_number,
            "residence": b.residence or "", "phone": b.phone or "",
            "allowance_type": _(ALLOWANCE_LABELS.get(b.allowance_type, b.allowance_type)),
            "filer": _(FILER_LABELS.get(b.filer_kind, b.filer_kind)),
            "receiver": b.rep_name if b.account_owner == "rep" and b.rep_name else "",
            "bank_name": bank.name if bank else "", "bank_short": bank.short if bank else "", "bank_bin": b.bank_bin,
            "account_number": b.account_number, "holder_name": b.holder_name,
            "verification": _(verification.RESULT_LABELS[b.identity_status]), "benefit_note": b.benefit_note or "",
            "dossier": d.code if d else "",
            "registered": b.created_at.astimezone(_VN).strftime("%d/%m/%Y") if b.created_at else "",
        })
    return out


def write_csv(rows: list[dict[str, Any]], path: Path, lang: str = "vi") -> None:
    _ = translator(lang)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:  # the BOM lets Excel read Vietnamese
        w = csv.writer(fh)
        w.writerow([_(label) for _k, label in EXPORT_COLUMNS])
        for r in rows:
            w.writerow([r[k] for k, _l in EXPORT_COLUMNS])


def commune_label(code: str) -> str:
    """“Xã Đức Trọng, Tỉnh Lâm Đồng” for a commune code (the code itself if it is not a current commune)."""
    from dialogs import address

    unit, prov = address.commune(code), address.province_of(code)
    if unit is None:
        return code
    return f"{unit.full_name}, {prov.full_name}" if prov is not None else unit.full_name


def write_xlsx(rows: list[dict[str, Any]], path: Path, *, commune_code: str, now: datetime, lang: str = "vi") -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _ = translator(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sach"
    ws.append([_("Danh sách người hưởng trợ cấp nhận qua tài khoản đã xác thực — {commune} — lập ngày {day}",
                 commune=commune_label(commune_code), day=now.strftime("%d/%m/%Y"))])
    ws["A1"].font = Font(bold=True)
    ws.append([_(label) for _k, label in EXPORT_COLUMNS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([r[k] for k, _l in EXPORT_COLUMNS])
    for row in ws.iter_rows(min_row=3):  # numbers that must stay text (leading zeros)
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    widths = {"full_name": 24, "residence": 40, "bank_name": 36, "account_number": 20, "id_number": 16}
    for i, (k, _l) in enumerate(EXPORT_COLUMNS, start=1):
        ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = widths.get(k, 14)
    wb.save(path)


# =============================================================================================
# the officer chat's plug-in step (bot/officer_chat/router.py): identity checks, and “/danhsach” for the commune
# =============================================================================================
EXPORT_WORDS = {"/danhsach", "danhsach", "danh sach", "danh sach chi tra", "xuat danh sach", "/export"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def officer_step(ctx, value: str | None, text: str) -> bool:
    if await verification.officer_step(ctx, value, text):
        return True
    key = fold(text).strip(" .!") if text else ""
    if value is not None or key not in EXPORT_WORDS or ctx.officer.agency != "commune":
        return False
    import asyncio
    import tempfile

    from dialogs.messages import FileRef
    _ = ctx._
    commune = ctx.officer.commune_code
    rows = await export_rows(ctx.db, commune)
    text_out = _("Danh sách người hưởng nhận trợ cấp qua tài khoản đã xác thực của {commune}: {n} người.",
                 commune=commune_label(commune), n=len(rows))
    if rows and ctx.store is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ds.xlsx"
            await asyncio.to_thread(write_xlsx, rows, path, commune_code=commune, now=ctx.now)
            sha = await asyncio.to_thread(ctx.store.put, path.read_bytes())
        name = f"danh-sach-tro-cap-{commune}-{ctx.now.strftime('%Y%m%d')}.xlsx"
        ctx.replies.append(Message(text_out, file=FileRef(path=str(ctx.store.path(sha)), name=name, mime=XLSX_MIME)))
    else:
        ctx.say(text_out)
    await show_queue(ctx)
    return True
