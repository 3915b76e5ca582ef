"""The ``id_card`` field kind in the conversation: “photograph the ID card, and the bot fills in the block”.

A procedure puts an optional ``id_card`` field first in a person block, with a mapping from card fields
to the block's fields::

    - id: applicant.id_card
      kind: id_card
      required: false
      prompt: Chụp mặt trước thẻ căn cước để điền nhanh, hoặc gõ từng mục.
      id_card: {full_name: applicant.full_name, birth_date: applicant.birth_date,
                id_number: applicant.id_number, issue_date: applicant.id_issue_date,
                address: applicant.residence}

The citizen sends a photo (or chooses to type). The QR is read (dialogs/qrscan.py; the runtime does it
in a worker thread and passes the result in ``IncomingFile.scan``), checked (dialogs/idcard.py) and shown
in one message to confirm (“Đúng”) or correct (“Sửa”: which item is wrong, that one is asked as usual).
Confirmed answers are stored as if typed, so their questions are skipped; the offer's own answer is
``"card"`` or ``"typed"`` (never the card's data). The photo itself is not kept: it never reaches
``Outcome.blobs``.

This is a mixin of :class:`dialogs.engine.Engine` (it uses the engine's cursor, accept and prompt steps);
the kind itself is dialogs/kinds/id_card.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from .. import address as addr
from .. import idcard, legacy_address, qrscan
from ..i18n import N_, translator
from ..kinds import display
from ..messages import NAV_BACK, NAV_CANCEL, NAV_HELP, NAV_SKIP, Ask, ChoiceOut, Incoming, IncomingFile, Message
from ..parsing import Invalid, parse_yes_no
from ..pending import Pending, Revisit, optional, register
from ..textnorm import fold
from .parts import EngineParts

# saying one will type rather than send the card's photo, in words no answer has (“gõ tay”): at the question after
# the offer too, they are no answer (engine/collect.py)
TYPING = frozenset({"go tung muc", "tu go", "nhap tay", "go tay", "tu nhap", "de toi go", "toi go", "toi tu go",
                    "go tay a", "nhap tung muc"})
TYPE_WORDS = TYPING | {"go", "khong co the", "khong", "khong chup", "khong co", "type"}
HINT = N_("Hãy chụp thẳng, đủ sáng, cả thẻ trong khung rồi gửi lại, hoặc gõ từng mục.")
_OTHER = "other"


@register
@dataclass
class CardOffer(Pending):
    """A card read from a photo, being confirmed (``stage``: confirm, fix, address)."""

    kinds: ClassVar[tuple[str, ...]] = ("id_card",)
    path: str = ""
    stage: str = "confirm"
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Any] = field(default_factory=list)
    address: dict[str, Any] | None = optional()


class IdCardSteps(EngineParts):
    """Engine methods for the ``id_card`` kind (see the module docstring)."""

    # -- the runtime's question: does this message need its photo read (off the event loop)? ------------
    def wants_card_scan(self, session, msg: Incoming) -> bool:
        if not (msg.file or msg.files) or session.state not in ("collecting", "editing") \
                or session.draft is None or session.procedure not in self.catalog.procedures:
            return False
        slot = self.current_slot(session)
        return slot is not None and slot.field.kind == "id_card"

    # -- asking ---------------------------------------------------------------------------------------
    def id_card_ask(self, session, slot) -> Ask:
        _ = translator(session.lang)
        p = self._card_pending(session, slot)
        stage = p.stage if p else None
        kind, choices = "id_card", (ChoiceOut("type", _("Gõ từng mục")),)
        if stage == "confirm":
            text = self._card_summary(session, slot, p) + "\n" + _("Thông tin trên đúng chưa?")
            kind, choices = "choice", (ChoiceOut("ok", _("Đúng")), ChoiceOut("fix", _("Sửa")))
        elif stage == "fix":
            text = _("Mục nào chưa đúng? Mục đó sẽ được hỏi lại để bạn gõ; các mục khác vẫn điền theo thẻ.")
            form = self.form(session)
            choices = tuple(ChoiceOut(f"f{i}", _(form.field(path).summary_label))
                            for i, path in enumerate(p.values) if form.field(path) is not None)
            choices += (ChoiceOut("all", _("Gõ lại tất cả")),)
            kind = "choice"
        elif stage == "address":
            a = p.address
            text = _("Địa chỉ trên thẻ: {old}. Nơi này nay thuộc xã/phường nào?", old=a["old"])
            choices = (*tuple(ChoiceOut(c, n) for c, n in a["options"]), ChoiceOut(_OTHER, _("Nơi khác")))
            kind = "choice"
        else:
            nxt = self._card_next(session, slot)
            if nxt is not None:  # the offer comes with the block's first question: typing answers it
                saved = dict(session.draft.answers)
                session.draft.answers[slot.path] = "typed"
                try:
                    ask = self.ask_for(session, nxt)
                finally:
                    session.draft.answers.clear()
                    session.draft.answers.update(saved)
                return replace(ask, text=self.field_text(session, slot) + "\n" + ask.text, photo=True)
            text = self.field_text(session, slot)
        no, total = self.step_of(session, slot)
        nav = [NAV_BACK, NAV_SKIP, NAV_HELP, NAV_CANCEL] if (session.draft and session.draft.history) or stage \
            else [NAV_SKIP, NAV_HELP, NAV_CANCEL]
        return Ask(text=text, procedure=session.procedure, field=slot.path, kind=kind, choices=choices,
                   optional=True, step=_("Bước {no}/{total}", no=no, total=total), step_no=no, step_total=total,
                   nav=tuple(nav), photo=stage is None)

    def _card_next(self, session, slot):
        """The question right after the offer (the block's first), as asked once the citizen types."""
        answers = dict(session.draft.answers, **{slot.path: "typed"})
        seen = False
        for s in self.form(session).slots(answers, self.today()):
            if seen:
                return s
            seen = s.path == slot.path
        return None

    def _card_pending(self, session, slot) -> CardOffer | None:
        p = session.pending
        return p if isinstance(p, CardOffer) and p.path == slot.path else None

    def _card_summary(self, session, slot, p: CardOffer) -> str:
        _ = translator(session.lang)
        form = self.form(session)
        lines = [_("Thông tin đọc từ thẻ căn cước:")]
        for path, value in p.values.items():
            f = form.field(path)
            if f is not None and f.kind != "address":
                lines.append(f"• {_(f.summary_label)}: {display(f, value, _)}")
        a = p.address
        if a:
            label = _(form.field(a["path"]).summary_label)
            if a.get("value"):
                new = ", ".join(x for x in (a["value"].get("detail"), a["value"]["commune"],
                                            a["value"]["province"]) if x)
                lines.append(f"• {label}: {a['old']} → {new}")
            elif a.get("options"):
                lines.append(f"• {label}: " + _("{old} → nay thuộc một trong: {names} (bạn sẽ chọn sau).",
                                                old=a["old"], names=", ".join(n for _c, n in a["options"])))
            else:
                lines.append(f"• {label}: " + _("{old} (chưa xác định được xã/phường hiện nay; trợ lý sẽ hỏi "
                                                "lại mục này).", old=a["old"]))
        for path, message, params in p.problems:
            f = form.field(path)
            lines.append("⚠️ " + _("“{label}” chưa điền theo thẻ: {reason} Mục này sẽ được hỏi để bạn gõ.",
                                   label=_(f.summary_label) if f else path, reason=_(message, **params)))
        return "\n".join(lines)

    # -- answering --------------------------------------------------------------------------------------
    def on_id_card(self, session, slot, msg: Incoming, text: str, command: str | None, out) -> None:
        _ = translator(session.lang)
        p = self._card_pending(session, slot)
        stage = p.stage if p else None
        files = ([msg.file] if msg.file else []) + list(msg.files)
        if command == "help":
            out.replies.append(Message(_("Gửi ảnh chụp mặt trước thẻ căn cước (thẻ có mã QR). Trợ lý đọc mã QR "
                                         "để điền họ tên, ngày sinh, số định danh và nơi thường trú; ảnh không "
                                         "được lưu lại. Không có thẻ hoặc không muốn chụp: chọn “Gõ từng mục”.")))
            return self.prompt(session, out)
        if files:
            return self._card_photo(session, slot, files, out)
        if command == "back" and stage in ("fix", "address"):
            session.pending = replace(p, stage="confirm")
            out.replies.append(self.id_card_ask(session, slot))
            return
        if command == "back" and stage == "confirm":
            session.pending = None
            out.replies.append(self.id_card_ask(session, slot))
            return
        if command == "back":
            return self.back(session, out)
        answer = msg.choice or text
        if stage == "confirm" and command is None:
            return self._card_confirm(session, slot, p, answer, out)
        if stage == "fix" and command is None:
            return self._card_fix(session, slot, p, answer, out)
        if stage == "address" and command is None:
            return self._card_address(session, slot, p, answer, out)
        nxt = self._card_next(session, slot)
        if command == "skip" or nxt is None or answer == "type" or (fold(answer).strip(" .!") in TYPE_WORDS \
                and stage is None and nxt.field.kind not in ("choice", "yes_no")):
            return self.accept(session, slot, "typed", out)
        # the citizen typed: that answers the block's first question, shown under the offer
        self.past_card_offer(session, slot, commit=True)
        before, out.accepted = out.accepted, False  # (an answer given before in this turn: a notice read)
        self.on_collect(session, msg, text, command, out)
        if not out.accepted:  # refused: nothing changes, and the offer stays with the question
            session.draft.answers.pop(slot.path, None)
            session.pending = None
            if out.replies and isinstance(out.replies[-1], Ask):
                out.replies[-1] = self.id_card_ask(session, slot)
        out.accepted = out.accepted or before

    def past_card_offer(self, session, slot, *, commit: bool = False):
        """``slot``, or when it is the card offer with no card being confirmed, the question shown under it
        (``commit``: the citizen typed, so the offer is answered “typed” and that question is now current)."""
        if slot is None or slot.field.kind != "id_card" or self._card_pending(session, slot) is not None:
            return slot
        nxt = self._card_next(session, slot)
        if commit and nxt is not None:
            self._card_typed(session, slot)
            session.pending = Revisit(path=nxt.path)
        return nxt

    def _card_typed(self, session, slot) -> None:
        draft = session.draft
        draft.answers[slot.path] = "typed"  # not in the back history: “quay lại” goes to the question before
        draft.history = [p for p in draft.history if p != slot.path]
        draft.revision += 1
        session.dirty_drafts.add(draft.procedure)

    def _card_photo(self, session, slot, files: list[IncomingFile], out) -> None:
        scans = [f.scan if isinstance(f.scan, qrscan.Scan) else qrscan.read_qr(f.data) for f in files[:3]]
        texts = [t for s in scans for t in s.texts]
        if not texts:
            if all(s.status == "not_image" for s in scans):
                return self.reject(session, Invalid(N_("Tệp vừa gửi không phải ảnh đọc được. Vui lòng gửi ảnh "
                                                        "chụp mặt trước thẻ căn cước, hoặc gõ từng mục.")),
                                    out)
            if any(s.status == "too_large" for s in scans):
                return self.reject(session, Invalid(N_("Ảnh quá lớn để đọc. Vui lòng gửi ảnh chụp bằng điện "
                                                        "thoại, hoặc gõ từng mục.")), out)
            return self.reject(session, Invalid(N_("Không tìm thấy mã QR trong ảnh. {hint}"), hint=HINT), out)
        card, error = idcard.first_card(texts)
        if card is None:
            return self.reject(session, Invalid(N_("{reason} Vui lòng gửi ảnh mặt trước thẻ căn cước (mã QR ở góc "
                                                    "trên bên phải), hoặc gõ từng mục."),
                                                 reason=translator(session.lang)(error.message, **error.params)),
                                out)
        session.pending = self._card_proposal(session, slot, card)
        session.errors = 0
        out.accepted = True
        out.replies.append(self.id_card_ask(session, slot))

    def _targets(self, session, slot) -> dict[str, str]:
        """The card mapping with paths resolved for this slot (a repeat group's item)."""
        mapping = slot.field.id_card
        if slot.index is None:
            return dict(mapping)
        return {k: f"{slot.section.id}[{slot.index}].{v}" for k, v in mapping.items()}

    def _card_proposal(self, session, slot, card: idcard.Card) -> CardOffer:
        form, draft, today = self.form(session), session.draft, self.today()
        lookup = self.lookup(session, slot)
        prop = idcard.propose(card, self._targets(session, slot), form.field, today=today, lookup=lookup)
        problems = [(path, exc.message, exc.params) for path, exc in prop.problems]
        values: dict[str, Any] = {}
        saved = dict(draft.answers)
        try:  # each answer's constraints, against the answers given so far and the card's own
            for path, value in prop.values.items():
                target = form.slot_for(path, draft.answers, today)
                if target is None:
                    continue
                draft.answers[path] = value
                try:
                    self.check_constraints(session, target, value)
                except Invalid as exc:
                    del draft.answers[path]
                    problems.append((path, exc.message, exc.params))
                    continue
                values[path] = value
        finally:
            draft.answers.clear()
            draft.answers.update(saved)
        address = None
        if prop.address is not None:
            path, match, raw = prop.address
            address = {"path": path, "old": raw if match is None else match.old}
            if match is not None:
                if match.detail:
                    address["old"] = f"{match.detail}, {match.old}"
                address["match"] = {"province": match.province.code, "detail": match.detail}
                if len(match.communes) == 1:
                    address["value"] = legacy_address.value(match, match.communes[0])
                elif match.communes:
                    address["options"] = [[c.code, c.full_name] for c in match.communes[:6]]
        return CardOffer(path=slot.path, stage="confirm", values=values,
                         problems=[list(x) for x in problems], address=address)

    def _card_confirm(self, session, slot, p: CardOffer, answer: str, out) -> None:
        yes: bool | None = {"ok": True, "fix": False, "1": True, "2": False}.get(answer.strip())
        if yes is None:
            key = fold(answer).strip(" .!")
            if key in ("dung", "dung roi", "chinh xac"):
                yes = True
            elif key in ("sua", "sai", "chua dung", "chua dung lam", "sua lai"):
                yes = False
            else:
                try:
                    yes = parse_yes_no(answer)
                except Invalid:
                    return self.reject(session, Invalid(N_("Vui lòng chọn “Đúng” hoặc “Sửa”.")), out)
        if not yes:
            session.pending = replace(p, stage="fix")
            out.accepted = True
            out.replies.append(self.id_card_ask(session, slot))
            return
        self._card_address_or_apply(session, slot, p, out)

    def _card_address_or_apply(self, session, slot, p: CardOffer, out) -> None:
        """Ask which of today's communes the card's old address became, if it split; else fill the block."""
        a = p.address
        if a and a.get("options") and not a.get("value"):
            session.pending = replace(p, stage="address")
            out.accepted = True
            out.replies.append(self.id_card_ask(session, slot))
            return
        self._card_apply(session, slot, p, out)

    def _card_fix(self, session, slot, p: CardOffer, answer: str, out) -> None:
        paths = list(p.values)
        key = answer.strip()
        if key == "all" or fold(key) in ("go lai tat ca", "tat ca"):
            session.pending = None
            return self.accept(session, slot, "typed", out)
        index = int(key[1:]) if key.startswith("f") and key[1:].isdigit() else \
            int(key) - 1 if key.isdigit() else None
        if index == len(paths):  # the last numbered choice: “Gõ lại tất cả”
            session.pending = None
            return self.accept(session, slot, "typed", out)
        if index is None or not 0 <= index < len(paths):
            return self.reject(session, Invalid(N_("Vui lòng chọn một mục trong danh sách.")), out)
        values = {k: v for k, v in p.values.items() if k != paths[index]}
        p = replace(p, values=values, stage="confirm")
        self._card_address_or_apply(session, slot, p, out)

    def _card_address(self, session, slot, p: CardOffer, answer: str, out) -> None:
        a = dict(p.address)
        options = [c for c, _n in a["options"]]
        key = answer.strip()
        if key.isdigit() and 1 <= int(key) <= len(options) + 1:
            key = options[int(key) - 1] if int(key) <= len(options) else _OTHER
        if key == _OTHER or fold(key) in ("noi khac", "khac"):
            a.pop("options", None)
        elif key in options:
            unit, province = addr.commune(key), addr.province(a["match"]["province"])
            a["value"] = {"province_code": province.code, "province": province.full_name,
                          "commune_code": unit.code, "commune": unit.full_name, "detail": a["match"]["detail"]}
        else:
            return self.reject(session, Invalid(N_("Vui lòng chọn một xã/phường trong danh sách, hoặc “Nơi khác”.")),
                                out)
        self._card_apply(session, slot, replace(p, address=a), out)

    def _card_apply(self, session, slot, p: CardOffer, out) -> None:
        form, draft, today = self.form(session), session.draft, self.today()
        values = dict(p.values)
        a = p.address
        if a and a.get("value"):
            values[a["path"]] = a["value"]
        filled = []
        for path, value in values.items():
            if form.slot_for(path, draft.answers, today) is None:
                continue
            draft.answers[path] = value
            filled.append(path)
        for path in filled:
            self.recheck_dependents(session, path, out)
        session.pending = None
        self.accept(session, slot, "card", out)

