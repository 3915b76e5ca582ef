"""The dialog engine: one citizen's conversation as a `transitions` state machine.

Macro-states (see STATES) are few; where the citizen is inside a procedure is
not a state but the *form cursor* (dialogs/form.py), recomputed from the
answers. The engine is synchronous and pure: it takes a ``Session`` (plain,
JSON-serialisable data loaded by the runtime) and an ``Incoming`` message,
mutates the session, and returns an ``Outcome`` with structured replies. It
never touches a database or a channel; the runtime (bot/service.py) persists
the session in the same transaction as any dossier it submits.
"""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from transitions import Machine, MachineError

from . import address as addr
from . import nlu
from . import parsing
from .catalog import Catalog
from .codes import normalise_code
from .expr import compile_expr
from .form import Form, Slot
from .i18n import N_, Translator, translator
from .idcard_step import IdCardSteps
from .kinds import KIND_HINTS, accepted_mimes, display, parse_value
from .messages import (
    NAV_BACK, NAV_CANCEL, NAV_HELP, NAV_SKIP, Ask, ChoiceOut, Incoming, IncomingFile, Message,
    Outcome, SubmitRequest, SupplementSubmit,
)
from .parsing import Invalid
from .schema import FieldDef, Procedure
from .textnorm import fold

STATES = ["menu", "eligibility", "collecting", "reviewing", "editing", "confirming", "submitted", "cancelled",
          "supplementing"]

TRANSITIONS = [
    {"trigger": "start_procedure", "source": ["menu", "submitted", "cancelled"], "dest": "collecting"},
    {"trigger": "found_ineligible", "source": ["collecting", "editing", "reviewing"], "dest": "eligibility"},
    {"trigger": "fix_answer", "source": "eligibility", "dest": "collecting"},
    {"trigger": "review", "source": ["collecting", "editing", "confirming", "eligibility"], "dest": "reviewing",
     "conditions": "form_complete"},
    {"trigger": "edit", "source": "reviewing", "dest": "editing"},
    {"trigger": "confirm", "source": "reviewing", "dest": "confirming", "conditions": "form_complete"},
    {"trigger": "submitted_ok", "source": "confirming", "dest": "submitted"},
    {"trigger": "cancel", "source": ["collecting", "editing", "reviewing", "confirming", "eligibility"],
     "dest": "cancelled"},
    {"trigger": "to_menu", "source": "*", "dest": "menu"},
    # an officer asked for a supplement to a submitted dossier: only the requested items are asked
    {"trigger": "begin_supplement", "source": ["menu", "submitted", "cancelled", "collecting", "editing",
                                               "reviewing", "eligibility", "supplementing"],
     "dest": "supplementing"},
]

# Global commands, matched on the whole message with diacritics folded away.
COMMANDS = {
    "back": {"quay lai", "/back", "back", "lui", "lui lai", "tro lai", "quay lai cau truoc", "cau truoc"},
    "skip": {"bo qua", "/skip", "skip", "bo qua cau nay"},
    "help": {"tro giup", "/help", "help", "giup", "giup do", "huong dan", "?", "/trogiup"},
    "cancel": {"huy", "/cancel", "cancel", "huy bo", "huy ho so", "/huy"},
    "menu": {"menu", "/menu", "/start", "trang chu", "danh sach thu tuc", "ve menu", "bat dau lai"},
    "dossiers": {"/hoso", "ho so cua toi", "xem ho so", "tra cuu ho so", "tra cuu", "/tracuu", "/status",
                 "my applications", "status"},
    "supplement": {"bo sung", "/bosung", "bo sung ho so", "gui bo sung", "bo sung giay to", "/supplement",
                   "supplement"},
    "info": {"thong tin", "/info", "can giay to gi", "giay to", "can gi", "mat bao lau", "bao lau",
             "le phi", "thu tuc nay can gi", "can chuan bi gi", "/thongtin", "info"},
}
# Typed at a question asked again (after “quay lại” or an edit): keep the answer given before.
MULTI_REQUIRED_HINT = N_("Có thể chọn nhiều: gõ các số, cách nhau bởi dấu phẩy (ví dụ 1, 3).")
KEEP_WORDS = frozenset({"giu nguyen", "giu", "giu nhu cu", "de nguyen", "nhu cu", "keep", "giu lai"})
# Typed at a multi-choice question marked ``one_by_one``: ask its choices one at a time, yes or no.
ONE_BY_ONE = frozenset({"tung muc", "tung cai", "tung cau", "lan luot", "lan luot tung muc", "tra loi tung muc",
                        "hoi tung muc", "mot mot", "tung mot", "one by one"})
NAV_TO_COMMAND = {NAV_BACK: "back", NAV_SKIP: "skip", NAV_HELP: "help", NAV_CANCEL: "cancel"}


_RATING_RE = re.compile(r"^/?(?:danh ?gia|rate)\s*(?P<code>[a-z]{2,4}[- ]?\d{4}[- ]?[0-9a-z]{8})?\s*(?P<stars>[1-5])"
                        r"\s*(?:sao|\*)?$")


def detect_rating(text: str) -> tuple[str | None, int] | None:
    """“đánh giá 5”, “/danhgia MT-2611-7KQ4XP9Z 4” -> (code or None, stars)."""
    m = _RATING_RE.match(fold(text).strip(" .!"))
    if not m:
        return None
    return (normalise_code(m["code"]) if m["code"] else None), int(m["stars"])


_WITHDRAW_RE = re.compile(r"^/?(?:rut ?ho ?so|withdraw)(?:\s+(?P<code>[a-z]{2,4}[- ]?\d{4}[- ]?[0-9a-z]{8}))?$")


def detect_withdraw(text: str) -> str | bool | None:
    """“rút hồ sơ MT-2611-7KQ4XP9Z”, “/ruthoso MT-…” -> the code; “rút hồ sơ” alone -> True (explain)."""
    m = _WITHDRAW_RE.match(fold(text).strip(" .!"))
    if not m:
        return None
    return normalise_code(m["code"]) if m["code"] else True


MAX_FOLLOW_FAILURES = 5
_FOLLOW_RE = re.compile(r"^/?(?:theo ?doi|follow)(?:\s+(?P<code>[a-z]{2,4}[- ]?\d{4}[- ]?[0-9a-z]{8}))?"
                        r"(?:\s+(?P<pin>\d{4}))?$")


def detect_follow(text: str) -> tuple[str, str] | bool | None:
    """“/theodoi MT-2611-7KQ4XP9Z 1234” -> (code, last four digits); “/theodoi” alone -> True (explain)."""
    m = _FOLLOW_RE.match(fold(text).strip(" .!"))
    if not m:
        return None
    if m["code"] and m["pin"]:
        return normalise_code(m["code"]), m["pin"]
    return True


def detect_command(text: str) -> str | None:
    key = fold(text).strip(" .!")
    for name, words in COMMANDS.items():
        if key in words:
            return name
    return None


@dataclass
class Draft:
    id: str
    procedure: str
    version: int
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    revision: int = 0


@dataclass
class Session:
    """Everything the engine knows about one citizen's conversation."""

    user: str
    state: str = "menu"
    lang: str = "vi"
    procedure: str | None = None
    pending: dict[str, Any] | None = None
    errors: int = 0
    last_dossier: str | None = None
    supplement: dict[str, Any] | None = None  # an officer's request being answered (see begin_supplement)
    throttle: dict[str, Any] | None = None  # failed attempts per day, e.g. {"follow": ["2026-11-23", 2]}
    drafts: dict[str, Draft] = field(default_factory=dict)
    # set by the engine when a draft changed or went away, read by the runtime
    dirty_drafts: set[str] = field(default_factory=set)
    deleted_drafts: set[str] = field(default_factory=set)

    @property
    def draft(self) -> Draft | None:
        if self.supplement is not None:
            if self._sup_draft is None:
                sup = self.supplement
                self._sup_draft = Draft(id=f"sup-{sup['id']}", procedure=sup["procedure"], version=0,
                                        answers=sup["answers"], history=sup["history"])
            return self._sup_draft
        return self.drafts.get(self.procedure) if self.procedure else None

    def conversation_data(self) -> dict[str, Any]:
        if self.supplement is not None and self._sup_draft is not None:
            self.supplement["answers"], self.supplement["history"] = self._sup_draft.answers, self._sup_draft.history
        return {"state": self.state, "lang": self.lang, "procedure": self.procedure,
                "pending": self.pending, "errors": self.errors, "last_dossier": self.last_dossier,
                "supplement": self.supplement, "throttle": self.throttle}

    @classmethod
    def from_data(cls, user: str, data: dict[str, Any] | None, drafts: list[Draft]) -> "Session":
        data = data or {}
        s = cls(user=user, **{k: data[k] for k in ("state", "lang", "procedure", "pending", "errors",
                                                    "last_dossier", "supplement", "throttle") if k in data})
        s.drafts = {d.procedure: d for d in drafts}
        if s.state not in STATES:
            s.state = "menu"
        return s

    # transitions condition
    def form_complete(self) -> bool:
        return bool(self._complete)

    _complete: bool = False
    _sup_draft: Draft | None = None


class Engine(IdCardSteps):
    """Drives sessions through procedures defined in the catalogue."""

    def __init__(self, catalog: Catalog, *, today: Callable[[], date] | None = None):
        self.catalog = catalog
        self.today = today or date.today
        self.machine = Machine(model=None, states=STATES, transitions=TRANSITIONS, initial="menu",
                               auto_transitions=False, ignore_invalid_triggers=False)

    # ------------------------------------------------------------------------------------
    # entry points
    def start(self, session: Session) -> Outcome:
        """The bot speaks first: a greeting and the menu, or the question where they stopped."""
        out = Outcome()
        _ = translator(session.lang)
        with self._bound(session):
            if session.state in ("collecting", "editing", "reviewing", "confirming", "eligibility") \
                    and session.draft is not None and session.procedure in self.catalog.procedures:
                proc = self.catalog.get(session.procedure)
                out.replies.append(Message(_("Chào bạn quay lại! Chúng ta tiếp tục hồ sơ “{title}”.",
                                             title=_(proc.title))))
                self._prompt(session, out)
            else:
                self._go_menu(session, out, greet=True)
        return out

    def handle(self, session: Session, msg: Incoming) -> Outcome:
        out = Outcome()
        with self._bound(session):
            try:
                self._dispatch(session, msg, out)
            except (MachineError, Invalid, KeyError, ValueError, TypeError) as exc:  # never crash a chat
                _ = translator(session.lang)
                out.replies.append(Message(_("Xin lỗi, đã có lỗi khi xử lý tin nhắn này. Vui lòng thử lại."),
                                           error=True))
                out.replies.append(self._safe_prompt(session))
                out.error = type(exc).__name__  # type: ignore[attr-defined]
        if out.submit is None and out.supplement is None and (not out.replies or not isinstance(out.replies[-1], Ask)):
            out.replies.append(self._safe_prompt(session))
        return out

    def submitted(self, session: Session, code: str, due: date, created: bool = True) -> Outcome:
        """Called by the runtime once the dossier is stored (in the same transaction)."""
        out = Outcome()
        _ = translator(session.lang)
        proc = self.catalog.get(session.procedure) if session.procedure else None
        with self._bound(session):
            if session.state == "confirming":
                session.submitted_ok()
            draft = session.drafts.get(session.procedure) if session.procedure else None
            has_id = bool(draft and any(k.endswith(".id_number") and v for k, v in draft.answers.items()))
            days = proc.processing_days if proc else 0
            if draft is not None and proc is not None:  # a linked dossier takes as long as its longest leg
                legs = self.form(session).planned_legs(draft.answers, self.today())
                days = max((leg.days for leg in legs), default=days)
            if session.procedure:
                session.drafts.pop(session.procedure, None)
                session.deleted_drafts.add(session.procedure)
            session.pending = None
            session.last_dossier = code
            text = _("Đã nộp hồ sơ thành công.\nMã hồ sơ: {code}\nNgày hẹn trả kết quả: {due} "
                     "({days} ngày làm việc).\nBạn sẽ nhận được thông báo khi hồ sơ có thay đổi.",
                     code=code, due=_.date(due), days=days)
            if created and has_id:
                text += "\n" + _("Nếu bạn nộp giúp người khác, người đó gõ “/theodoi {code}” và 4 số cuối CCCD "
                                  "của mình để cũng nhận thông báo.", code=code)
            if not created:
                text = _("Hồ sơ này đã được nộp trước đó. Mã hồ sơ: {code}.", code=code)
            out.replies.append(Message(text, dossier=code))
            self._menu_ask(session, out)
        return out

    # ------------------------------------------------------------------------------------
    def _bound(self, session: Session):
        engine = self

        class _Ctx:
            def __enter__(self_inner):
                engine.machine.add_model(session, initial=session.state)
                return session

            def __exit__(self_inner, *exc):
                engine.machine.remove_model(session)
                _unbind(session)
                return False

        return _Ctx()

    def _dispatch(self, session: Session, msg: Incoming, out: Outcome) -> None:
        _ = translator(session.lang)
        text = (msg.text or "").strip()
        command = NAV_TO_COMMAND.get(msg.choice or "")
        if command is None and text and msg.choice is None:
            command = detect_command(text)
        pending = session.pending or {}

        # Confirmation of cancel (or of withdrawing a dossier) comes first, whatever the state.
        if pending.get("kind") == "cancel":
            return self._on_cancel_answer(session, msg, text, out)
        if pending.get("kind") == "withdraw":
            return self._on_withdraw_answer(session, msg, text, out)
        withdraw = detect_withdraw(text) if text and msg.choice is None else None
        if withdraw is True:
            out.replies.append(Message(_("Để rút một hồ sơ đã nộp, gõ “rút hồ sơ” và mã hồ sơ, ví dụ: rút hồ sơ "
                                         "{example}. Gõ “/hoso” để xem mã các hồ sơ của bạn.",
                                         example="MT-2611-7KQ4XP9Z")))
            return self._prompt(session, out)
        if withdraw:
            session.pending = {"kind": "withdraw", "code": withdraw, "resume": session.pending}
            out.accepted = True
            return self._withdraw_ask(session, out)

        # Requests served by the runtime (it has the database), from any state
        rating = detect_rating(text) if text and msg.choice is None else None
        if msg.choice and msg.choice.startswith("rate:"):
            code, _sep, stars = msg.choice[5:].rpartition(":")
            rating = (code or None, int(stars)) if stars in ("1", "2", "3", "4", "5") else None
        if rating is not None:
            out.rating = rating
            return self._prompt(session, out)
        follow = detect_follow(text) if text and msg.choice is None else None
        if follow is True:
            out.replies.append(Message(_("Để nhận thông báo về hồ sơ mà người khác đã nộp giúp bạn, gõ “/theodoi”, "
                                         "mã hồ sơ và 4 số cuối số CCCD của bạn, ví dụ: /theodoi {example} 1234.",
                                         example="MT-2611-7KQ4XP9Z")))
            return self._prompt(session, out)
        if follow:
            if self.failures(session, "follow") >= MAX_FOLLOW_FAILURES:
                out.replies.append(Message(_("Bạn đã nhập sai nhiều lần hôm nay. Vui lòng thử lại vào ngày mai, hoặc "
                                             "nhờ cán bộ xã giúp."), error=True))
                return self._prompt(session, out)
            out.follow = follow
            return self._prompt(session, out)
        if command == "dossiers":
            out.list_dossiers = True
            return self._prompt(session, out)
        if command == "supplement" or (msg.choice or "").startswith("supplement:"):
            if session.state == "supplementing":
                return self._prompt(session, out)
            ref = (msg.choice or "").partition(":")[2]
            out.open_supplement = int(ref) if ref.isdigit() else True
            return self._prompt(session, out)

        if session.state == "supplementing":
            return self._on_supplementing(session, msg, text, command, out)
        lang = nlu.detect_language_switch(text, session.lang) if text and msg.choice is None else None
        if lang is not None:
            session.lang = lang
            _ = translator(lang)
            out.accepted = True
            out.replies.append(Message(_("Đã chuyển sang tiếng Việt.")))
            return self._prompt(session, out)
        if pending.get("kind") == "name_confirm":
            return self._on_name_confirm(session, msg, text, command, out)

        if session.state in ("menu", "submitted", "cancelled"):
            return self._on_menu(session, msg, text, command, out)
        if session.procedure not in self.catalog.procedures or session.draft is None:
            session.procedure = None
            return self._go_menu(session, out)

        if command == "menu":
            out.replies.append(Message(_("Hồ sơ đang khai đã được lưu. Bạn có thể quay lại tiếp tục bất cứ lúc nào.")))
            session.pending = None
            return self._go_menu(session, out)
        if command == "info":
            out.replies.append(Message(self.info_card(session.procedure, session.lang)))
            return self._prompt(session, out)
        if command == "cancel":
            return self._ask_cancel(session, msg, text, out)
        topic = self._info_question(session, msg, text)
        if topic is not None:
            out.replies.append(Message(self.info_answer(session.procedure, topic, session.lang)))
            return self._prompt(session, out)

        if session.state == "eligibility":
            return self._on_eligibility(session, msg, text, command, out)
        if session.state == "reviewing":
            return self._on_review(session, msg, text, command, out)
        if session.state == "confirming":
            return self._on_confirm(session, msg, text, command, out)
        return self._on_collect(session, msg, text, command, out)

    # ------------------------------------------------------------------------------------
    # menu
    def menu_choices(self, session: Session) -> list[ChoiceOut]:
        _ = translator(session.lang)
        items = []
        for p in sorted(self.catalog.procedures.values(), key=lambda p: (p.menu_order, p.id)):
            label = _(p.title)
            if p.id in session.drafts:
                label = _("{title} (đang khai dở)", title=label)
            items.append(ChoiceOut(p.id, label))
        return items

    def _menu_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Ask(text=_("Bạn cần làm thủ tục nào? Chọn một thủ tục hoặc gõ điều bạn cần."),
                               procedure=None, field="procedure", kind="choice",
                               choices=tuple(self.menu_choices(session))))

    def _go_menu(self, session: Session, out: Outcome, greet: bool = False) -> None:
        _ = translator(session.lang)
        if session.state != "menu":
            session.to_menu()
        session.procedure = None
        session.pending = None
        session.errors = 0
        if greet:
            out.replies.append(Message(_("Xin chào! Tôi là Trợ lý Dịch vụ công. Tôi sẽ hướng dẫn bạn làm thủ tục "
                                         "hành chính từng bước, rồi nộp hồ sơ giúp bạn.")))
        self._menu_ask(session, out)

    def _on_menu(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        choices = self.menu_choices(session)
        pending = session.pending or {}
        offered = pending.get("ids") if pending.get("kind") == "menu_candidates" else None
        if offered:  # a short list was offered: its numbers are what the citizen sees
            session.pending = None
        value = msg.choice if msg.choice in self.catalog.procedures else None
        if value is None and text and offered:
            short = sorted((c for c in choices if c.value in offered), key=lambda c: offered.index(c.value))
            value = parsing.match_choice(text, [(c.value, c.label) for c in short])
            if value is None and text.strip().isdigit():
                out.replies.append(Message(_("Vui lòng chọn số thứ tự trong danh sách bên dưới."), error=True))
                return self._offer_candidates(session, offered, out)
        if value is None and text:
            if command == "help":
                out.replies.append(Message(self._help_general(session)))
                return self._menu_ask(session, out)
            if session.state == "submitted" and session.last_dossier and self._is_yes(text):
                out.replies.append(Message(_("Hồ sơ của bạn đã được nộp (mã {code}), không cần xác nhận lại.",
                                             code=session.last_dossier)))
                return self._menu_ask(session, out)
            value = parsing.match_choice(text, [(c.value, c.label) for c in choices])
            if value is None:
                decision = nlu.decide(text, self.catalog)
                if decision.procedure in self.catalog.procedures:
                    value = decision.procedure
                elif decision.other_service:
                    out.replies.append(Message(_("Xin lỗi, trợ lý chưa hỗ trợ dịch vụ này. Bạn có thể làm trên Cổng "
                                                 "Dịch vụ công quốc gia hoặc hỏi Bộ phận Một cửa của xã, phường."),
                                               error=True))
                    return self._menu_ask(session, out)
                elif decision.candidates:
                    cands = [c for c in decision.candidates if c in self.catalog.procedures]
                    if cands:
                        return self._offer_candidates(session, cands, out)
        if value is None:
            if msg.file is not None or msg.files:
                out.replies.append(Message(_("Tôi đã nhận tệp, nhưng bạn chưa chọn thủ tục. Vui lòng chọn thủ tục "
                                             "trước, rồi gửi giấy tờ khi được hỏi."), error=True))
            else:
                out.replies.append(Message(_("Chưa rõ bạn cần thủ tục nào. Vui lòng chọn số thứ tự trong danh sách."),
                                           error=True))
            return self._menu_ask(session, out)
        return self._begin(session, value, out)

    def _offer_candidates(self, session: Session, candidates: list[str], out: Outcome) -> None:
        _ = translator(session.lang)
        choices = [c for c in self.menu_choices(session) if c.value in candidates]
        choices.sort(key=lambda c: candidates.index(c.value))
        session.pending = {"kind": "menu_candidates", "ids": [c.value for c in choices]}
        out.replies.append(Ask(text=_("Bạn muốn làm thủ tục nào dưới đây? (Gõ “menu” để xem tất cả.)"),
                               procedure=None, field="procedure", kind="choice", choices=tuple(choices)))

    def guess_procedure(self, text: str) -> str | None:
        """A plain keyword match on titles and keywords (issue 9 brings the real understanding)."""
        words = set(fold(text).split())
        best, best_score = None, 0
        for p in self.catalog.procedures.values():
            vocab = set(fold(p.title).split()) | {w for k in p.keywords for w in fold(k).split()}
            score = len(words & vocab - {"ho", "tro", "va", "cho", "cua", "giay", "cap", "xac", "nhan"})
            if score > best_score:
                best, best_score = p.id, score
        return best if best_score >= 2 else None

    def _begin(self, session: Session, proc_id: str, out: Outcome) -> None:
        _ = translator(session.lang)
        proc = self.catalog.get(proc_id)
        session.start_procedure()
        session.procedure = proc_id
        session.pending = None
        session.errors = 0
        draft = session.drafts.get(proc_id)
        if draft is not None and draft.version != proc.version:
            draft.version = proc.version  # answers are kept; the cursor re-asks what is new
            self.form(session).prune(draft.answers, self.today())
        if draft is None:
            draft = Draft(id=uuid.uuid4().hex, procedure=proc_id, version=proc.version)
            session.drafts[proc_id] = draft
            session.dirty_drafts.add(proc_id)
            out.replies.append(Message(self.info_card(proc_id, session.lang, short=True)))
        else:
            out.replies.append(Message(_("Bạn đã khai dở hồ sơ này ({n} câu đã trả lời). Chúng ta tiếp tục nhé.",
                                         n=len(draft.answers))))
        if self._check_eligibility(session, out):
            return
        self._advance(session, out)

    # ------------------------------------------------------------------------------------
    # information
    def info_card(self, proc_id: str, lang: str = "vi", short: bool = False) -> str:
        _ = translator(lang)
        p = self.catalog.get(proc_id)
        lines = [f"📋 {_(p.title)}", _(p.short)]
        lines.append(_("Nơi giải quyết: {agency}", agency=_(p.agency.name)))
        lines.append(_("Thời hạn: {days} ngày làm việc", days=p.processing_days))
        lines.append(_("Lệ phí: {fee}", fee=_(p.fee)))
        lines.append(_("Giấy tờ cần chuẩn bị:"))
        lines += [f"• {_(d)}" for d in p.documents]
        if short:
            lines.append(_("Gõ “thông tin” để xem đầy đủ; “trợ giúp” khi cần hướng dẫn."))
            return "\n".join(lines)
        if p.who:
            lines.append(_("Ai được làm: {who}", who=_(p.who)))
        if p.steps:
            lines.append(_("Các bước:"))
            lines += [f"{i}. {_(s)}" for i, s in enumerate(p.steps, 1)]
        if p.processing_note:
            lines.append(_(p.processing_note))
        lines.append(_("Kết quả: {result}", result=_(p.result)))
        lines.append(_("Căn cứ pháp lý: {laws}", laws="; ".join(p.legal_basis)))
        if p.facts:
            lines.append(_("Cần biết:"))
            for fct in p.facts:
                line = f"• {_(fct.text)}"
                if fct.source:
                    line += f" ({fct.source})"
                if not fct.verified:
                    line += " " + _("[chưa kiểm chứng]")
                lines.append(line)
        if p.unverified:
            lines.append(_("Lưu ý: một số thông tin chưa được đối chiếu với văn bản mới nhất; cán bộ tiếp nhận sẽ "
                           "hướng dẫn nếu có thay đổi."))
            lines += [f"• {_(u)}" for u in p.unverified]
        return "\n".join(lines)

    def _info_question(self, session: Session, msg: Incoming, text: str) -> str | None:
        """“cần giấy tờ gì?”, “mất bao lâu?” at any step, without losing the place."""
        if not text or msg.choice is not None or session.pending and session.pending.get("kind") == "address":
            return None
        kind = None
        if session.state in ("collecting", "editing", "supplementing") and session.draft is not None:
            slot = self._current_slot(session)
            kind = slot.field.kind if slot else None
            if kind == "text" and not text.rstrip().endswith("?"):
                return None  # free text answers are answers, unless they are clearly a question
        return nlu.detect_info_question(text, kind=kind)

    def info_answer(self, proc_id: str, topic: str, lang: str = "vi") -> str:
        _ = translator(lang)
        p = self.catalog.get(proc_id)
        if topic == "documents":
            return "\n".join([_("Giấy tờ cần chuẩn bị:")] + [f"• {_(d)}" for d in p.documents])
        if topic == "duration":
            text = _("Thời hạn: {days} ngày làm việc", days=p.processing_days)
            return text + ("\n" + _(p.processing_note) if p.processing_note else "")
        if topic == "fee":
            return _("Lệ phí: {fee}", fee=_(p.fee))
        if topic == "agency":
            return _("Nơi giải quyết: {agency}", agency=_(p.agency.name))
        if topic == "steps" and p.steps:
            return "\n".join([_("Các bước:")] + [f"{i}. {_(x)}" for i, x in enumerate(p.steps, 1)])
        if topic == "result":
            return _("Kết quả: {result}", result=_(p.result))
        if topic == "who" and p.who:
            return _("Ai được làm: {who}", who=_(p.who))
        if topic == "legal":
            return _("Căn cứ pháp lý: {laws}", laws="; ".join(p.legal_basis))
        return self.info_card(proc_id, lang)

    def _on_name_confirm(self, session: Session, msg: Incoming, text: str, command: str | None,
                         out: Outcome) -> None:
        """The citizen typed a name without diacritics; we proposed the usual spelling."""
        _ = translator(session.lang)
        pending = session.pending
        slot = self.form(session).slot_for(pending["path"], session.draft.answers, self.today()) \
            if session.draft is not None else None
        if slot is None:
            session.pending = None
            return self._prompt(session, out)
        options = [("proposal", pending["proposal"]), ("typed", pending["typed"])]
        value = msg.choice if msg.choice in ("proposal", "typed") else \
            parsing.match_choice(text, options) if text else None
        if value is None and text:
            if self._is_yes(text):
                value = "proposal"
            elif command is None and self._plausible_name(text) and len(text.split()) >= 2:
                # a full name typed again, their way: take it as typed (one word is rather an early answer)
                session.pending = {"kind": "revisit", "path": pending["path"]}
                return self._on_collect(session, msg, text, None, out)
        if command == "back":
            session.pending = {"kind": "revisit", "path": pending["path"]}
            return self._prompt(session, out)
        if value is None and command == "cancel":
            return self._ask_cancel(session, msg, text, out)  # “không” comes back to this question
        if value is None and command == "help":
            out.replies.append(Message(_("Trợ lý đoán cách viết có dấu của tên bạn vừa gõ. Chọn cách viết đúng, "
                                         "chọn “Giữ như tôi gõ”, hoặc gõ lại tên có dấu.")))
            return self._name_confirm_ask(session, out)
        if value is None:
            if text and command is None and not pending.get("early"):  # the next answer, typed early: keep it
                pending["early"] = text
                out.replies.append(Message(_("Vui lòng chọn cách viết tên trước. “{text}” sẽ được dùng cho câu hỏi "
                                             "tiếp theo.", text=text), error=True))
            else:
                out.replies.append(Message(_("Vui lòng chọn một cách viết bên dưới (gõ số 1 hoặc 2)."), error=True))
            return self._name_confirm_ask(session, out)
        early = pending.get("early")
        session.pending = None
        self._accept(session, slot, pending[value], out)
        if early and session.state == "collecting" and session.pending is None \
                and out.replies and isinstance(out.replies[-1], Ask) \
                and self._follows(session, slot.path, out.replies[-1].field):
            out.replies.pop()  # the question the early answer was typed for: answer it now
            self._on_collect(session, Incoming(text=early), early, None, out)

    def _follows(self, session: Session, before: str, after: str | None) -> bool:
        """Is ``after`` the question that comes right after ``before`` in the form as it stands?"""
        order = [s.path for s in self.form(session).slots(session.draft.answers, self.today())]
        return before in order and after in order and order.index(after) == order.index(before) + 1

    @staticmethod
    def _plausible_name(text: str) -> bool:
        """A re-typed name, rather than the answer to a later question typed too early (a date, a number)."""
        try:
            parsing.parse_name(text)
        except parsing.Invalid:
            return False
        return True

    def _name_confirm_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        p = session.pending
        out.replies.append(Ask(text=_("Tên có dấu có phải là “{name}” không?", name=p["proposal"]),
                               procedure=session.procedure, field=p["path"], kind="choice",
                               choices=(ChoiceOut("proposal", p["proposal"]),
                                        ChoiceOut("typed", _("Giữ như tôi gõ: {name}", name=p["typed"]))),
                               nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))

    def _help_general(self, session: Session) -> str:
        _ = translator(session.lang)
        return _("Bạn có thể gõ bất cứ lúc nào:\n• “quay lại”: về câu hỏi trước\n• “bỏ qua”: bỏ qua câu không "
                 "bắt buộc\n• “trợ giúp”: giải thích câu hỏi\n• “thông tin”: giấy tờ, thời hạn, lệ phí\n• “hủy”: "
                 "hủy hồ sơ đang khai\n• “menu”: về danh sách thủ tục (hồ sơ được lưu lại)")

    # ------------------------------------------------------------------------------------
    # the cursor and asking
    def form(self, session: Session) -> Form:
        return self.catalog.form(session.procedure)

    def _current_slot(self, session: Session) -> Slot | None:
        form, draft = self.form(session), session.draft
        pending = session.pending or {}
        if pending.get("path"):
            slot = form.slot_for(pending["path"], draft.answers, self.today())
            if slot is not None:
                return slot
            session.pending = None
        if session.supplement is not None:
            wanted = set(session.supplement["fields"])
            return next((s for s in form.slots(draft.answers, self.today())
                         if s.path in wanted and s.path not in draft.answers), None)
        return form.next_slot(draft.answers, self.today())

    def _advance(self, session: Session, out: Outcome) -> None:
        """Ask the next question, or move to the review when the form is complete."""
        slot = self._current_slot(session)
        if slot is None and session.state == "supplementing":
            return self._supplement_review(session, out)
        if slot is None:
            session._complete = True
            if session.state != "reviewing":
                session.review()
            session.pending = None
            return self._show_review(session, out)
        if session.state == "reviewing":  # an edit from the review opened new questions
            session.edit()
        out.replies.append(self._ask_for(session, slot))

    def _prompt(self, session: Session, out: Outcome) -> None:
        """Repeat whatever is being asked now."""
        if session.state == "reviewing":
            pending = session.pending or {}
            if pending.get("kind") in ("edit_section", "edit_field"):
                return self._edit_menu(session, out, pending.get("section"))
            return self._review_ask(session, out)
        if session.state == "confirming":
            return self._confirm_ask(session, out)
        if session.state == "eligibility":
            return self._eligibility_ask(session, out)
        if session.state == "supplementing" and (session.pending or {}).get("kind") == "supplement_review":
            return self._supplement_ask(session, out)
        if (session.pending or {}).get("kind") == "name_confirm":
            return self._name_confirm_ask(session, out)
        if session.state in ("collecting", "editing", "supplementing") and session.draft is not None:
            slot = self._current_slot(session)
            if slot is None:
                return self._advance(session, out)
            out.replies.append(self._ask_for(session, slot))
            return
        self._menu_ask(session, out)

    def _safe_prompt(self, session: Session) -> Ask:
        out = Outcome()
        try:
            with self._maybe_bound(session):
                self._prompt(session, out)
        except Exception:  # noqa: BLE001 - the last line of defence: fall back to the menu
            session.state, session.procedure, session.pending = "menu", None, None
            out = Outcome()
            self._menu_ask(session, out)
        asks = [r for r in out.replies if isinstance(r, Ask)]
        return asks[-1]

    def _maybe_bound(self, session: Session):
        engine = self

        class _Ctx:
            def __enter__(self_inner):
                self_inner.added = not any(m is session for m in engine.machine.models)
                if self_inner.added:
                    engine.machine.add_model(session, initial=session.state)

            def __exit__(self_inner, *exc):
                if self_inner.added:
                    engine.machine.remove_model(session)
                    _unbind(session)
                return False

        return _Ctx()

    def _step(self, session: Session, slot: Slot) -> tuple[int, int]:
        slots = [s for s in self.form(session).slots(session.draft.answers, self.today()) if not s.synthetic]
        paths = [s.path for s in slots]
        if session.supplement is not None:
            paths = [p for p in paths if p in set(session.supplement["fields"])]
        no = paths.index(slot.path) + 1 if slot.path in paths else len(paths)
        if session.supplement is not None:
            return no, max(len(paths), no)
        # questions of branches not decided yet count too: the total shrinks as they close, never jumps up
        total = len(paths) + self.form(session).undecided(session.draft.answers, self.today())
        return no, max(total, no)

    def _field_text(self, session: Session, slot: Slot) -> str:
        _ = translator(session.lang)
        f = slot.field
        text = _(f.prompt)
        if slot.index is not None:
            item = _(slot.section.repeat.item_label)
            text = f"[{item} {slot.index + 1}] {text}"
        return text

    def _ask_for(self, session: Session, slot: Slot) -> Ask:
        _ = translator(session.lang)
        f = slot.field
        if f.kind == "id_card":
            return self._id_card_ask(session, slot)
        pending = session.pending or {}
        text = self._field_text(session, slot)
        choices: tuple[ChoiceOut, ...] = ()
        kind = f.kind
        hint = KIND_HINTS.get(kind)
        if kind == "multi_choice" and pending.get("kind") == "items" and pending.get("path") == slot.path:
            # answering the choices one at a time: "Mục 2/6: … — có không?"
            i = min(int(pending.get("i", 0)), len(f.choices) - 1)
            text += "\n" + _("Mục {no}/{total}: {label} — có không?", no=i + 1, total=len(f.choices),
                             label=_(f.choices[i].label))
            kind, hint = "yes_no", None
            choices = (ChoiceOut("yes", _("Có")), ChoiceOut("no", _("Không")))
        elif kind in ("choice", "multi_choice"):
            choices = tuple(ChoiceOut(c.value, _(c.label)) for c in f.choices)
        elif kind == "yes_no":
            choices = (ChoiceOut("yes", _("Có")), ChoiceOut("no", _("Không")))
            hint = None
        elif kind == "confirm":
            choices = (ChoiceOut("yes", _(f.confirm_label or "Tôi xác nhận")),)
        elif kind == "address":
            stage = pending.get("stage") if pending.get("kind") == "address" else None
            value = pending.get("value") or {}
            if stage == "commune":
                hint = None
                text += "\n" + _("Bạn ở xã/phường/đặc khu nào của {province}?", province=value.get("province"))
                choices = tuple(ChoiceOut(c["code"], c["name"]) for c in pending.get("options", []))
            elif stage == "detail":
                hint = None
                text += "\n" + _("Số nhà, đường/thôn/ấp/tổ dân phố? (gõ “bỏ qua” nếu không có)")
            elif stage == "province" and pending.get("options"):
                choices = tuple(ChoiceOut(c["code"], c["name"]) for c in pending["options"])
        elif kind == "attachment":
            got = len(pending.get("files", [])) if pending.get("kind") == "files" else 0
            if got:
                text += "\n" + _("Đã nhận {n} tệp. Gửi thêm, hoặc chọn “Xong”.", n=got)
                choices = (ChoiceOut("done", _("Xong")),)
        if hint and kind == "multi_choice" and (f.min_selected or 0) >= 1:
            hint = MULTI_REQUIRED_HINT  # “không” is not an answer here
        if hint:
            text += "\n" + _(hint)
            if kind == "multi_choice" and f.one_by_one:
                text += "\n" + _("Hoặc gõ “từng mục” để trả lời có hay không lần lượt từng mục.")
        if f.example and kind not in ("choice", "yes_no"):
            text += "\n" + _("Ví dụ: {example}", example=f.example)
        old = session.draft.answers.get(slot.path, _MISSING) if session.draft else _MISSING
        if old is not _MISSING and old is not None and not slot.synthetic:
            text += "\n" + _("(Câu trả lời trước: {value}. Gõ “giữ nguyên” để giữ.)", value=display(f, old, _))
        if session.errors >= 2 and f.help:
            text += "\n💡 " + _(f.help)
        no, total = self._step(session, slot)
        nav = [NAV_HELP, NAV_CANCEL]
        if (session.draft and session.draft.history) or kind != f.kind:  # one at a time: back to the list
            nav.insert(0, NAV_BACK)
        if not f.required or (kind == "address" and pending.get("kind") == "address"
                              and pending.get("stage") == "detail"):
            nav.insert(1 if NAV_BACK in nav else 0, NAV_SKIP)
        return Ask(text=text, procedure=session.procedure, field=slot.path, kind=kind, choices=choices,
                   optional=not f.required, step=_("Bước {no}/{total}", no=no, total=total),
                   step_no=no, step_total=total, nav=tuple(nav), multi=kind == "multi_choice")

    # ------------------------------------------------------------------------------------
    # collecting answers
    def _on_collect(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        slot = self._current_slot(session)
        if slot is None:
            return self._advance(session, out)
        f = slot.field
        if f.kind == "id_card":
            return self._on_id_card(session, slot, msg, text, command, out)
        if command == "help":
            out.replies.append(Message(self._field_help(session, f)))
            return self._prompt(session, out)
        if f.kind == "multi_choice" and (session.pending or {}).get("kind") == "items" \
                and session.pending.get("path") == slot.path:
            return self._on_items(session, slot, msg, text, command, out)
        old = session.draft.answers.get(slot.path, _MISSING)
        if command is None and msg.choice is None and text and old is not _MISSING and old is not None \
                and not slot.synthetic and fold(text).strip(" .!") in KEEP_WORDS:
            return self._accept(session, slot, old, out)  # asked again (back, edit): keep what was answered
        if f.one_by_one and command is None and msg.choice is None and not msg.file and not msg.files \
                and fold(text).strip(" .!") in ONE_BY_ONE:
            session.pending = {"kind": "items", "path": slot.path, "i": 0, "picked": []}
            session.errors = 0
            out.accepted = True
            out.replies.append(self._ask_for(session, slot))
            return
        if command == "back":
            pending = session.pending or {}
            if f.kind == "address" and pending.get("kind") == "address" and pending.get("stage") in ("commune",
                                                                                                     "detail"):
                # step back inside the address: detail -> commune -> province
                value = dict(pending.get("value") or {})
                if pending["stage"] == "detail":
                    value = {k: v for k, v in value.items() if k not in ("commune_code", "commune", "detail")}
                    pending.update(stage="commune", value=value, options=[])
                else:
                    pending.update(stage="province", value={}, options=[])
                session.pending = pending
                out.replies.append(self._ask_for(session, slot))
                return
            return self._back(session, out)
        if command == "skip":
            pending = session.pending or {}
            if f.kind == "address" and pending.get("kind") == "address" and pending.get("stage") == "detail":
                return self._accept(session, slot, dict(pending.get("value") or {}, detail=None), out)
            if f.required:
                out.replies.append(Message(_("Câu hỏi này bắt buộc, không bỏ qua được. Gõ “trợ giúp” nếu bạn "
                                             "cần hướng dẫn."), error=True))
                return self._prompt(session, out)
            return self._accept(session, slot, None, out)
        if f.kind == "address":
            return self._on_address(session, slot, msg, text, out)
        if f.kind == "attachment":
            return self._on_attachment(session, slot, msg, text, out)
        files = ([msg.file] if msg.file else []) + list(msg.files)
        if files:
            out.replies.append(Message(_("Câu hỏi này cần câu trả lời bằng chữ, không cần gửi tệp. "
                                         "Tệp vừa gửi chưa được lưu."), error=True))
            return self._prompt(session, out)
        raw = text
        if msg.choice is not None:
            if f.kind == "yes_no" and msg.choice in ("yes", "no"):
                return self._accept(session, slot, msg.choice == "yes", out)
            if f.kind == "confirm" and msg.choice == "yes":
                return self._accept(session, slot, True, out)
            if f.kind == "choice" and msg.choice in {c.value for c in f.choices}:
                return self._accept(session, slot, msg.choice, out)
            raw = msg.choice
        elif f.kind == "yes_no" and text.isdigit():
            # yes/no is shown as numbered choices (1. Có, 2. Không): the number answers it too
            picked = parsing.match_choice(text, [("yes", _("Có")), ("no", _("Không"))])
            if picked is not None:
                return self._accept(session, slot, picked == "yes", out)
        try:
            value = parse_value(f, raw, today=self.today(), lookup=self._lookup(session, slot))
            self._check_constraints(session, slot, value)
        except Invalid as exc:
            return self._reject(session, exc, out)
        if f.kind == "name" and msg.choice is None:
            proposal = nlu.restore_diacritics_name(raw)
            if proposal:
                proposal = parse_value(f, proposal, today=self.today(), lookup=self._lookup(session, slot))
                if proposal != value:
                    session.pending = {"kind": "name_confirm", "path": slot.path, "proposal": proposal,
                                       "typed": value}
                    out.accepted = True
                    return self._name_confirm_ask(session, out)
        self._accept(session, slot, value, out)

    def _on_items(self, session: Session, slot: Slot, msg: Incoming, text: str, command: str | None,
                  out: Outcome) -> None:
        """A multi-choice question answered one choice at a time, yes or no (``one_by_one``)."""
        _ = translator(session.lang)
        f, pending = slot.field, dict(session.pending)
        i, picked = int(pending.get("i", 0)), list(pending.get("picked", []))
        if command == "back":
            session.errors = 0
            if i == 0:  # back to the whole list
                session.pending = None
                return self._prompt(session, out)
            i -= 1
            picked = [v for v in picked if v != f.choices[i].value]
            session.pending = dict(pending, i=i, picked=picked)
            out.accepted = True
            return self._prompt(session, out)
        if command == "skip":
            if f.required:
                out.replies.append(Message(_("Câu hỏi này bắt buộc, không bỏ qua được. Gõ “trợ giúp” nếu bạn "
                                             "cần hướng dẫn."), error=True))
                return self._prompt(session, out)
            return self._accept(session, slot, None, out)
        if msg.file or msg.files:
            out.replies.append(Message(_("Câu hỏi này cần câu trả lời bằng chữ, không cần gửi tệp. "
                                         "Tệp vừa gửi chưa được lưu."), error=True))
            return self._prompt(session, out)
        if msg.choice in ("yes", "no"):
            yes = msg.choice == "yes"
        elif text.strip() in ("1", "2"):  # shown as numbered choices: 1. Có, 2. Không
            yes = text.strip() == "1"
        else:
            try:
                yes = parsing.parse_yes_no(msg.choice or text)
            except Invalid as exc:
                return self._reject(session, exc, out)
        if yes:
            picked.append(f.choices[i].value)
        i += 1
        session.errors = 0
        if i < len(f.choices):
            session.pending = dict(pending, i=i, picked=picked)
            out.accepted = True
            return self._prompt(session, out)
        value = [c.value for c in f.choices if c.value in picked]
        try:
            if f.min_selected is not None and len(value) < f.min_selected:
                raise Invalid(N_("Vui lòng chọn ít nhất {n} mục."), n=f.min_selected)
            if f.max_selected is not None and len(value) > f.max_selected:
                raise Invalid(N_("Vui lòng chọn nhiều nhất {n} mục."), n=f.max_selected)
            self._check_constraints(session, slot, value)
        except Invalid as exc:
            session.pending = None  # ask the whole list again
            return self._reject(session, exc, out)
        self._accept(session, slot, value, out)

    def _lookup(self, session: Session, slot: Slot) -> Callable[[str], Any]:
        """Resolve a field reference; ``item.x`` means the same repeat-group item as ``slot``."""
        form, answers = self.form(session), session.draft.answers
        resolve = form.resolver(answers)
        if slot.index is None:
            return resolve
        item = form.item_resolver(answers, slot.section.id, slot.index)
        return lambda ref: item(ref[5:]) if ref.startswith("item.") else resolve(ref)

    def _field_help(self, session: Session, f: FieldDef) -> str:
        _ = translator(session.lang)
        parts = [_(f.help) if f.help else _("Vui lòng trả lời câu hỏi: {prompt}", prompt=_(f.prompt))]
        if KIND_HINTS.get(f.kind):
            parts.append(_(KIND_HINTS[f.kind]))
        if not f.required:
            parts.append(_("Câu này không bắt buộc: gõ “bỏ qua” nếu không có."))
        parts.append(self._help_general(session))
        return "\n".join(parts)

    def _check_constraints(self, session: Session, slot: Slot, value: Any) -> None:
        form = self.form(session)
        typed = form.typed(slot.path, value)
        answers = session.draft.answers
        item = form.item_resolver(answers, slot.section.id, slot.index) if slot.index is not None else None
        for c in slot.field.constraints:
            result = compile_expr(c.expr).evaluate(form.resolver(answers), value=typed, item=item,
                                                   today=self.today())
            if result is False:
                raise Invalid(c.message)

    def _reject(self, session: Session, exc: Invalid, out: Outcome) -> None:
        _ = translator(session.lang)
        session.errors += 1
        out.replies.append(Message(_(exc.message, **exc.params), error=True))
        self._prompt(session, out)

    def _accept(self, session: Session, slot: Slot, value: Any, out: Outcome) -> None:
        draft = session.draft
        draft.answers[slot.path] = value
        if slot.path in draft.history:
            draft.history.remove(slot.path)
        draft.history.append(slot.path)
        draft.revision += 1
        session.dirty_drafts.add(draft.procedure)
        session.pending = None
        session.errors = 0
        out.accepted = True
        dropped = self.form(session).prune(draft.answers, self.today())
        self._recheck_dependents(session, slot.path, out)
        if dropped:
            draft.history = [p for p in draft.history if p in draft.answers]
        if session.state != "supplementing" and self._check_eligibility(session, out):
            return
        self._advance(session, out)

    def _recheck_dependents(self, session: Session, changed: str, out: Outcome) -> None:
        """A changed answer can make a later one contradict it (an id number that no longer matches a
        corrected birth date or sex, a death date now before the birth date): drop such answers so the
        cursor asks them again, instead of submitting a dossier that fails its own checks."""
        _ = translator(session.lang)
        form, draft = self.form(session), session.draft
        key = form.key_of(changed)
        for slot in list(form.slots(draft.answers, self.today())):
            f, old = slot.field, draft.answers.get(slot.path)
            if slot.synthetic or slot.path == changed or old is None:
                continue
            deps = {f.birth_date_field, f.sex_field} if f.kind == "id_number" else set()
            if slot.index is not None:
                deps = {f"{slot.section.id}[{slot.index}].{d[5:]}" if d and d.startswith("item.") else d
                        for d in deps}
            for c in f.constraints:
                e = compile_expr(c.expr)
                deps |= e.refs
                if slot.index is not None:
                    deps |= {f"{slot.section.id}[{slot.index}].{r}" for r in e.item_refs}
            if key not in deps and changed not in deps:
                continue
            try:
                if f.kind == "id_number" and isinstance(old, str):
                    parse_value(f, old, today=self.today(), lookup=self._lookup(session, slot))
                self._check_constraints(session, slot, old)
            except Invalid as exc:
                del draft.answers[slot.path]
                draft.history = [p for p in draft.history if p != slot.path]
                out.replies.append(Message(_("Câu trả lời “{label}” không còn khớp với thông tin vừa sửa: {reason} "
                                             "Vui lòng trả lời lại câu này.", label=_(f.summary_label),
                                             reason=_(exc.message, **exc.params))))

    def _back(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        draft = session.draft
        form = self.form(session)
        pending = session.pending or {}
        current = pending.get("path") or (s.path if (s := form.next_slot(draft.answers, self.today())) else None)
        live = {s.path for s in form.slots(draft.answers, self.today())}
        history = [p for p in draft.history if p in live]
        if current in history:
            history = history[: history.index(current)]
        if not history:
            out.replies.append(Message(_("Đây là câu hỏi đầu tiên, không quay lại được nữa."), error=True))
            return self._prompt(session, out)
        target = history[-1]
        session.pending = {"kind": "revisit", "path": target}
        session.errors = 0
        if session.state == "reviewing":
            session.edit()
        out.replies.append(self._ask_for(session, form.slot_for(target, draft.answers, self.today())))

    # addresses: province, then commune, then house/street detail
    def _on_address(self, session: Session, slot: Slot, msg: Incoming, text: str, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = session.pending if (session.pending or {}).get("kind") == "address" \
            and session.pending.get("path") == slot.path else None
        if pending is None:
            pending = {"kind": "address", "path": slot.path, "stage": "province", "value": {}}
        raw = msg.choice or text
        if not raw:
            out.replies.append(Message(_("Vui lòng nhập địa chỉ bằng chữ."), error=True))
            return self._prompt(session, out)
        stage, value = pending["stage"], dict(pending.get("value") or {})
        if stage == "province":
            opts = {o["code"]: o for o in pending.get("options", [])}
            if raw in opts:
                p = addr.province(raw)
                found = {"province_code": p.code, "province": p.full_name}
            else:
                full = addr.extract_address(raw) or {}
                if full.get("province_code"):
                    found = {k: full.get(k) for k in ("province_code", "province", "commune_code", "commune",
                                                      "detail")}
                    p = addr.province(full["province_code"])
                    found["province"] = p.full_name
                    if full.get("commune_code"):
                        found["commune"] = addr.commune(full["commune_code"]).full_name
                else:
                    cands = addr.match_province(raw)
                    if len(cands) == 1:
                        found = {"province_code": cands[0].code, "province": cands[0].full_name}
                    elif cands:
                        pending["options"] = [{"code": c.code, "name": c.full_name} for c in cands[:5]]
                        session.pending = pending
                        out.replies.append(Message(_("Có vài tỉnh/thành gần giống. Bạn chọn giúp một tỉnh/thành:"),
                                                   error=True))
                        return self._prompt(session, out)
                    else:
                        session.pending = pending
                        return self._reject(session, Invalid(N_(
                            "Không tìm thấy tỉnh/thành “{text}” trong danh sách 34 tỉnh, thành phố hiện nay. "
                            "Vui lòng nhập lại, ví dụ: Hà Nội, Lâm Đồng, Thái Nguyên."), text=raw[:40]), out)
                note = addr.legacy_note(raw, translate=_)
                if note:
                    out.replies.append(Message(note))
            value.update({k: v for k, v in found.items() if v})
            stage = "commune" if not value.get("commune_code") else "detail"
            pending.pop("options", None)
            if stage == "commune":
                pending["options"] = []
        elif stage == "commune":
            opts = {o["code"]: o for o in pending.get("options", [])}
            if raw in opts:
                c = addr.commune(raw)
            else:
                cands = addr.match_commune(raw, value["province_code"])
                if len(cands) != 1:
                    if cands:
                        pending["options"] = [{"code": c.code, "name": c.full_name} for c in cands[:6]]
                        session.pending = pending
                        out.replies.append(Message(_("Có vài xã/phường gần giống. Bạn chọn giúp một nơi:"), error=True))
                        return self._prompt(session, out)
                    session.pending = pending
                    return self._reject(session, Invalid(N_(
                        "Không tìm thấy xã/phường “{text}” thuộc {province}. Lưu ý: từ 01/07/2025 không còn cấp "
                        "huyện, nhiều xã đã sáp nhập và đổi tên. Vui lòng nhập lại tên xã/phường hiện nay."),
                        text=raw[:40], province=value.get("province")), out)
                c = cands[0]
            value.update({"commune_code": c.code, "commune": c.full_name})
            pending.pop("options", None)
            stage = "detail"
        elif stage == "detail":
            try:
                value["detail"] = parsing.parse_text(raw, min_len=1, max_len=200)
            except Invalid as exc:
                session.pending = pending
                return self._reject(session, exc, out)
            stage = "done"
        if stage == "detail" and (not slot.field.ask_detail or value.get("detail")):
            stage = "done"
        if stage == "done":
            value.setdefault("detail", None)
            session.pending = None
            return self._accept(session, slot, value, out)
        pending["stage"], pending["value"] = stage, value
        session.pending = pending
        out.accepted = True  # partial progress is saved too
        session.errors = 0
        out.replies.append(self._ask_for(session, slot))

    def _on_attachment(self, session: Session, slot: Slot, msg: Incoming, text: str, out: Outcome) -> None:
        _ = translator(session.lang)
        f = slot.field
        pending = session.pending if (session.pending or {}).get("kind") == "files" \
            and session.pending.get("path") == slot.path else {"kind": "files", "path": slot.path, "files": []}
        files = ([msg.file] if msg.file else []) + list(msg.files)
        if not files:
            # "1" is the number of the only choice, “Xong”, where the channel shows numbered choices
            done = msg.choice == "done" or fold(text) in ("xong", "done", "het", "du roi", "roi", "xong roi") \
                or (text.strip() == "1" and bool(pending["files"]))
            if done and pending["files"]:
                if len(pending["files"]) < f.min_count:
                    return self._reject(session, Invalid(N_("Cần ít nhất {n} tệp cho mục này."), n=f.min_count),
                                        out)
                return self._accept(session, slot, pending["files"], out)
            session.pending = pending if pending["files"] else session.pending
            return self._reject(session, Invalid(N_(
                "Câu hỏi này cần ảnh chụp hoặc tệp PDF. Vui lòng gửi tệp (không gõ chữ).")), out)
        accepted = list(pending["files"])
        for item in files:
            if len(accepted) >= f.max_count:
                out.replies.append(Message(_("Mục này nhận tối đa {n} tệp; các tệp thừa không được lưu.",
                                             n=f.max_count), error=True))
                break
            try:
                mime = parsing.check_attachment(item.data, accept=accepted_mimes(f),
                                                max_bytes=int(f.max_mb * 1024 * 1024))
            except Invalid as exc:
                session.pending = pending if accepted else session.pending
                pending["files"] = accepted
                return self._reject(session, exc, out)
            sha = hashlib.sha256(item.data).hexdigest()
            out.blobs[sha] = item.data
            accepted.append({"sha256": sha, "mime": mime, "size": len(item.data),
                             "name": (item.name or "")[-120:] or None})
        if len(accepted) >= f.max_count:
            return self._accept(session, slot, accepted, out)
        pending["files"] = accepted
        session.pending = pending
        out.accepted = True
        out.replies.append(self._ask_for(session, slot))

    # ------------------------------------------------------------------------------------
    # eligibility
    def _check_eligibility(self, session: Session, out: Outcome) -> bool:
        proc = self.catalog.get(session.procedure)
        form = self.form(session)
        answers = session.draft.answers
        today = self.today()
        for rule in proc.eligibility:
            expr = compile_expr(rule.ineligible_if)
            if expr.evaluate(form.resolver(answers, today), today=today) is True:
                _ = translator(session.lang)
                if session.state != "eligibility":
                    session.found_ineligible()
                session.pending = {"kind": "ineligible", "rule": rule.id}
                # amounts of a dated standard ({poverty_line}) are written into the reason as money
                std, stale = proc.standard_at(today)
                params = {k: _.money(v) for k, v in std.values.items()} if std is not None else {}
                ref = rule.legal_ref
                if std is not None and any(r.startswith("std.") for r in expr.refs):
                    ref += "\n" + _("Chuẩn áp dụng: {name} ({source}).", name=_(std.name), source=std.source)
                    if stale:
                        ref += " " + _("Trợ lý chưa có chuẩn mới hơn; cán bộ xã sẽ đối chiếu với chuẩn đang có "
                                       "hiệu lực.")
                out.replies.append(Message(
                    _("Rất tiếc, trường hợp này không thuộc diện của thủ tục “{title}”.", title=_(proc.title))
                    + "\n" + _("Lý do: {reason}", reason=_(rule.reason, **params))
                    + "\n" + _("Căn cứ: {ref}", ref=ref)
                    + "\n" + _("Bạn có thể: {instead}", instead=_(rule.instead, **params)), error=False))
                self._eligibility_ask(session, out)
                return True
        return False

    def _eligibility_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Ask(
            text=_("Nếu bạn trả lời nhầm, chọn “Sửa câu trả lời”. Hồ sơ đang khai vẫn được lưu."),
            procedure=session.procedure, field="_eligibility", kind="choice",
            choices=(ChoiceOut("fix", _("Sửa câu trả lời")), ChoiceOut("menu", _("Về danh sách thủ tục")),
                     ChoiceOut("cancel", _("Hủy hồ sơ")))))

    def _on_eligibility(self, session: Session, msg: Incoming, text: str, command: str | None,
                        out: Outcome) -> None:
        _ = translator(session.lang)
        value = msg.choice or parsing.match_choice(text, [("fix", _("Sửa câu trả lời")),
                                                          ("menu", _("Về danh sách thủ tục")),
                                                          ("cancel", _("Hủy hồ sơ"))])
        if command == "back":
            value = "fix"
        if value == "menu":
            return self._go_menu(session, out)
        if value == "cancel":
            return self._ask_cancel(session, msg, "", out)
        if value != "fix":
            out.replies.append(Message(_("Vui lòng chọn một trong các lựa chọn bên dưới."), error=True))
            return self._eligibility_ask(session, out)
        session.fix_answer()
        session.pending = None
        draft = session.draft
        target = draft.history[-1] if draft.history else None
        if target:
            session.pending = {"kind": "revisit", "path": target}
        slot = self._current_slot(session)
        if slot is None:
            return self._advance(session, out)
        out.replies.append(self._ask_for(session, slot))

    # ------------------------------------------------------------------------------------
    # review, edit, confirm
    def summary(self, session: Session) -> str:
        _ = translator(session.lang)
        form, answers = self.form(session), session.draft.answers
        lines = [_("Xin kiểm tra lại thông tin đã khai:")]
        current = None
        for slot in form.slots(answers, self.today()):
            if slot.synthetic or slot.path not in answers:
                continue
            title = _(slot.section.title)
            if slot.index is not None:
                title += f" — {_(slot.section.repeat.item_label)} {slot.index + 1}"
            if title != current:
                lines.append(f"\n【{title}】")
                current = title
            lines.append(f"• {_(slot.field.summary_label)}: {display(slot.field, answers[slot.path], _)}")
        return "\n".join(lines)

    def _show_review(self, session: Session, out: Outcome) -> None:
        if self._check_eligibility(session, out):
            return
        out.replies.append(Message(self.summary(session)))
        self._review_ask(session, out)

    def _review_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Ask(text=_("Thông tin đã đúng chưa?"), procedure=session.procedure, field="_review",
                               kind="choice", choices=(ChoiceOut("confirm", _("Đúng, nộp hồ sơ")),
                                                       ChoiceOut("edit", _("Sửa thông tin")),
                                                       ChoiceOut("cancel", _("Hủy hồ sơ"))),
                               nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))

    def _on_review(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = session.pending or {}
        if pending.get("kind") in ("edit_section", "edit_field"):
            return self._on_edit_pick(session, msg, text, command, out)
        if command == "back":
            return self._back(session, out)
        if command == "help":
            out.replies.append(Message(_("Chọn “Đúng, nộp hồ sơ” nếu mọi thông tin đã đúng; “Sửa thông tin” để "
                                         "sửa một mục.")))
            return self._review_ask(session, out)
        value = msg.choice or parsing.match_choice(text, [("confirm", _("Đúng, nộp hồ sơ")),
                                                          ("edit", _("Sửa thông tin")),
                                                          ("cancel", _("Hủy hồ sơ"))])
        if value is None and text and self._is_yes(text):
            value = "confirm"
        if value == "confirm":
            session._complete = self.form(session).next_slot(session.draft.answers, self.today()) is None
            if not session._complete:
                return self._advance(session, out)
            session.confirm()
            return self._confirm_ask(session, out)
        if value == "edit":
            return self._edit_menu(session, out, None)
        if value == "cancel":
            return self._ask_cancel(session, msg, "", out)
        out.replies.append(Message(_("Vui lòng chọn một trong các lựa chọn bên dưới."), error=True))
        self._review_ask(session, out)

    def _edit_menu(self, session: Session, out: Outcome, section: str | None) -> None:
        _ = translator(session.lang)
        form, answers = self.form(session), session.draft.answers
        slots = [s for s in form.slots(answers, self.today()) if not s.synthetic and s.path in answers]
        if section is None:
            seen: list[ChoiceOut] = []
            keys = set()
            for s in slots:
                key = s.section.id if s.index is None else f"{s.section.id}[{s.index}]"
                if key not in keys:
                    keys.add(key)
                    title = _(s.section.title)
                    if s.index is not None:
                        title += f" — {_(s.section.repeat.item_label)} {s.index + 1}"
                    seen.append(ChoiceOut(key, title))
            if len(seen) == 1:
                section = seen[0].value
            else:
                session.pending = {"kind": "edit_section", "options": [c.value for c in seen]}
                out.replies.append(Ask(text=_("Bạn muốn sửa phần nào?"), procedure=session.procedure,
                                       field="_edit_section", kind="choice", choices=tuple(seen),
                                       nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))
                return
        choices = []
        for s in slots:
            key = s.section.id if s.index is None else f"{s.section.id}[{s.index}]"
            if key == section:
                shown = display(s.field, answers[s.path], _)
                choices.append(ChoiceOut(s.path, f"{_(s.field.summary_label)}: {shown[:60]}"))
        if len(choices) == 1:
            return self._start_edit(session, choices[0].value, out)
        session.pending = {"kind": "edit_field", "section": section, "options": [c.value for c in choices]}
        out.replies.append(Ask(text=_("Chọn mục cần sửa:"), procedure=session.procedure, field="_edit_field",
                               kind="choice", choices=tuple(choices), nav=(NAV_BACK, NAV_HELP, NAV_CANCEL)))

    def _on_edit_pick(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = session.pending
        if command == "back":
            if pending["kind"] == "edit_field" and len(self._edit_sections(session)) > 1:
                return self._edit_menu(session, out, None)
            session.pending = None
            return self._show_review(session, out)
        asked: list[Ask] = []
        tmp = Outcome()
        self._edit_menu(session, tmp, pending.get("section") if pending["kind"] == "edit_field" else None)
        asked = [r for r in tmp.replies if isinstance(r, Ask)]
        choices = asked[-1].choices if asked else ()
        value = msg.choice if msg.choice in {c.value for c in choices} else \
            parsing.match_choice(text, [(c.value, c.label) for c in choices]) if text else None
        if value is None:
            out.replies.append(Message(_("Vui lòng chọn mục cần sửa trong danh sách (gõ số thứ tự của mục, ví dụ 2)."),
                                       error=True))
            out.replies.extend(tmp.replies)
            return
        if session.pending["kind"] == "edit_section":
            return self._edit_menu(session, out, value)
        self._start_edit(session, value, out)

    def _start_edit(self, session: Session, path: str, out: Outcome) -> None:
        if session.state == "reviewing":
            session.edit()
        session.pending = {"kind": "revisit", "path": path}
        slot = self.form(session).slot_for(path, session.draft.answers, self.today())
        out.replies.append(self._ask_for(session, slot))

    def _edit_sections(self, session: Session) -> set[str]:
        form, answers = self.form(session), session.draft.answers
        return {s.section.id if s.index is None else f"{s.section.id}[{s.index}]"
                for s in form.slots(answers, self.today()) if not s.synthetic and s.path in answers}

    def _confirm_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        proc = self.catalog.get(session.procedure)
        out.replies.append(Ask(text=_(proc.sworn_statement), procedure=session.procedure, field="_sworn",
                               kind="confirm", choices=(ChoiceOut("yes", _("Tôi xin cam đoan")),
                                                        ChoiceOut("no", _("Xem lại thông tin"))),
                               nav=(NAV_BACK, NAV_CANCEL)))

    def _on_confirm(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        value = msg.choice or parsing.match_choice(text, [("yes", _("Tôi xin cam đoan")),
                                                          ("no", _("Xem lại thông tin"))])
        if value is None and text:
            try:
                value = "yes" if parsing.parse_yes_no(text) else "no"
            except Invalid:
                value = None
        if command == "back":
            value = "no"
        if value == "no":
            session._complete = True
            session.review()
            return self._show_review(session, out)
        if value != "yes":
            out.replies.append(Message(_("Vui lòng chọn “Tôi xin cam đoan” để nộp, hoặc “Xem lại thông tin”."),
                                       error=True))
            return self._confirm_ask(session, out)
        proc = self.catalog.get(session.procedure)
        draft = session.draft
        name = next((draft.answers[f] for f in proc.applicant_name_fields if draft.answers.get(f)), None)
        out.submit = SubmitRequest(procedure=proc.id, procedure_version=proc.version, draft_id=draft.id,
                                   answers=dict(draft.answers), applicant_name=name, lang=session.lang)

    # ------------------------------------------------------------------------------------
    # supplements: an officer asked for some items again; only those are asked
    def begin_supplement(self, session: Session, request: dict[str, Any] | None) -> Outcome:
        """Called by the runtime with an open request (or None when there is none)."""
        out = Outcome()
        _ = translator(session.lang)
        with self._bound(session):
            if request is None or request.get("procedure") not in self.catalog.procedures:
                out.replies.append(Message(_("Hiện bạn không có hồ sơ nào cần bổ sung.")))
                self._prompt(session, out)
                return out
            fields = [f for f in request["fields"]]
            session.begin_supplement()
            session.supplement = {
                "id": request["id"], "code": request["code"], "procedure": request["procedure"],
                "fields": fields, "reason": request.get("reason"), "history": [],
                "answers": {k: v for k, v in (request.get("answers") or {}).items() if k not in fields},
            }
            session._sup_draft = None
            session.procedure = request["procedure"]
            session.pending = None
            session.errors = 0
            out.accepted = True
            form = self.form(session)
            labels = [_(form.field(p).summary_label) if form.field(p) else p for p in fields]
            out.replies.append(Message(
                _("Cán bộ đề nghị bổ sung hồ sơ {code}.", code=request["code"])
                + ("\n" + _("Lý do: {reason}", reason=request["reason"]) if request.get("reason") else "")
                + "\n" + _("Bạn cần gửi lại: {items}.", items="; ".join(labels))))
            self._advance(session, out)
        return out

    def supplement_done(self, session: Session, code: str, changed: list[str], ok: bool = True) -> Outcome:
        out = Outcome()
        _ = translator(session.lang)
        with self._bound(session):
            if ok:
                out.replies.append(Message(_("Đã gửi bổ sung cho hồ sơ {code}. Cán bộ sẽ tiếp tục xử lý và báo "
                                             "kết quả cho bạn.", code=code), dossier=code))
            self._end_supplement(session, out)
        return out

    def _end_supplement(self, session: Session, out: Outcome) -> None:
        session.supplement = None
        session._sup_draft = None
        session.procedure = None
        self._go_menu(session, out)

    def _on_supplementing(self, session: Session, msg: Incoming, text: str, command: str | None,
                          out: Outcome) -> None:
        _ = translator(session.lang)
        if command in ("menu", "cancel"):
            out.replies.append(Message(_("Đã tạm dừng bổ sung. Khi sẵn sàng, gõ “bổ sung” để làm tiếp.")))
            return self._end_supplement(session, out)
        if command == "info":
            out.replies.append(Message(self.info_card(session.procedure, session.lang)))
            return self._prompt(session, out)
        if (session.pending or {}).get("kind") == "supplement_review":
            value = msg.choice or parsing.match_choice(text, [("send", _("Gửi bổ sung")), ("redo", _("Khai lại"))])
            if value is None and text and self._is_yes(text):
                value = "send"
            if command == "back":
                value = "redo"
            if value == "send":
                sup = session.supplement
                answers = session.draft.answers
                out.supplement = SupplementSubmit(request_id=sup["id"], code=sup["code"],
                                                  answers={p: answers.get(p) for p in sup["fields"]})
                return
            if value == "redo":
                for p in session.supplement["fields"]:
                    session.draft.answers.pop(p, None)
                session.draft.history.clear()
                session.pending = None
                return self._advance(session, out)
            out.replies.append(Message(_("Vui lòng chọn một trong các lựa chọn bên dưới."), error=True))
            return self._supplement_ask(session, out)
        return self._on_collect(session, msg, text, command, out)

    def _supplement_review(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        form, answers = self.form(session), session.draft.answers
        lines = [_("Thông tin bổ sung cho hồ sơ {code}:", code=session.supplement["code"])]
        for p in session.supplement["fields"]:
            f = form.field(p)
            if f is not None and p in answers:
                lines.append(f"• {_(f.summary_label)}: {display(f, answers[p], _)}")
        out.replies.append(Message("\n".join(lines)))
        session.pending = {"kind": "supplement_review"}
        self._supplement_ask(session, out)

    def _supplement_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Ask(text=_("Gửi phần bổ sung này cho cán bộ?"), procedure=session.procedure,
                               field="_supplement", kind="choice",
                               choices=(ChoiceOut("send", _("Gửi bổ sung")), ChoiceOut("redo", _("Khai lại")))))

    # ------------------------------------------------------------------------------------
    # the citizen's dossiers and ratings (data comes from the runtime)
    def dossier_list(self, session: Session, items: list[dict[str, Any]]) -> Message:
        _ = translator(session.lang)
        if not items:
            return Message(_("Bạn chưa nộp hồ sơ nào."))
        lines = [_("Hồ sơ của bạn:")]
        for d in items:
            title = _(self.catalog.get(d["procedure"]).title) if d["procedure"] in self.catalog.procedures \
                else d["procedure"]
            line = f"• {d['code']} — {title}: {d.get('status_label') or d['status']}"
            if not d.get("closed") and d.get("days_left") is not None:
                left = d["days_left"]
                line += " — " + (_("còn {n} ngày làm việc", n=left) if left > 0 else
                                 _("đến hạn hôm nay") if left == 0 else _("quá hạn {n} ngày làm việc", n=-left))
            if d.get("closed") and not d.get("rated"):
                line += " — " + _("gõ “đánh giá {code} 5” để chấm từ 1 đến 5 sao", code=d["code"])
            lines.append(line)
        return Message("\n".join(lines))

    def failures(self, session: Session, what: str) -> int:
        day, n = (session.throttle or {}).get(what) or (None, 0)
        return n if day == self.today().isoformat() else 0

    def follow_result(self, session: Session, code: str, ok: bool, reason: str | None = None) -> Message:
        _ = translator(session.lang)
        if not ok:  # counted per day, so the last four digits cannot be guessed by trying them all
            session.throttle = dict(session.throttle or {}, follow=[self.today().isoformat(),
                                                                    self.failures(session, "follow") + 1])
        if ok:
            return Message(_("Đã ghi nhận. Bạn sẽ nhận thông báo về hồ sơ {code} tại đây.", code=code))
        return Message(reason or _("Chưa theo dõi được hồ sơ này."), error=True)

    def rating_result(self, session: Session, ok: bool, reason: str | None = None) -> Message:
        _ = translator(session.lang)
        if ok:
            return Message(_("Cảm ơn bạn đã đánh giá! Ý kiến của bạn giúp cơ quan phục vụ tốt hơn."))
        return Message(reason or _("Chưa ghi nhận được đánh giá."), error=True)

    # ------------------------------------------------------------------------------------
    # cancel
    def _ask_cancel(self, session: Session, msg: Incoming, text: str, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = {"kind": "cancel", "resume": session.pending}
        choices = [ChoiceOut("yes", _("Có, hủy hồ sơ")), ChoiceOut("no", _("Không, tiếp tục khai"))]
        # "Huy" is also a name: never lose what someone typed.
        if text and session.state in ("collecting", "editing") and text.strip().lower() != "hủy":
            slot = self._past_card_offer(session, self._current_slot(session))
            if slot is not None and slot.field.kind in ("text", "name"):
                pending["typed"] = text
                choices.append(ChoiceOut("answer", _("“{text}” là câu trả lời", text=text[:30])))
        session.pending = pending
        out.replies.append(Ask(text=_("Bạn có chắc muốn hủy hồ sơ đang khai không? Các câu trả lời sẽ bị xóa."),
                               procedure=session.procedure, field="_cancel", kind="choice", choices=tuple(choices)))

    def _on_cancel_answer(self, session: Session, msg: Incoming, text: str, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = session.pending
        options = [("yes", _("Có, hủy hồ sơ")), ("no", _("Không, tiếp tục khai"))]
        if pending.get("typed"):
            options.append(("answer", _("“{text}” là câu trả lời", text=pending["typed"][:30])))
        value = msg.choice if msg.choice in {v for v, _l in options} else \
            parsing.match_choice(text, options) if text else None
        if value is None and text:
            try:
                value = "yes" if parsing.parse_yes_no(text) else "no"
            except Invalid:
                value = None
        if value is None:
            out.replies.append(Message(_("Vui lòng chọn Có hoặc Không."), error=True))
            out.replies.append(Ask(text=_("Bạn có chắc muốn hủy hồ sơ đang khai không? Các câu trả lời sẽ bị xóa."),
                                   procedure=session.procedure, field="_cancel", kind="choice",
                                   choices=tuple(ChoiceOut(v, lbl) for v, lbl in options)))
            return
        session.pending = pending.get("resume")
        if value == "no":
            out.replies.append(Message(_("Được, chúng ta tiếp tục.")))
            return self._prompt(session, out)
        if value == "answer":
            return self._answer_typed(session, pending["typed"], out)
        # yes: cancel
        proc_id = session.procedure
        session.cancel()
        if proc_id:
            session.drafts.pop(proc_id, None)
            session.deleted_drafts.add(proc_id)
        session.procedure = None
        session.pending = None
        out.accepted = True
        out.replies.append(Message(_("Đã hủy hồ sơ đang khai.")))
        self._menu_ask(session, out)

    # ------------------------------------------------------------------------------------
    # withdrawing a submitted dossier (the runtime does it, with the database)
    def _withdraw_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        code = session.pending["code"]
        out.replies.append(Ask(text=_("Bạn có chắc muốn rút hồ sơ {code} không? Cơ quan sẽ dừng giải quyết hồ sơ "
                                      "này và không khôi phục lại được.", code=code),
                               procedure=session.procedure, field="_withdraw", kind="choice",
                               choices=(ChoiceOut("yes", _("Có, rút hồ sơ")), ChoiceOut("no", _("Không rút")))))

    def _on_withdraw_answer(self, session: Session, msg: Incoming, text: str, out: Outcome) -> None:
        _ = translator(session.lang)
        pending = session.pending
        options = [("yes", _("Có, rút hồ sơ")), ("no", _("Không rút"))]
        value = msg.choice if msg.choice in ("yes", "no") else parsing.match_choice(text, options) if text else None
        if value is None and text:
            try:
                value = "yes" if parsing.parse_yes_no(text) else "no"
            except Invalid:
                value = None
        if value is None:
            out.replies.append(Message(_("Vui lòng chọn Có hoặc Không."), error=True))
            return self._withdraw_ask(session, out)
        session.pending = pending.get("resume")
        out.accepted = True
        if value == "no":
            out.replies.append(Message(_("Hồ sơ {code} vẫn được giải quyết bình thường.", code=pending["code"])))
        else:
            out.withdraw = pending["code"]
        return self._prompt(session, out)

    def withdraw_result(self, session: Session, code: str, ok: bool, reason: str | None = None) -> Message:
        _ = translator(session.lang)
        if ok:
            return Message(_("Đã rút hồ sơ {code}. Cơ quan giải quyết sẽ dừng xử lý hồ sơ này. Nếu cần, bạn có thể "
                             "nộp hồ sơ mới bất cứ lúc nào.", code=code))
        return Message(reason or _("Chưa rút được hồ sơ này."), error=True)

    def _answer_typed(self, session: Session, typed: str, out: Outcome) -> None:
        _ = translator(session.lang)
        slot = self._past_card_offer(session, self._current_slot(session), commit=True)
        if slot is None:
            return self._prompt(session, out)
        try:
            value = parse_value(slot.field, typed, today=self.today(), lookup=self._lookup(session, slot))
            self._check_constraints(session, slot, value)
        except Invalid as exc:
            return self._reject(session, exc, out)
        self._accept(session, slot, value, out)

    # ------------------------------------------------------------------------------------
    @staticmethod
    def _is_yes(text: str) -> bool:
        try:
            return parsing.parse_yes_no(text) is True
        except Invalid:
            return False


_MISSING = object()
_SESSION_FIELDS = frozenset(Session.__dataclass_fields__)


def _unbind(session: Session) -> None:
    """Drop the trigger methods `transitions` bound onto the session, so it can be bound again."""
    for name in list(vars(session)):
        if name not in _SESSION_FIELDS:
            delattr(session, name)
