"""Dossier codes: short, readable, not guessable.

A code looks like ``MT-2611-7KQ4XP9Z``:

* ``MT`` — the procedure's prefix (2–4 capital letters, ``Procedure.code_prefix``);
* ``2611`` — year and month of submission (YYMM), so officers can tell a code's
  age at a glance;
* ``7KQ4XP9Z`` — 8 symbols of Crockford base32 drawn from :mod:`secrets`
  (40 random bits, about 10¹² values per prefix and month). The alphabet has
  no I, L, O or U, so a code read aloud or copied by hand is hard to get wrong.

Codes are unique with overwhelming probability, not by construction: the
store should keep a unique index and draw again on the (very unlikely)
collision. Knowing one code tells nothing about any other.

When a citizen types a code back, :func:`normalise_code` forgives lower case,
missing or extra separators (dashes, spaces, dots) and the usual Crockford
confusables (O → 0, I/L → 1) in the YYMM and random parts.
"""
from __future__ import annotations

import re
import secrets
from datetime import date

__all__ = [
    "ALPHABET",
    "RANDOM_LEN",
    "find_code",
    "is_valid_code",
    "new_dossier_code",
    "normalise_code",
]

#: Crockford base32: digits and capitals without I, L, O, U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LEN = 8  # 8 × 5 = 40 bits

_PREFIX_RE = re.compile(r"[A-Z]{2,4}")
_CODE_RE = re.compile(r"([A-Z]{2,4})-([0-9]{2}(?:0[1-9]|1[0-2]))-([0-9A-HJKMNP-TV-Z]{8})")
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS_RE = re.compile(r"[\s\-‐‑‒–—_.·/]+")
# Something shaped like a code inside free text (letters, 4 digit-ish, 8 symbols).
_FIND_RE = re.compile(
    r"(?<![0-9A-Za-z])([A-Za-z]{2,4})[\s\-–—_.]?([0-9OoIiLl]{4})[\s\-–—_.]?([0-9A-Za-z]{8})(?![0-9A-Za-z])"
)


def new_dossier_code(prefix: str, when: date) -> str:
    """A fresh code ``PREFIX-YYMM-XXXXXXXX`` for a dossier submitted on ``when``.

    ``prefix`` must be 2–4 letters A–Z (lower case is accepted and upper-cased).
    """
    p = prefix.upper() if isinstance(prefix, str) else prefix
    if not isinstance(p, str) or not _PREFIX_RE.fullmatch(p):
        raise ValueError(f"code prefix must be 2-4 letters A-Z, got {prefix!r}")
    bits = secrets.randbits(5 * RANDOM_LEN)
    token = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(RANDOM_LEN)))
    return f"{p}-{when:%y%m}-{token}"


def is_valid_code(s: str) -> bool:
    """Whether ``s`` is a code in canonical form (as issued: upper case, dashes)."""
    return isinstance(s, str) and _CODE_RE.fullmatch(s) is not None


def normalise_code(s: str) -> str | None:
    """The canonical form of a code as typed by a citizen, or ``None`` if it cannot be one.

    Accepts lower case, missing/extra separators and O/I/L for 0/1/1 after the
    prefix: ``" mt 2611 7kq4xp9z "`` and ``"MT-26II-7KQ4XP9Z"`` both give
    ``"MT-2611-7KQ4XP9Z"``.
    """
    if not isinstance(s, str) or len(s) > 64:
        return None
    compact = _SEPARATORS_RE.sub("", s).upper()
    # YYMM + random part are always 12 symbols, so the prefix is whatever is left.
    if not 2 + 12 <= len(compact) <= 4 + 12:
        return None
    prefix, rest = compact[:-12], compact[-12:].translate(_CONFUSABLES)
    code = f"{prefix}-{rest[:4]}-{rest[4:]}"
    return code if _CODE_RE.fullmatch(code) else None


def find_code(text: str) -> str | None:
    """The first dossier code found in a free-text message, normalised; else ``None``.

    >>> find_code("cho tôi tra cứu hồ sơ mt-2611-7kq4xp9z với")
    'MT-2611-7KQ4XP9Z'
    """
    if not isinstance(text, str):
        return None
    for m in _FIND_RE.finditer(text[:2000]):
        code = normalise_code("".join(m.groups()))
        if code is not None:
            return code
    return None
