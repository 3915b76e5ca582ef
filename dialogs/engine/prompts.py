"""Asking: the cursor (which question is next), the question as shown, and asking again."""
from __future__ import annotations

from .. import kinds
from ..form import Form, Slot, previous
from ..i18n import translator
from ..kinds import display
from ..messages import NAV_BACK, NAV_CANCEL, NAV_HELP, NAV_SKIP, Ask, ChoiceOut, Message
from ..pending import (
    DOUBT_KEEP,
    Doubted,
    EditField,
    EditSection,
    MenuCandidates,
    NameConfirm,
    RemoveItem,
    SupplementReview,
    SwitchOffer,
)
from ..protocol import Outcome
from ..schema import FieldDef
from .parts import EngineParts, help_due
from .session import Session


def requested(session: Session, slot: Slot | None) -> Slot | None:
    """An item an officer asked for again is required, even where the form lets it be left empty (a damage
    photo): the officer needs it to go on, so “bỏ qua” does not send back an empty answer."""
    if slot is None or slot.field.required or session.supplement is None \
            or slot.path not in session.supplement["fields"]:
        return slot
    return Slot(slot.path, slot.field.model_copy(update={"required": True}), slot.section, slot.index,
                slot.synthetic)


class Prompts(EngineParts):
    """What is asked now, and how."""

    def form(self, session: Session) -> Form:
        return self.catalog.form(session.require_procedure())

    def current_slot(self, session: Session) -> Slot | None:
        form, draft = self.form(session), session.require_draft()
        path = session.pending.about if session.pending is not None else None
        if path:
            slot = form.slot_for(path, draft.answers, self.today())
            if slot is not None:
                return requested(session, slot)
            session.pending = None
        if session.supplement is not None:
            wanted = set(session.supplement["fields"])
            return requested(session, next((s for s in form.slots(draft.answers, self.today())
                                            if s.path in wanted and s.path not in draft.answers), None))
        return form.next_slot(draft.answers, self.today())

    def advance(self, session: Session, out: Outcome) -> None:
        """Ask the next question, or move to the review when the form is complete."""
        slot = self.current_slot(session)
        if slot is None and session.state == "supplementing":
            return self.supplement_review(session, out)
        if slot is None:
            session.complete = True
            if session.state != "reviewing":
                session.review()
            session.pending = None
            return self.show_review(session, out)
        if session.state == "reviewing":  # an edit from the review opened new questions
            session.edit()
        if self.fill_first(session, slot, out):
            return self.advance(session, out)
        out.replies.append(self.ask_for(session, slot))

    def fill_first(self, session: Session, slot: Slot, out: Outcome) -> bool:
        """The first item of a repeat group that is someone already described (``first_from``, ``first_values``:
        the head of household as member 1): its fields filled from the earlier answers, said, never asked. Once:
        False when any of them is answered already (filled, or typed in a draft begun before)."""
        repeat = slot.section.repeat
        if repeat is None or slot.index != 0 or not (repeat.first_from or repeat.first_values) \
                or session.supplement is not None:
            return False
        draft = session.require_draft()
        prefix = f"{slot.section.id}[0]."
        if any(prefix + fid in draft.answers for fid in (*repeat.first_from, *repeat.first_values)):
            return False
        filled = {fid: draft.answers.get(ref) for fid, ref in repeat.first_from.items()}
        filled |= dict(repeat.first_values)
        for fid, value in filled.items():
            if value is not None:
                draft.answers[prefix + fid] = value
        draft.revision += 1
        session.dirty_drafts.add(draft.procedure)
        _ = translator(session.lang)
        out.replies.append(Message(_("{item} 1: đã điền từ thông tin khai ở trên. Muốn sửa, chọn “Sửa thông tin” "
                                     "khi xem lại.", item=_(repeat.item_label))))
        return True

    def prompt(self, session: Session, out: Outcome) -> None:
        """Repeat whatever is being asked now."""
        if session.state == "reviewing":
            pending = session.pending
            if isinstance(pending, (EditSection, EditField)):
                return self.edit_menu(session, out, pending.section if isinstance(pending, EditField) else None)
            if isinstance(pending, RemoveItem):
                return self.remove_ask(session, pending.item, out)
            return self.review_ask(session, out)
        if session.state == "confirming":
            return self.sworn_ask(session, out)
        if session.state == "eligibility":
            return self.eligibility_ask(session, out)
        if session.state == "supplementing" and isinstance(session.pending, SupplementReview):
            return self.supplement_ask(session, out)
        if isinstance(session.pending, NameConfirm):
            return self.name_confirm_ask(session, out)
        if isinstance(session.pending, SwitchOffer):
            return self.switch_offer_ask(session, out)
        if session.state in ("collecting", "editing", "supplementing") and session.draft is not None:
            slot = self.current_slot(session)
            if slot is None:
                return self.advance(session, out)
            out.replies.append(self.ask_for(session, slot))
            return
        pending = session.pending
        if isinstance(pending, MenuCandidates) and pending.ids:  # the short list again: its numbers are the ones read
            return self.offer_candidates(session, pending.ids, out, request=pending.request,
                                         carried_from=pending.carried)
        self.menu_ask(session, out)

    def safe_prompt(self, session: Session) -> Ask:
        out = Outcome()
        try:
            with self.turn(session):
                self.prompt(session, out)
        except Exception:
            session.state, session.procedure, session.pending = "menu", None, None
            out = Outcome()
            self.menu_ask(session, out)
        asks = [r for r in out.replies if isinstance(r, Ask)]
        return asks[-1]

    def step_of(self, session: Session, slot: Slot) -> tuple[int, int]:
        slots = [s for s in self.form(session).slots(session.require_draft().answers, self.today()) if not s.synthetic]
        paths = [s.path for s in slots]
        if session.supplement is not None:
            paths = [p for p in paths if p in set(session.supplement["fields"])]
        no = paths.index(slot.path) + 1 if slot.path in paths else len(paths)
        if session.supplement is not None:
            return no, max(len(paths), no)
        # questions of branches not decided yet count too: the total shrinks as they close, never jumps up
        total = len(paths) + self.form(session).undecided(session.require_draft().answers, self.today())
        return no, max(total, no)

    def field_text(self, session: Session, slot: Slot) -> str:
        _ = translator(session.lang)
        f = slot.field
        text = _(f.prompt)
        proc = self.catalog.get(session.require_procedure())
        if proc.standards and "{" in f.prompt and session.draft is not None:
            # amounts of the standard in force on its day ({si_funeral}) are written into the prompt as money
            std, _stale = proc.standard_for(session.draft.answers, self.today())
            if std is not None:
                text = _(f.prompt, **{k: _.money(v) for k, v in std.values.items()})
        if slot.index is not None:
            assert slot.section.repeat is not None  # an indexed slot is in a repeat group
            item = _(slot.section.repeat.item_label)
            text = f"[{item} {slot.index + 1}] {text}"
        return text

    def ask_for(self, session: Session, slot: Slot) -> Ask:
        _ = translator(session.lang)
        f = slot.field
        if f.kind == "id_card":  # the offer comes with the block's first question (engine/id_card.py)
            return self.id_card_ask(session, slot)
        text = self.field_text(session, slot)
        parts = kinds.get(f.kind).question(f, slot.path, session.pending, _,
                                           answers=session.draft.answers if session.draft else None)
        kind, choices = parts.kind, parts.choices
        doubted = session.pending
        if isinstance(doubted, Doubted) and doubted.path == slot.path:  # an unusual answer: kept by a press
            choices = (*choices, ChoiceOut(DOUBT_KEEP, _("Đúng, giữ {value}", value=doubted.shown)))
        for line in parts.lines:
            text += "\n" + line
        if f.example and kind not in ("choice", "yes_no"):
            text += "\n" + _("Ví dụ: {example}", example=f.example)
        if f.unknown is not None:
            text += "\n" + _("Nếu không nhớ, gõ “không nhớ”.")
        if not f.required and f.kind != "id_card":  # (said here, never in a prompt: not when an officer asks for it)
            text += "\n" + _("(Không bắt buộc: gõ “bỏ qua” nếu không có.)")
        answered, old = previous(session.draft.answers, slot.path) if session.draft else (False, None)
        if answered and (old is not None or f.unknown is not None) and not slot.synthetic:
            text += "\n" + _("(Câu trả lời trước: {value}. Gõ “giữ nguyên” để giữ.)", value=display(f, old, _))
        if help_due(session, f) and f.help:
            text += "\n💡 " + _(f.help)
        no, total = self.step_of(session, slot)
        nav = [NAV_HELP, NAV_CANCEL]
        if (session.draft and session.draft.history) or kind != f.kind:  # one at a time: back to the list
            nav.insert(0, NAV_BACK)
        if not f.required or parts.skippable:
            nav.insert(1 if NAV_BACK in nav else 0, NAV_SKIP)
        return Ask(text=text, procedure=session.procedure, field=slot.path, kind=kind, choices=choices,
                   optional=not f.required, step=_("Bước {no}/{total}", no=no, total=total),
                   step_no=no, step_total=total, nav=tuple(nav), multi=kind == "multi_choice")

    def field_help(self, session: Session, f: FieldDef) -> str:
        _ = translator(session.lang)
        kind = kinds.get(f.kind)
        # help adds to the question, never repeats it: the field's own help, else what the kind adds
        parts = [_(f.help)] if f.help else [_(kind.more_help)] if kind.more_help else []
        hint = kind.hint_for(f)
        if hint and not parts:
            parts.append(_(hint))
        if f.example:
            parts.append(_("Ví dụ: {example}", example=f.example))
        if not parts:
            parts.append(_("Trả lời ngắn gọn, đúng như trên giấy tờ của bạn. Chưa có thông tin thì gõ “menu” để tạm "
                           "dừng; những gì đã khai được giữ lại."))
        if f.unknown is not None:
            parts.append(_("Nếu không nhớ, gõ “không nhớ”. {then}", then=_(f.unknown.say)))
        if not f.required:
            parts.append(_("Câu này không bắt buộc: gõ “bỏ qua” nếu không có."))
        parts.append(self.help_general(session))
        return "\n".join(parts)
