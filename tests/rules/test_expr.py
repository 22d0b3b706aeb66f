"""The rule language: tokenizer, parser, type checks, three-valued evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, RuleSyntaxError
from segml.rules import expr as E


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.0, 2.0, np.nan, 4.0],
            "y": [4.0, 2.0, 1.0, np.nan],
            "s": pd.array(["a", "b", None, "a"], dtype="str"),
            "flag": [True, False, True, False],
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
        }
    )


def ev(text: str, df: pd.DataFrame | None = None, thresholds=None) -> list[bool]:
    df = frame() if df is None else df
    node = E.parse(text)
    E.check(node, E.column_kinds(df), text)
    thr = thresholds
    if thr is None:
        thr = E.resolve_thresholds([node], df, texts=[text], rules=["r"])
    return E.evaluate(node, df, thr).tolist()


# ----------------------------------------------------------------- tokenizer


def test_tokenize_values_and_spans():
    toks = E.tokenize("`odd col` >= -1.5e1 AND s == 'x'")
    assert [t.type for t in toks] == [
        "name",
        "op",
        "op",
        "number",
        "keyword",
        "name",
        "op",
        "string",
        "eof",
    ]
    assert toks[0].value == "odd col" and (toks[0].pos, toks[0].end) == (0, 9)
    assert toks[3].value == 15.0
    assert toks[4].value == "and"  # keywords are case-insensitive


def test_string_escapes():
    assert E.parse(r"s == 'it\'s'").right.value == "it's"
    assert E.parse('s == "say \\"hi\\""').right.value == 'say "hi"'


# -------------------------------------------------------------------- parser


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a > 1 and b < 2 or c == 3", "(((a > 1) and (b < 2)) or (c == 3))"),
        ("a > 1 and (b < 2 or c == 3)", "((a > 1) and ((b < 2) or (c == 3)))"),
        ("not a > 1 and b", "((not (a > 1)) and b)"),
        ("not not flag", "(not (not flag))"),
        ("x between 1 and 2 and y", "((x between 1 and 2) and y)"),
        ("x not between 1 + 1 and 3 * 2", "(x not between (1 + 1) and (3 * 2))"),
        ("s in ('a', 'b')", "(s in ('a', 'b'))"),
        ("n not in (1, -2, 3.5)", "(n not in (1, -2, 3.5))"),
        ("x is missing or y is not missing", "((x is missing) or (y is not missing))"),
        ("(f + m) / 2 >= 4", "(((f + m) / 2) >= 4)"),
        ("a - b - c > 0", "(((a - b) - c) > 0)"),
        ("-x < 2", "((-x) < 2)"),
        ("x >= quantile(x, 0.8)", "(x >= quantile(x, 0.8))"),
        ("MEDIAN(x) < x", "(median(x) < x)"),
        ("true", "true"),
        ("`Annual Income (k$)` > 50", "(`Annual Income (k$)` > 50)"),
        ("`in` == 1", "(`in` == 1)"),
    ],
)
def test_parse_precedence(text, canonical):
    tree = E.parse(text)
    assert E.unparse(tree) == canonical
    assert E.parse(E.unparse(tree)) == E.parse(canonical)


names = st.sampled_from(["a", "b", "r_score", "in_x", "col 1"])
nums = st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3))
strings = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)


def _col(name):
    return E.Col(0, 0, name)


values = st.one_of(
    names.map(_col),
    nums.map(lambda v: E.Num(0, 0, float(v))),
)
comparisons = st.one_of(
    st.builds(
        lambda op, left, r: E.Cmp(0, 0, op, left, r),
        st.sampled_from(E._COMPARISONS),
        values,
        values,
    ),
    st.builds(lambda c, v: E.Cmp(0, 0, "==", _col(c), E.Str(0, 0, v)), names, strings),
    st.builds(
        lambda c, vs, neg: E.In(0, 0, _col(c), tuple(E.Str(0, 0, v) for v in vs), neg),
        names,
        st.lists(strings, min_size=1, max_size=3),
        st.booleans(),
    ),
    st.builds(lambda c, neg: E.IsMissing(0, 0, _col(c), neg), names, st.booleans()),
    st.builds(
        lambda c, lo, hi, neg: E.Between(0, 0, _col(c), lo, hi, neg),
        names,
        values,
        values,
        st.booleans(),
    ),
)
conditions = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.builds(lambda a, b: E.And(0, 0, a, b), inner, inner),
        st.builds(lambda a, b: E.Or(0, 0, a, b), inner, inner),
        st.builds(lambda a: E.Not(0, 0, a), inner),
    ),
    max_leaves=8,
)


def _strip(node):
    """Zero every span so trees compare by structure only."""
    fields = {}
    for k in node.__dataclass_fields__:
        v = getattr(node, k)
        if isinstance(v, E.Node):
            v = _strip(v)
        elif isinstance(v, tuple):
            v = tuple(_strip(x) if isinstance(x, E.Node) else x for x in v)
        fields[k] = v
    fields["pos"] = fields["end"] = 0
    return type(node)(**fields)


@settings(max_examples=200, deadline=None)
@given(conditions)
def test_unparse_parse_roundtrip(tree):
    text = E.unparse(tree)
    assert _strip(E.parse(text)) == _strip(tree)


# -------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "match", "caret_at"),
    [
        ("a = 1", r"unknown operator '='[\s\S]*use '==' instead", 2),
        ("a > 1 && b", r"unknown operator '&&'[\s\S]*use 'and' instead", 6),
        ("a <> 1", r"unknown operator '<>'[\s\S]*use '!=' instead", 2),
        ("a => 1", r"unknown operator '=>'[\s\S]*use '>=' instead", 2),
        ("!a", r"unknown operator '!'[\s\S]*use 'not' instead", 0),
        ("(a > 1 and b < 2", r"unbalanced parenthesis: expected '\)', got end of expression", 0),
        ("a > 1)", r"unexpected '\)'[\s\S]*no matching '\('", 5),
        ("a >", r"unexpected end of expression[\s\S]*expected a column", 3),
        ("", r"empty expression", 0),
        ("1 < x < 3", r"cannot chain comparisons", 6),
        ("a > 1 b < 2", r"unexpected 'b'[\s\S]*join conditions with 'and' / 'or'", 6),
        ("a > 1 not b", r"unexpected 'not'", 6),
        ("x between 1 or 2", r"expected 'and' in `x between low and high`, got 'or'", 12),
        ("s in 'a'", r"expected '\(' after 'in'", 5),
        ("s in ()", r"empty list after 'in'", 6),
        ("s in ('a' 'b')", r"expected ',' or '\)' in the list", 10),
        ("x is none", r"expected 'missing' after 'is'", 5),
        ("x not > 1", r"unexpected 'not'[\s\S]*only `not between` / `not in`", 2),
        ("foo(x) > 1", r"unknown function 'foo'[\s\S]*median\(col\), quantile\(col, q\)", 0),
        ("quantile(x) > 1", r"expected ',' and a level in \[0, 1\]", 10),
        ("quantile(x, 1.5) > 1", r"quantile level must be a number between 0 and 1", 12),
        ("median(3) > 1", r"expected a column name in median", 7),
        ("s == 'abc", r"unterminated string", 5),
        ("`abc > 1", r"unterminated quoted column name", 0),
        ("x > 1 ; y", r"unexpected character ';'", 6),
        ("and x", r"unexpected keyword 'and'", 0),
    ],
)
def test_syntax_errors_point_at_the_token(text, match, caret_at):
    with pytest.raises(RuleSyntaxError, match=match) as info:
        E.parse(text, rule="r1")
    msg = str(info.value)
    assert msg.startswith("rule 'r1': ")
    lines = msg.splitlines()
    assert lines[1] == "    " + text
    assert lines[2].index("^") - 4 == caret_at
    assert info.value.position == caret_at
    assert info.value.rule == "r1"


def test_caret_covers_the_whole_token():
    with pytest.raises(RuleSyntaxError, match=r"\n    a > 1 \|\| b\n          \^\^\n"):
        E.parse("a > 1 || b")


def test_non_string_condition_is_config_error():
    with pytest.raises(ConfigError, match=r"rule 'r': a condition must be a string, got int"):
        E.parse(3, rule="r")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("z > 1", r"unknown column 'z'[\s\S]*known columns: flag, n, s, x, y"),
        ("xx > 1", r"unknown column 'xx'[\s\S]*did you mean 'x'\?"),
        ("flg", r"unknown column 'flg'[\s\S]*did you mean 'flag'\?"),
        ("s > 'a'", r"'>' compares numbers, got a string[\s\S]*use == / != / in"),
        ("s == 1", r"cannot compare a string with a number"),
        ("flag == 1", r"cannot compare a condition \(true/false\) with a number"),
        ("x == 'a'", r"cannot compare a number with a string"),
        ("x", r"a rule must be a condition, got a number"),
        ("x + 1", r"a rule must be a condition, got a number"),
        ("s + 1 > 2", r"arithmetic needs numbers, got a string"),
        ("x and flag", r"'and' needs conditions, got a number"),
        ("not s", r"'not' needs conditions, got a string"),
        ("s between 1 and 2", r"'between' needs numbers, got a string"),
        ("s in (1, 2)", r"list value is a number but the column holds a string"),
        ("x in (y)", r"the list after 'in' may only hold literal values"),
        ("median(s) > 1", r"median\(\) needs a numeric column, 's' is not"),
    ],
)
def test_check_errors(text, match):
    df = frame()
    with pytest.raises(RuleSyntaxError, match=match):
        E.check(E.parse(text), E.column_kinds(df), text, rule="r")


def test_unsupported_dtype_is_reported():
    df = pd.DataFrame({"d": pd.to_datetime(["2020-01-01"])})
    with pytest.raises(RuleSyntaxError, match=r"column 'd' has an unsupported dtype"):
        E.check(E.parse("d > 1"), E.column_kinds(df), "d > 1")


def test_threshold_on_all_missing_column():
    df = pd.DataFrame({"x": [np.nan, np.nan]})
    node = E.parse("x > median(x)")
    with pytest.raises(ConfigError, match=r"cannot compute median\(x\).*no non-missing value"):
        E.resolve_thresholds([node], df, texts=["x > median(x)"], rules=["r"])


# ---------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x > 1", [False, True, False, True]),
        ("x <= 2", [True, True, False, False]),
        ("x != 2", [True, False, False, True]),
        # unknown stays unknown under not (SQL three-valued logic)
        ("not x > 1", [True, False, False, False]),
        ("x > 1 or flag", [True, True, True, True]),
        ("x > 1 and flag", [False, False, False, False]),
        ("not (x > 1 and y > 1)", [True, False, True, False]),  # row 2: unknown and false
        ("x < y", [True, False, False, False]),
        ("x between 2 and 4", [False, True, False, True]),
        ("x not between 2 and 4", [True, False, False, False]),
        ("s == 'a'", [True, False, False, True]),
        ("s != 'a'", [False, True, False, False]),
        ("s in ('a', 'b')", [True, True, False, True]),
        ("s not in ('a')", [False, True, False, False]),
        ("s is missing", [False, False, True, False]),
        ("x is not missing", [True, True, False, True]),
        ("flag", [True, False, True, False]),
        ("flag == false", [False, True, False, True]),
        ("n in (1, 4)", [True, False, False, True]),
        ("n >= 3", [False, False, True, True]),
        ("(x + y) / 2 >= 2", [True, True, False, False]),
        ("x / (y - 2) > 0", [True, False, False, False]),  # row 1 divides by zero: unknown
        ("-x < -1.5", [False, True, False, True]),
        ("true", [True, True, True, True]),
        ("false or x == 1", [True, False, False, False]),
        ("x > median(x)", [False, False, False, True]),
        ("x >= quantile(x, 0.5)", [False, True, False, True]),
    ],
)
def test_evaluate(text, expected):
    assert ev(text) == expected


def test_thresholds_resolved_over_non_missing_values():
    df = frame()
    nodes = [E.parse("x > median(x)"), E.parse("y < quantile(y, 0.25) or y > median(y)")]
    thr = E.resolve_thresholds(nodes, df, texts=["", ""], rules=["a", "b"])
    assert thr == {"median(x)": 2.0, "quantile(y, 0.25)": 1.5, "median(y)": 2.0}


def test_categorical_and_object_columns():
    df = pd.DataFrame(
        {
            "c": pd.Categorical(["A", "B", None]),
            "o": pd.Series(["u", None, "v"], dtype=object),
            "b": pd.array([True, None, False], dtype="boolean"),
            "k": pd.Categorical([1, 2, 3]),
        }
    )
    assert ev("c == 'A'", df) == [True, False, False]
    assert ev("o in ('v')", df) == [False, False, True]
    assert ev("b", df) == [True, False, False]
    assert ev("not b", df) == [False, False, True]
    assert ev("b is missing", df) == [False, True, False]
    assert ev("k >= 2", df) == [False, True, True]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=20))
def test_excluded_middle_holds_for_known_values(xs):
    df = pd.DataFrame({"x": pd.array(xs, dtype="Float64")})
    a = np.array(ev("x > 0", df))
    b = np.array(ev("not x > 0", df))
    miss = np.array(ev("x is missing", df))
    assert not (a & b).any()
    assert ((a | b) == ~miss).all()
