"""The formula parser of derived metrics: precedence, parentheses, unary minus, errors
with columns, division by zero, and that nothing is ever evaluated as Python."""

from __future__ import annotations

import pytest

from kpitui.spec.formula import FormulaError, TooLarge, parse_formula, stored_operands


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("signups / visits", {"signups": 30, "visits": 1200}, 0.025),
        ("a + b * c", {"a": 1, "b": 2, "c": 3}, 7),  # * binds tighter than +
        ("(a + b) * c", {"a": 1, "b": 2, "c": 3}, 9),
        ("a - b - c", {"a": 10, "b": 3, "c": 2}, 5),  # left-associative
        ("a / b / c", {"a": 24, "b": 3, "c": 2}, 4),
        ("a - (b - c)", {"a": 10, "b": 3, "c": 2}, 9),
        ("-a + b", {"a": 2, "b": 5}, 3),
        ("- -a", {"a": 2}, 2),
        ("-(a - b) * 2", {"a": 2, "b": 5}, 6),
        ("(mrr - cac) / arpu", {"mrr": 5000, "cac": 1000, "arpu": 50}, 80),
        ("0.5 * dau + .25", {"dau": 10}, 5.25),
        ("100 * trial_conversions / signups", {"trial_conversions": 12, "signups": 48}, 25),
        ("api.latency:p90 * 1000", {"api.latency:p90": 0.25}, 250),
        ("3", {}, 3),
    ],
)
def test_evaluates_with_usual_precedence(text, values, expected):
    # Given a formula and operand values / When evaluated / Then the arithmetic is right
    assert parse_formula(text).evaluate(values) == pytest.approx(expected)


def test_division_by_zero_has_no_value():
    # Given signups / visits with no visits / When evaluated / Then no value, not an error
    assert parse_formula("signups / visits").evaluate({"signups": 5, "visits": 0}) is None
    assert parse_formula("1 / (a - a)").evaluate({"a": 3}) is None


def test_missing_operand_has_no_value():
    # Given a formula whose operand has no points / When evaluated / Then no value
    formula = parse_formula("(mrr - cac) / arpu")
    assert formula.evaluate({"mrr": 10, "cac": None, "arpu": 2}) is None
    assert formula.evaluate({"mrr": 10, "arpu": 2}) is None


def test_names_are_the_metrics_used():
    # Given a formula using a name twice / Then names lists each once, columns where first seen
    formula = parse_formula("(mrr - cac) / mrr")
    assert formula.names == frozenset({"mrr", "cac"})
    assert formula.name_columns == {"mrr": 2, "cac": 8}


def test_a_dash_right_after_a_name_belongs_to_the_name():
    # Given metric names may contain '-' (SPEC §2) / Then `a-b` is one name, `a - b` a subtraction
    assert parse_formula("a-b").names == frozenset({"a-b"})
    assert parse_formula("a - b").names == frozenset({"a", "b"})


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("signups/visits", "signups / visits"),
        ("( ( mrr-cac ) )/arpu", "mrr-cac / arpu"),
        ("(mrr - cac)/arpu", "(mrr - cac) / arpu"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("a * (b + c)", "a * (b + c)"),
        ("a / (b * c)", "a / (b * c)"),
        ("-(a + b)", "-(a + b)"),
        ("-a * 2.50", "-a * 2.5"),
        ("1.0 + 2", "1 + 2"),
    ],
)
def test_str_is_normalised(text, normalised):
    # Given a formula written loosely / When printed / Then spacing and parentheses are minimal
    assert str(parse_formula(text)) == normalised
    # And the printed form parses back to the same formula
    assert str(parse_formula(normalised)) == normalised


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("", 1, "empty formula"),
        ("   ", 1, "empty formula"),
        ("signups /", 10, "ends too early"),
        ("signups / visits)", 17, "unmatched ')'"),
        ("(signups / visits", 18, "'(' at column 1 is never closed"),
        ("signups visits", 9, "metric name 'visits'"),
        ("a + * b", 5, "unexpected '*'"),
        ("a ^ 2", 3, "unexpected character '^'"),
        ("2x + 1", 1, "neither a number nor a metric name"),
        ("a / (b + )", 10, "unexpected ')'"),
        ("a ** b", 4, "unexpected '*'"),
        ("+a", 1, "unexpected '+'"),
        ("1.5.3", 4, "number .3"),
    ],
)
def test_syntax_errors_name_the_column(text, column, fragment):
    # Given a broken formula / When parsed / Then a ValueError names the 1-based column
    with pytest.raises(ValueError, match="column") as caught:
        parse_formula(text)
    assert isinstance(caught.value, FormulaError)
    assert caught.value.column == column
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "a if b else c",
        "[a for a in b]",
        "a.__class__()",
        "lambda: 1",
        "a; b",
        "a == b",
    ],
)
def test_python_is_never_evaluated(text):
    # Given text that would do something in Python / When parsed / Then it is only a syntax error
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_import_call_fails_at_the_parenthesis():
    # Given `__import__('os')` / Then `__import__` is a name and the '(' after it is the error
    with pytest.raises(FormulaError) as caught:
        parse_formula("__import__('os')")
    assert caught.value.column == 11
    assert "expected an operator" in caught.value.reason


def test_a_result_too_large_for_a_number_is_said_so():
    # Given a product that overflows to infinity / Then neither inf nor "no value"
    with pytest.raises(TooLarge, match="too large for a number"):
        parse_formula("a * a").evaluate({"a": 1e200})


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("(" * 300 + "a" + ")" * 300, 51, "nested too deeply"),
        ("-" * 300 + "a", 51, "nested too deeply"),
        ("+".join(["a"] * 20000), 501, "too long: more than 500"),
    ],
)
def test_a_formula_too_deep_or_too_long_is_an_error_not_a_crash(text, column, fragment):
    # Given a formula nested or chained far past any real one; When parsed
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    # Then it is one error at the column where the limit was passed
    assert fragment in str(caught.value)
    assert caught.value.column == column


def test_a_formula_at_the_limits_still_evaluates():
    # Given 50 nested parentheses and a chain of 250 additions
    nested = parse_formula("(" * 50 + "a" + ")" * 50)
    chain = parse_formula(" + ".join(["a"] * 250))
    # Then both evaluate: 1 and 250
    assert nested.evaluate({"a": 1.0}) == 1.0
    assert chain.evaluate({"a": 1.0}) == 250.0


def test_stored_operands_replace_derived_metrics_to_any_depth():
    # Given net = (signups - churned) / conv, conv = trials / signups, and a loop a = b, b = a
    formulas = {
        name: parse_formula(text)
        for name, text in {
            "net": "(signups - churned) / conv",
            "conv": "trials / signups",
            "a": "b",
            "b": "a + x",
        }.items()
    }
    # Then the stored metrics behind them are the ones no formula names
    assert stored_operands(["net", "mrr"], formulas.get) == {"signups", "churned", "trials", "mrr"}
    # And a loop is followed once
    assert stored_operands(["a"], formulas.get) == {"x"}
