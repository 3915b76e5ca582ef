"""Regular expressions written in procedure YAML (``pattern:`` of a field, ``matches()`` in expressions).

They are applied to what citizens type, so a pattern must never backtrack exponentially: ``(a|a)*b`` takes
23 s on 29 characters with Python's ``re``. Patterns are compiled with RE2 (``google-re2``), whose matching
time is linear in the input whatever the pattern; RE2 refuses what it cannot do in linear time
(back-references, look-around), and so do we. Patterns are also capped in length.

Without the ``re2`` module (a platform with no wheel), Python's ``re`` is used behind a stricter safe-subset
check: no back-references or look-around, no repeat inside a repeat, and no alternation inside a repeat.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Protocol

try:  # pragma: no cover - which branch runs depends on the platform
    import re2 as _re2
except ImportError:  # pragma: no cover
    _re2 = None

__all__ = ["MAX_PATTERN", "Matcher", "UnsafePattern", "check_pattern", "compile_safe", "engine"]

MAX_PATTERN = 300


class UnsafePattern(ValueError):
    """A pattern we refuse: invalid, too long, or not guaranteed to run in linear time."""


class Matcher(Protocol):
    def fullmatch(self, text: str) -> Any: ...


def engine() -> str:
    return "re2" if _re2 is not None else "re+subset"


def _parse(pattern: str) -> Any:
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - older Pythons
        import sre_parse
    return sre_parse, sre_parse.parse(pattern)


def _subset_problem(pattern: str) -> str | None:
    """Why ``pattern`` is outside the safe subset for Python's backtracking ``re`` (None if inside)."""
    sre_parse, parsed = _parse(pattern)
    repeats = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}
    if getattr(sre_parse, "POSSESSIVE_REPEAT", None) is not None:
        repeats.add(sre_parse.POSSESSIVE_REPEAT)
    refused = {sre_parse.GROUPREF: "back-reference", sre_parse.ASSERT: "look-ahead/behind",
               sre_parse.ASSERT_NOT: "look-ahead/behind"}
    if hasattr(sre_parse, "GROUPREF_EXISTS"):
        refused[sre_parse.GROUPREF_EXISTS] = "conditional group"

    def walk(items: Any, inside: bool) -> str | None:
        for op, av in items:
            if op in refused:
                return refused[op]
            if op in repeats:
                _lo, hi, sub = av
                rep = hi is sre_parse.MAXREPEAT or hi > 1
                if rep and inside:
                    return "a repeat inside a repeat, such as (a+)+"
                found = walk(sub, inside or rep)
                if found:
                    return found
            elif op is sre_parse.SUBPATTERN:
                found = walk(av[-1], inside)
                if found:
                    return found
            elif op is sre_parse.BRANCH:
                if inside:
                    return "an alternative inside a repeat, such as (a|b)*"
                for b in av[1]:
                    found = walk(b, inside)
                    if found:
                        return found
            elif op is getattr(sre_parse, "ATOMIC_GROUP", object()):
                found = walk(av, inside)
                if found:
                    return found
        return None

    return walk(parsed, False)


def check_pattern(pattern: Any) -> None:
    """Raise :class:`UnsafePattern` (a ``ValueError``) unless ``pattern`` is one we apply to citizens' text."""
    compile_safe(pattern)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> Matcher:
    try:
        re.compile(pattern)  # the syntax error messages people know
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise UnsafePattern(f"invalid regular expression: {exc}") from None
    if _re2 is not None:
        options = _re2.Options()
        options.max_mem = 8 << 20  # a huge counted repeat ({1000}{1000}) is refused, not built
        options.log_errors = False  # the error is raised to the author instead
        try:
            return _re2.compile(pattern, options)
        except Exception as exc:
            raise UnsafePattern(f"regular expression not supported in linear time (RE2): {exc}") from None
    problem = _subset_problem(pattern)
    if problem:
        raise UnsafePattern(f"regular expression can be very slow: {problem}")
    return re.compile(pattern)


def compile_safe(pattern: Any) -> Matcher:
    if not isinstance(pattern, str):
        raise UnsafePattern("a regular expression must be a string")
    if len(pattern) > MAX_PATTERN:
        raise UnsafePattern(f"regular expression longer than {MAX_PATTERN} characters")
    return _compile(pattern)
