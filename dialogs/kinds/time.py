"""A time of day as people say it (“14:30”, “3 giờ sáng”, “10 giờ rưỡi tối”, “khoảng 2h chiều”), stored as “HH:MM”."""
from __future__ import annotations

import re

from .. import parsing
from ..i18n import N_
from ..parsing import Invalid
from ..textnorm import fold
from .base import Kind, read_not_copied

_TIME = re.compile(
    r"(?:(?:khoang|tam|luc|vao|vao luc|chung|hoi|gan|sau|truoc|ca|at|around|about)\s+)*"
    r"(\d{1,2})\s*(?:(gio|h|g|:|\.)\s*(?:(\d{1,2})|(ruoi)|(?:kem\s*(\d{1,2})))?\s*(?:phut|p)?)?"
    r"(?:\s*(sang|trua|chieu|toi|dem|khuya|am|pm))?(?:\s+(?:hom qua|hom kia|hom nay|nay))?"
)
_MIDNIGHT = re.compile(r"(?:(?:khoang|tam|luc|vao|luc)\s+)*(?:nua dem|giua dem|0 gio dem)")
_WORDS_NOT_A_TIME = N_("Vui lòng ghi giờ và phút, ví dụ 14:30, 14 giờ 30 hoặc 3 giờ sáng.")


def _hour(h: int, part: str | None) -> int | None:
    """The hour of the day of “h giờ” said with a part of the day (sáng, trưa, chiều, tối, đêm); None if they do not
    go together (“9 giờ trưa”)."""
    if part is None or h >= 13:
        return h if h <= 23 and (part is None or part in ("chieu", "toi", "dem", "khuya", "pm")) else None
    if part in ("sang", "am"):
        return 0 if h == 12 else h
    if part == "trua":
        return h if h in (10, 11, 12) else h + 12 if h <= 2 else None
    if part == "pm":
        return 12 if h == 12 else h + 12
    if part == "chieu":
        return 12 if h == 12 else h + 12 if h <= 7 else None
    if part == "toi":
        return 0 if h == 12 else h + 12 if 5 <= h <= 11 else None
    return 0 if h == 12 else h + 12 if 8 <= h <= 11 else h if h <= 5 else None  # đêm, khuya


def parse_time(raw: str) -> str:
    text = re.sub(r"[^\w:.\s]", " ", parsing.without_polite(fold(raw or ""))).strip(" .")
    text = " ".join(text.split())
    if _MIDNIGHT.fullmatch(text):
        return "00:00"
    m = _TIME.fullmatch(text)
    if m is None:
        raise Invalid(_WORDS_NOT_A_TIME)
    h, unit, minute, half, less, part = m.groups()
    if unit is None and part is None:  # a bare number: not said to be an hour
        raise Invalid(_WORDS_NOT_A_TIME)
    mins = int(minute) if minute else 30 if half else 0
    hour = _hour(int(h), part)
    if hour is None or mins > 59:
        raise Invalid(N_("Giờ chưa đúng. Vui lòng ghi giờ và phút, ví dụ 14:30 hoặc 3 giờ sáng."))
    if less:  # “3 giờ kém 15”: a quarter to three
        if int(less) > 59:
            raise Invalid(_WORDS_NOT_A_TIME)
        total = (hour * 60 - int(less)) % (24 * 60)
        hour, mins = divmod(total, 60)
    return f"{hour:02d}:{mins:02d}"


class Time(Kind):
    name = "time"
    wordless = True
    hint = N_("Ghi giờ và phút, ví dụ 14:30 hoặc 3 giờ sáng.")

    def parse(self, f, raw, *, today, lookup):
        return parse_time(raw)

    def said_back(self, f, raw, value):
        return read_not_copied(raw)

    def display(self, f, value, t):
        return str(value)


KIND = Time()
