"""The designer's field list ⇄ the stored pair of JSON Schema (draft 2020-12) and UI schema.

``compile_fields`` keeps only the settings that mean something for each widget, so that
``decompile(*compile_fields(fields))`` gives the same list back in its canonical form, and
compiling that again gives the very same schemas. ``decompile`` also reads schemas written
elsewhere: a property without ``ui:widget`` gets the widget its JSON type implies.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from campus.kernel.errors import FieldError, InvalidInput, validation_field_errors
from campus.kernel.i18n import _
from campus.platform.workflow.forms.fields import (
    CHOICE,
    COUNTED,
    NUMERIC,
    TEXTUAL,
    WITH_PLACEHOLDER,
    ColumnDef,
    FieldDef,
    Option,
    column_sums,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# Ids handed out by the files module: opaque and URL-safe (22 characters today, 32 at most).
FILE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,32}$"
MONEY_STEP = 0.01

Schema = dict[str, Any]


def number(value: float) -> int | float:
    """JSON's number as people write it: 3 rather than 3.0."""
    return int(value) if float(value).is_integer() else value


def _bounds(schema: Schema, low: str, high: str, f: FieldDef | ColumnDef, *, whole: bool) -> None:
    cast = (lambda v: int(v)) if whole else number
    if f.min is not None:
        schema[low] = cast(f.min)
    if f.max is not None:
        schema[high] = cast(f.max)


# ---------------------------------------------------------------- fields → schemas


def _value_schema(f: FieldDef | ColumnDef) -> Schema:
    """The JSON Schema of one value (a field's, or a table cell's)."""
    widget = f.widget
    if widget in TEXTUAL:
        schema: Schema = {"type": "string"}
        _bounds(schema, "minLength", "maxLength", f, whole=True)
        if isinstance(f, FieldDef) and f.pattern:
            schema["pattern"] = f.pattern
        return schema
    if widget == "number":
        schema = {"type": "number"}
        _bounds(schema, "minimum", "maximum", f, whole=False)
        if isinstance(f, FieldDef) and f.step:
            schema["multipleOf"] = number(f.step)
        return schema
    if widget == "money":
        schema = {"type": "number", "multipleOf": MONEY_STEP, "minimum": 0}
        _bounds(schema, "minimum", "maximum", f, whole=False)
        schema["minimum"] = max(schema["minimum"], 0)
        return schema
    if widget in ("date", "time", "datetime"):
        return {"type": "string", "format": {"datetime": "date-time"}.get(widget, widget)}
    if widget == "daterange":
        day = {"type": "string", "format": "date"}
        return {
            "type": "object",
            "properties": {"start": dict(day), "end": dict(day)},
            "required": ["start", "end"],
            "additionalProperties": False,
        }
    if widget == "select":
        return {"type": "string", "enum": [o.value for o in f.options]}
    if widget in ("person", "org"):
        return {"type": "integer", "minimum": 1}
    if widget == "computed":
        return {"type": "number", "readOnly": True}
    return {}


def _field_schema(f: FieldDef) -> Schema:
    if f.widget == "multiselect":
        schema: Schema = {
            "type": "array",
            "items": {"type": "string", "enum": [o.value for o in f.options]},
            "uniqueItems": True,
        }
    elif f.widget == "attachments":
        schema = {"type": "array", "items": {"type": "string", "pattern": FILE_ID_PATTERN}}
    elif f.widget == "table":
        schema = {"type": "array", "items": _row_schema(f.columns)}
    else:
        schema = _value_schema(f)
    if f.widget in COUNTED:
        _bounds(schema, "minItems", "maxItems", f, whole=True)
    return {"title": f.label or f.key, **schema}


def _row_schema(columns: list[ColumnDef]) -> Schema:
    return {
        "type": "object",
        "properties": {c.key: {"title": c.label or c.key, **_value_schema(c)} for c in columns},
        "required": [c.key for c in columns if c.required],
        "additionalProperties": False,
    }


def _labels(options: list[Option]) -> dict[str, str]:
    return {o.value: o.label or o.value for o in options}


def _field_ui(f: FieldDef) -> Schema:
    ui: Schema = {"ui:widget": f.widget}
    if f.help:
        ui["ui:help"] = f.help
    if f.placeholder and f.widget in WITH_PLACEHOLDER:
        ui["ui:placeholder"] = f.placeholder
    if f.widget in CHOICE:
        ui["ui:labels"] = _labels(f.options)
    if f.visible_if is not None:
        ui["ui:visibleIf"] = f.visible_if.model_dump(exclude_none=True)
    if f.prefill:
        ui["ui:prefill"] = f.prefill
    if f.widget == "computed" and f.formula:
        ui["ui:formula"] = f.formula
    if f.widget == "table":
        ui["ui:columns"] = [_column_ui(c) for c in f.columns]
        sums = column_sums(f)
        if sums:
            ui["ui:sum"] = sums
    return ui


def _column_ui(c: ColumnDef) -> Schema:
    ui: Schema = {"key": c.key, "ui:widget": c.widget}
    if c.widget == "select":
        ui["ui:labels"] = _labels(c.options)
    return ui


def compile_fields(fields: list[FieldDef]) -> tuple[Schema, Schema]:
    """The JSON Schema and the UI schema of the fields (check them first: ``checks.py``)."""
    schema: Schema = {
        "$schema": DRAFT,
        "type": "object",
        "properties": {f.key: _field_schema(f) for f in fields},
        "required": [f.key for f in fields if f.required and f.widget != "computed"],
        "additionalProperties": False,
    }
    ui: Schema = {"ui:order": [f.key for f in fields]}
    for f in fields:
        ui[f.key] = _field_ui(f)
    return schema, ui


# ---------------------------------------------------------------- schemas → fields


def _guess_widget(schema: Schema) -> str:
    """The widget a property written without a UI schema implies."""
    kind = schema.get("type")
    if kind == "string":
        if "enum" in schema:
            return "select"
        return {"date": "date", "time": "time", "date-time": "datetime"}.get(
            schema.get("format", ""), "text"
        )
    if kind in ("number", "integer"):
        return "computed" if schema.get("readOnly") else "number"
    if kind == "array":
        items = schema.get("items") or {}
        if items.get("type") == "object":
            return "table"
        return "multiselect" if "enum" in items else "attachments"
    if kind == "object":
        return "daterange"
    return str(kind or "")


def _options(values: Any, labels: Any) -> list[dict[str, Any]]:
    labels = labels if isinstance(labels, dict) else {}
    if not isinstance(values, list):
        return []
    return [{"value": str(v), "label": str(labels.get(str(v), v))} for v in values]


def _read_bounds(out: dict[str, Any], schema: Schema, widget: str) -> None:
    if widget in TEXTUAL:
        low, high = "minLength", "maxLength"
    elif widget in NUMERIC:
        low, high = "minimum", "maximum"
    elif widget in COUNTED:
        low, high = "minItems", "maxItems"
    else:
        return
    if low in schema and not (widget == "money" and schema[low] == 0):
        out["min"] = schema[low]
    if high in schema:
        out["max"] = schema[high]


def _column_def(key: str, schema: Schema, ui: Schema, required: bool) -> dict[str, Any]:
    widget = ui.get("ui:widget") or _guess_widget(schema)
    column: dict[str, Any] = {
        "key": key,
        "label": schema.get("title", key),
        "widget": widget,
        "required": required,
    }
    if widget == "select":
        column["options"] = _options(schema.get("enum"), ui.get("ui:labels"))
    _read_bounds(column, schema, widget)
    return column


def _columns(schema: Schema, ui: Schema) -> list[dict[str, Any]]:
    row = schema.get("items") or {}
    properties = row.get("properties") or {}
    required = set(row.get("required") or [])
    uis = {str(c.get("key")): c for c in ui.get("ui:columns") or [] if isinstance(c, dict)}
    order = [k for k in uis if k in properties] + [k for k in properties if k not in uis]
    sums = set(ui.get("ui:sum") or [])
    columns = []
    for key in order:
        column = _column_def(key, properties[key] or {}, uis.get(key, {}), key in required)
        column["sum"] = key in sums
        columns.append(column)
    return columns


def _field_def(key: str, schema: Schema, ui: Schema, required: bool) -> dict[str, Any]:
    widget = ui.get("ui:widget") or _guess_widget(schema)
    field: dict[str, Any] = {
        "key": key,
        "label": schema.get("title", key),
        "widget": widget,
        "required": required,
        "help": ui.get("ui:help", ""),
        "placeholder": ui.get("ui:placeholder", "") if widget in WITH_PLACEHOLDER else "",
    }
    if widget == "select":
        field["options"] = _options(schema.get("enum"), ui.get("ui:labels"))
    elif widget == "multiselect":
        field["options"] = _options((schema.get("items") or {}).get("enum"), ui.get("ui:labels"))
    elif widget == "table":
        field["columns"] = _columns(schema, ui)
    _read_bounds(field, schema, widget)
    if widget in TEXTUAL and "pattern" in schema:
        field["pattern"] = schema["pattern"]
    if widget == "number" and "multipleOf" in schema:
        field["step"] = schema["multipleOf"]
    for name, ui_key in (("visible_if", "ui:visibleIf"), ("prefill", "ui:prefill")):
        if ui.get(ui_key) is not None:
            field[name] = ui[ui_key]
    if widget == "computed":
        field["formula"] = ui.get("ui:formula")
    return field


def _order(properties: dict[str, Any], ui: Schema) -> list[str]:
    order = ui.get("ui:order")
    if order is None:
        return list(properties)
    if not isinstance(order, list) or not all(isinstance(k, str) for k in order):
        raise InvalidInput.on("ui_schema.ui:order", _("应为字段键的列表"))
    unknown = [k for k in order if k not in properties]
    if unknown:
        raise InvalidInput.on(
            "ui_schema.ui:order", _("JSON Schema 中没有这些字段：{keys}", keys="、".join(unknown))
        )
    return list(dict.fromkeys(order)) + [k for k in properties if k not in order]


def decompile(schema: Schema, ui_schema: Schema) -> list[FieldDef]:
    """The designer's fields of a JSON Schema + UI schema pair; a pair whose shape is not one
    the designer knows is an InvalidInput naming the place (``schema.properties.days``)."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise InvalidInput.on("schema", _("应为 type 为 object 的 JSON Schema"))
    if not isinstance(ui_schema, dict):
        raise InvalidInput.on("ui_schema", _("应为对象"))
    properties = schema.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidInput.on("schema.properties", _("应为对象"))
    required = set(schema.get("required") or [])
    fields: list[FieldDef] = []
    errors: list[FieldError] = []
    for key in _order(properties, ui_schema):
        prop, ui = properties[key], ui_schema.get(key, {})
        if not isinstance(prop, dict) or not isinstance(ui, dict):
            errors.append(FieldError(f"schema.properties.{key}", _("应为对象")))
            continue
        try:
            fields.append(FieldDef.model_validate(_field_def(key, prop, ui, key in required)))
        except ValidationError as exc:
            for e in validation_field_errors([dict(x) for x in exc.errors()]):
                errors.append(FieldError(f"schema.properties.{key}.{e.field}", e.reason))
    if errors:
        raise InvalidInput(_("导入的表单定义有误"), errors=errors)
    return fields
