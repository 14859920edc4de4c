"""Formulas of derived metrics: `signups / visits`, `(mrr - cac) / arpu`.

A small recursive-descent parser of numbers, metric names, `+ - * /`, unary minus and
parentheses, building a tree that is evaluated by walking it. Text from a spec is data:
it is never handed to `eval`, so `__import__('os')` is only a syntax error.

Grammar (usual precedence, left-associative):

    expr    := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := "-" unary | primary
    primary := NUMBER | NAME | "(" expr ")"

Metric names follow the store's rule (`kpitui.vocabulary.METRIC_NAME`), so a `-` right after a
name is part of the name: `mrr-cac` is one metric, `mrr - cac` is a subtraction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kpitui.literal import quoted
from kpitui.vocabulary import METRIC_NAME

_NAME_RE = re.compile(METRIC_NAME)
_NUMBER_RE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
_OPERATORS = "+-*/"


class TooLarge(ArithmeticError):
    """A value beyond the largest float (±1.8e308): an overflowed sum or formula."""


class HasNames(Protocol):
    """A parsed formula, as far as `stored_operands` needs it."""

    @property
    def names(self) -> Iterable[str]: ...


class FormulaError(ValueError):
    """A syntax error in a formula, at a 1-based column of the formula text."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.reason = message
        self.column = column


# -- the tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: float

    def __str__(self) -> str:
        v = self.value
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)


@dataclass(frozen=True)
class Name:
    name: str
    column: int = field(compare=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Negate:
    operand: Node

    def __str__(self) -> str:
        inner = str(self.operand)
        if isinstance(self.operand, Number | Name):
            return f"-{inner}"
        return f"-({inner})"


@dataclass(frozen=True)
class BinaryOp:
    op: str
    left: Node
    right: Node

    def __str__(self) -> str:
        mine = _PRECEDENCE[self.op]
        left = str(self.left)
        if isinstance(self.left, BinaryOp) and _PRECEDENCE[self.left.op] < mine:
            left = f"({left})"
        right = str(self.right)
        # `a - (b - c)` and `a / (b * c)` need their parentheses; keep them for
        # `a + (b + c)` too, so the text shows the order the numbers are combined in.
        if isinstance(self.right, BinaryOp) and _PRECEDENCE[self.right.op] <= mine:
            right = f"({right})"
        return f"{left} {self.op} {right}"


Node = Number | Name | Negate | BinaryOp
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _evaluate(node: Node, values: Mapping[str, float | None]) -> float | None:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        value = values.get(node.name)
        return None if value is None else float(value)
    if isinstance(node, Negate):
        inner = _evaluate(node.operand, values)
        return None if inner is None else -inner
    left = _evaluate(node.left, values)
    right = _evaluate(node.right, values)
    if left is None or right is None:
        return None
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        return None  # a ratio over nothing has no value; it is not an error
    return left / right


def _walk_names(node: Node, into: dict[str, int]) -> None:
    if isinstance(node, Name):
        into.setdefault(node.name, node.column)
    elif isinstance(node, Negate):
        _walk_names(node.operand, into)
    elif isinstance(node, BinaryOp):
        _walk_names(node.left, into)
        _walk_names(node.right, into)


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the metric names it uses and how to combine their values."""

    text: str
    root: Node

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.name_columns)

    @property
    def name_columns(self) -> dict[str, int]:
        """Each metric name and the 1-based column where it first appears."""
        found: dict[str, int] = {}
        _walk_names(self.root, found)
        return found

    def evaluate(self, values: Mapping[str, float | None]) -> float | None:
        """The value, or None when an operand has none or a division is by zero.
        TooLarge when the arithmetic leaves the floats (1e200 * 1e200): no number
        then, and no "no value" either — the caller says what happened."""
        result = _evaluate(self.root, values)
        if result is not None and not math.isfinite(result):
            raise TooLarge(f"{self} is too large for a number (beyond ±1.8e308)")
        return result

    def __str__(self) -> str:
        return str(self.root)


# -- the parser ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "(", ")", "end"
    text: str
    column: int


def _tokenize(text: str) -> Iterator[_Token]:
    """Tokens one at a time, so the first error in reading order is the one reported."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _OPERATORS or ch in "()":
            yield _Token("op" if ch in _OPERATORS else ch, ch, i + 1)
            i += 1
            continue
        m = _NUMBER_RE.match(text, i)
        if m:
            end = m.end()
            if end < len(text) and (text[end].isalpha() or text[end] == "_"):
                raise FormulaError(
                    f"{quoted(text[i : end + 1])} is neither a number nor a metric name "
                    "(metric names start with a letter or _)",
                    i + 1,
                )
            yield _Token("number", m.group(), i + 1)
            i = end
            continue
        m = _NAME_RE.match(text, i)
        if m:
            yield _Token("name", m.group(), i + 1)
            i = m.end()
            continue
        raise FormulaError(
            f"unexpected character {quoted(ch)}: a formula holds numbers, metric names, "
            "+ - * / and parentheses",
            i + 1,
        )
    yield _Token("end", "", len(text) + 1)


MAX_NESTING = 50
"""Parentheses and minus signs one inside another."""
MAX_TOKENS = 500
"""Numbers, names and operators in one formula."""


class _Parser:
    """Recursive descent, bounded: the nesting and the length of a formula are capped, so
    neither parsing nor walking the tree (evaluate, names, str) can exhaust the stack."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.current = next(self.tokens)
        self.count = 1
        self.depth = 0

    def advance(self) -> _Token:
        token = self.current
        if token.kind != "end":
            self.current = next(self.tokens)
            self.count += 1
            if self.count > MAX_TOKENS:
                raise FormulaError(
                    f"too long: more than {MAX_TOKENS} numbers, names and operators "
                    "(define parts of it as metrics of their own)",
                    self.current.column,
                )
        return token

    def nested(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FormulaError(
                f"nested too deeply: more than {MAX_NESTING} levels of parentheses or minus signs",
                token.column,
            )

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise FormulaError("empty formula", 1)
        node = self.expr()
        token = self.current
        if token.kind != "end":
            if token.kind == ")":
                raise FormulaError("unmatched ')'", token.column)
            raise FormulaError(
                f"unexpected {_describe(token)}: expected an operator (+ - * /)", token.column
            )
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.current.kind == "op" and self.current.text in "+-":
            op = self.advance().text
            node = BinaryOp(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.current.kind == "op" and self.current.text in "*/":
            op = self.advance().text
            node = BinaryOp(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.current.kind == "op" and self.current.text == "-":
            self.nested(self.advance())
            node = Negate(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            return Number(float(token.text))
        if token.kind == "name":
            self.advance()
            return Name(token.text, token.column)
        if token.kind == "(":
            self.nested(self.advance())
            node = self.expr()
            self.depth -= 1
            if self.current.kind != ")":
                closing = self.current
                if closing.kind == "end":
                    raise FormulaError(
                        f"'(' at column {token.column} is never closed", closing.column
                    )
                raise FormulaError(
                    f"unexpected {_describe(closing)}: expected an operator or ')'",
                    closing.column,
                )
            self.advance()
            return node
        if token.kind == "end":
            raise FormulaError(
                "the formula ends too early: expected a number or a metric name", token.column
            )
        raise FormulaError(
            f"unexpected {_describe(token)}: expected a number, a metric name or '('",
            token.column,
        )


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "end of formula"
    if token.kind == "name":
        return f"metric name {quoted(token.text)}"
    if token.kind == "number":
        return f"number {token.text}"
    return repr(token.text)


def parse_formula(text: str) -> Formula:
    """Parse a formula; raises `FormulaError` (a ValueError) naming the 1-based column."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula is text, got {quoted(text)}", 1)
    return Formula(text, _Parser(text).parse())


def stored_operands(names: Iterable[str], formula_of: Callable[[str], HasNames | None]) -> set[str]:
    """The stored metrics behind `names`: each derived one (those `formula_of` gives a
    formula) replaced by its operands, to any depth; a cycle is followed once."""
    stored: set[str] = set()
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        formula = formula_of(name)
        if formula is None:
            stored.add(name)
        else:
            pending += formula.names
    return stored
