"""The consent of the person a dossier is filed for, as the one filing for them confirms it.

A ``choice`` of how it was given (in person, by phone, or the one filing is the person's guardian), stored
with the time it was confirmed and the version of the text read, so that an officer can later tell what was
agreed to and when: ``{"how": "in_person", "at": "2026-03-02T09:15:00+07:00", "text_version": "3f9a0c1b"}``.
``text_version`` is a digest of the question's Vietnamese text: another wording is another version.

A choice with ``stop`` is a refusal: its text is said (a kind way forward), nothing is stored, the draft is kept
and the same question stays open, so the volunteer may come back once the person has agreed.
"""
from __future__ import annotations

import hashlib
import re

from .. import parsing
from ..i18n import N_
from ..parsing import Invalid
from ..textnorm import fold
from .base import NO_VALUE, AskParts, Kind
from .choice import field_choices, number_not_listed


def text_version(f) -> str:
    """The version of the consent text: a short digest of the question as written in the definition."""
    return hashlib.sha256(f.prompt.encode("utf-8")).hexdigest()[:8]


def _pick(f, msg, text) -> str | None:
    values = {c.value for c in f.choices}
    if msg.choice is not None and msg.choice in values:
        return msg.choice
    if msg.choice is None and text:
        value = parsing.match_choice(text, [(c.value, c.label) for c in f.choices])
        if value is None and parsing.denies(text, _CONSENT_WORDS):  # “bà chưa đồng ý”: the refusal, whoever says it
            return next((c.value for c in f.choices if c.stop), None)  # (“tôi gọi điện rồi nhưng bà không đồng ý”)
        if value is None:  # “bà ngồi cạnh tôi, bà đồng ý rồi”: in person
            value = parsing.match_also(text, [(c.value, c.also) for c in f.choices if c.also])
        if value is None:  # a plain “không” is the refusal
            try:
                said_yes = parsing.parse_yes_no(text, sure=True)
            except Invalid:
                return None
            if not said_yes:
                return next((c.value for c in f.choices if c.stop), None)
        return value
    return None


_CONSENT_WORDS = ("đồng ý", "cho phép", "chịu")
_AGREED = re.compile(r"\b(?:" + "|".join(fold(w) for w in (*_CONSENT_WORDS, "ok")) + r")\b")


class Consent(Kind):
    name = "consent"
    unknown_first = False

    def parse(self, f, raw, *, today, lookup):
        # reached only when the reply matched no choice (``collect`` answers the others)
        number_not_listed(raw, len(f.choices))
        if _AGREED.search(fold(raw)):  # “bà đồng ý rồi”: but how? that is what is recorded
            raise Invalid(N_("Người đó đã đồng ý như thế nào? Vui lòng gõ số thứ tự của một lựa chọn bên dưới."))
        raise Invalid(N_("Chưa rõ lựa chọn của bạn. Vui lòng gõ số thứ tự của một lựa chọn bên dưới."))

    def display(self, f, value, t):
        if not isinstance(value, dict):
            return str(value)
        how = next((t(c.label) for c in f.choices if c.value == value.get("how")), str(value.get("how")))
        at = str(value.get("at") or "")
        if len(at) >= 16:  # 2026-03-02T09:15 -> 09:15 02/03/2026
            how += f" ({at[11:16]} {at[8:10]}/{at[5:7]}/{at[:4]})"
        return how

    def shortcut(self, f, msg, text, t):
        return NO_VALUE

    def question(self, f, path, pending, t, answers=None):
        return AskParts(kind="choice", choices=field_choices(f, t))

    def collect(self, turn, slot, msg, text):
        f = slot.field
        value = _pick(f, msg, text)
        if value is None:
            return False
        choice = next(c for c in f.choices if c.value == value)
        if choice.stop:
            turn.forget(slot)  # a consent given before and now withdrawn is not kept: the form cannot go on past it
            turn.reset_errors()
            turn.say(turn.t(choice.stop) + "\n" + turn.t(N_(
                "Những gì bạn đã khai được giữ lại: gõ “menu” để tạm dừng; khi người đó đồng ý, gõ “tiếp tục”.")))
            turn.prompt()
            return True
        if msg.choice is None and parsing.match_choice(text, [(c.value, c.label) for c in f.choices]) is None:
            turn.say(turn.t(N_("Đã ghi: {value}."), value=turn.t(choice.label)))  # read from everyday words
        turn.accept(slot, {"how": value, "at": turn.now.isoformat(timespec="seconds"),
                           "text_version": text_version(f)})
        return True


KIND = Consent()
