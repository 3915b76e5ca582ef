"""A statement the person must confirm (“Tôi xác nhận”) to go on; stored as True."""
from __future__ import annotations

from .. import parsing
from ..i18n import N_, Label
from ..messages import ChoiceOut
from ..parsing import Invalid
from .base import NO_VALUE, AskParts, Kind


class Confirm(Kind):
    name = "confirm"
    unknown_first = False

    def parse(self, f, raw, *, today, lookup):
        said_no = False
        try:
            if parsing.parse_yes_no(raw, sure=True):
                return True
            said_no = True
        except Invalid:
            pass
        if f.confirm_label and parsing.match_choice(raw, [("yes", f.confirm_label)]) == "yes":
            return True
        if said_no:  # no dead end: say what declining means and how to stop or go back
            raise Invalid(N_("Để đi tiếp, bạn cần chọn “{label}”. Nếu không muốn tiếp tục, gõ “hủy” (hồ sơ sẽ không "
                             "được nộp), hoặc gõ “quay lại” để sửa câu trả lời trước."),
                          label=Label(f.confirm_label or N_("Có")))
        raise Invalid(N_("Vui lòng chọn “{label}” để xác nhận."), label=Label(f.confirm_label or N_("Có")))

    def display(self, f, value, t):
        # a statement read and accepted, not a claim: "Chế độ mai táng (không thuộc diện): Có" read as one
        return t(N_("Đã xác nhận")) if value else t(N_("Chưa xác nhận"))

    def collect(self, turn, slot, msg, text):
        """A “không” to a statement confirmed before (“quay lại”, then “không đồng ý” to the sensitive data's
        consent) withdraws it: the confirmation is dropped, so the form cannot go on past it; then the question's
        usual refusal is said (``parse``)."""
        if msg.choice is None and text and slot.path in turn.answers:
            try:
                said_no = parsing.parse_yes_no(text, sure=True) is False
            except Invalid:
                said_no = False
            if said_no:
                turn.forget(slot)
        return False

    def shortcut(self, f, msg, text, t):
        return True if msg.choice == "yes" else NO_VALUE

    def question(self, f, path, pending, t, answers=None):
        return AskParts(kind=self.name, choices=(ChoiceOut("yes", t(f.confirm_label or N_("Tôi xác nhận"))),))


KIND = Confirm()
