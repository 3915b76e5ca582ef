"""The ``id_card`` kind: the offer, at the start of a person block, to photograph the citizen ID card so that
its QR fills the block (mapping in the field's ``id_card``). Its conversation is dialogs/engine/id_card.py;
the stored answer is ``"card"`` or ``"typed"``, never the card's data."""
from __future__ import annotations

from ..i18n import N_
from .base import Kind


class IdCardKind(Kind):
    name = "id_card"
    unknown_first = False
    hint = N_("Gửi ảnh chụp mặt trước thẻ (có mã QR), hoặc gõ từng mục.")

    def display(self, f, value, t):
        return t(N_("Điền theo thẻ căn cước")) if value == "card" else t(N_("Gõ từng mục"))

    def intercept(self, turn, slot, msg, text, command):
        engine, session = getattr(turn, "engine", None), getattr(turn, "session", None)
        if engine is None or session is None:
            return False
        engine.on_id_card(session, slot, msg, text, command, turn.out)
        return True


KIND = IdCardKind()
