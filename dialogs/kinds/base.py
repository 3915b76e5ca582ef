"""The interface of a field kind, and what its multi-turn handling may do with the conversation."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..i18n import N_, Translator
from ..messages import ChoiceOut, Incoming
from ..parsing import Invalid
from ..protocol import Outcome
from ..schema import FieldDef

if TYPE_CHECKING:
    from ..form import Slot
    from ..pending import Pending

NO_VALUE: Any = object()  # a shortcut that found no answer


@dataclass(frozen=True)
class AskParts:
    """A kind's part of a question: lines under the prompt, choices, and the kind shown to channels."""

    kind: str
    lines: tuple[str, ...] = ()
    choices: tuple[ChoiceOut, ...] = ()
    skippable: bool = False  # “bỏ qua” applies even though the field is required (an optional sub-step)


class Turn(Protocol):
    """The conversation as a kind's multi-turn handling sees it (the engine provides it)."""

    out: Outcome
    t: Translator
    today: date
    now: datetime  # aware, the runtime's clock

    @property
    def pending(self) -> Pending | None: ...

    @pending.setter
    def pending(self, value: Pending | None) -> None: ...

    @property
    def answers(self) -> Mapping[str, Any]:
        """The draft's answers so far (read only)."""

    def accept(self, slot: Slot, value: Any) -> None:
        """Store the answer and move on (the next question, the review…)."""

    def forget(self, slot: Slot) -> None:
        """Drop the answer this question had (a consent withdrawn): it is asked again when the form goes on."""

    def reject(self, exc: Invalid) -> None:
        """Say what is wrong and ask the same question again."""

    def prompt(self) -> None:
        """Ask whatever is being asked now, again."""

    def ask(self, slot: Slot) -> None:
        """Ask this slot's question (with the sub-dialog as it stands)."""

    def check(self, slot: Slot, value: Any) -> None:
        """The field's constraints; raises Invalid."""

    def skip(self, slot: Slot) -> None:
        """“bỏ qua”: an optional question is answered with nothing; a required one says it cannot be."""

    def not_known(self, slot: Slot, raw: str) -> bool:
        """A reply saying "không nhớ / chưa có" answered as the field's definition says (engine/collect.py).
        True: it was such a reply."""

    def keep_ahead(self, slot: Slot, text: str) -> bool:
        """A typed reply this question cannot take that plainly answers a later question of its section (a phone
        number at the house's address) kept for it and said so (engine/collect.py, ``keep_typed_ahead``). True:
        kept; the kind asks its question again."""

    def elsewhere(self, slot: Slot, text: str) -> bool:
        """A typed reply the question cannot take that asks for another procedure (offered) or a service the
        assistant lacks (said so), engine/menu.py. True: it was such a reply, and it has been answered."""

    def say(self, text: str, error: bool = False) -> None:
        """A message before the question."""

    def label(self, path: str) -> str:
        """A question's short label, as the review and the officer read it (“Phiếu lý lịch tư pháp”)."""

    def reset_errors(self) -> None:
        """The question was answered (or moved on): the count of failed tries starts again."""


class Kind:
    """One field kind. Subclass, set ``name`` (and ``hint``), and override what differs."""

    name: ClassVar[str] = ""
    hint: ClassVar[str | None] = None  # msgid shown under the question: how to answer
    # A typed reply that says "không nhớ / không biết" is read as such before parsing (it is never stored as
    # data). Kinds whose answers are picked from a list look at it only when the list does not match.
    unknown_first: ClassVar[bool] = True
    # The answer may be any words (a name, free text): a keep word ("giữ nguyên") typed where nothing was answered
    # is refused, not stored as the answer ("Giu Nguyen" as a name)
    any_words: ClassVar[bool] = False
    # An answer of this kind is seldom another kind's (the 12 digits of an ID card, a phone number, an e-mail
    # address): typed early, at a question of the same section that refuses it (and is not of such a kind itself),
    # it is kept for the one question still to come that takes it (engine/collect.py, ``keep_typed_ahead``)
    distinctive: ClassVar[bool] = False
    # No words answer a question of this kind (a date, a number, an amount, a time): a word of a later question's
    # list typed here (“con trai” at a birth date) is kept for that question (``keep_typed_ahead``)
    wordless: ClassVar[bool] = False
    # msgid added to the help ("trợ giúp") of a question of this kind: what the question itself does not say
    # (where the answer is found, what it is used for)
    more_help: ClassVar[str | None] = None
    # msgid said when the citizen says the answer is not known at a required question of this kind without help of
    # its own: where it may be found (engine/collect.py, ``not_known``); by default, the papers or the family
    where_found: ClassVar[str | None] = None

    def hint_for(self, f: FieldDef) -> str | None:
        """The hint for this field (msgid); the kind's own by default."""
        return self.hint

    def parse(self, f: FieldDef, raw: str, *, today: date, lookup: Callable[[str], Any]) -> Any:
        """Typed text (stripped, not empty) -> the stored JSON value; raise Invalid with a specific message."""
        raise Invalid(N_("Chưa hiểu câu trả lời. Vui lòng thử lại."))

    def display(self, f: FieldDef, value: Any, t: Translator) -> str:
        """A stored answer (not None) as a person reads it."""
        return str(value)

    def shortcut(self, f: FieldDef, msg: Incoming, text: str, t: Translator) -> Any:
        """A pressed button (or a number standing for one) that answers outright; NO_VALUE otherwise."""
        return NO_VALUE

    def said_back(self, f: FieldDef, raw: str, value: Any) -> bool:
        """Whether a typed answer was read rather than copied (“hôm kia”, “2 triệu rưỡi”, “3 giờ sáng”), so that
        what was filed is said back before the next question (“Đã ghi: 04/12/2026.”); by default not."""
        return False

    def carry(self, f: FieldDef, raw: str, value: Any) -> str | None:
        """What of a typed answer, taken as ``value``, also answers the question asked right after it (a choice's
        ``also_in``: “dao” is “Dân tộc khác”, and the name asked next); None by default."""
        return None

    def carry_later(self, f: FieldDef, raw: str, value: Any) -> tuple[str, str] | None:
        """(question, words): what of a typed answer, taken as ``value``, also answers a text question asked later
        (a choice's ``also_answers``: “tôi là con gái” is “Tôi là người thân”, and the relation asked later is Con
        gái); None by default."""
        return None

    def question(self, f: FieldDef, path: str, pending: Pending | None, t: Translator,
                 answers: Mapping[str, Any] | None = None) -> AskParts:
        """Lines, choices and displayed kind of the question for ``f`` (its hint by default); ``answers`` are the
        draft's answers so far, for a kind that offers one of them again (an address given earlier)."""
        hint = self.hint_for(f)
        return AskParts(kind=self.name, lines=(t(hint),) if hint else ())

    def intercept(self, turn: Turn, slot: Slot, msg: Incoming, text: str, command: str | None) -> bool:
        """First look at a message for this question, before “giữ nguyên”, “quay lại” and “bỏ qua”
        (a sub-dialog in progress). True: handled."""
        return False

    def collect(self, turn: Turn, slot: Slot, msg: Incoming, text: str) -> bool:
        """The kind's own answering (several messages, files), instead of parsing one text. True: handled."""
        return False


_PLAIN = re.compile(r"[\d\s.,/:-]*")


def read_not_copied(raw: str) -> bool:
    """Whether an answer was typed in words, not only digits and separators (“hôm kia”, not “04/12/2026”)."""
    return _PLAIN.fullmatch((raw or "").strip()) is None
