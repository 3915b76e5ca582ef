"""Numbers and dates in Vietnamese words, as civil-status papers write them.

The birth declaration (Thông tư 04/2020/TT-BTP) has "Ngày, tháng, năm sinh: … ghi bằng chữ: …";
the registered Giấy khai sinh repeats the date in words. This module writes that line:

    >>> date_in_words(date(2026, 11, 15))
    'Ngày mười lăm, tháng mười một, năm hai nghìn không trăm hai mươi sáu'

Conventions chosen (the written, standard forms used in legal and civil-status texts, not the
spoken or regional variants):

- ``mười`` for ten itself (10–19), ``mươi`` after a tens digit of 2–9 (``hai mươi``).
- ``mốt`` for a final 1 after ``mươi`` (21 ``hai mươi mốt``), but ``một`` after ``mười``
  (11 ``mười một``) and on its own.
- ``lăm`` for a final 5 after ``mười``/``mươi`` (15 ``mười lăm``, 25 ``hai mươi lăm``), ``năm``
  otherwise (5, 105 ``một trăm linh năm``). Not the colloquial ``nhăm``.
- ``bốn`` everywhere in numbers (14 ``mười bốn``, 24 ``hai mươi bốn``): ``tư`` after ``mươi``
  is spoken/southern usage; the written standard (and the money amounts "bằng chữ" on official
  papers) use ``bốn``. The month is the exception: April is ``tháng tư``, the name of the month
  in standard Vietnamese (``tháng bốn`` is not written).
- ``linh`` (not the southern ``lẻ``) for a zero tens digit: 2005 ``hai nghìn không trăm linh năm``.
- ``không trăm`` is written when a higher group is present: 2026 ``hai nghìn không trăm hai mươi
  sáu`` (never ``hai nghìn lẻ hai mươi sáu``, which is what num2words 0.5.14 writes for ``vi`` and
  why it is not used here); ``nghìn`` (not ``ngàn``).
- Months are numbers (``tháng một`` … ``tháng mười hai``), not the lunar names ``tháng Giêng`` /
  ``tháng Chạp``: the form records a solar date. Days have no ``mùng``/``mồng``.
- Parts are separated by commas and the line starts with a capital ``Ngày``, as in the MoJ
  electronic civil-status records ("Ngày mười lăm, tháng mười một, năm …").
"""
from __future__ import annotations

from datetime import date

__all__ = ["MONTHS", "date_in_words", "number_in_words"]

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUPS = ("", "nghìn", "triệu", "tỷ")
MONTHS = ("", "một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai")


def _hundreds(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 1000; ``full``: a higher group precedes, so write ``không trăm``/``linh``."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    out: list[str] = []
    if h or full:
        out += [DIGITS[h], "trăm"]
    if t == 0:
        if u:
            if out:
                out.append("linh")
            out.append(DIGITS[u])
    elif t == 1:
        out.append("mười")
        if u:
            out.append("lăm" if u == 5 else DIGITS[u])
    else:
        out += [DIGITS[t], "mươi"]
        if u:
            out.append({1: "mốt", 5: "lăm"}.get(u, DIGITS[u]))
    return out


def number_in_words(n: int) -> str:
    """A whole number 0 ≤ n < 10¹² in Vietnamese words (lower case)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"an int is needed, not {type(n).__name__}")
    if not 0 <= n < 1000 ** len(GROUPS):
        raise ValueError(f"{n} is out of range (0 to {1000 ** len(GROUPS) - 1})")
    if n == 0:
        return DIGITS[0]
    groups = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    words: list[str] = []
    top = len(groups) - 1
    for i in range(top, -1, -1):
        g = groups[i]
        if g == 0:
            continue  # 2 000 005 → "hai triệu không trăm linh năm": an empty group is not read
        words += _hundreds(g, full=i < top)
        if GROUPS[i]:
            words.append(GROUPS[i])
    return " ".join(words)


def date_in_words(d: date) -> str:
    """``Ngày mười lăm, tháng mười một, năm hai nghìn không trăm hai mươi sáu`` for 15/11/2026."""
    return f"Ngày {number_in_words(d.day)}, tháng {MONTHS[d.month]}, năm {number_in_words(d.year)}"
