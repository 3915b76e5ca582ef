"""Yes or no, stored as a boolean; shown as two numbered choices."""
from __future__ import annotations

import re

from .. import parsing
from ..i18n import N_
from ..messages import ChoiceOut
from .base import NO_VALUE, AskParts, Kind


def yes_no_choices(t) -> tuple[ChoiceOut, ChoiceOut]:
    return ChoiceOut("yes", t(N_("Có"))), ChoiceOut("no", t(N_("Không")))


class YesNo(Kind):
    name = "yes_no"
    unknown_first = False
    hint = N_("Trả lời Có hoặc Không.")  # in KIND_HINTS for the help text; the choices say it in a question

    def parse(self, f, raw, *, today, lookup):
        if f.yes_also or f.no_also:  # the question's own words first (“vẫn ở đó”, “ở chỗ khác”)
            said = parsing.match_also(raw, [("yes", f.yes_also), ("no", f.no_also)])
            if said is not None:
                return said == "yes"
        try:
            said_yes = parsing.parse_yes_no(raw)
            if said_yes and parsing.yes_with_count(raw) and not re.search(r"(?<!\w)(?:có|chưa)(?!\w)",
                                                                             f.prompt.split("?")[0].lower()):
                # “có 2 nhân viên” at “Lý lịch tư pháp … trong sạch, đúng không?”: another question's answer, early
                # (where “có” or “đã … chưa” is asked, “có 15 tháng” is a yes)
                raise parsing.Invalid(N_("Vui lòng trả lời “Có” hoặc “Không”."))
            return said_yes
        except parsing.Invalid:
            echoed = parsing.echoed_yes_no(raw, f.prompt)  # “giống” at “… có giống nơi thường trú không?”
            if echoed is None:
                raise
            return echoed

    def display(self, f, value, t):
        return t(N_("Có")) if value else t(N_("Không"))

    def shortcut(self, f, msg, text, t):
        if msg.choice is not None:
            return msg.choice == "yes" if msg.choice in ("yes", "no") else NO_VALUE
        if text.isdigit():  # shown as numbered choices (1. Có, 2. Không): the number answers it too
            picked = parsing.match_choice(text, [("yes", t(N_("Có"))), ("no", t(N_("Không")))])
            if picked is not None:
                return picked == "yes"
        return NO_VALUE

    def question(self, f, path, pending, t, answers=None):
        return AskParts(kind=self.name, choices=yes_no_choices(t))


KIND = YesNo()
