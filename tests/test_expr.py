"""The safe expression language (dialogs/expr.py)."""
from __future__ import annotations

import string
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.expr import (
    MAX_DEPTH,
    MAX_SEQ,
    MAX_SOURCE,
    Expr,
    ExprError,
    compile_expr,
    is_known,
    truthy,
)

TODAY = date(2026, 11, 23)

ANSWERS = {
    "case": "death",
    "deceased.birth_date": date(1950, 3, 1),
    "deceased.death_date": date(2026, 11, 1),
    "requester.role": "child",
    "requester.age": 40,
    "members": 2,
    "members[0].relation": "spouse",
    "members[1].relation": "child",
    "documents": ["id_card", "death_note"],
    "benefit": 1_500_000,
    "name": "Đặng Thị Ánh",
    "flag": True,
}


def resolve(path: str):
    return ANSWERS.get(path)


def ev(source: str, **kw):
    kw.setdefault("today", TODAY)
    return compile_expr(source).evaluate(resolve, **kw)


# -- evaluation table ---------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    # literals
    ("1", 1), ("-2.5", -2.5), ("'x'", "x"), ("True", True), ("None", None),
    ("[1, 'a']", [1, "a"]), ("(1, 2)", (1, 2)),
    # references
    ("case", "death"),
    ("case == 'death'", True),
    ("case != 'death'", False),
    ("requester.role in ['child', 'spouse']", True),
    ("requester.role not in ('child',)", False),
    ("members[0].relation == 'spouse'", True),
    ("members[1].relation", "child"),
    ("documents[0]", "id_card"),
    ("documents[-1]", "death_note"),
    ("documents[5]", None),
    ("'id_card' in documents", True),
    # comparisons, chained
    ("requester.age >= 18", True),
    ("18 <= requester.age < 60", True),
    ("1 < 2 < 2", False),
    ("deceased.birth_date < deceased.death_date", True),
    # arithmetic
    ("1 + 2 * 3", 7), ("7 // 2", 3), ("7 % 3", 1), ("7 / 2", 3.5), ("-requester.age", -40),
    ("benefit * 12", 18_000_000), ("'ab' + 'cd'", "abcd"), ("[1] + [2]", [1, 2]), ("'ab' * 2", "abab"),
    ("1 / 0", None), ("5 % 0", None),
    # conditional
    ("'adult' if requester.age >= 18 else 'minor'", "adult"),
    # functions
    ("today()", TODAY),
    ("age(deceased.birth_date)", 76),
    ("age(deceased.birth_date, at=deceased.death_date)", 76),
    ("age(date(2000, 2, 29), at=date(2001, 2, 28))", 0),
    ("age(date(2000, 2, 29), at=date(2001, 3, 1))", 1),
    ("age(date(2000, 2, 29), date(2004, 2, 29))", 4),
    ("days_between(deceased.death_date, today())", 22),
    ("days_between(today(), deceased.death_date)", -22),
    ("len(name)", 12), ("len(documents)", 2), ("len(requester.age)", None),
    ("count(members)", 2), ("count(nobody)", 0),
    ("selected(documents, 'death_note')", True), ("selected(documents, 'x')", False),
    ("selected('a b', 'b')", True),
    ("lower('ĐẶNG')", "đặng"),
    ("fold(name)", "dang thi anh"), ("fold('  Nguyễn   Văn ĐỨC ')", "nguyen van duc"),
    ("matches('012345678901', '[0-9]{12}')", True),
    ("matches('01234567890', '[0-9]{12}')", False),
    ("matches('x012345678901', '[0-9]{12}')", False),  # full match
    ("matches(12345, r'\\d+')", True),
    ("date(2026, 2, 30)", None), ("date(2026, 2, 28)", date(2026, 2, 28)),
    # value and item
    ("value", 42), ("value > 40", True),
    ("item.relation", "child"),
])
def test_evaluation_table(source, expected):
    got = ev(source, value=42, item=lambda name: {"relation": "child"}.get(name))
    assert got == expected and type(got) is type(expected)


def test_value_navigation_and_item_paths():
    addr = {"province_code": "01", "lines": ["a", "b"]}
    assert ev("value.province_code == '01'", value=addr) is True
    assert ev("value.lines[1]", value=addr) == "b"
    assert ev("value.nope", value=addr) is None
    assert ev("value.x", value="not a dict") is None
    seen = []
    compile_expr("item.address.province_code").evaluate(resolve, item=lambda n: seen.append(n))
    assert seen == ["address.province_code"]
    assert ev("item.relation") is None  # no item resolver given


def test_resolve_gets_paths_as_written():
    seen: list[str] = []
    compile_expr("members[3].relation == 'x' or count(members) > 0 or a.b.c").evaluate(
        lambda p: seen.append(p))
    assert seen == ["members[3].relation", "members", "a.b.c"]


def test_today_defaults_to_vietnam_date():
    got = compile_expr("today()").evaluate(resolve)
    assert isinstance(got, date)
    assert abs((got - date.today()).days) <= 1


def test_dates_from_iso_strings_and_datetimes():
    assert ev("age('2000-01-02', at='2020-01-01')") == 19
    assert ev("days_between(value, '2020-01-02')", value=datetime(2020, 1, 1, 23, 0)) == 1
    assert ev("age('garbage')") is None


# -- unknowns and three-valued logic -----------------------------------------------------

U, T, F = "missing", "True", "False"


@pytest.mark.parametrize("a, b, and_, or_", [
    (T, T, True, True), (T, F, False, True), (T, U, None, True),
    (F, T, False, True), (F, F, False, False), (F, U, False, None),
    (U, T, None, True), (U, F, False, None), (U, U, None, None),
])
def test_kleene_logic(a, b, and_, or_):
    assert ev(f"{a} and {b}") is and_
    assert ev(f"{a} or {b}") is or_


def test_unknown_propagation():
    assert ev("missing") is None
    assert ev("not missing") is None
    assert ev("not False") is True
    assert ev("missing == 1") is None
    assert ev("missing != 1") is None
    assert ev("missing in ['a']") is None
    assert ev("'a' in missing") is None
    assert ev("missing + 1") is None
    assert ev("-missing") is None
    assert ev("1 < missing < 3") is None
    assert ev("3 < 2 < missing") is False  # the known part already fails
    assert ev("missing < 2 < 1") is False
    assert ev("'x' if missing else 'y'") is None
    assert ev("age(missing)") is None
    assert ev("age(deceased.birth_date, at=missing)") is None
    assert ev("len(missing)") is None and ev("lower(missing)") is None
    assert ev("missing is None") is True and ev("case is not None") is True
    assert ev("missing is None or missing > 3") is True


def test_type_errors_are_unknown():
    for src in ["'a' < 1", "'a' - 1", "[1] < ['a']", "deceased.birth_date < 3", "1 + 'a'",
                "'%s' % 1", "'a' in 3", "-'a'", "documents[0][0]", "date('a', 1, 1)", "[1] * 'a'"]:
        assert ev(src) is None, src


def test_runtime_size_limits_give_unknown():
    assert ev("value * 100", value="x" * 200) is None
    assert ev("value + value", value=[0] * (MAX_SEQ // 2 + 1)) is None
    assert ev("value * value", value=10**17) is None
    assert ev("value * 2.0", value=1e308) is None  # inf
    assert ev("value * 10", value="x" * (MAX_SEQ // 10)) == "x" * MAX_SEQ


def test_truthy_and_is_known():
    assert truthy(True) and not truthy(1) and not truthy("yes") and not truthy(None) and not truthy(False)
    assert is_known(False) and is_known(0) and not is_known(None)


# -- references ------------------------------------------------------------------------

def test_refs_extraction():
    e = compile_expr("deceased.birth_date < today() and members[0].relation == 'x' "
                     "and item.relation != requester.role and count(members) > 1 "
                     "and item.address.province_code == '01' and documents[0] == 'a'")
    assert isinstance(e, Expr)
    assert e.refs == {"deceased.birth_date", "members[].relation", "requester.role", "members", "documents"}
    assert e.item_refs == {"relation", "address.province_code"}
    assert e.functions == {"today", "count"}
    assert not e.uses_value
    v = compile_expr("value >= 0 and len(value.x) > 1")
    assert v.refs == {"value"} and v.uses_value and v.functions == {"len"}


def test_compile_is_cached():
    assert compile_expr("a == 1") is compile_expr("a == 1")


def test_multiline_and_leading_space():
    assert ev("  case == 'death'\n  and requester.age > 1\n") is True


# -- rejection -------------------------------------------------------------------------

@pytest.mark.parametrize("source, fragment", [
    ("__import__('os')", "unknown function"),
    ("__import__('os').system('x')", "only the built-in functions"),
    ("().__class__.__bases__", "not allowed"),
    ("().count", "attribute access is only allowed on field references"),
    ("case.__class__", "'__'"),
    ("open('x')", "unknown function 'open'"),
    ("eval('1')", "unknown function"),
    ("lambda: 1", "lambda"),
    ("[x for x in documents]", "comprehensions"),
    ("{x for x in documents}", "comprehensions"),
    ("any(x for x in documents)", "comprehensions"),
    ("9**9**9", "**"),
    ("'a'*10**9", "**"),
    ("'a' * 1000000000", "too long"),
    ("[0] * 1000000", "too long"),
    ("1000000000 * 1000000000 * 1000000000", "too large"),
    ("12345678901234567890123", "too large"),
    ("f'{case}'", "f-string"),
    ("(y := 1)", ":="),
    ("[*documents]", "starred"),
    ("len(*documents)", "starred"),
    ("age(x, **y)", "**"),
    ("age(x, foo=1)", "keyword"),
    ("len(x, at=1)", "keyword"),
    ("len()", "takes 1 argument"),
    ("date(1, 2)", "takes 3 arguments"),
    ("age(at=x)", "birth date"),
    ("{'a': 1}", "dictionary"),
    ("{1, 2}", "set literals"),
    ("x[y]", "constant integer indexes"),
    ("x[1:2]", "slices are not allowed"),
    ("x[-1].y", "negative"),
    ("item", "'item' must be followed"),
    ("item[0]", "'item' must be followed"),
    ("x is 1", "'is' is only allowed"),
    ("~x", "~"),
    ("x << 2", "<<"),
    ("b'x'", "bytes"),
    ("1j", "complex"),
    ("...", "ellipsis"),
    ("matches(x, y)", "string literal"),
    ("matches(x, '(')", "invalid regular expression"),
    ("matches(x, 'a{4294967296}')", "invalid regular expression"),
    ("matches(x, '(a+)+$')", "nested quantifier"),
    ("matches(x, '(a|b*)*')", "nested quantifier"),
    ("1 +", "syntax error"),
    ("a b", "syntax error"),
    ("x = 1", "syntax error"),
    ("", "empty"),
    ("   ", "empty"),
    ("a\x00", "syntax error"),
    ("a" * (MAX_SOURCE + 1), "too long"),
    ("[" + "1," * 450 + "]", "too complex"),
    ("-" * (MAX_DEPTH + 5) + "1", "nested too deeply"),
    ("(" * 250 + "1" + ")" * 250, "syntax error"),
    ("1" + "+1" * 300, "nested too deeply"),
])
def test_rejected(source, fragment):
    with pytest.raises(ExprError) as info:
        compile_expr(source)
    assert fragment in str(info.value)


def test_error_carries_position():
    with pytest.raises(ExprError) as info:
        compile_expr("case == 'x' and open('f')")
    assert info.value.column == 17
    assert "column 17" in str(info.value)
    with pytest.raises(ExprError) as info:
        compile_expr("a == ")
    assert info.value.column is not None and info.value.source == "a == "


def test_non_string_source():
    with pytest.raises(ExprError):
        compile_expr(123)  # type: ignore[arg-type]
    with pytest.raises(ExprError):
        compile_expr(["a"])  # type: ignore[arg-type]



# -- property tests --------------------------------------------------------------------

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80) | st.text(alphabet=string.printable, max_size=80))
def test_arbitrary_text_compiles_or_raises_expr_error(source):
    try:
        e = compile_expr(source)
    except ExprError:
        return
    assert isinstance(e, Expr)


values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
    | st.dates() | st.datetimes(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2),
    max_leaves=8,
)

NAMES = ["a", "b", "c.d", "m[0].x", "value", "item.y", "missing"]
BINOPS = ["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
CALLS = ["age({})", "age({}, at={})", "days_between({}, {})", "len({})", "count({})",
         "selected({}, {})", "lower({})", "fold({})", "matches({}, '[a-z]+')", "date({}, {}, {})",
         "today()"]


@st.composite
def expressions(draw, depth=0):
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        leaf = draw(st.sampled_from([*NAMES, "1", "0", "-3", "2.5", "'ab'", "None", "True", "[1, 'a']", "(2, 3)",
                                     "a[1]", "value[0]", "value.a"]))
        return leaf
    kind = draw(st.integers(0, 4))
    if kind == 0:
        op = draw(st.sampled_from(BINOPS))
        return f"({draw(expressions(depth + 1))} {op} {draw(expressions(depth + 1))})"
    if kind == 1:
        return f"({draw(st.sampled_from(['not ', '-', '+']))}{draw(expressions(depth + 1))})"
    if kind == 2:
        return (f"({draw(expressions(depth + 1))} if {draw(expressions(depth + 1))} "
                f"else {draw(expressions(depth + 1))})")
    if kind == 3:
        return f"({draw(expressions(depth + 1))} < {draw(expressions(depth + 1))} <= {draw(expressions(depth + 1))})"
    call = draw(st.sampled_from(CALLS))
    return call.format(*[draw(expressions(depth + 1)) for _ in range(call.count("{}"))])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.dictionaries(st.sampled_from(NAMES), values), values, values,
       st.one_of(st.none(), st.dates()))
def test_random_expressions_over_random_values_never_raise(source, env, value, item_value, today):
    try:
        e = compile_expr(source)
    except ExprError:
        return
    e.evaluate(env.get, value=value, item=lambda name: item_value, today=today)
