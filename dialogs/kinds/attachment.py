"""Photos or PDF files: one or several per question, over one or several messages.

The files received so far are kept in the ``Files`` sub-dialog until the person says “Xong” (or the
maximum is reached). Stored as a list of file records (sha256, mime, size, name); the bytes go to the
runtime in ``Outcome.blobs``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import parsing
from ..i18n import N_
from ..messages import ChoiceOut
from ..parsing import Invalid
from ..pending import Pending, optional, register
from ..textnorm import fold
from .base import AskParts, Kind

ACCEPT_MIME = {
    "image": ("image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"),
    "pdf": ("application/pdf",),
}
DONE_WORDS = ("xong", "done", "het", "du roi", "roi", "xong roi")


@register
@dataclass
class Files(Pending):
    """Files received so far for an attachment question."""

    kinds: ClassVar[tuple[str, ...]] = ("files",)
    path: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    # a file already sent for another question, refused once here: sent again, it is taken (one scan of two papers)
    twice: list[str] | None = optional()


def accepted_mimes(f) -> list[str]:
    return [m for a in f.accept for m in ACCEPT_MIME[a]]


def checked(f, item) -> dict[str, Any]:
    """One received file as attachment field ``f`` stores it (its type sniffed, its size bounded); raises Invalid.
    Its bytes are the caller's to keep (``Outcome.blobs``) once the answer is taken."""
    mime = parsing.check_attachment(item.data, accept=accepted_mimes(f), max_bytes=int(f.max_mb * 1024 * 1024))
    return {"sha256": hashlib.sha256(item.data).hexdigest(), "mime": mime, "size": len(item.data),
            "name": (item.name or "")[-120:] or None}


def _sent_for(answers, path: str, sha256: str) -> str | None:
    """The other question a file with this digest was already given for, if any."""
    for other, value in answers.items():
        if other != path and isinstance(value, list) and any(
                isinstance(v, dict) and v.get("sha256") == sha256 for v in value):
            return other
    return None


class Attachment(Kind):
    name = "attachment"
    unknown_first = False
    hint = N_("Gửi ảnh chụp rõ nét hoặc tệp PDF.")

    def parse(self, f, raw, *, today, lookup):
        raise Invalid(N_("Câu hỏi này cần một ảnh chụp hoặc tệp PDF. Vui lòng gửi tệp, không gõ chữ."))

    def display(self, f, value, t):
        return t(N_("{n} tệp đính kèm"), n=len(value or []))

    def question(self, f, path, pending, t, answers=None):
        got = len(pending.files) if isinstance(pending, Files) else 0
        if got:
            return AskParts(kind=self.name, choices=(ChoiceOut("done", t(N_("Xong"))),), lines=(
                t(N_("Đã nhận {n} tệp. Gửi thêm, hoặc chọn “Xong”."), n=got), t(self.hint)))
        return AskParts(kind=self.name, lines=(t(self.hint),))

    def collect(self, turn, slot, msg, text):
        f = slot.field
        current = turn.pending
        pending = current if isinstance(current, Files) and current.path == slot.path else Files(path=slot.path)
        files = ([msg.file] if msg.file else []) + list(msg.files)
        if not files and not pending.files and text and msg.choice is None and turn.not_known(
                slot, "không có" if parsing.is_no(text) else text):
            return True  # "chưa có giấy", or a bare “không” (no yes/no was asked): where to get it, or the way on
        if not files:
            # "1" is the number of the only choice, “Xong”, where the channel shows numbered choices
            done = msg.choice == "done" or fold(text) in DONE_WORDS or (text.strip() == "1" and bool(pending.files))
            if done and pending.files:
                if len(pending.files) < f.min_count:
                    turn.reject(Invalid(N_("Cần ít nhất {n} tệp cho mục này."), n=f.min_count))
                    return True
                turn.accept(slot, pending.files)
                return True
            if pending.files or pending.twice:
                turn.pending = pending
            turn.reject(Invalid(N_("Câu hỏi này cần ảnh chụp hoặc tệp PDF. Vui lòng gửi tệp (không gõ chữ).")))
            return True
        accepted = list(pending.files)
        for item in files:
            if len(accepted) >= f.max_count:
                turn.say(turn.t(N_("Mục này nhận tối đa {n} tệp; các tệp thừa không được lưu."), n=f.max_count),
                         error=True)
                break
            try:
                taken = checked(f, item)
            except Invalid as exc:
                if accepted:
                    turn.pending = pending
                pending.files = accepted
                turn.reject(exc)
                return True
            if any(a["sha256"] == taken["sha256"] for a in accepted):  # the same file again (sent twice)
                turn.say(turn.t(N_("Tệp này đã nhận rồi, không lưu thêm lần nữa.")))
                continue
            other = _sent_for(turn.answers, slot.path, taken["sha256"])
            if other is not None and taken["sha256"] not in (pending.twice or ()):
                pending.twice = [*(pending.twice or ()), taken["sha256"]]
                pending.files = accepted
                turn.pending = pending
                turn.reject(Invalid(N_("Tệp này giống hệt tệp bạn đã gửi cho “{other}”, nên chưa được lưu. Vui lòng "
                                       "gửi đúng giấy tờ của câu này. Nếu tệp đó có cả giấy tờ này, gửi lại "
                                       "chính tệp đó."), other=turn.label(other)))
                return True
            turn.out.blobs[taken["sha256"]] = item.data
            accepted.append(taken)
        if len(accepted) >= f.max_count:
            turn.accept(slot, accepted)
            return True
        pending.files = accepted
        turn.pending = pending
        turn.out.accepted = True
        turn.reset_errors()  # (a file taken: the help shown after wrong answers is not shown again)
        turn.ask(slot)
        return True


KIND = Attachment()
