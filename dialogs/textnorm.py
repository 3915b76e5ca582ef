"""Vietnamese text normalisation helpers.

Citizens often type on phones without a Vietnamese keyboard, so most matching
in the bot happens on *folded* text: diacritics removed, ``đ`` → ``d``,
lower-cased, whitespace collapsed.  :func:`fold` is called on every incoming
message, so it is implemented with a single ``str.translate`` pass over a
precomputed table (no per-call Unicode normalisation).

Functions:

* :func:`fold` — accent/case-insensitive key for matching.
* :func:`nfc` — canonical composed form, for storing what the user typed.
* :func:`title_vi` — title-case a Vietnamese personal or place name.
* :func:`similarity` — 0..1 fuzzy similarity on folded text.
* :func:`close_matches` — score many already-folded candidates at once.
* :func:`vi_sort_key` — sort key in Vietnamese alphabetical order, for every
  list of names or procedures shown to people; :func:`vi_name_key` for
  people's names (by the given name first, as Vietnamese lists are).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

__all__ = ["close_matches", "fold", "fold_words", "nfc", "similarity", "title_vi", "vi_name_key", "vi_sort_key",
           "without_polite_end"]


def _build_fold_table() -> dict[int, int | None]:
    """Map accented Latin letters to their lower-case ASCII base letter.

    Covers Latin-1 Supplement, Latin Extended-A/B and Latin Extended
    Additional (where most Vietnamese precomposed letters live), and deletes
    combining diacritical marks so that NFD input folds the same way.
    """
    table: dict[int, int | None] = {}
    ranges = ((0x00C0, 0x0250), (0x1E00, 0x1F00))
    for start, stop in ranges:
        for cp in range(start, stop):
            ch = chr(cp)
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            ).lower()
            if len(base) == 1 and base.isascii() and base.isalpha():
                table[cp] = ord(base)
    # đ/Đ have no canonical decomposition.
    table[0x0110] = ord("d")
    table[0x0111] = ord("d")
    # Combining diacritical marks (NFD input, or stray marks).
    for cp in range(0x0300, 0x0370):
        table[cp] = None
    # Upper-case ASCII → lower-case, so one translate pass does most work.
    for cp in range(ord("A"), ord("Z") + 1):
        table[cp] = cp + 32
    # Common invisible characters phones insert.
    for cp in (0x200B, 0x200C, 0x200D, 0xFEFF, 0x00AD):
        table[cp] = None
    return table


_FOLD_TABLE = _build_fold_table()


def fold(s: str) -> str:
    """Return an accent-, case- and whitespace-insensitive key for ``s``.

    >>> fold("  Nguyễn   Văn ĐỨC ")
    'nguyen van duc'

    Works on both NFC and NFD input.
    """
    out = s.translate(_FOLD_TABLE)
    if not out.isascii():
        out = out.lower()
    return " ".join(out.split())


_PUNCT = re.compile(r"[^\w\s]")


def fold_words(s: str) -> str:
    """:func:`fold`, with punctuation as spaces: the words of ``s`` as matching compares them.

    >>> fold_words("Covid-19, ạ!")
    'covid 19 a'
    """
    return " ".join(_PUNCT.sub(" ", fold(s)).split())


def nfc(s: str) -> str:
    """Return ``s`` in Unicode NFC (composed) form."""
    return unicodedata.normalize("NFC", s)


# the tone of “oa”, “oe”, “uy” closing a syllable: on the second vowel in the old style (“Hoà”, “Thuỷ”), on the
# first in the style of today's lists of places (“Hòa”, “Thủy”); “Hoàng”, “quý” are written alike in both
_OLD_TONE = re.compile(r"(?<![qQ])([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])(?![^\W\d_])")


def modern_tones(s: str) -> str:
    """A name with its tone marks where today's lists of places put them: “Xã Hoà An” → “Xã Hòa An”,
    “Thuỷ Nguyên” → “Thủy Nguyên” (the old style puts the mark on the second vowel of “oa”, “oe”, “uy” that close a
    syllable); as it is otherwise.

    >>> modern_tones("Hoà Bình, Khoẻ, Thuỷ, Hoàng, Quý")
    'Hòa Bình, Khỏe, Thủy, Hoàng, Quý'
    """
    flipped = _OLD_TONE.sub(lambda m: m[1] + m[3] + m[2], unicodedata.normalize("NFD", s))
    return unicodedata.normalize("NFC", flipped)


_WORD_INITIAL_AFTER = frozenset(" \t\n-'’")


_POLITE_END = re.compile(r"(?:\s+(?:ạ|nhé|nhá|ạh|nhen))+\s*[.!]?$", re.IGNORECASE)


def without_polite_end(s: str) -> str:
    """Text without the polite words after it, as typed with their accents (“con trai ạ”, “thôn 3 nhé”): never
    a name's or an answer's own (unlike “a”, “nha”, which may be); the text as it is when it is only those."""
    return _POLITE_END.sub("", nfc(s).strip()) or s


def title_vi(s: str) -> str:
    """Title-case a Vietnamese name, robust to NFD input and odd spacing.

    Every letter that starts a word — after whitespace, a hyphen or an
    apostrophe — is upper-cased, all others lower-cased:

    >>> title_vi("nguyễn  văn an")
    'Nguyễn Văn An'
    >>> title_vi("h'hen niê")
    "H'Hen Niê"

    (``str.title`` is not used because on NFD text it treats combining marks
    as word boundaries, producing "NguyễN".)
    """
    text = " ".join(nfc(s).split())
    chars: list[str] = []
    start = True
    for ch in text:
        if ch in _WORD_INITIAL_AFTER:
            chars.append(ch)
            start = True
        elif start:
            chars.append(ch.upper())
            start = not ch.isalpha() and not ch.isdigit()
        else:
            chars.append(ch.lower())
    return "".join(chars)


@lru_cache(maxsize=4096)
def _sim_folded(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def similarity(a: str, b: str) -> float:
    """Similarity of ``a`` and ``b`` in 0..1, compared on folded text."""
    return _sim_folded(fold(a), fold(b))


def similarity_folded(a: str, b: str) -> float:
    """:func:`similarity` of two texts already folded (``fold(a) == a``): no folding again."""
    return _sim_folded(a, b)


def close_matches(query: str, candidates: Iterable[str], cutoff: float = 0.75) -> dict[str, float]:
    """Score already-folded ``candidates`` against a folded ``query``.

    Returns ``{candidate: ratio}`` for candidates whose difflib ratio is at
    least ``cutoff``.  Much faster than calling :func:`similarity` in a loop:
    the query is analysed once and cheap upper bounds skip most candidates.
    """
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(query)
    found: dict[str, float] = {}
    for cand in candidates:
        if cand in found:
            continue
        matcher.set_seq1(cand)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                found[cand] = ratio
    return found


# Vietnamese alphabetical order: the 29 letters, with ă/â after a, đ after d,
# ê after e, ô/ơ after o and ư after u (a letter-forming mark is part of the
# letter); tones only break ties, in dictionary order: none, huyền, hỏi, ngã,
# sắc, nặng. Other characters (digits, punctuation, other scripts) keep their
# code-point order and come before the letters.
_VI_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_MARKS = {"\u0306": "\u0306", "\u0302": "\u0302", "\u031b": "\u031b"}  # breve, circumflex, horn
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _vi_letter_rank() -> dict[str, int]:
    rank: dict[str, int] = {}
    for i, ch in enumerate(_VI_ALPHABET):
        rank[unicodedata.normalize("NFD", ch)] = 0x110000 + i  # after every code point
    return rank


_VI_RANK = _vi_letter_rank()


@lru_cache(maxsize=8192)
def vi_sort_key(s: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Key that sorts ``s`` the way a Vietnamese dictionary does.

    Python's default order compares code points, which puts “Đăng ký” and
    “Đổi” after “Xác nhận”. This key compares letters first (case- and
    tone-insensitively, ``đ`` after ``d``, ``ơ`` after ``ô``), then tones, then case:

    >>> sorted(["Xác nhận", "Đổi thẻ", "Đăng ký", "Cấp"], key=vi_sort_key)
    ['Cấp', 'Đăng ký', 'Đổi thẻ', 'Xác nhận']
    """
    letters: list[int] = []
    tones: list[int] = []
    cases: list[int] = []
    for ch in " ".join(s.split()):
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        letter = base.lower() + "".join(m for m in marks if m in _LETTER_MARKS)
        letters.append(_VI_RANK.get(letter, ord(base.lower())))
        tones.append(next((_TONES[m] for m in marks if m in _TONES), 0))
        cases.append(0 if base.islower() or not base.isalpha() else 1)
    return tuple(letters), tuple(tones), tuple(cases)


def vi_name_key(full_name: str) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Key that sorts people's names as Vietnamese lists do: by the given name (the last word), then by the
    whole name, each in :func:`vi_sort_key` order.

    >>> sorted(["Nguyễn Văn Bình", "Trần Thị An", "Lê Bình"], key=vi_name_key)
    ['Trần Thị An', 'Lê Bình', 'Nguyễn Văn Bình']
    """
    words = full_name.split()
    return vi_sort_key(words[-1] if words else ""), vi_sort_key(full_name)
