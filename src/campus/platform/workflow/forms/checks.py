"""Whether a form definition is sound, every problem at once, each naming its place.

Places are ``fields[2].key`` for the designer's list (and ``fields[2].columns[1].key`` inside a
detail table); an imported JSON Schema + UI schema pair is first read into that list
(``compile.decompile``) and then checked the same way, and its compiled schema is checked
against the JSON Schema meta-schema.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from campus.kernel.errors import FieldError, InvalidInput
from campus.kernel.i18n import LazyText, _
from campus.platform.workflow.forms import formula
from campus.platform.workflow.forms.compile import compile_fields, decompile
from campus.platform.workflow.forms.fields import (
    CHOICE,
    COLUMN_WIDGETS,
    COUNTED,
    KEY_PATTERN,
    MAX_FIELDS,
    NUMERIC,
    PREFILL_WIDGETS,
    PREFILLS,
    TEXTUAL,
    WIDGETS,
    ColumnDef,
    FieldDef,
    Option,
    VisibleIf,
)

# What a formula may read: numbers by name, tables' number columns by sum(), ranges by days().
FORMULA_NUMBERS = frozenset({"number", "money", "computed"})
NUMERIC_COLUMNS = frozenset({"number", "money"})
ORDERED_OPS = frozenset({"gt", "ge", "lt", "le"})


class _Errors:
    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def add(self, place: str, reason: LazyText | str) -> None:
        self.found.append(FieldError(place, reason))


def _check_key(errors: _Errors, place: str, key: str) -> None:
    if not re.fullmatch(KEY_PATTERN, key):
        errors.add(place, _("键应以小写字母开头，只含小写字母、数字和下划线，至多 40 个字符"))


def _check_options(errors: _Errors, place: str, options: list[Option]) -> None:
    if not options:
        errors.add(place, _("请至少设置一个选项"))
        return
    seen: set[str] = set()
    for i, option in enumerate(options):
        if not option.value:
            errors.add(f"{place}[{i}].value", _("选项的值不能为空"))
        elif option.value in seen:
            errors.add(f"{place}[{i}].value", _("选项“{value}”重复", value=option.value))
        seen.add(option.value)


def _check_bounds(errors: _Errors, place: str, item: FieldDef | ColumnDef) -> None:
    low, high = item.min, item.max
    whole = item.widget in TEXTUAL or item.widget in COUNTED
    for name, value in (("min", low), ("max", high)):
        if value is None:
            continue
        if whole and (not float(value).is_integer() or value < 0):
            errors.add(f"{place}.{name}", _("应为不小于 0 的整数"))
        if item.widget == "money" and value < 0:
            errors.add(f"{place}.{name}", _("金额不能为负数"))
    if low is not None and high is not None and low > high:
        errors.add(f"{place}.max", _("最大值不能小于最小值"))


def _check_pattern(errors: _Errors, place: str, pattern: str | None) -> None:
    if not pattern:
        return
    try:
        re.compile(pattern)
    except re.error:
        errors.add(f"{place}.pattern", _("正则表达式有误"))


def _check_columns(errors: _Errors, place: str, columns: list[ColumnDef]) -> None:
    if not columns:
        errors.add(f"{place}.columns", _("明细表至少要有一列"))
        return
    seen: set[str] = set()
    for j, column in enumerate(columns):
        at = f"{place}.columns[{j}]"
        _check_key(errors, f"{at}.key", column.key)
        if column.key in seen:
            errors.add(f"{at}.key", _("列的键“{key}”重复", key=column.key))
        seen.add(column.key)
        if not column.label:
            errors.add(f"{at}.label", _("请填写列名"))
        if column.widget not in COLUMN_WIDGETS:
            errors.add(f"{at}.widget", _("明细表的列不支持控件“{widget}”", widget=column.widget))
        if column.widget == "select":
            _check_options(errors, f"{at}.options", column.options)
        if column.sum and column.widget not in NUMERIC_COLUMNS:
            errors.add(f"{at}.sum", _("只有数字、金额列可以合计"))
        _check_bounds(errors, at, column)


def _check_visible_if(
    errors: _Errors, place: str, cond: VisibleIf, earlier: dict[str, FieldDef], keys: set[str]
) -> None:
    at = f"{place}.visible_if"
    target = earlier.get(cond.field)
    if target is None:
        if cond.field in keys:
            errors.add(f"{at}.field", _("条件只能引用在本字段之前的字段"))
        else:
            errors.add(f"{at}.field", _("条件引用的字段“{key}”不存在", key=cond.field))
        return
    if cond.op == "filled":
        return
    if cond.value is None or cond.value == "":
        errors.add(f"{at}.value", _("请填写条件的值"))
    elif cond.op == "in" and not isinstance(cond.value, list):
        errors.add(f"{at}.value", _("“属于”的值应为列表"))
    elif cond.op in ORDERED_OPS and isinstance(cond.value, list | dict | bool):
        errors.add(f"{at}.value", _("比较大小的值应为数字或日期"))
    elif cond.op == "contains" and target.widget not in ("multiselect", "text", "textarea"):
        errors.add(f"{at}.op", _("“包含”只适用于多选和文本字段"))


def _check_formula(errors: _Errors, place: str, f: FieldDef, earlier: dict[str, FieldDef]) -> None:
    at = f"{place}.formula"
    if not f.formula:
        errors.add(at, _("计算字段需要公式"))
        return
    try:
        refs = formula.parse(f.formula)
    except formula.FormulaError as exc:
        errors.add(at, exc.reason)
        return
    for name in sorted(refs.names):
        if earlier.get(name) is None or earlier[name].widget not in FORMULA_NUMBERS:
            errors.add(at, _("公式中的“{name}”不是在它之前的数字、金额或计算字段", name=name))
    for table, column in sorted(refs.sums):
        target = earlier.get(table)
        columns = {c.key: c for c in target.columns} if target and target.widget == "table" else {}
        if column not in columns or columns[column].widget not in NUMERIC_COLUMNS:
            reason = _("“{table}.{column}”不是在它之前的明细表的数字列", table=table, column=column)
            errors.add(at, reason)
    for name in sorted(refs.ranges):
        if earlier.get(name) is None or earlier[name].widget != "daterange":
            errors.add(at, _("days() 中的“{name}”不是在它之前的日期区间字段", name=name))


def _check_prefill(errors: _Errors, place: str, f: FieldDef) -> None:
    if not f.prefill:
        return
    if f.prefill not in PREFILLS:
        errors.add(f"{place}.prefill", _("未知的预填项：{name}", name=f.prefill))
    elif f.widget not in PREFILL_WIDGETS[f.prefill]:
        errors.add(f"{place}.prefill", _("此预填项不适用于这种字段"))


def _check_field(
    errors: _Errors, i: int, f: FieldDef, earlier: dict[str, FieldDef], keys: set[str]
) -> None:
    place = f"fields[{i}]"
    _check_key(errors, f"{place}.key", f.key)
    if f.key in earlier:
        errors.add(f"{place}.key", _("字段的键“{key}”重复", key=f.key))
    if not f.label:
        errors.add(f"{place}.label", _("请填写字段名称"))
    if f.widget not in WIDGETS:
        errors.add(f"{place}.widget", _("未知的控件：{widget}", widget=f.widget))
        return
    if f.widget in CHOICE:
        _check_options(errors, f"{place}.options", f.options)
    if f.widget in TEXTUAL:
        _check_pattern(errors, place, f.pattern)
    if f.widget in NUMERIC or f.widget in TEXTUAL or f.widget in COUNTED:
        _check_bounds(errors, place, f)
    if f.widget == "number" and f.step is not None and f.step <= 0:
        errors.add(f"{place}.step", _("应大于 0"))
    if f.widget == "table":
        _check_columns(errors, place, f.columns)
    if f.widget == "computed":
        _check_formula(errors, place, f, earlier)
    if f.visible_if is not None:
        _check_visible_if(errors, place, f.visible_if, earlier, keys)
    _check_prefill(errors, place, f)


def definition_errors(fields: list[FieldDef]) -> list[FieldError]:
    """Every problem of the field list (empty when it is sound)."""
    errors = _Errors()
    if not fields:
        errors.add("fields", _("表单至少要有一个字段"))
    if len(fields) > MAX_FIELDS:
        errors.add("fields", _("表单至多 {n} 个字段", n=MAX_FIELDS))
    earlier: dict[str, FieldDef] = {}
    keys = {f.key for f in fields}
    for i, f in enumerate(fields):
        _check_field(errors, i, f, earlier, keys)
        earlier.setdefault(f.key, f)
    return errors.found


def check_fields(fields: list[FieldDef]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The compiled JSON Schema and UI schema of a sound field list; InvalidInput otherwise."""
    found = definition_errors(fields)
    if found:
        raise InvalidInput(_("表单定义有误，请检查标出的地方"), errors=found)
    schema, ui_schema = compile_fields(fields)
    Draft202012Validator.check_schema(schema)  # ours, so a failure here is a bug, not input
    return schema, ui_schema


def check_import(
    schema: dict[str, Any], ui_schema: dict[str, Any]
) -> tuple[list[FieldDef], dict[str, Any], dict[str, Any]]:
    """An imported pair read into fields, checked and compiled again (so what is stored is
    always the designer's canonical form)."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        place = ".".join(str(p) for p in exc.path)
        raise InvalidInput.on(
            f"schema.{place}" if place else "schema",
            _("不是有效的 JSON Schema：{reason}", reason=exc.message),
        ) from None
    fields = decompile(schema, ui_schema)
    compiled, compiled_ui = check_fields(fields)
    return fields, compiled, compiled_ui
