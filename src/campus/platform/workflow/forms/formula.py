"""Computed fields: arithmetic over the form's number fields, evaluated safely.

A formula is parsed once into Python's syntax tree and checked node by node against a short
list (numbers, field names, + - * /, parentheses and a few functions); it is then evaluated by
simpleeval over the data, never by ``eval``. Numbers are ``Decimal`` while evaluating, so that
0.1 + 0.2 is 0.3, and the result is rounded to two decimals (yuan and fen, or days).

Functions: ``sum(table.column)`` (the column's total over the detail table's rows),
``days(range)`` (the inclusive number of days of a date range), ``round(x, n)``, ``min``,
``max``, ``abs``. The browser's live preview (static/forms.js) implements the same language.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from simpleeval import InvalidExpression, SimpleEval

from campus.kernel.i18n import LazyText, _

FUNCTIONS = ("sum", "days", "round", "min", "max", "abs")
CENT = Decimal("0.01")
MAX_LENGTH = 500
MAX_NODES = 200


class FormulaError(ValueError):
    """Why a formula cannot be used, in words for the designer."""

    def __init__(self, reason: LazyText) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass
class Refs:
    """What a formula reads: plain fields, table columns summed, date ranges counted."""

    names: set[str] = field(default_factory=set)
    sums: set[tuple[str, str]] = field(default_factory=set)
    ranges: set[str] = field(default_factory=set)


_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def parse(formula: str) -> Refs:
    """The fields the formula reads; a FormulaError if it is not in the language."""
    text = (formula or "").strip()
    if not text:
        raise FormulaError(_("公式不能为空"))
    if len(text) > MAX_LENGTH:
        raise FormulaError(_("公式不能超过 {n} 个字符", n=MAX_LENGTH))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise FormulaError(_("公式语法有误")) from None
    if sum(1 for _node in ast.walk(tree)) > MAX_NODES:
        raise FormulaError(_("公式过长"))
    refs = Refs()
    _visit(tree.body, refs)
    return refs


def _visit(node: ast.expr, refs: Refs) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(_("公式中只能使用数字常量"))
    elif isinstance(node, ast.Name):
        refs.names.add(node.id)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _OPERATORS):
            raise FormulaError(_("公式只支持 + - * / 和括号"))
        _visit(node.left, refs)
        _visit(node.right, refs)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise FormulaError(_("公式只支持 + - * / 和括号"))
        _visit(node.operand, refs)
    elif isinstance(node, ast.Call):
        _visit_call(node, refs)
    else:
        raise FormulaError(_("公式只支持数字、字段、+ - * /、括号和 sum、days 等函数"))


def _visit_call(node: ast.Call, refs: Refs) -> None:
    name = node.func.id if isinstance(node.func, ast.Name) else ""
    if name not in FUNCTIONS:
        raise FormulaError(_("未知的函数：{name}", name=name or "?"))
    if node.keywords:
        raise FormulaError(_("函数 {name} 的参数有误", name=name))
    args = node.args
    if name == "sum":
        arg = args[0] if len(args) == 1 else None
        if not (isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name)):
            raise FormulaError(_("sum 的写法是 sum(明细表.列)"))
        refs.sums.add((arg.value.id, arg.attr))
    elif name == "days":
        if len(args) != 1 or not isinstance(args[0], ast.Name):
            raise FormulaError(_("days 的写法是 days(日期区间字段)"))
        refs.ranges.add(args[0].id)
    else:
        counts = {"round": (1, 2), "abs": (1, 1)}.get(name, (1, 20))
        if not counts[0] <= len(args) <= counts[1]:
            raise FormulaError(_("函数 {name} 的参数个数有误", name=name))
        if name == "round" and len(args) == 2 and not _is_small_int(args[1]):
            raise FormulaError(_("round 的第二个参数应为 0 到 6 的整数"))
        for arg in args:
            _visit(arg, refs)


def _is_small_int(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value <= 6


# ---------------------------------------------------------------- evaluation


def decimal(value: Any) -> Decimal:
    """A number of the data as a Decimal; anything else (missing, text) counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return Decimal(0)
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
    return result if result.is_finite() else Decimal(0)


def day_count(value: Any) -> int:
    """Days of a date range, both ends included; 0 unless both ends are dates in order."""
    if not isinstance(value, dict):
        return 0
    try:
        start = date.fromisoformat(str(value.get("start")))
        end = date.fromisoformat(str(value.get("end")))
    except ValueError:
        return 0
    return (end - start).days + 1 if end >= start else 0


def _round(value: Decimal, places: int = 0) -> Decimal:
    return decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _names(refs: Refs, data: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {key: decimal(data.get(key)) for key in refs.names}
    for table, column in refs.sums:
        rows = data.get(table)
        cells = [row.get(column) for row in rows if isinstance(row, dict)] if rows else []
        names.setdefault(table, {})
        if isinstance(names[table], dict):
            names[table][column] = [decimal(cell) for cell in cells]
    for key in refs.ranges:
        names[f"__range_{key}"] = data.get(key)
    return names


def evaluate(formula: str, data: dict[str, Any]) -> int | float | None:
    """The formula's value over ``data``, rounded to two decimals; None when it cannot be
    computed (a division by zero, an overflow)."""
    refs = parse(formula)
    tree = ast.parse(formula.strip(), mode="eval")
    # days(x) reads the range itself, not a number: give it the range under its own name.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "days":
            arg = node.args[0]
            assert isinstance(arg, ast.Name)
            arg.id = f"__range_{arg.id}"
    evaluator = SimpleEval(
        names=_names(refs, data),
        functions={
            "sum": lambda cells: sum(cells, Decimal(0)),
            "days": lambda span: Decimal(day_count(span)),
            "round": _round,
            "min": min,
            "max": max,
            "abs": abs,
        },
    )
    try:
        value = evaluator.eval(ast.unparse(tree))
        result = decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except (ZeroDivisionError, InvalidOperation, InvalidExpression, ArithmeticError, TypeError):
        return None
    return int(result) if result == result.to_integral_value() else float(result)
