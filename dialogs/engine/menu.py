"""The menu of procedures, starting one, and information about a procedure at any step."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from .. import kinds, nlu, parsing
from ..form import Slot, answered, submitted
from ..i18n import N_, translator
from ..kinds.address import AddressEntry
from ..messages import Ask, ChoiceOut, Incoming, Message
from ..parsing import is_no, is_yes
from ..pending import MenuCandidates, SwitchOffer
from ..protocol import Outcome
from ..schema import NluAnswer
from ..textnorm import fold, fold_words
from .parts import EngineParts
from .session import Draft, Session

_LATER = re.compile(r"\b(?:lam sau|luc khac|hom khac|mai lam|chua lam|khi khac|later)\b")
"""“làm sau”, “lúc khác” (folded): a procedure offered after a receipt, left for later (“để sau” is the command
“menu”)."""
_SWITCH_CHOICES = (("switch", N_("Chuyển sang thủ tục đó")), ("stay", N_("Tiếp tục hồ sơ đang khai")))
"""The choices of :class:`SwitchOffer`: go to the procedure the refused answer named, or stay."""


def _clauses(request: str) -> list[str]:
    """The clauses of a request, each read as a typed answer is (“không có con cháu, tôi đứng ra lo chôn cất”: the
    “không” is the first clause's)."""
    return [c for c in re.split(r"[,.;!?\n]+", request) if c.strip()]


def _answered(spec: NluAnswer, slot: Slot, clauses: list[str], specs: Sequence[NluAnswer] = ()) -> bool | str | None:
    """The answer ``spec`` reads in the request's ``clauses`` for ``slot``'s question: its value when its words are
    said, or the one option of a choice whose own ``also`` words are, read in each clause as a typed answer's are
    (whole words, not after a “không” of that clause, the longest when one holds another's: “cận nghèo” over
    “nghèo”); None otherwise."""
    if spec.value is not None:
        said = any(parsing.also_said(c, spec.words) is not None for c in clauses)
        if said and slot.field.kind == "choice":  # another option's words said too: left to be asked (“cho ông
            for option in slot.field.choices:  # tôi, tôi là người giám hộ”); its request words, where it has some
                theirs = [w for s in specs if s.field == spec.field and s.value == option.value for w in s.words]
                if option.value != spec.value and any(parsing.also_said(c, theirs or option.also) for c in clauses):
                    return None  # (not the emergency funeral's “hàng xóm”, a helper's option word, often the dead)
        return spec.value if said else None
    options = [(c.value, c.also) for c in slot.field.choices]
    found = {v for c in clauses if (v := parsing.match_also(c, options)) is not None}
    return found.pop() if len(found) == 1 else None


def _read_after(spec: NluAnswer, clauses: list[str], read: Callable[[str], Any]) -> Any:
    """The answer ``spec`` reads right after one of its ``after`` words in a clause of the request (“mất hôm qua”,
    “mất ngày 1/12/2026 tại nhà”: the longest run of the words after them, up to six, that ``read`` takes); None
    when no clause has one."""
    cues = [fold_words(w).split() for w in spec.after]
    for clause in clauses:
        words = fold_words(clause).split()
        for cue in cues:
            for i in range(len(words) - len(cue) + 1):
                if words[i:i + len(cue)] != cue:
                    continue
                rest = words[i + len(cue):]
                for n in range(min(len(rest), 6), 0, -1):
                    try:
                        return read(" ".join(rest[:n]))
                    except parsing.Invalid:
                        continue
    return None


class Menu(EngineParts):
    """The ``menu`` state (also after a submission or a cancel), and the procedure information."""

    def menu_choices(self, session: Session) -> list[ChoiceOut]:
        _ = translator(session.lang)
        items = []
        for p in sorted(self.catalog.procedures.values(), key=lambda p: (p.menu_order, p.id)):
            label = _(p.title)
            if p.id in session.drafts and session.drafts[p.id].begun:
                label = _("{title} (đang khai dở)", title=label)
            items.append(ChoiceOut(p.id, label))
        return items

    def menu_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        out.replies.append(Ask(text=_("Bạn cần làm thủ tục nào? Chọn một thủ tục hoặc gõ điều bạn cần."),
                               procedure=None, field="procedure", kind="choice",
                               choices=tuple(self.menu_choices(session))))

    def go_menu(self, session: Session, out: Outcome, greet: bool = False) -> None:
        _ = translator(session.lang)
        if session.state != "menu":
            session.to_menu()
        session.procedure = None
        session.pending = None
        session.errors = 0
        if greet:
            out.replies.append(Message(_("Xin chào! Tôi là Trợ lý Dịch vụ công. Tôi sẽ hướng dẫn bạn làm thủ tục "
                                         "hành chính từng bước, rồi nộp hồ sơ giúp bạn.")))
        self.menu_ask(session, out)

    def on_menu(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        choices = self.menu_choices(session)
        offered = session.pending.ids if isinstance(session.pending, MenuCandidates) else None
        asked = session.pending.request if isinstance(session.pending, MenuCandidates) else None
        carried = session.pending.carried if isinstance(session.pending, MenuCandidates) else None
        if offered:  # a short list was offered: its numbers are what the citizen sees
            session.pending = None
        value = msg.choice if msg.choice in self.catalog.procedures else None
        if carried and offered and value is None and text and (command in ("menu", "cancel") or (command is None and (
                is_no(text) or _LATER.search(fold(text))))):  # “để sau”, “hủy”: the draft begun waits in the menu
            out.replies.append(Message(_("Được. Hồ sơ “{title}” được lưu lại cùng những thông tin đã điền sẵn; khi "
                                         "cần, chọn thủ tục đó trong danh sách để làm tiếp.",
                                         title=_(self.catalog.get(offered[0]).title))))
            return self.menu_ask(session, out)
        if value is None and text and offered:
            short = sorted((c for c in choices if c.value in offered), key=lambda c: offered.index(c.value))
            value = parsing.match_choice(text, [(c.value, c.label) for c in short])
            if value is None and text.strip().isdigit():
                out.replies.append(Message(_("Vui lòng chọn số thứ tự trong danh sách bên dưới."), error=True))
                return self.offer_candidates(session, offered, out, request=asked, carried_from=carried)
        if value is None and text:
            if command == "menu":  # already at the menu: show it again, nothing is wrong
                return self.menu_ask(session, out)
            if command in ("cancel", "back"):  # nothing open to cancel or go back in: said, not “unclear”
                if command == "cancel" and session.state == "submitted" and session.last_dossier:
                    out.replies.append(Message(_("Hồ sơ {code} đã được nộp. Nếu muốn rút hồ sơ, gõ “rút hồ sơ {code}”.",
                                                 code=session.last_dossier)))
                else:
                    out.replies.append(Message(_("Bạn đang ở danh sách thủ tục, chưa mở hồ sơ nào. Chọn một thủ tục "
                                                 "để bắt đầu.")))
                return self.menu_ask(session, out)
            if command == "help":
                out.replies.append(Message(self.help_general(session)))
                return self.menu_ask(session, out)
            if nlu.is_greeting(text):  # “chào bạn”: greeted back, not told it is unclear
                return self.go_menu(session, out, greet=True)
            if session.state == "submitted" and session.last_dossier and is_yes(text):
                out.replies.append(Message(_("Hồ sơ của bạn đã được nộp (mã {code}), không cần xác nhận lại.",
                                             code=session.last_dossier)))
                return self.menu_ask(session, out)
            value = parsing.match_choice(text, [(c.value, c.label) for c in choices])
            decision = None
            if value is not None and not text.strip().isdigit() and fold(text) != fold(self._label_of(choices, value)):
                # words found inside one menu title ("hỗ trợ mai táng" in the death group's) are a guess: the
                # NLU, which weighs each procedure's own phrases, is followed when it ranks another first
                decision = nlu.decide(text, self.catalog)
                first = decision.procedure or (decision.candidates[0] if decision.candidates else value)
                if first != value:
                    value = None
            if value is None:
                decision = decision or nlu.decide(text, self.catalog)
                if decision.procedure in self.catalog.procedures:
                    value = decision.procedure
                elif decision.other_service:
                    out.replies.append(Message(_("Xin lỗi, trợ lý chưa hỗ trợ dịch vụ này. Bạn có thể làm trên Cổng "
                                                 "Dịch vụ công quốc gia hoặc hỏi Bộ phận Một cửa của xã, phường."),
                                               error=True))
                    return self.menu_ask(session, out)
                elif decision.candidates:
                    cands = [c for c in decision.candidates if c in self.catalog.procedures]
                    if cands:
                        return self.offer_candidates(session, cands, out, request=text)
        if value is None and not text and msg.choice is None and msg.file is None and not msg.files:
            return self.menu_ask(session, out)  # an empty message (Enter alone): the list again, nothing is wrong
        if value is None:
            if msg.file is not None or msg.files:
                out.replies.append(Message(_("Tôi đã nhận tệp, nhưng bạn chưa chọn thủ tục. Vui lòng chọn thủ tục "
                                             "trước, rồi gửi giấy tờ khi được hỏi."), error=True))
            else:
                out.replies.append(Message(_("Chưa rõ bạn cần thủ tục nào. Vui lòng chọn số thứ tự trong danh sách."),
                                           error=True))
            if offered:  # the short list again, with the same numbers: a number typed next still means its item
                return self.offer_candidates(session, offered, out, request=asked, carried_from=carried)
            return self.menu_ask(session, out)
        typed = text if msg.choice is None and text and not text.strip().isdigit() else None
        if offered and value in offered and (typed is None or parsing.match_choice(typed, [(value, _(
                self.catalog.get(value).title))]) is not None):
            typed = asked  # picked from the short list: the words that asked for it
        return self.begin(session, value, out, request=typed, carried_from=carried if offered and value in offered
                          else None)

    def other_request(self, session: Session, path: str, text: str, out: Outcome) -> bool:
        """A typed answer the question refused that asks for something else: a service the catalogue lacks
        (said so), or another of its procedures (offered, the draft kept). True: answered here."""
        words = len(text.split())
        if words < 2 or session.procedure is None:
            return False
        decision = nlu.decide(text, self.catalog)
        _ = translator(session.lang)
        if decision.other_service:
            out.replies.append(Message(_("Xin lỗi, trợ lý chưa hỗ trợ dịch vụ này. Bạn có thể làm trên Cổng Dịch vụ "
                                         "công quốc gia hoặc hỏi Bộ phận Một cửa của xã, phường. Hồ sơ đang khai "
                                         "vẫn được giữ."), error=True))
            self.prompt(session, out)
            return True
        target = nlu.switch_to(text, self.catalog, decision) if words >= 3 else None
        if target is None or target == session.procedure:
            return False
        session.pending = SwitchOffer(path=path, procedure=target, resume=session.pending)
        self.switch_offer_ask(session, out)
        return True

    def switch_offer_ask(self, session: Session, out: Outcome) -> None:
        _ = translator(session.lang)
        p = session.pending
        assert isinstance(p, SwitchOffer)
        title = _(self.catalog.get(p.procedure).title)
        out.replies.append(Ask(text=_("Có phải bạn muốn làm thủ tục khác: “{title}”? Hồ sơ đang khai được lưu lại, "
                                      "bạn có thể quay lại làm tiếp bất cứ lúc nào.", title=title),
                               procedure=session.procedure, field=p.path, kind="choice",
                               choices=tuple(ChoiceOut(v, _(label)) for v, label in _SWITCH_CHOICES)))

    def on_switch_offer(self, session: Session, pending: SwitchOffer, msg: Incoming, text: str,
                        command: str | None, out: Outcome) -> None:
        _ = translator(session.lang)
        options = [(v, _(label)) for v, label in _SWITCH_CHOICES]
        value = msg.choice if msg.choice in dict(options) else \
            parsing.match_choice(text, options) if text and command is None else None
        if value is None and text and command is None:
            value = "switch" if is_yes(text) else "stay" if is_no(text) else None
        session.pending = pending.resume  # where the question was: a revisit, an address half typed
        if value == "switch" and pending.procedure in self.catalog.procedures:
            out.accepted = True
            if session.draft is not None and session.draft.begun:
                out.replies.append(Message(_("Hồ sơ đang khai đã được lưu. Bạn có thể quay lại tiếp tục bất cứ "
                                             "lúc nào.")))
            session.pending = None
            session.to_menu()
            return self.begin(session, pending.procedure, out)
        if value == "stay" or command == "back":
            return self.prompt(session, out)
        return self.on_collect(session, msg, text, command, out)  # typed on: the answer to the question

    @staticmethod
    def _label_of(choices: list[ChoiceOut], value: str) -> str:
        return next((c.label for c in choices if c.value == value), value)

    def offer_candidates(self, session: Session, candidates: list[str], out: Outcome,
                         request: str | None = None, carried_from: str | None = None) -> None:
        """A short list of procedures; ``carried_from``: the one a dossier just submitted calls for, its draft begun
        from that dossier's answers."""
        _ = translator(session.lang)
        choices = [c for c in self.menu_choices(session) if c.value in candidates]
        choices.sort(key=lambda c: candidates.index(c.value))
        session.pending = MenuCandidates(ids=[c.value for c in choices], request=request, carried=carried_from)
        text = _("Bạn muốn làm thủ tục nào dưới đây? (Gõ “menu” để xem tất cả.)")
        if carried_from and choices:
            text = _("Bước tiếp theo: thủ tục “{title}”. Trợ lý đã điền sẵn những thông tin đã khai ở hồ sơ {code}, "
                     "bạn chỉ cần khai phần còn lại. Chọn thủ tục bên dưới để làm ngay, hoặc gõ “menu” để làm việc "
                     "khác (có thể làm sau).", title=_(self.catalog.get(choices[0].value).title), code=carried_from)
            choices = [ChoiceOut(c.value, _("Làm ngay: {title}", title=c.label.removesuffix(
                _(" (đang khai dở)")))) for c in choices]
        out.replies.append(Ask(text=text, procedure=None, field="procedure", kind="choice", choices=tuple(choices)))

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

    def begin(self, session: Session, proc_id: str, out: Outcome, request: str | None = None,
              carried_from: str | None = None) -> None:
        """Open a procedure: a new draft (with its card), or the one begun; ``request``, the words that asked for it,
        may answer its first questions (``nlu.answers``); ``carried_from``: the draft was begun from that dossier's
        answers (``follow_ups``), said with its card."""
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
        new = draft is None
        if new or carried_from:  # the procedure's card: not seen yet
            card = self.info_card(proc_id, session.lang, short=True)
            out.replies.append(Message(f"{_(proc.greeting)}\n{card}" if proc.greeting else card))
        if draft is None:
            draft = Draft(id=uuid.uuid4().hex, procedure=proc_id, version=proc.version)
            session.drafts[proc_id] = draft
            session.dirty_drafts.add(proc_id)
            if request:
                self.answer_from_request(session, request, out)
        elif carried_from:
            form = self.form(session)
            said = [f"• {_(f.label or f.prompt)}: {kinds.display(f, v, _)}" for p, v in submitted(draft.answers).items()
                    if (f := form.field(p)) is not None]
            out.replies.append(Message(_("Trợ lý đã điền sẵn từ hồ sơ {code}:\n{answers}\nBạn sẽ xem lại tất cả trước "
                                         "khi nộp, và sửa được nếu chưa đúng.", code=carried_from,
                                         answers="\n".join(said))))
        else:
            out.replies.append(Message(_("Bạn đã khai dở hồ sơ này ({n} câu đã trả lời). Chúng ta tiếp tục nhé.",
                                         n=len(answered(draft.answers)))))
        if self.check_eligibility(session, out):
            return
        self.advance(session, out)

    def answer_from_request(self, session: Session, request: str, out: Outcome) -> None:
        """The first questions the request already answers (“bà tôi đang hưởng trợ cấp hưu trí xã hội vừa mất”: the
        deceased received the social pension), taken in order while each is one of ``nlu.answers`` and its words are
        in the request, and said back with how to undo it; none once a question is not."""
        nlu_of = self.catalog.get(session.require_procedure()).nlu
        specs = nlu_of.answers
        said: list[str] = []
        _ = translator(session.lang)
        clauses = _clauses(request)
        for note in nlu_of.notes:  # (“… 2 bé sinh đôi”: one dossier a child, said before any question)
            if any(parsing.also_said(c, note.words) is not None for c in clauses):
                out.replies.append(Message(_(note.say)))
        while specs and (slot := self.current_slot(session)) is not None:
            value = next((v for s in specs if s.field == slot.path
                          and (v := self._said(session, s, slot, clauses, specs)) is not None), None)
            if value is None:
                break
            draft = session.require_draft()  # (recorded as an answer; ``begin`` then checks and asks on)
            draft.answers[slot.path] = value
            draft.record(slot.path)
            draft.revision += 1
            session.dirty_drafts.add(draft.procedure)
            self.form(session).prune(draft.answers, self.today())
            said.append(f"{_(slot.field.label or slot.field.prompt)}: {kinds.display(slot.field, value, _)}")
        # (“nhà tôi bị lũ cuốn trôi”: the damage, asked after the household's standing; “làm lại giấy cho bà nội”:
        # who files, in the next section: the request names only questions it may answer, so any section's)
        # (walked again after each one kept: a question may apply only once another is answered, the day of a
        # disaster once its cause is)
        kept = bool(specs)
        while kept and slot is not None:
            kept = False
            answers = session.require_draft().answers
            for later in self.slots_ahead(session, slot, across=True):
                if later.path in answers:
                    continue
                value = next((v for s in specs if s.field == later.path
                              and (v := self._said(session, s, later, clauses, specs)) is not None), None)
                if value is not None:
                    self.store_ahead(session, later, value)
                    said.append(_("{label}: {value} (câu hỏi sau)", label=_(later.field.label or later.field.prompt),
                                  value=kinds.display(later.field, value, _)))
                    kept = True
                    break
        if said:
            out.replies.append(Message(_("Theo điều bạn vừa gõ, trợ lý đã ghi:\n{answers}\nNếu chưa đúng, gõ “quay "
                                         "lại”.", answers="\n".join(f"• {line}" for line in said))))

    def _said(self, session: Session, spec: NluAnswer, slot: Slot, clauses: list[str],
              specs: Sequence[NluAnswer]) -> Any:
        """What the request says for ``slot`` by ``spec``: its words (:func:`_answered`), or what follows its
        ``after`` words, read and checked as a typed answer is (:func:`_read_after`)."""
        if not spec.after:
            return _answered(spec, slot, clauses, specs)
        return _read_after(spec, clauses, lambda text: self.read_answer(session, slot, text))

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
        # citizens see the facts in force today with their legal basis, those not verified marked (*) and one
        # plain line on what that means; the review notes and open questions are for officers (docs/law.md)
        facts = p.facts_at(self.today())
        if facts:
            lines.append(_("Cần biết:"))
            for fct in facts:
                line = f"• {_(fct.text)}"
                if fct.source:
                    line += f" ({fct.source})"
                if not fct.verified:
                    line += " (*)"
                lines.append(line)
            if any(not fct.verified for fct in facts):
                lines.append(_("(*) Có thể đã thay đổi; cán bộ tiếp nhận sẽ xác nhận khi xem hồ sơ."))
        return "\n".join(lines)

    def info_question(self, session: Session, msg: Incoming, text: str) -> str | None:
        """“cần giấy tờ gì?”, “mất bao lâu?” at any step, without losing the place."""
        if not text or msg.choice is not None or isinstance(session.pending, AddressEntry):
            return None
        kind = None
        if session.state in ("collecting", "editing", "supplementing") and session.draft is not None:
            slot = self.current_slot(session)
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

    def help_general(self, session: Session) -> str:
        _ = translator(session.lang)
        return _("Bạn có thể gõ bất cứ lúc nào:\n• “quay lại”: về câu hỏi trước\n• “bỏ qua”: bỏ qua câu không "
                 "bắt buộc\n• “trợ giúp”: giải thích câu hỏi\n• “thông tin”: giấy tờ, thời hạn, lệ phí\n• “hủy”: "
                 "hủy hồ sơ đang khai\n• “menu”: về danh sách thủ tục (hồ sơ được lưu lại)")
