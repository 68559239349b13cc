"""The designer's fields ⇄ JSON Schema + UI schema: each widget's schema as the module page
documents it, the round trip, and what an imported pair may and may not look like."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from campus.kernel.errors import InvalidInput
from campus.platform.workflow.forms.checks import check_fields, check_import
from campus.platform.workflow.forms.compile import DRAFT, compile_fields, decompile
from campus.platform.workflow.forms.fields import WIDGETS
from tests.platform.workflow.forms.conftest import LEAVE, field_list

EVERY_WIDGET: list[dict[str, Any]] = [
    {
        "key": "title",
        "label": "标题",
        "widget": "text",
        "required": True,
        "min": 2,
        "max": 40,
        "pattern": "^[^<>]+$",
        "placeholder": "一句话说明",
        "help": "会显示在待办中",
    },
    {"key": "detail", "label": "说明", "widget": "textarea", "max": 2000},
    {"key": "count", "label": "人数", "widget": "number", "min": 1, "max": 50, "step": 1},
    {"key": "price", "label": "单价", "widget": "money", "min": 0.5, "max": 99999},
    {"key": "day", "label": "日期", "widget": "date", "prefill": None},
    {"key": "at", "label": "时间", "widget": "time"},
    {"key": "when", "label": "日期时间", "widget": "datetime"},
    {"key": "span", "label": "区间", "widget": "daterange", "required": True},
    {
        "key": "kind",
        "label": "类型",
        "widget": "select",
        "options": [{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"}],
    },
    {
        "key": "tags",
        "label": "标签",
        "widget": "multiselect",
        "min": 1,
        "max": 2,
        "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}],
        "visible_if": {"field": "kind", "op": "eq", "value": "a"},
    },
    {"key": "who", "label": "审批人", "widget": "person"},
    {"key": "unit", "label": "单位", "widget": "org", "prefill": "person.college"},
    {"key": "name", "label": "姓名", "widget": "text", "prefill": "person.name"},
    {"key": "files", "label": "附件", "widget": "attachments", "max": 5},
    {
        "key": "rows",
        "label": "明细",
        "widget": "table",
        "min": 1,
        "max": 10,
        "columns": [
            {"key": "item", "label": "项目", "widget": "text", "required": True},
            {
                "key": "type",
                "label": "类别",
                "widget": "select",
                "options": [{"value": "t", "label": "交通"}],
            },
            {"key": "on", "label": "日期", "widget": "date"},
            {"key": "qty", "label": "数量", "widget": "number", "sum": True},
            {"key": "cost", "label": "金额", "widget": "money", "required": True, "sum": True},
        ],
    },
    {
        "key": "total",
        "label": "合计",
        "widget": "computed",
        "formula": "sum(rows.cost) + count * price + days(span)",
    },
]


def test_the_sample_uses_every_widget() -> None:
    assert {f["widget"] for f in EVERY_WIDGET} == set(WIDGETS)


@pytest.mark.parametrize(
    ("widget", "extra", "expected"),
    [
        (
            "text",
            {"min": 1, "max": 5, "pattern": "^a"},
            {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^a"},
        ),
        ("textarea", {}, {"type": "string"}),
        (
            "number",
            {"min": 0, "max": 9.5, "step": 0.5},
            {"type": "number", "minimum": 0, "maximum": 9.5, "multipleOf": 0.5},
        ),
        ("money", {}, {"type": "number", "multipleOf": 0.01, "minimum": 0}),
        ("date", {}, {"type": "string", "format": "date"}),
        ("time", {}, {"type": "string", "format": "time"}),
        ("datetime", {}, {"type": "string", "format": "date-time"}),
        ("person", {}, {"type": "integer", "minimum": 1}),
        ("org", {}, {"type": "integer", "minimum": 1}),
        ("computed", {"formula": "1 + 1"}, {"type": "number", "readOnly": True}),
    ],
)
def test_each_widget_compiles_to_the_documented_schema(
    widget: str, extra: dict[str, Any], expected: dict[str, Any]
) -> None:
    fields = field_list([{"key": "f", "label": "字段", "widget": widget, **extra}])
    schema, ui = compile_fields(fields)
    assert schema["properties"]["f"] == {"title": "字段", **expected}
    assert ui["f"]["ui:widget"] == widget
    assert ui["ui:order"] == ["f"]


def test_structured_widgets() -> None:
    schema, ui = check_fields(field_list(EVERY_WIDGET))
    props = schema["properties"]
    assert schema["$schema"] == DRAFT
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["title", "span"]
    assert props["span"]["type"] == "object"
    assert props["span"]["required"] == ["start", "end"]
    assert props["kind"]["enum"] == ["a", "b"]
    assert ui["kind"]["ui:labels"] == {"a": "甲", "b": "乙"}
    assert props["tags"]["items"]["enum"] == ["x", "y"]
    assert props["tags"]["uniqueItems"] is True
    assert (props["tags"]["minItems"], props["tags"]["maxItems"]) == (1, 2)
    assert props["files"]["items"]["type"] == "string"
    assert props["files"]["maxItems"] == 5
    rows = props["rows"]
    assert rows["type"] == "array"
    assert rows["items"]["required"] == ["item", "cost"]
    assert rows["items"]["properties"]["cost"]["multipleOf"] == 0.01
    assert [c["key"] for c in ui["rows"]["ui:columns"]] == ["item", "type", "on", "qty", "cost"]
    assert ui["rows"]["ui:sum"] == ["qty", "cost"]
    assert ui["total"]["ui:formula"].startswith("sum(rows.cost)")
    assert ui["tags"]["ui:visibleIf"] == {"field": "kind", "op": "eq", "value": "a"}
    assert ui["unit"]["ui:prefill"] == "person.college"
    assert ui["title"]["ui:help"] == "会显示在待办中"
    assert ui["title"]["ui:placeholder"] == "一句话说明"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("raw", [EVERY_WIDGET, LEAVE], ids=["every-widget", "leave"])
def test_round_trip(raw: list[dict[str, Any]]) -> None:
    fields = field_list(raw)
    schema, ui = check_fields(fields)
    assert decompile(schema, ui) == fields
    assert compile_fields(decompile(schema, ui)) == (schema, ui)


def test_settings_a_widget_ignores_are_dropped() -> None:
    fields = field_list(
        [
            {
                "key": "n",
                "label": "数",
                "widget": "number",
                "pattern": "x",
                "options": [{"value": "a"}],
                "placeholder": "p",
                "formula": "1",
            }
        ]
    )
    schema, ui = compile_fields(fields)
    (back,) = decompile(schema, ui)
    assert (back.pattern, back.options, back.formula) == (None, [], None)
    assert back.placeholder == "p"
    assert compile_fields([back]) == (schema, ui)


def test_a_plain_json_schema_gets_the_widgets_its_types_imply() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "姓名"},
            "born": {"type": "string", "format": "date"},
            "level": {"type": "string", "enum": ["a", "b"]},
            "langs": {"type": "array", "items": {"type": "string", "enum": ["zh", "en"]}},
            "age": {"type": "integer"},
            "score": {"type": "number", "readOnly": True},
            "rows": {
                "type": "array",
                "items": {"type": "object", "properties": {"x": {"type": "number"}}},
            },
            "span": {"type": "object"},
        },
        "required": ["name"],
    }
    fields = {f.key: f for f in decompile(schema, {})}
    assert {k: f.widget for k, f in fields.items()} == {
        "name": "text",
        "born": "date",
        "level": "select",
        "langs": "multiselect",
        "age": "number",
        "score": "computed",
        "rows": "table",
        "span": "daterange",
    }
    assert fields["name"].label == "姓名" and fields["name"].required
    assert fields["born"].label == "born"
    assert [o.value for o in fields["langs"].options] == ["zh", "en"]


def test_import_checks_and_canonicalises() -> None:
    schema, ui = compile_fields(field_list(LEAVE))
    schema["properties"]["kind"]["description"] = "dropped: the designer has no such setting"
    fields, compiled, compiled_ui = check_import(schema, ui)
    assert fields == field_list(LEAVE)
    assert "description" not in compiled["properties"]["kind"]
    assert compiled_ui == ui


@pytest.mark.parametrize(
    ("schema", "ui", "place"),
    [
        ({"type": "array"}, {}, "schema"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"ui:order": ["a", "b"]},
            "ui_schema.ui:order",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"ui:order": "a"},
            "ui_schema.ui:order",
        ),
        ({"type": "object", "properties": {"a": 5}}, {}, "schema"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"a": []},
            "schema.properties.a",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"a": {"ui:widget": "select", "ui:labels": {}}},
            "fields[0].options",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"a": {"ui:widget": "slider"}},
            "fields[0].widget",
        ),
    ],
)
def test_import_refuses_pairs_it_cannot_read(
    schema: dict[str, Any], ui: dict[str, Any], place: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_import(schema, ui)
    assert any(e.field.startswith(place) for e in refused.value.errors), refused.value.errors
