"""A small, safe expression language for procedure definitions.

Why one module of this size: it is a whole language — the whitelisted grammar, the compiler from the AST,
three-valued logic and the functions — whose parts are only meaningful together; the checker that
`catalog check` runs uses the same grammar tables.

Procedure definitions (``dialogs/procedures/*.yaml``) hold expressions for
field relevance (``relevant``), answer checks (``constraints[].expr``) and
eligibility rules (``ineligible_if``). They are written in a strict subset of
Python expression syntax, parsed with :mod:`ast` and compiled once into a tree
of closures. Nothing is ever passed to :func:`eval`, and no Python attribute
is ever looked up on a value.

Syntax
------
* literals: strings, integers, floats, ``True``/``False``/``None``, lists and
  tuples of expressions;
* field references: names and dotted names (``case``, ``who.birth_date``),
  with constant indexes into repeat groups (``members[0].relation``);
* ``value``: the answer being validated (``value.province_code`` looks a key up
  in a structured answer); ``item.X``: field ``X`` of the current repeat-group
  instance (resolved by the caller);
* comparisons ``== != < <= > >=`` (chainable), ``in``/``not in``, and the
  unknown-test ``x is None`` / ``x is not None``;
* ``and``/``or``/``not``, arithmetic ``+ - * / // %`` and unary ``-``/``+``,
  the conditional ``a if c else b``;
* constant integer indexes on lists (``value[0]``, ``documents[-1]``);
* calls to the functions in :data:`FUNCTIONS` only.

Unknown values and three-valued logic
-------------------------------------
A reference to an unanswered field is ``None``, meaning *unknown*. Comparisons,
arithmetic and most functions over an unknown give unknown; so do type errors
(``'a' < 1``), division by zero and results that are too large. ``not``,
``and``, ``or`` and ``a if c else b`` follow Kleene logic: ``False and None`` is
``False``, ``True or None`` is ``True``, ``not None`` is ``None``. Operands of
the logical operators are read as truth values: ``None`` stays unknown, other
non-booleans use Python truthiness (an empty string is false); the result of
``and``/``or``/``not`` is always ``True``, ``False`` or ``None``.

Callers decide what an unknown means: :func:`truthy` (only ``True`` counts) for
relevance and eligibility, ``result is False`` for constraints, so that a
check never fails on an answer that has not been given yet.

Resource limits
---------------
Sources are capped at :data:`MAX_SOURCE` characters, :data:`MAX_NODES` syntax
nodes and :data:`MAX_DEPTH` levels of nesting; integer literals and integer
results at :data:`MAX_INT` in magnitude; strings and lists built with ``+`` or
``*`` at :data:`MAX_SEQ` items; ``**`` and string formatting (``%`` on strings)
are not available. A limit broken by constants alone (``'a' * 1000000000``) is
a compile-time :class:`ExprError`; one broken at run time by answer values
gives unknown (``None``). Regular expressions must be string literals (checked
when compiling, nested quantifiers rejected, matched with RE2 in linear time, see
:mod:`dialogs.safe_re`) and are applied to at most
:data:`MAX_MATCH_INPUT` characters.
"""
from __future__ import annotations

import ast
import math
import operator
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from .safe_re import Matcher, UnsafePattern, compile_safe

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_INT",
    "MAX_MATCH_INPUT",
    "MAX_NODES",
    "MAX_SEQ",
    "MAX_SOURCE",
    "Expr",
    "ExprError",
    "compile_expr",
    "is_known",
    "is_year",
    "truthy",
]

MAX_SOURCE = 1000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_INT = 10**18
MAX_SEQ = 10_000
MAX_MATCH_INPUT = 2000

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

try:  # the shared implementation, when present
    from .textnorm import fold as _fold_text
except ImportError:  # pragma: no cover - local fallback
    def _fold_text(s: str) -> str:
        """Lower-case ``s`` and strip Vietnamese diacritics (đ → d)."""
        s = s.replace("đ", "d").replace("Đ", "d")
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
        return " ".join(s.lower().split())


class ExprError(ValueError):
    """A rejected expression: syntax error, forbidden construct or limit.

    ``message`` is the bare explanation, ``column`` the 1-based column in the
    source (or ``None``), ``source`` the expression text.
    """

    def __init__(self, message: str, source: str | None = None, column: int | None = None):
        self.message = message
        self.source = source
        self.column = column
        text = message
        if column is not None:
            text = f"{message} (at column {column})"
        super().__init__(text)


def truthy(result: Any) -> bool:
    """Whether an evaluation result counts as true: only ``True`` does."""
    return result is True


def is_known(result: Any) -> bool:
    """Whether an evaluation result is known (not ``None``)."""
    return result is not None


# --------------------------------------------------------------------------------------
# Runtime helpers. Every helper is total: bad input gives None, never an exception
# (except _Limit, which the evaluator turns into None and the compiler into ExprError).
# --------------------------------------------------------------------------------------


class _Limit(Exception):
    """A resource limit was hit while computing a value."""


_SAFE_ERRORS = (TypeError, ValueError, ArithmeticError, IndexError, KeyError, AttributeError)
_SEQ_TYPES = (str, list, tuple)
_NOT_SET = object()


class _Ctx:
    __slots__ = ("item", "resolve", "today", "value")

    def __init__(self, resolve: Callable[[str], Any], value: Any,
                 item: Callable[[str], Any] | None, today: date | None):
        self.resolve = resolve
        self.value = value
        self.item = item
        self.today = today


def _truth(v: Any) -> bool | None:
    if v is None or v is True or v is False:
        return v
    try:
        return bool(v)
    except Exception:  # pragma: no cover - exotic values from a resolver
        return None


def _check_result(r: Any) -> Any:
    if type(r) is int:
        if r > MAX_INT or r < -MAX_INT:
            raise _Limit("integer result too large")
    elif type(r) is float:
        if not math.isfinite(r):
            return None
    elif isinstance(r, _SEQ_TYPES) and len(r) > MAX_SEQ:
        raise _Limit("result too long")
    return r


def _is_int(v: Any) -> bool:
    return isinstance(v, int)  # bools included: True * 'a' is harmless


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQ_TYPES) and isinstance(b, _SEQ_TYPES) and len(a) + len(b) > MAX_SEQ:
        raise _Limit("string or list too long")
    return a + b


def _mul(a: Any, b: Any) -> Any:
    for seq, n in ((a, b), (b, a)):
        if isinstance(seq, _SEQ_TYPES) and _is_int(n) and n > 0 and len(seq) * n > MAX_SEQ:
            raise _Limit("string or list too long")
    return a * b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, (str, bytes, bytearray)):
        raise TypeError("no string formatting")
    return a % b


_BINOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", _add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", _mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", _mod),
}

_FORBIDDEN_BINOPS = {
    ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
    ast.BitXor: "^", ast.BitAnd: "&", ast.MatMult: "@",
}


def _binop(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    try:
        r = fn(a, b)
    except _SAFE_ERRORS:
        return None
    return _check_result(r)


def _in(a: Any, b: Any) -> Any:
    return a in b


def _not_in(a: Any, b: Any) -> Any:
    return a not in b


_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: _in,
    ast.NotIn: _not_in,
}


def _cmp(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    try:
        r = fn(a, b)
    except _SAFE_ERRORS:
        return None
    return r if type(r) is bool else None


def _indexer(f: Callable[[Any], Any], i: Any) -> Callable[[Any], Any]:
    return lambda c: _index(f(c), i)


def _index(v: Any, i: int) -> Any:
    if isinstance(v, (list, tuple)):
        try:
            return v[i]
        except IndexError:
            return None
    return None


def _key(v: Any, k: str) -> Any:
    return v.get(k) if isinstance(v, dict) else None


# -- functions --------------------------------------------------------------------------


def _as_date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str) and len(v) <= 32:
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def _fn_today(c: _Ctx) -> date | None:
    return c.today


def is_year(value: Any) -> bool:
    """A date answer that is a year alone (a date field's ``year_only``: “1941”, the papers showing no more)."""
    return isinstance(value, str) and len(value) == 4 and value.isdigit()


def _fn_age(c: _Ctx, birth: Any, at: Any = _NOT_SET) -> int | None:
    # a birth year alone: the age as if born on its 1 January, the most it can be, so that an age's benefit is asked
    # about, never left out; the officer checks the papers
    b = date(int(birth), 1, 1) if is_year(birth) else _as_date(birth)
    a = c.today if at is _NOT_SET else _as_date(at)
    if b is None or a is None:
        return None
    return a.year - b.year - ((a.month, a.day) < (b.month, b.day))


def _fn_days_between(c: _Ctx, a: Any, b: Any) -> int | None:
    da, db = _as_date(a), _as_date(b)
    if da is None or db is None:
        return None
    return (db - da).days


def _fn_len(c: _Ctx, x: Any) -> int | None:
    if isinstance(x, (str, list, tuple, dict, set, frozenset)):
        return len(x)
    return None


def _fn_count(c: _Ctx, g: Any) -> int | None:
    if g is None:
        return 0
    if isinstance(g, bool):
        return None
    if isinstance(g, int):
        return g if g >= 0 else None
    if isinstance(g, (list, tuple, dict)):
        return len(g)
    return None


def _fn_selected(c: _Ctx, mv: Any, opt: Any) -> bool | None:
    if mv is None or opt is None:
        return None
    if isinstance(mv, (list, tuple, set, frozenset)):
        try:
            return opt in mv
        except TypeError:
            return None
    if isinstance(mv, str):
        return isinstance(opt, str) and opt in mv.split()
    return None


def _fn_lower(c: _Ctx, s: Any) -> str | None:
    return s.lower() if isinstance(s, str) else None


def _fn_fold(c: _Ctx, s: Any) -> str | None:
    return _fold_text(s) if isinstance(s, str) else None


def _fn_others(c: _Ctx, name: Any) -> list[Any] | None:
    others = getattr(c.item, "others", None)
    if others is None or not isinstance(name, str):
        return None
    return list(others(name))


def _fn_date(c: _Ctx, y: Any, m: Any, d: Any) -> date | None:
    if not all(type(x) is int for x in (y, m, d)):
        return None
    try:
        return date(y, m, d)
    except (ValueError, OverflowError):
        return None


def _match_fn(rx: Matcher) -> Callable[..., bool | None]:
    def _fn_matches(c: _Ctx, s: Any, _pattern: Any = None) -> bool | None:
        if isinstance(s, int) and not isinstance(s, bool):
            s = str(s)
        if not isinstance(s, str) or len(s) > MAX_MATCH_INPUT:
            return None
        return rx.fullmatch(s) is not None

    return _fn_matches


#: name -> (implementation, min positional args, max positional args, description)
FUNCTIONS: dict[str, tuple[Callable[..., Any] | None, int, int, str]] = {
    "today": (_fn_today, 0, 0, "today's date (Asia/Ho_Chi_Minh, or the caller's 'today')"),
    "age": (_fn_age, 1, 2, "full years from a birth date to 'at' (default today)"),
    "days_between": (_fn_days_between, 2, 2, "days from a to b (b - a; negative if b is earlier)"),
    "len": (_fn_len, 1, 1, "length of a string or list"),
    "count": (_fn_count, 1, 1, "number of instances of a repeat group (0 if none)"),
    "selected": (_fn_selected, 2, 2, "whether a multiple-choice answer includes an option"),
    "lower": (_fn_lower, 1, 1, "lower-cased string"),
    "fold": (_fn_fold, 1, 1, "lower-cased string without Vietnamese diacritics (đ → d)"),
    "matches": (None, 2, 2, "whether a string fully matches a literal regular expression"),
    "date": (_fn_date, 3, 3, "the date year-month-day (unknown if invalid)"),
    "others": (_fn_others, 1, 1, "inside a repeat group: the answers to the named field in the group's other items"),
}

_NEEDS_TODAY = frozenset({"today", "age"})


# --------------------------------------------------------------------------------------
# The compiler
# --------------------------------------------------------------------------------------

_INDEX_RE = re.compile(r"\[-?\d+\]")

_FORBIDDEN_NODES: dict[type, str] = {
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Dict: "dictionary literals are not allowed",
    ast.Set: "set literals are not allowed; use a list [...]",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed; use a constant index such as x[0]",
}


class _C:
    """A compiled node: its closure, and its value when it is an immutable constant."""

    __slots__ = ("const", "fn")

    def __init__(self, fn: Callable[[_Ctx], Any], const: Any = _NOT_SET):
        self.fn = fn
        self.const = const

    @property
    def is_const(self) -> bool:
        return self.const is not _NOT_SET


def _constant(v: Any) -> _C:
    return _C(lambda c: v, v)


def _immutable(v: Any) -> bool:
    if v is None or type(v) in (bool, int, float, str):
        return True
    return type(v) is tuple and all(_immutable(x) for x in v)


def _nested_quantifier(pattern: str) -> bool:
    """Whether a regex repeats something that itself repeats (ReDoS-prone)."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - older Pythons
        import sre_parse
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:  # pragma: no cover - re.compile already accepted it
        return False
    repeats = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}
    possessive = getattr(sre_parse, "POSSESSIVE_REPEAT", None)
    if possessive is not None:
        repeats.add(possessive)

    def walk(items: Any, inside: bool) -> bool:
        for op, av in items:
            if op in repeats:
                _lo, hi, sub = av
                rep = hi is sre_parse.MAXREPEAT or hi > 1
                if rep and inside:
                    return True
                if walk(sub, inside or rep):
                    return True
            elif op is sre_parse.SUBPATTERN:
                if walk(av[-1], inside):
                    return True
            elif op is sre_parse.BRANCH:
                if any(walk(b, inside) for b in av[1]):
                    return True
            elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
                if walk(av[1], inside):
                    return True
            elif op is getattr(sre_parse, "ATOMIC_GROUP", object()) and walk(av, inside):
                return True
        return False

    return walk(parsed, False)


class _Compiler:
    def __init__(self, source: str):
        self.source = source
        self.refs: set[str] = set()
        self.item_refs: set[str] = set()
        self.functions: set[str] = set()

    def error(self, message: str, node: ast.AST | None = None) -> ExprError:
        col = getattr(node, "col_offset", None)
        return ExprError(message, self.source, None if col is None else col + 1)

    # -- structure checks ------------------------------------------------------
    def check_size(self, tree: ast.AST) -> None:
        count = 0
        stack: list[tuple[ast.AST, int]] = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            count += 1
            if type(node) in _FORBIDDEN_NODES:  # the most specific message first
                raise self.error(_FORBIDDEN_NODES[type(node)], node)
            if count > MAX_NODES:
                raise self.error(f"expression is too complex (more than {MAX_NODES} syntax nodes)")
            if depth > MAX_DEPTH:
                raise self.error(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", node)
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))

    # -- dispatch ---------------------------------------------------------------
    def comp(self, node: ast.AST) -> _C:
        if isinstance(node, ast.Constant):
            return self.comp_constant(node)
        if isinstance(node, ast.Name):
            return self.comp_chain(node)
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self.comp_chain(node)
        if isinstance(node, ast.BoolOp):
            return self.comp_boolop(node)
        if isinstance(node, ast.UnaryOp):
            return self.comp_unary(node)
        if isinstance(node, ast.BinOp):
            return self.comp_binop(node)
        if isinstance(node, ast.Compare):
            return self.comp_compare(node)
        if isinstance(node, ast.IfExp):
            return self.comp_ifexp(node)
        if isinstance(node, ast.Call):
            return self.comp_call(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return self.comp_sequence(node)
        msg = _FORBIDDEN_NODES.get(type(node), f"{type(node).__name__} is not allowed in expressions")
        raise self.error(msg, node)

    def fold(self, node: ast.AST, fn: Callable[[_Ctx], Any], parts: list[_C]) -> _C:
        """Evaluate ``fn`` now if all its parts are constants (limits become errors)."""
        if not all(p.is_const for p in parts):
            return _C(fn)
        try:
            v = fn(_Ctx(lambda p: None, None, None, None))
        except _Limit as exc:
            raise self.error(f"{exc} (limit: integers up to {MAX_INT:.0e}, "
                             f"strings and lists up to {MAX_SEQ} items)", node) from None
        if _immutable(v):
            return _constant(v)
        return _C(fn)

    # -- leaves ---------------------------------------------------------------------
    def comp_constant(self, node: ast.Constant) -> _C:
        v = node.value
        if v is None or type(v) in (bool, str):
            return _constant(v)
        if type(v) is int:
            if abs(v) > MAX_INT:
                raise self.error(f"integer literal too large (limit {MAX_INT:.0e})", node)
            return _constant(v)
        if type(v) is float:
            if not math.isfinite(v):
                raise self.error("float literal out of range", node)
            return _constant(v)
        raise self.error(f"{type(v).__name__} literals are not allowed", node)

    def const_index(self, node: ast.AST) -> int:
        sign = 1
        inner = node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, inner = -1, node.operand
        if isinstance(inner, ast.Constant) and type(inner.value) is int and inner.value <= MAX_SEQ:
            return sign * inner.value
        raise self.error(f"only constant integer indexes (0..{MAX_SEQ}) are allowed, as in members[0]", node)

    def comp_chain(self, node: ast.AST) -> _C:
        """Names, dotted names and constant indexes: references or list indexing."""
        steps: list[tuple[str, Any, ast.AST]] = []
        root = node
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            if isinstance(root, ast.Attribute):
                if root.attr.startswith("__"):
                    raise self.error(f"names starting with '__' are not allowed ({root.attr!r})", root)
                steps.append(("attr", root.attr, root))
            else:
                steps.append(("index", self.const_index(root.slice), root))
            root = root.value
        steps.reverse()
        last_attr = max((k for k, s in enumerate(steps) if s[0] == "attr"), default=-1)

        if not isinstance(root, ast.Name):
            if last_attr >= 0:
                raise self.error("attribute access is only allowed on field references "
                                 "(names such as deceased.birth_date)", steps[last_attr][2])
            return self.apply_indexes(self.comp(root), steps)

        name = root.id
        if name.startswith("__"):
            raise self.error(f"names starting with '__' are not allowed ({name!r})", root)

        if name == "value":
            self.refs.add("value")
            fn: Callable[[_Ctx], Any] = lambda c: c.value  # noqa: E731
            for kind, arg, _n in steps:
                fn = (lambda f, k: lambda c: _key(f(c), k))(fn, arg) if kind == "attr" \
                    else (lambda f, i: lambda c: _index(f(c), i))(fn, arg)
            return _C(fn)

        head, tail = steps[: last_attr + 1], steps[last_attr + 1:]
        if name == "item":
            if not head or head[0][0] != "attr":
                raise self.error("'item' must be followed by a field name, as in item.relation", root)
            path = self.render(head)
            self.item_refs.add(_INDEX_RE.sub("[]", path))
            base = _C(lambda c: c.item(path) if c.item is not None else None)
            return self.apply_indexes(base, tail)

        path = self.render([("attr", name, root), *head])
        self.refs.add(_INDEX_RE.sub("[]", path))
        return self.apply_indexes(_C(lambda c: c.resolve(path)), tail)

    def render(self, steps: list[tuple[str, Any, ast.AST]]) -> str:
        out: list[str] = []
        for kind, arg, n in steps:
            if kind == "attr":
                out.append(f".{arg}" if out else arg)
            else:
                if arg < 0:
                    raise self.error("negative indexes are not allowed in field paths", n)
                out.append(f"[{arg}]")
        return "".join(out)

    def apply_indexes(self, base: _C, steps: list[tuple[str, Any, ast.AST]]) -> _C:
        result = base
        for _kind, i, n in steps:
            result = self.fold(n, _indexer(result.fn, i), [result])
        return result

    # -- operators ---------------------------------------------------------------
    def comp_boolop(self, node: ast.BoolOp) -> _C:
        parts = [self.comp(v) for v in node.values]
        fns = tuple(p.fn for p in parts)
        if isinstance(node.op, ast.And):
            def fn(c: _Ctx) -> bool | None:
                unknown = False
                for f in fns:
                    t = _truth(f(c))
                    if t is False:
                        return False
                    if t is None:
                        unknown = True
                return None if unknown else True
        else:
            def fn(c: _Ctx) -> bool | None:
                unknown = False
                for f in fns:
                    t = _truth(f(c))
                    if t is True:
                        return True
                    if t is None:
                        unknown = True
                return None if unknown else False
        return self.fold(node, fn, parts)

    def comp_unary(self, node: ast.UnaryOp) -> _C:
        operand = self.comp(node.operand)
        f = operand.fn
        if isinstance(node.op, ast.Not):
            def fn(c: _Ctx) -> Any:
                t = _truth(f(c))
                return None if t is None else not t
        elif isinstance(node.op, (ast.USub, ast.UAdd)):
            op = operator.neg if isinstance(node.op, ast.USub) else operator.pos

            def fn(c: _Ctx) -> Any:
                v = f(c)
                if v is None:
                    return None
                try:
                    return _check_result(op(v))
                except (_Limit, *_SAFE_ERRORS):
                    return None
        else:
            raise self.error("operator ~ is not allowed", node)
        return self.fold(node, fn, [operand])

    def comp_binop(self, node: ast.BinOp) -> _C:
        if type(node.op) in _FORBIDDEN_BINOPS:
            raise self.error(f"operator {_FORBIDDEN_BINOPS[type(node.op)]} is not allowed", node)
        sym, op = _BINOPS[type(node.op)]
        left, right = self.comp(node.left), self.comp(node.right)
        if sym == "*":
            self.check_literal_repeat(node, left, right)
        lf, rf = left.fn, right.fn

        def fn(c: _Ctx) -> Any:
            return _binop(op, lf(c), rf(c))

        result = self.fold(node, fn, [left, right])
        if result.is_const:
            return result

        def guarded(c: _Ctx) -> Any:
            try:
                return _binop(op, lf(c), rf(c))
            except _Limit:
                return None

        return _C(guarded)

    def check_literal_repeat(self, node: ast.BinOp, left: _C, right: _C) -> None:
        """Reject ``[x] * <huge constant>`` at compile time (lists are never folded)."""
        for seq_node, n in ((node.left, right), (node.right, left)):
            if (isinstance(seq_node, (ast.List, ast.Tuple)) and n.is_const and _is_int(n.const)
                    and n.const > 0 and len(seq_node.elts) * n.const > MAX_SEQ):
                raise self.error(f"list too long (limit {MAX_SEQ} items)", node)

    def comp_compare(self, node: ast.Compare) -> _C:
        if any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            if len(node.ops) != 1 or not (isinstance(node.comparators[0], ast.Constant)
                                          and node.comparators[0].value is None):
                raise self.error("'is' is only allowed as 'x is None' or 'x is not None'", node)
            left = self.comp(node.left)
            lf = left.fn
            negate = isinstance(node.ops[0], ast.IsNot)
            return self.fold(node, lambda c: (lf(c) is None) != negate, [left])
        left = self.comp(node.left)
        rights = [self.comp(n) for n in node.comparators]
        pairs = tuple((_CMPOPS[type(op)], r.fn) for op, r in zip(node.ops, rights, strict=True))
        lf = left.fn

        if len(pairs) == 1:
            (op, rf), = pairs

            def fn(c: _Ctx) -> bool | None:
                return _cmp(op, lf(c), rf(c))
        else:
            def fn(c: _Ctx) -> bool | None:
                a = lf(c)
                unknown = False
                for op, rf in pairs:
                    b = rf(c)
                    r = _cmp(op, a, b)
                    if r is False:
                        return False
                    if r is None:
                        unknown = True
                    a = b
                return None if unknown else True
        return self.fold(node, fn, [left, *rights])

    def comp_ifexp(self, node: ast.IfExp) -> _C:
        test, body, orelse = self.comp(node.test), self.comp(node.body), self.comp(node.orelse)
        tf, bf, of = test.fn, body.fn, orelse.fn

        def fn(c: _Ctx) -> Any:
            t = _truth(tf(c))
            if t is None:
                return None
            return bf(c) if t else of(c)

        return self.fold(node, fn, [test, body, orelse])

    def comp_sequence(self, node: ast.List | ast.Tuple) -> _C:
        parts = [self.comp(e) for e in node.elts]
        if len(parts) > MAX_SEQ:  # pragma: no cover - MAX_NODES is far lower
            raise self.error("list literal too long", node)
        fns = tuple(p.fn for p in parts)
        if isinstance(node, ast.Tuple):
            return self.fold(node, lambda c: tuple(f(c) for f in fns), parts)
        if all(p.is_const for p in parts):
            consts = tuple(p.const for p in parts)
            return _C(lambda c: list(consts))  # a fresh list each time; never shared
        return _C(lambda c: [f(c) for f in fns])

    # -- calls ---------------------------------------------------------------------
    def comp_call(self, node: ast.Call) -> _C:
        if not isinstance(node.func, ast.Name):
            raise self.error("only the built-in functions can be called "
                             f"({', '.join(sorted(FUNCTIONS))})", node)
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.error(f"unknown function {name!r}; available: {', '.join(sorted(FUNCTIONS))}", node)
        impl, lo, hi, _doc = FUNCTIONS[name]
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.error("starred arguments (*x) are not allowed", a)
        args = [self.comp(a) for a in node.args]
        kwargs: dict[str, _C] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise self.error("keyword unpacking (**x) is not allowed", kw.value)
            if not (name == "age" and kw.arg == "at"):
                raise self.error(f"{name}() takes no keyword argument {kw.arg!r}"
                                 + (" (only 'at' for age())" if name != "age" else ""), kw.value)
            kwargs[kw.arg] = self.comp(kw.value)
        total = len(args) + len(kwargs)
        if name == "age" and kwargs and len(args) != 1:
            raise self.error("age() takes a birth date and optionally at=...", node)
        if not lo <= total <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.error(f"{name}() takes {want} argument{'s' if hi != 1 else ''}, got {total}", node)
        if name == "matches":
            pat = node.args[1]
            if not (isinstance(pat, ast.Constant) and isinstance(pat.value, str)):
                raise self.error("matches() needs a string literal as its regular expression", pat)
            try:
                re.compile(pat.value)
            except (re.error, OverflowError, RecursionError, ValueError) as exc:
                raise self.error(f"invalid regular expression: {exc}", pat) from None
            if _nested_quantifier(pat.value):
                raise self.error("regular expression has a nested quantifier such as (a+)+, "
                                 "which can be very slow", pat)
            try:
                rx = compile_safe(pat.value)  # RE2: linear time, so (a|a)*b cannot hang the bot either
            except UnsafePattern as exc:
                raise self.error(str(exc), pat) from None
            impl = _match_fn(rx)
        self.functions.add(name)
        assert impl is not None
        fns = tuple(a.fn for a in args) + tuple(k.fn for k in kwargs.values())
        call = impl

        if not fns:
            def fn(c: _Ctx) -> Any:
                return call(c)
        elif len(fns) == 1:
            (f0,) = fns

            def fn(c: _Ctx) -> Any:
                try:
                    return call(c, f0(c))
                except _SAFE_ERRORS:  # pragma: no cover - the functions are total
                    return None
        else:
            def fn(c: _Ctx) -> Any:
                try:
                    return call(c, *[f(c) for f in fns])
                except _SAFE_ERRORS:  # pragma: no cover - the functions are total
                    return None
        return _C(fn)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _vn_today() -> date:
    return datetime.now(VN_TZ).date()


@dataclass(frozen=True, eq=False)
class Expr:
    """A compiled expression. Build with :func:`compile_expr`.

    ``refs`` holds the field paths read by the expression, with repeat-group
    indexes normalised (``people[0].relation`` → ``"people[].relation"``;
    ``count(members)`` → ``"members"``), plus ``"value"`` when the expression
    uses ``value``. ``item_refs`` holds the names read as ``item.X`` (``"X"``),
    ``functions`` the functions called.
    """

    source: str
    refs: frozenset[str]
    item_refs: frozenset[str]
    functions: frozenset[str]
    _fn: Callable[[_Ctx], Any] = field(repr=False)

    @property
    def uses_value(self) -> bool:
        return "value" in self.refs

    def evaluate(self, resolve: Callable[[str], Any], *, value: Any = None,
                 item: Callable[[str], Any] | None = None, today: date | None = None) -> Any:
        """Evaluate against answers.

        ``resolve(path)`` gets a field path as written (``"who.birth_date"``,
        ``"members[0].relation"``, a group id for ``count(members)``) and returns
        the typed answer or ``None``. ``item(name)`` resolves ``item.name`` inside
        a repeat group. ``today`` defaults to the current date in Vietnam.
        Returns the raw value; ``None`` means unknown. Never raises for any
        values the callbacks return (exceptions raised *by* the callbacks
        propagate).
        """
        if today is None and not self.functions.isdisjoint(_NEEDS_TODAY):
            today = _vn_today()
        ctx = _Ctx(resolve, value, item, today)
        try:
            return self._fn(ctx)
        except _Limit:  # pragma: no cover - operators already turn limits into None
            return None

    def __call__(self, resolve: Callable[[str], Any], **kwargs: Any) -> Any:
        return self.evaluate(resolve, **kwargs)


def compile_expr(source: str) -> Expr:
    """Parse, check and compile ``source``; raise :class:`ExprError` if it is not allowed.

    Results are cached, so calling this on every evaluation is cheap.
    """
    if not isinstance(source, str):
        raise ExprError(f"an expression must be a string, not {type(source).__name__}")
    return _compile_cached(source)


@lru_cache(maxsize=4096)
def _compile_cached(source: str) -> Expr:
    if len(source) > MAX_SOURCE:
        raise ExprError(f"expression is too long ({len(source)} characters; limit {MAX_SOURCE})", source)
    # YAML block scalars may carry line breaks; Python's eval mode would reject them.
    text = source.replace("\r\n", "  ").replace("\r", " ").replace("\n", " ")
    if not text.strip():
        raise ExprError("expression is empty", source)
    # Leading spaces would be an indentation error; strip them but keep columns right.
    offset = len(text) - len(text.lstrip())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text.lstrip(), mode="eval")
    except SyntaxError as exc:
        if exc.offset:  # 1-based; 0 or None when the error is at the very end
            col, msg = min(exc.offset + offset, len(source) + 1), exc.msg
        else:
            col, msg = len(source.rstrip()) + 1, f"{exc.msg} (the expression ends too early)"
        raise ExprError(f"syntax error: {msg}", source, col) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise ExprError(f"syntax error: {exc}", source) from None
    if offset:
        for node in ast.walk(tree):
            if hasattr(node, "col_offset"):
                node.col_offset += offset
    comp = _Compiler(source)
    comp.check_size(tree)
    compiled = comp.comp(tree.body)
    return Expr(
        source=source,
        refs=frozenset(comp.refs),
        item_refs=frozenset(comp.item_refs),
        functions=frozenset(comp.functions),
        _fn=compiled.fn,
    )
