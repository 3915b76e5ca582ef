"""A bank, stored as its BIN (the bank list and matching are in dialogs/banks.py), and what the bank kinds
do around a turn: buttons for an ambiguous bank name, a typed number picking one of them, and an account
number asked again when the bank it was checked against changes."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from .. import banks
from ..i18n import translator
from ..messages import Ask, ChoiceOut, Incoming, Message
from ..parsing import Invalid
from ..pending import Pending, register
from .base import Kind


@register
@dataclass
class BankPick(Pending):
    """An ambiguous bank name: the candidates offered as choices (a typed number picks one)."""

    kinds: ClassVar[tuple[str, ...]] = ("bank",)
    path: str = ""
    options: list[str] = field(default_factory=list)


class Bank(Kind):
    name = "bank"
    unknown_first = False
    hint = banks.HINT_BANK

    def parse(self, f, raw, *, today, lookup):
        return banks.parse_value(self.name, raw, f.bank_field, lookup)

    def display(self, f, value, t):
        return banks.display(self.name, value, t)

    def carry(self, f, raw, value):
        # “tk agribank 1234567890123”: the number answers the question after it (not a BIN typed alone)
        return banks.account_in(raw) if any(ch.isalpha() for ch in raw) else None


KIND = Bank()


# ---------------------------------------------------------------------------------------------
# around a turn of the conversation: buttons for an ambiguous bank, a number picking one of them,
# and an account number asked again when the bank it was checked against changes
# ---------------------------------------------------------------------------------------------
def picked_choice(session: Any, msg: Any) -> Any:
    """``Incoming(choice=BIN)`` when the person typed the number of a bank offered after an ambiguous
    name (see :func:`offer_choices`), else None."""
    pending = session.pending
    options = pending.options if isinstance(pending, BankPick) else []
    text = (msg.text or "").strip() if msg is not None else ""
    if options and msg.choice is None and text.isdigit() and 1 <= int(text) <= len(options):
        return Incoming(choice=options[int(text) - 1])
    return None


def offer_choices(session: Any, msg: Any, outcome: Any) -> Any:
    """An ambiguous bank name: the candidates as buttons on the question asked again."""
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


def recheck_accounts(session: Any, form: Any, outcome: Any, prompt: Callable[[Any], Any]) -> Any:
    """A changed bank can make the account number already given invalid (Agribank: 13 digits): ask it
    again. ``prompt(session)`` is the engine's question for the session's next field."""
    draft = session.draft
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
            note = Message(_("Câu trả lời “{label}” không còn khớp với thông tin vừa sửa: {reason} Vui lòng trả lời lại "  # noqa: E501
                             "câu này.", label=_(f.summary_label), reason=_(exc.message, **exc.params)))
            head = [r for r in outcome.replies if not isinstance(r, Ask)]
            return replace(outcome, replies=[*head, note, prompt(session)])
    return outcome
