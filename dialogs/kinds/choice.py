"""One of a list of choices, stored as its value."""
from __future__ import annotations

import re

from .. import parsing, spelling
from ..i18n import DEFAULT_LANG, N_, Label
from ..messages import ChoiceOut
from ..parsing import Invalid
from ..schema import FieldDef
from ..textnorm import fold_words, nfc
from .base import NO_VALUE, AskParts, Kind


def number_not_listed(raw: str, n: int) -> None:
    """“9” (or “1, 9”) where the list has fewer items: say which number is not on it."""
    numbers = re.findall(r"\d+", raw or "")
    if numbers and re.fullmatch(r"[\d\s,;.và&+-]*", (raw or "").strip()):
        bad = next((x for x in numbers if not 1 <= int(x) <= n), None)  # shown as typed (“068…”, not “68…”)
        if bad is not None and n == 1:
            raise Invalid(N_("Danh sách chỉ có một lựa chọn: gõ 1 để chọn."))
        if bad is not None and len(bad) > 3:  # an ID or phone number typed here: never echoed back
            raise Invalid(N_("Danh sách chỉ có {n} lựa chọn. Vui lòng gõ số từ 1 đến {n}."), n=n)
        if bad is not None:
            raise Invalid(N_("Số {number} không có trong danh sách. Vui lòng gõ số từ 1 đến {n}."), number=bad, n=n)


def _the_yes_option(f: FieldDef) -> str | None:
    """The option a plain yes answers, when the options are a yes and its noes (“Có giấy chứng sinh”, “Không có,
    …”); None otherwise. (A plain no is no answer there: which of the noes is not said.)"""
    yes = [c.value for c in f.choices if c.label.lower().startswith("có ")]
    noes = [c for c in f.choices if c.label.lower().startswith("không")]
    return yes[0] if len(yes) == 1 and len(noes) == len(f.choices) - 1 else None


def _listed_in(f, raw: str) -> str | None:
    """The option whose ``also_in`` list names ``raw`` (“dao”: Dân tộc khác). Asked only when no label is named."""
    return next((c.value for c in f.choices
                 if c.also_in and spelling.listed(c.also_in, spelling.spell(c.also_in, raw))), None)


def answered_names(choice, lookup) -> list[str]:
    """The answers of a choice's ``same_as`` fields that are names of two words or more (“Trần Thị Lan” typed at
    “Tài khoản đứng tên ai?” is the beneficiary)."""
    if lookup is None or not choice.same_as:
        return []
    out = []
    for ref in choice.same_as:
        v = lookup(ref)
        if isinstance(v, str) and len(v.split()) >= 2:
            out.append(v)
    return out


def field_choices(f, t) -> tuple[ChoiceOut, ...]:
    return tuple(ChoiceOut(c.value, t(c.label)) for c in f.choices)


def shown_labels(f, t) -> list[tuple[str, str]] | None:
    """(value, label) of the options as the bot in another language shows them (“Poor household”), for an answer
    typed in that language; None in the definition's own language, whose labels ``parse`` matches already."""
    if getattr(t, "lang", DEFAULT_LANG) == DEFAULT_LANG:
        return None
    return [(c.value, t(c.label)) for c in f.choices]


_QUALIFIERS = frozenset({"trai", "gai", "ruot", "noi", "ngoai", "de", "ca", "ut", "lon", "nho", "nuoi"})
"""Words after a kinship term that keep it the same kin (“con trai”, “cháu nội”, “bố nuôi”); “dâu”, “rể”, “chồng”,
“vợ” make another (“con dâu” is no child, “bố chồng” no father)."""
_LABEL_PARTS = re.compile(r",|\(|\)|\bhoặc\b|\bvà\b|\bcủa\b")


def _kin_of_another(option, raw: str) -> bool:
    """Whether a whole answer that is a word of kinship (“cháu”, “bố chồng”, “con dâu”) was taken for an option
    that names another kin: by a label only like it (“cháu” for “Cha”) or only begun by it (“con dâu” for “Con”,
    “bố chồng” for “Cha của trẻ”, whose ``also`` has “bố”). An option that names no kin in its label (“Người khác”,
    “Tôi là người thân trong gia đình”, “Nam”) may be any. One that does names the answer by a part of its label
    (“Cha, mẹ”; “người thân khác”), or an ``also`` word, whole or followed by words that keep the kin (“cháu nội”
    for “Cháu”)."""
    said = spelling.spell(spelling.RELATIONS, raw)
    if not spelling.listed(spelling.RELATIONS, said) or fold_words(raw) in {fold_words(w) for w in option.also}:
        return False  # (not kin, or one of the option's own words whole: “tôi là con” of “Tôi khai giúp”)
    parts = [p for part in _LABEL_PARTS.split(nfc(option.label).lower()) if (p := " ".join(part.split()))]
    if not any(p in ("bà", "ba") or spelling.listed(spelling.RELATIONS, spelling.spell(spelling.RELATIONS, p))
               for p in parts):  # (“Bà”, “Ba” fold alike, so the list has neither: a label's are read with accents)
        # no kin named: any may be it, when it shares a word with the option (“em trai”: “trai” of “Nam”), not
        # when the option is only like it (“cháu” for “Tôi là chủ hộ”, “dì” for “Dịch bệnh”)
        words = {w for text in (option.label, *option.also) for w in fold_words(text).split()}
        return not set(fold_words(said).split()) & words
    kin, spelled = fold_words(said), f" {said.lower()} "
    terms = {fold_words(p) for p in parts} | {fold_words(w) for w in option.also}
    if kin in terms or any(spelled in f" {p} " for p in parts):
        return False
    return not any(kin.startswith(t + " ") and set(kin[len(t) + 1:].split()) <= _QUALIFIERS for t in terms)


def _qualified(f, fits) -> str | None:
    """Of two options an answer fits, the one whose label is the other's qualified (“Thực hiện được nhưng cần trợ
    giúp” of “Thực hiện được”): the answer said both the thing and its qualification. None otherwise."""
    a, b = (fold_words(c.label) for c in f.choices if c.value in fits)
    one, two = (c.value for c in f.choices if c.value in fits)
    return two if b.startswith(a + " ") else one if a.startswith(b + " ") else None


class Choice(Kind):
    name = "choice"
    unknown_first = False
    more_help = N_("Gõ số thứ tự của lựa chọn (hoặc bấm nút, nếu có). Nếu không lựa chọn nào đúng với trường hợp của "
                   "bạn, gõ “menu” để chọn thủ tục khác; những gì đã khai được giữ lại.")

    def parse(self, f, raw, *, today, lookup):
        labels = [(c.value, c.label) for c in f.choices]
        named = parsing.match_choice(raw, labels, fuzzy=False)  # a label named, not only like the answer
        v = named if named is not None else parsing.match_choice(raw, labels)
        words = {c.value: [*c.also, *answered_names(c, lookup)] for c in f.choices}
        other = parsing.match_also(raw, list(words.items()))
        if named is None and other is not None:
            v = other  # a label only like the answer (“không ăn được”: Không xác định được); the words are another's
        if v is not None and other is not None and other != v:
            label = next(c.label for c in f.choices if c.value == v)
            typed = fold_words(raw)
            in_full = typed in {fold_words(w) for w in words[other]}  # the answer is one of the other's words
            same = fold_words(label) in {fold_words(w) for w in words[other]}  # “Bà”, and “ba” of “Cha”
            either = same and not in_full and not parsing.holds_as_typed(raw, label)  # “ba no”: Cha (South) or Bà?
            if not either and not in_full and parsing.match_also(raw, [(v, [label]), (other, words[other])]) == v:
                pass  # “mat tich”: the label's words hold the other's (“mất”)
            elif not either and in_full and typed != fold_words(label):
                v = other  # “mất”, the other's words in full, the label (“Mất tích”) only begun
            elif either or not parsing.typed_as(raw, label):  # “ba” (father, in the South), or “Bà” without accent?
                also = next(c.label for c in f.choices if c.value == other)
                raise Invalid(N_("“{answer}” có thể là “{one}” hoặc “{other}”. Vui lòng bấm chọn, hoặc gõ số thứ tự "
                                 "của lựa chọn đúng."), answer=raw.strip()[:40], one=Label(also), other=Label(label))
        v = v or other or (_listed_in(f, raw) if named is None else None)
        if v is not None and _kin_of_another(next(c for c in f.choices if c.value == v), raw):
            raise Invalid(N_("Chưa rõ “{answer}” là lựa chọn nào. Vui lòng gõ số thứ tự của lựa chọn đúng."),
                          answer=raw.strip()[:40])
        if v is None and (yes := _the_yes_option(f)) is not None and parsing.is_yes(raw):
            return yes  # “có ạ”, “co, benh vien cap” at “Bạn có giấy chứng sinh không?”: its one “Có …” option
        if v is None:
            number_not_listed(raw, len(f.choices))
            fits = parsing.labels_fitting(raw, labels) or parsing.also_all(raw, list(words.items()))
            several = next((c.value for c in f.choices if c.for_several), None)
            if len(fits) > 1 and several is not None and several not in fits:
                return several  # “trẻ mồ côi và người già”: the option for several (said back)
            if len(fits) == 2 and (qualified := _qualified(f, fits)) is not None:
                return qualified  # “đi được, phải có người dắt”: “Thực hiện được nhưng cần trợ giúp” (said back)
            if len(fits) > 1:
                # “với cha mẹ”: two options begin so; “trẻ em và người già”: the words of two options
                numbers = ", ".join(str(i + 1) for i, c in enumerate(f.choices) if c.value in fits)
                raise Invalid(N_("“{answer}” hợp với nhiều lựa chọn (số {numbers}). Vui lòng gõ số thứ tự của lựa "
                                 "chọn đúng."), answer=raw.strip()[:40], numbers=numbers)
            raise Invalid(N_("Chưa rõ lựa chọn của bạn. Vui lòng gõ số thứ tự của một lựa chọn bên dưới."))
        return v

    def display(self, f, value, t):
        return next((t(c.label) for c in f.choices if c.value == value), str(value))

    def said_back(self, f, raw, value):
        """An option read from other words (“tốc mái hết, không ở được”: “Hư hỏng nặng, không ở được”), or from a
        label only like the answer or holding its words apart (“trợ cấp người cao tuổi”: “Trợ cấp hưu trí xã hội
        (người cao tuổi không có lương hưu)”), not named by its number or its label, is said back, so that a
        misreading is seen at once. (A yes, a name that answers the choice, an ethnic group typed, are not: they
        are the answer as typed.)"""
        labels = [(c.value, c.label) for c in f.choices]
        if parsing.match_choice(raw, labels, fuzzy=False) is not None:
            return False
        option = next((c for c in f.choices if c.value == value), None)
        if option is None:
            return False
        own = parsing.match_also(raw, [(c.value, c.also) for c in f.choices]) == value
        if not own and parsing.match_choice(raw, labels) == value:
            return True
        if option.for_several and not own:
            return True  # read from the words of several others
        return own and fold_words(raw) not in {fold_words(w) for w in option.also if len(w.split()) <= 2}

    def carry(self, f, raw, value):
        option = next((c for c in f.choices if c.value == value), None)
        if option is not None and option.also_answers_next:
            return parsing.also_said(raw, option.also)  # “la chu cua be”: “chú”
        if option is None or option.also_in is None or _listed_in(f, raw) != value or \
                parsing.match_choice(raw, [(c.value, c.label) for c in f.choices], fuzzy=False) is not None:
            return None  # (“9” or “Dân tộc khác” itself: nothing more to say)
        return spelling.spell(option.also_in, raw)

    def carry_later(self, f, raw, value):
        option = next((c for c in f.choices if c.value == value), None)
        if option is None or option.also_answers is None:
            return None
        said = parsing.also_said(raw, option.also_answers.words)
        return (option.also_answers.field, said) if said is not None else None

    def shortcut(self, f, msg, text, t):
        if msg.choice is not None:
            return msg.choice if msg.choice in {c.value for c in f.choices} else NO_VALUE
        shown = shown_labels(f, t) if text else None
        picked = parsing.match_choice(text, shown) if shown else None
        return NO_VALUE if picked is None else picked

    def question(self, f, path, pending, t, answers=None):
        return AskParts(kind=self.name, choices=field_choices(f, t))


KIND = Choice()
