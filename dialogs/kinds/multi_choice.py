"""Several of a list of choices, stored as a list of values; optionally answered one choice at a time.

With ``one_by_one`` in the field definition, typing “từng mục” turns the question into a series of
yes/no questions, one per choice (the ``Items`` sub-dialog), for people who find a numbered list with
commas hard.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from .. import parsing
from ..i18n import N_, Label
from ..parsing import Invalid
from ..pending import Pending, register
from ..textnorm import fold, fold_words
from .base import NO_VALUE, AskParts, Kind
from .choice import field_choices, number_not_listed, shown_labels
from .yes_no import yes_no_choices

HINT = N_("Có thể chọn nhiều: gõ các số, cách nhau bởi dấu phẩy (ví dụ 1, 3). Không có mục nào: gõ “không”.")
REQUIRED_HINT = N_("Có thể chọn nhiều: gõ các số, cách nhau bởi dấu phẩy (ví dụ 1, 3).")  # “không” is no answer
# Typed at a question marked ``one_by_one``: ask its choices one at a time, yes or no.
ONE_BY_ONE = frozenset({"tung muc", "tung cai", "tung cau", "lan luot", "lan luot tung muc", "tra loi tung muc",
                        "hoi tung muc", "mot mot", "tung mot", "one by one"})
# What may be left of an answer once its whole labels are taken out, for it to name its options plainly.
_NAMED_ONLY = re.compile(r"\b(?:\d{1,3}|va|voi|cung|ca|tat ca|muc|so)\b")


@register
@dataclass
class Items(Pending):
    """Answering a multi-choice question one choice at a time: choice ``i`` is being asked."""

    kinds: ClassVar[tuple[str, ...]] = ("items",)
    path: str = ""
    i: int = 0
    picked: list[str] = field(default_factory=list)


def check_count(f, values: list[str]) -> None:
    if f.min_selected is not None and len(values) < f.min_selected:
        raise Invalid(N_("Vui lòng chọn ít nhất {n} mục."), n=f.min_selected)
    if f.max_selected is not None and len(values) > f.max_selected:
        raise Invalid(N_("Vui lòng chọn nhiều nhất {n} mục."), n=f.max_selected)


class MultiChoice(Kind):
    name = "multi_choice"
    unknown_first = False
    hint = HINT

    def parse(self, f, raw, *, today, lookup):
        vs = parsing.match_multi_choice(raw, [(c.value, c.label) for c in f.choices],
                                        [(c.value, c.also) for c in f.choices if c.also])
        if vs is None:
            number_not_listed(raw, len(f.choices))
            read, unread = parsing.unread_parts(raw, [(c.value, c.label) for c in f.choices],
                                                [(c.value, c.also) for c in f.choices if c.also])
            if read and unread:  # “nuôi dưỡng và dạy chữ cho các cháu”: what was read, and what was not
                raise Invalid(N_("Trợ lý đã hiểu “{read}” nhưng chưa hiểu “{unread}”. Vui lòng chọn lại đủ các mục "
                                 "bạn muốn."), read=tuple(Label(c.label) for c in f.choices if c.value in read),
                              unread="”, “".join(unread))
            raise Invalid(N_("Chưa rõ lựa chọn của bạn. Gõ các số thứ tự, cách nhau bởi dấu phẩy, ví dụ: 1, 3."))
        check_count(f, vs)
        return vs

    def said_back(self, f, raw, value):
        """Options read from their other words (“câm điếc”) or from some of a label's words (“người già và người
        khuyết tật”, “tư vấn tâm lý”), not named by their numbers or whole labels, are said back."""
        if not value:
            return False
        rest = f" {fold_words(raw)} "
        for c in f.choices:
            if c.value in value:
                rest = rest.replace(f" {fold_words(c.label)} ", " ")
        return bool(_NAMED_ONLY.sub(" ", rest).strip())

    def shortcut(self, f, msg, text, t):
        shown = shown_labels(f, t) if text else None
        vs = parsing.match_multi_choice(text, shown) if shown else None
        if vs is None:
            return NO_VALUE
        try:
            check_count(f, vs)
        except Invalid:
            return NO_VALUE  # (parse says why)
        return vs

    def display(self, f, value, t):
        labels = [t(c.label) for c in f.choices if c.value in value]
        return "; ".join(labels) if labels else t(N_("Không có"))  # (labels may hold commas)

    def question(self, f, path, pending, t, answers=None):
        if isinstance(pending, Items) and pending.path == path:  # “Mục 2/6: … — có không?”
            i = min(int(pending.i), len(f.choices) - 1)
            line = t(N_("Mục {no}/{total}: {label} — có không?"), no=i + 1, total=len(f.choices),
                     label=t(f.choices[i].label))
            return AskParts(kind="yes_no", lines=(line,), choices=yes_no_choices(t))
        lines = [t(REQUIRED_HINT if (f.min_selected or 0) >= 1 else HINT)]
        if f.one_by_one:
            lines.append(t(N_("Hoặc gõ “từng mục” để trả lời có hay không lần lượt từng mục.")))
        return AskParts(kind=self.name, lines=tuple(lines), choices=field_choices(f, t))

    def intercept(self, turn, slot, msg, text, command):
        pending = turn.pending
        if isinstance(pending, Items) and pending.path == slot.path:
            self._on_item(turn, slot, pending, msg, text, command)
            return True
        if slot.field.one_by_one and command is None and msg.choice is None and not msg.file and not msg.files \
                and fold(text).strip(" .!") in ONE_BY_ONE:
            turn.pending = Items(path=slot.path)
            turn.reset_errors()
            turn.out.accepted = True
            turn.ask(slot)
            return True
        return False

    @staticmethod
    def _on_item(turn, slot, pending: Items, msg, text, command) -> None:
        f = slot.field
        i, picked = int(pending.i), list(pending.picked)
        if command == "back":
            turn.reset_errors()
            if i == 0:  # back to the whole list
                turn.pending = None
                return turn.prompt()
            i -= 1
            turn.pending = Items(path=pending.path, i=i, picked=[v for v in picked if v != f.choices[i].value])
            turn.out.accepted = True
            return turn.prompt()
        if command == "skip":
            return turn.skip(slot)
        if msg.file or msg.files:
            turn.say(turn.t(N_("Câu hỏi này cần câu trả lời bằng chữ, không cần gửi tệp. Tệp vừa gửi chưa được "
                               "lưu.")), error=True)
            return turn.prompt()
        if msg.choice in ("yes", "no"):
            yes = msg.choice == "yes"
        elif text.strip() in ("1", "2"):  # shown as numbered choices: 1. Có, 2. Không
            yes = text.strip() == "1"
        else:
            try:
                yes = parsing.parse_yes_no(msg.choice or text)
            except Invalid as exc:
                return turn.reject(exc)
        if yes:
            picked.append(f.choices[i].value)
        i += 1
        turn.reset_errors()
        if i < len(f.choices):
            turn.pending = Items(path=pending.path, i=i, picked=picked)
            turn.out.accepted = True
            return turn.prompt()
        value = [c.value for c in f.choices if c.value in picked]
        try:
            check_count(f, value)
            turn.check(slot, value)
        except Invalid as exc:
            turn.pending = None  # ask the whole list again
            return turn.reject(exc)
        turn.accept(slot, value)


KIND = MultiChoice()
