"""Submissions: from a posted HTML form to a data dict, and from a data dict to clean data.

``clean_submission`` is the server's word on what was submitted: it drops the fields hidden by
their conditions (a hidden field is never required), recomputes the computed fields (values sent
for them are ignored), validates what is left against the version's JSON Schema, checks that the
people and org units named exist, and reports every problem at once, each on its field:
``data.days``, ``data.items[2].amount``.

Names of the inputs (the renderer writes them, ``data_from_form`` reads them):
``data.<key>`` for a value (repeated for a multiple choice or attachments),
``data.<key>.start`` / ``data.<key>.end`` for a date range and
``data.<table>[<row>].<column>`` for a cell of a detail table; rows are renumbered in order, so
gaps left by rows removed in the browser do not matter.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import FieldError, InvalidInput, Problem
from campus.kernel.i18n import LazyText, _
from campus.platform.users import service as users
from campus.platform.workflow.forms import formula
from campus.platform.workflow.forms.fields import MAX_ATTACHMENTS, MAX_TABLE_ROWS, FieldDef
from campus.platform.workflow.forms.schemas import FormVersionOut

PREFIX = "data."
# Text without a maximum of its own is still bounded.
TEXT_LIMITS = {"text": 200, "textarea": 5000}
CELL_LIMIT = 500
_CELL = re.compile(r"^([a-z][a-z0-9_]*)\[(\d{1,4})\]\.([a-z][a-z0-9_]*)$")

# ---------------------------------------------------------------- from a posted HTML form


def _posted_number(text: str) -> Any:
    """A number typed into a box, or the text itself for the schema to refuse."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return int(value) if value == value.to_integral_value() and "." not in text else float(value)


def _posted_id(text: str) -> Any:
    return int(text) if text.strip().isdigit() else text


def _typed(widget: str, text: str) -> Any:
    if widget in ("number", "money", "computed"):
        return _posted_number(text)
    if widget in ("person", "org"):
        return _posted_id(text)
    return text


def _table_rows(field: FieldDef, cells: dict[int, dict[str, str]]) -> list[dict[str, Any]]:
    widgets = {c.key: c.widget for c in field.columns}
    rows = []
    for index in sorted(cells):
        row = {
            k: _typed(widgets[k], v) for k, v in cells[index].items() if k in widgets and v.strip()
        }
        if row:  # a row left blank in the browser is not a row
            rows.append(row)
    return rows


def data_from_form(version: FormVersionOut, form: Any) -> dict[str, Any]:
    """The data dict of a posted HTML form (a Starlette ``FormData`` or any multidict with
    ``getlist``), before cleaning: only this version's fields are read."""
    data: dict[str, Any] = {}
    tables: dict[str, dict[int, dict[str, str]]] = {}
    by_key = {f.key: f for f in version.fields}
    for name in dict.fromkeys(form.keys()):
        if not isinstance(name, str) or not name.startswith(PREFIX):
            continue
        _read_input(name[len(PREFIX) :], form.getlist(name), by_key, data, tables)
    for key, cells in tables.items():
        data[key] = _table_rows(by_key[key], cells)
    return data


def _read_input(
    name: str,
    values: list[Any],
    by_key: dict[str, FieldDef],
    data: dict[str, Any],
    tables: dict[str, dict[int, dict[str, str]]],
) -> None:
    texts = [v for v in values if isinstance(v, str)]
    cell = _CELL.match(name)
    if cell:
        key, row, column = cell.group(1), int(cell.group(2)), cell.group(3)
        if key in by_key and by_key[key].widget == "table" and texts:
            tables.setdefault(key, {}).setdefault(row, {})[column] = texts[-1]
        return
    key, _dot, part = name.partition(".")
    field = by_key.get(key)
    if field is None or not texts:
        return
    if field.widget == "daterange" and part in ("start", "end"):
        data.setdefault(key, {})[part] = texts[-1]
    elif field.widget in ("multiselect", "attachments") and not part:
        data[key] = [t for t in texts if t]
    elif not part:
        data[key] = _typed(field.widget, texts[-1])


# ---------------------------------------------------------------- conditions


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def condition_holds(cond: Mapping[str, Any] | None, data: Mapping[str, Any]) -> bool:
    """Whether a ``ui:visibleIf`` condition holds over the data (the browser's forms.js
    decides the same way)."""
    if not cond:
        return True
    op, wanted = cond.get("op", "eq"), cond.get("value")
    value = data.get(str(cond.get("field")))
    if op == "filled":
        return not _empty(value)
    if op == "in":
        return isinstance(wanted, list) and any(_same(value, w) for w in wanted)
    if op == "contains":
        if isinstance(value, list):
            return any(_same(v, wanted) for v in value)
        return isinstance(value, str) and str(wanted) in value
    if op in ("eq", "ne"):
        return _same(value, wanted) == (op == "eq")
    return _ordered(op, value, wanted)


def _same(a: Any, b: Any) -> bool:
    return bool(_comparable(a) == _comparable(b))


def _ordered(op: str, value: Any, wanted: Any) -> bool:
    a, b = _comparable(value), _comparable(wanted)
    if _empty(value) or type(a) is not type(b):
        return False
    try:
        return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}.get(op, False)
    except TypeError:
        return False


# ---------------------------------------------------------------- cleaning


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _tidy(value: Any) -> Any:
    """Whitespace trimmed off text, empty parts left out."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return {k: t for k, v in value.items() if not _empty(t := _tidy(v))}
    if isinstance(value, list):
        return [t for v in value if not _empty(t := _tidy(v))]
    return value


def _tidy_value(field: FieldDef, value: Any) -> Any:
    """A table keeps its rows where they are (errors name rows by their index), only their
    cells are tidied; other values are tidied as a whole."""
    if field.widget == "table" and isinstance(value, list):
        return [_tidy(row) if isinstance(row, dict) else row for row in value]
    return _tidy(value)


def _visible_data(
    fields: list[FieldDef], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """The data with hidden fields dropped and computed fields computed, field by field in
    order (a condition or a formula reads only fields before it); and the hidden keys."""
    clean: dict[str, Any] = {}
    hidden: set[str] = set()
    for f in fields:
        cond = f.visible_if.model_dump() if f.visible_if else None
        if not condition_holds(cond, clean):
            hidden.add(f.key)
            continue
        if f.widget == "computed":
            value = formula.evaluate(f.formula or "0", clean)
        else:
            value = _tidy_value(f, raw.get(f.key))
        if not _empty(value):
            clean[f.key] = value
    return clean, hidden


def _decimal_multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterable[Any]:
    """multipleOf in decimal arithmetic: 0.07 is a multiple of 0.01 (in binary floats it is not)."""
    if not validator.is_type(instance, "number"):
        return
    try:
        remainder = Decimal(str(instance)) % Decimal(str(step))
    except InvalidOperation:
        remainder = Decimal(1)
    if remainder != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


FORMATS = FormatChecker(formats=())


@FORMATS.checks("date")
def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return not isinstance(value, str)
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMATS.checks("time")
def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value):
        return False
    try:
        time.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMATS.checks("date-time")
def _is_datetime(value: object) -> bool:
    """A local date and time as a browser's datetime-local sends it, an offset allowed."""
    if not isinstance(value, str):
        return True
    pattern = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?"
    if not re.fullmatch(pattern, value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


FormValidator = extend(Draft202012Validator, {"multipleOf": _decimal_multiple_of})

_FORMAT_REASONS = {
    "date": _("日期格式不正确，应为 YYYY-MM-DD"),
    "time": _("时间格式不正确，应为 HH:MM"),
    "date-time": _("日期时间格式不正确，应为 YYYY-MM-DDTHH:MM"),
}
_TYPE_REASONS = {
    "number": _("应为数字"),
    "integer": _("应为整数"),
    "string": _("应为文本"),
    "array": _("应为列表"),
    "object": _("应为对象"),
}


def _reason(error: ValidationError) -> LazyText:
    """The failed rule in the words of a Chinese user."""
    rule, value = error.validator, error.validator_value
    if rule == "type":
        return _TYPE_REASONS.get(str(value), _("类型不正确"))
    if rule == "format":
        return _FORMAT_REASONS.get(str(value), _("格式不正确"))
    if rule == "multipleOf":
        if Decimal(str(value)) == Decimal("0.01"):
            return _("最多两位小数")
        return _("应为 {n} 的整数倍", n=value)
    simple = {
        "minLength": _("至少 {n} 个字符", n=value),
        "maxLength": _("不能超过 {n} 个字符", n=value),
        "minimum": _("不能小于 {n}", n=value),
        "maximum": _("不能大于 {n}", n=value),
        "minItems": _("至少 {n} 项", n=value),
        "maxItems": _("至多 {n} 项", n=value),
        "uniqueItems": _("不能重复"),
        "enum": _("不是可选的值"),
        "pattern": _("格式不正确"),
        "additionalProperties": _("表单中没有这一项"),
    }
    return simple.get(str(rule), _("填写有误"))


def field_name(path: Iterable[Any]) -> str:
    """``data.items[2].amount`` for the path ('items', 2, 'amount'); a date range's ends and a
    choice's items are reported on the field itself."""
    parts = list(path)
    if not parts:
        return "data"
    name = f"{PREFIX}{parts[0]}"
    if len(parts) >= 3 and isinstance(parts[1], int) and isinstance(parts[2], str):
        name += f"[{parts[1]}].{parts[2]}"
    return name


def _schema_errors(schema: dict[str, Any], data: dict[str, Any]) -> list[FieldError]:
    found: list[FieldError] = []
    for error in FormValidator(schema, format_checker=FORMATS).iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required":
            instance = error.instance if isinstance(error.instance, dict) else {}
            for key in error.validator_value:
                if key not in instance:
                    found.append(FieldError(field_name([*path, key]), _("必填")))
        elif error.validator == "additionalProperties":
            known = (error.schema.get("properties") or {}) if isinstance(error.schema, dict) else {}
            for key in error.instance:
                if key not in known:
                    found.append(FieldError(field_name([*path, key]), _reason(error)))
        else:
            found.append(FieldError(field_name(path), _reason(error)))
    return found


def _effective_schema(schema: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """The schema without the hidden fields' requirements."""
    effective = copy.copy(schema)
    effective["required"] = [k for k in schema.get("required", []) if k not in hidden]
    return effective


def _limit_errors(fields: list[FieldDef], data: dict[str, Any]) -> list[FieldError]:
    """Bounds that hold whatever the designer set: text length, rows, attachments."""
    found = []
    for f in fields:
        value = data.get(f.key)
        limit = TEXT_LIMITS.get(f.widget)
        if limit and f.max is None and isinstance(value, str) and len(value) > limit:
            found.append(FieldError(field_name([f.key]), _("不能超过 {n} 个字符", n=limit)))
        cap = {"table": MAX_TABLE_ROWS, "attachments": MAX_ATTACHMENTS}.get(f.widget)
        if cap and isinstance(value, list) and len(value) > cap:
            found.append(FieldError(field_name([f.key]), _("至多 {n} 项", n=cap)))
        if f.widget == "table" and isinstance(value, list):
            found.extend(_cell_limit_errors(f.key, value))
    return found


def _cell_limit_errors(key: str, rows: list[Any]) -> list[FieldError]:
    return [
        FieldError(field_name([key, i, column]), _("不能超过 {n} 个字符", n=CELL_LIMIT))
        for i, row in enumerate(rows)
        if isinstance(row, dict)
        for column, cell in row.items()
        if isinstance(cell, str) and len(cell) > CELL_LIMIT
    ]


def _range_errors(fields: list[FieldDef], data: dict[str, Any]) -> list[FieldError]:
    found = []
    for f in fields:
        span = data.get(f.key)
        if f.widget != "daterange" or not isinstance(span, dict):
            continue
        start, end = span.get("start"), span.get("end")
        both = isinstance(start, str) and isinstance(end, str)
        if both and _is_date(start) and _is_date(end) and str(end) < str(start):
            found.append(FieldError(field_name([f.key]), _("结束日期不能早于开始日期")))
    return found


async def _reference_errors(
    session: AsyncSession, fields: list[FieldDef], data: dict[str, Any]
) -> list[FieldError]:
    """People and org units named by the data must exist."""
    people: dict[str, int] = {
        f.key: data[f.key] for f in fields if f.widget == "person" and _is_id(data.get(f.key))
    }
    found: list[FieldError] = []
    known = await users.get_people(session, sorted(set(people.values()))) if people else {}
    for key, person_id in people.items():
        if person_id not in known:
            found.append(FieldError(field_name([key]), _("人员不存在")))
    for f in fields:
        value = data.get(f.key)
        if f.widget != "org" or not _is_id(value):
            continue
        if await users.get_org_unit(session, value) is None:
            found.append(FieldError(field_name([f.key]), _("组织机构不存在")))
    return found


def _is_id(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _in_field_order(fields: list[FieldDef], errors: list[FieldError]) -> list[FieldError]:
    rank = {f.key: i for i, f in enumerate(fields)}

    def position(error: FieldError) -> tuple[int, str]:
        key = re.split(r"[.\[]", error.field.removeprefix(PREFIX), maxsplit=1)[0]
        return rank.get(key, len(rank)), error.field

    unique = {(e.field, str(e.reason)): e for e in errors}
    return sorted(unique.values(), key=position)


async def clean_submission(
    session: AsyncSession, version: FormVersionOut, data: dict[str, Any]
) -> dict[str, Any]:
    """The clean data of a submission to ``version``; InvalidInput with every problem."""
    if not isinstance(data, dict):
        raise InvalidInput.on("data", _("应为对象"))
    fields = version.fields
    known = {f.key for f in fields}
    unknown = [FieldError(field_name([k]), _("表单中没有这一项")) for k in data if k not in known]
    clean, hidden = _visible_data(fields, data)
    errors = unknown + _schema_errors(_effective_schema(version.schema, hidden), clean)
    errors += _limit_errors(fields, clean) + _range_errors(fields, clean)
    errors += await _reference_errors(session, fields, clean)
    if errors:
        raise InvalidInput(
            _("表单填写有误，请检查标出的项"), errors=_in_field_order(fields, errors)
        )
    return clean


def attachment_ids(version: FormVersionOut, data: Mapping[str, Any]) -> list[str]:
    """Every file id the clean data attaches, in field order: the ones to pass to the files
    module's ``check_attachable`` and ``bind`` when the submission is saved."""
    ids: list[str] = []
    for f in version.fields:
        value = data.get(f.key)
        if f.widget == "attachments" and isinstance(value, list):
            ids.extend(v for v in value if isinstance(v, str) and v not in ids)
    return ids


def errors_by_field(problem: Problem) -> dict[str, str]:
    """The reasons of a refused submission by input name, as ``render_form`` shows them."""
    found: dict[str, str] = {}
    for error in problem.errors:
        found.setdefault(error.field, str(error.reason))
    return found or {"data": str(problem.detail or problem.title)}
