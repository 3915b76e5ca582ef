"""What the engine's parts (one class per module, put together in dialogs/engine/__init__.py) offer each
other: the shared attributes and the public methods one part calls on another. Each part derives from
``EngineParts``; the real methods come first in ``Engine``'s method order, so these stubs never run."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from transitions import Machine

from ..catalog import Catalog
from ..form import Form, Slot
from ..messages import Ask, ChoiceOut, Incoming
from ..parsing import Invalid
from ..pending import Confirm, NameConfirm, SwitchOffer
from ..protocol import Outcome, SupplementSent
from ..schema import FieldDef
from .session import Session, bound


def help_due(session: Session, f: FieldDef) -> bool:
    """Whether the question asked now shows its help (“💡 …”): after the 2nd wrong answer, the 5th, the 8th… —
    not under every question again (a long paragraph on a small screen); “trợ giúp” shows it any time."""
    return session.errors >= 2 and (session.errors - 2) % 3 == 0 and bool(f.help)


class EngineParts:
    catalog: Catalog
    today: Callable[[], date]
    now: Callable[[], datetime]
    machine: Machine

    def turn(self, session: Session) -> AbstractContextManager[Session]:
        """An engine call on ``session`` (:func:`bound`); when the outermost one ends, the forms drop the walk they
        kept for it (:meth:`Catalog.forget_walks`), so that no conversation's answers stay in memory."""
        return bound(self.machine, session, on_end=self.catalog.forget_walks)

    # prompts.py
    def form(self, session: Session) -> Form:
        raise NotImplementedError

    def current_slot(self, session: Session) -> Slot | None:
        raise NotImplementedError

    def advance(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def prompt(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def safe_prompt(self, session: Session) -> Ask:
        raise NotImplementedError

    def ask_for(self, session: Session, slot: Slot) -> Ask:
        raise NotImplementedError

    def step_of(self, session: Session, slot: Slot) -> tuple[int, int]:
        raise NotImplementedError

    def field_text(self, session: Session, slot: Slot) -> str:
        raise NotImplementedError

    def field_help(self, session: Session, f: FieldDef) -> str:
        raise NotImplementedError

    # collect.py
    def on_collect(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        raise NotImplementedError

    def accept(self, session: Session, slot: Slot, value: Any, out: Outcome) -> None:
        raise NotImplementedError

    def reject(self, session: Session, exc: Invalid, out: Outcome) -> None:
        raise NotImplementedError

    def skip(self, session: Session, slot: Slot, out: Outcome) -> None:
        raise NotImplementedError

    def not_known(self, session: Session, slot: Slot, raw: str, out: Outcome, *, lead: bool = False) -> bool:
        raise NotImplementedError

    # ahead.py
    def keep_typed_ahead(self, session: Session, slot: Slot, raw: str, out: Outcome) -> bool:
        raise NotImplementedError

    def slots_ahead(self, session: Session, slot: Slot, across: bool = False) -> list[Slot]:
        raise NotImplementedError

    @staticmethod
    def store_ahead(session: Session, target: Slot, value: Any) -> None:
        raise NotImplementedError

    @staticmethod
    def more_by_count(slot: Slot, raw: str) -> bool | None:
        raise NotImplementedError

    def more_by_kin(self, session: Session, slot: Slot, raw: str, out: Outcome) -> bool:
        raise NotImplementedError

    def keep_for_later(self, session: Session, slot: Slot, files: list[Any], out: Outcome) -> bool:
        raise NotImplementedError

    def keep_option_ahead(self, session: Session, slot: Slot, raw: str, out: Outcome, *, across: bool = False) -> bool:
        raise NotImplementedError

    def kept_ahead(self, session: Session, target: Slot, value: Any, out: Outcome, raw: str | None = None) -> bool:
        raise NotImplementedError

    def fits_later(self, session: Session, slot: Slot, raw: str) -> Any:
        raise NotImplementedError

    def answer_next(self, session: Session, before: str, typed: str, out: Outcome, *, read: bool = False) -> None:
        raise NotImplementedError

    def answer_later(self, session: Session, slot: Slot, path: str, typed: str, out: Outcome, *,
                     said: str = "") -> None:
        raise NotImplementedError

    # collect.py

    def back(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def lookup(self, session: Session, slot: Slot) -> Callable[[str], Any]:
        raise NotImplementedError

    def read_answer(self, session: Session, slot: Slot, text: str) -> Any:
        raise NotImplementedError

    def check_constraints(self, session: Session, slot: Slot, value: Any) -> None:
        raise NotImplementedError

    def recheck_dependents(self, session: Session, changed: str, out: Outcome) -> None:
        raise NotImplementedError

    def answer_typed(self, session: Session, typed: str, out: Outcome) -> None:
        raise NotImplementedError

    # names.py
    def asks_right_after(self, session: Session, before: str, out: Outcome, *, skip_answered: bool = False) -> bool:
        raise NotImplementedError

    def slot_after(self, session: Session, before: str) -> str | None:
        raise NotImplementedError

    def propose_name(self, session: Session, slot: Slot, raw: str, value: Any, out: Outcome) -> bool:
        raise NotImplementedError

    def propose_place(self, session: Session, slot: Slot, value: Any, out: Outcome) -> bool:
        raise NotImplementedError

    def confirm_unlisted(self, session: Session, slot: Slot, value: Any, out: Outcome) -> bool:
        raise NotImplementedError

    def on_name_confirm(self, session: Session, pending: NameConfirm, msg: Incoming, text: str,
                        command: str | None, out: Outcome) -> None:
        raise NotImplementedError

    def name_confirm_ask(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    # menu.py
    def menu_choices(self, session: Session) -> list[ChoiceOut]:
        raise NotImplementedError

    def menu_ask(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def go_menu(self, session: Session, out: Outcome, greet: bool = False) -> None:
        raise NotImplementedError

    def other_request(self, session: Session, path: str, text: str, out: Outcome) -> bool:
        raise NotImplementedError

    def switch_offer_ask(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def on_switch_offer(self, session: Session, pending: SwitchOffer, msg: Incoming, text: str,
                        command: str | None, out: Outcome) -> None:
        raise NotImplementedError

    def on_menu(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        raise NotImplementedError

    def offer_candidates(self, session: Session, candidates: list[str], out: Outcome,
                         request: str | None = None, carried_from: str | None = None) -> None:
        raise NotImplementedError

    def info_card(self, proc_id: str, lang: str = "vi", short: bool = False) -> str:
        raise NotImplementedError

    def info_question(self, session: Session, msg: Incoming, text: str) -> str | None:
        raise NotImplementedError

    def info_answer(self, proc_id: str, topic: str, lang: str = "vi") -> str:
        raise NotImplementedError

    def help_general(self, session: Session) -> str:
        raise NotImplementedError

    def begin(self, session: Session, proc_id: str, out: Outcome, request: str | None = None) -> None:
        raise NotImplementedError

    # eligibility.py
    def check_eligibility(self, session: Session, out: Outcome) -> bool:
        raise NotImplementedError

    def eligibility_ask(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def on_eligibility(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        raise NotImplementedError

    # review.py
    def show_review(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def review_ask(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def on_review(self, session: Session, msg: Incoming, text: str, command: str | None, out: Outcome) -> None:
        raise NotImplementedError

    def edit_menu(self, session: Session, out: Outcome, section: str | None) -> None:
        raise NotImplementedError

    def remove_ask(self, session: Session, key: str, out: Outcome) -> None:
        raise NotImplementedError

    # confirm.py
    def ask_cancel(self, session: Session, msg: Incoming, text: str, out: Outcome) -> None:
        raise NotImplementedError

    def sworn_ask(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def confirm_ask(self, session: Session, pending: Confirm, out: Outcome) -> None:
        raise NotImplementedError

    def on_confirm_answer(self, session: Session, pending: Confirm, msg: Incoming, text: str, command: str | None,
                          out: Outcome) -> None:
        raise NotImplementedError

    # supplement.py
    def begin_supplement(self, session: Session, request: dict[str, Any] | None, out: Outcome) -> None:
        raise NotImplementedError

    def supplement_done(self, session: Session, result: SupplementSent, out: Outcome) -> None:
        raise NotImplementedError

    def on_supplementing(self, session: Session, msg: Incoming, text: str, command: str | None,
                         out: Outcome) -> None:
        raise NotImplementedError

    def supplement_review(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    def supplement_ask(self, session: Session, out: Outcome) -> None:
        raise NotImplementedError

    # id_card.py
    def id_card_ask(self, session: Session, slot: Slot) -> Ask:
        raise NotImplementedError

    def past_card_offer(self, session: Session, slot: Slot | None, *, commit: bool = False) -> Slot | None:
        raise NotImplementedError

    # results.py
    def failures(self, session: Session, what: str) -> int:
        raise NotImplementedError
