"""A statement the person must confirm (“Tôi xác nhận”) to go on; stored as True."""
from __future__ import annotations

from .. import parsing
from ..i18n import N_, Label
from ..messages import ChoiceOut
from ..parsing import Invalid
from ..textnorm import fold
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
        if f.notice and not said_no:
            if not _asks(raw):
                return True  # read: what was typed answers the next question (:meth:`carry`)
            raise Invalid(N_("Lưu ý trên để bạn biết trước. Chọn “{label}” để đi tiếp; nếu còn điều chưa rõ, gõ "
                             "“trợ giúp”, hoặc “quay lại” để sửa câu trả lời trước."),
                          label=Label(f.confirm_label or N_("Có")))
        if said_no:  # no dead end: say what declining means and how to stop or go back
            raise Invalid(N_("Để đi tiếp, bạn cần chọn “{label}”. Nếu không muốn tiếp tục, gõ “hủy” (hồ sơ sẽ không "
                             "được nộp), hoặc gõ “quay lại” để sửa câu trả lời trước."),
                          label=Label(f.confirm_label or N_("Có")))
        raise Invalid(N_("Vui lòng chọn “{label}” để xác nhận."), label=Label(f.confirm_label or N_("Có")))

    def carry(self, f, raw, value):
        """At a notice, words that are not “Tôi đã hiểu”, “có”, “ok”… are the next question's answer, typed ahead."""
        if not f.notice or _acknowledges(f, raw):
            return None
        return raw

    def display(self, f, value, t):
        # a statement read and accepted, not a claim: "Chế độ mai táng (không thuộc diện): Có" read as one; a notice
        # was only read (“Xóa thường trú làm riêng (người mất là chủ hộ): Đã đọc”), nothing was confirmed
        if f.notice:
            return t(N_("Đã đọc")) if value else t(N_("Chưa đọc"))
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


_QUESTION_WORDS = frozenset({"sao", "gi", "nao", "khong", "chua", "dau", "ai", "bao"})
_OBJECTION_LEADS = frozenset({"nhung", "sao", "tai", "vi", "vay", "the"})  # “nhưng bố tôi là thương binh”


def _asks(raw: str) -> bool:
    """A question about the notice or an objection to it (“tại sao không xóa thường trú?”, “vậy phải làm gì”,
    “nhưng bố tôi là thương binh”): refused, so that the person is told how to ask, rather than taken as read."""
    words = fold(raw).split()
    return "?" in raw or (bool(words) and (words[-1] in _QUESTION_WORDS or words[0] in _OBJECTION_LEADS))


_READ_WORDS = ("hieu", "hieu roi", "da hieu", "da hieu roi", "biet", "biet roi", "da biet", "doc roi", "da doc",
               "tiep", "tiep tuc", "di tiep", "tiep di", "lam tiep", "ok", "ok roi", "roi", "duoc", "duoc roi",
               "dong y", "nam roi", "ro", "ro roi", "da ro")
_READ = frozenset(f"{ok}{who}{said}" for ok in ("", "ok ")
                  for who in ("", "toi ", "em ", "chau ", "con ", "minh ", "tui ") for said in _READ_WORDS)
"""“Tôi đã hiểu”, “ok em hiểu rồi”, folded: a notice read (:func:`parsing.says_only` drops “dạ”, “ạ”, “nhé”…)."""


def _acknowledges(f, raw: str) -> bool:
    """“Tôi đã hiểu”, “hiểu rồi ạ”, “ok tiếp”, “có”: the notice read, and nothing more said."""
    if parsing.says_only(raw, _READ) or parsing.is_acknowledgement(raw) or parsing.is_yes(raw):
        return True
    return bool(f.confirm_label) and parsing.match_choice(raw, [("yes", f.confirm_label)]) == "yes"
