"""Every way a form definition can be wrong is refused, naming the place, all at once."""

from __future__ import annotations

from typing import Any

import pytest

from campus.kernel.errors import InvalidInput
from campus.platform.workflow.forms.checks import check_fields, definition_errors
from tests.platform.workflow.forms.conftest import LEAVE, field_list

NUMBER = {"key": "n", "label": "数", "widget": "number"}
TEXT = {"key": "t", "label": "文本", "widget": "text"}
RANGE = {"key": "r", "label": "区间", "widget": "daterange"}
TABLE = {
    "key": "rows",
    "label": "明细",
    "widget": "table",
    "columns": [
        {"key": "item", "label": "项目"},
        {"key": "cost", "label": "金额", "widget": "money"},
    ],
}


def computed(formula: str) -> dict[str, Any]:
    return {"key": "c", "label": "计算", "widget": "computed", "formula": formula}


def shown_if(**cond: Any) -> dict[str, Any]:
    return {"key": "s", "label": "条件", "widget": "text", "visible_if": cond}


CASES: list[tuple[str, list[dict[str, Any]], str, str]] = [
    ("no fields", [], "fields", "至少"),
    (
        "unknown widget",
        [{"key": "a", "label": "A", "widget": "slider"}],
        "fields[0].widget",
        "未知的控件",
    ),
    ("bad key", [{"key": "Days", "label": "A"}], "fields[0].key", "小写字母"),
    ("key with a dash", [{"key": "a-b", "label": "A"}], "fields[0].key", "小写字母"),
    ("duplicate keys", [TEXT, {**NUMBER, "key": "t"}], "fields[1].key", "重复"),
    ("no label", [{"key": "a", "label": ""}], "fields[0].label", "名称"),
    ("formula syntax", [NUMBER, computed("n +")], "fields[1].formula", "语法"),
    ("formula power", [NUMBER, computed("n ** 2")], "fields[1].formula", "+ - * /"),
    (
        "formula unknown function",
        [NUMBER, computed("pow(n, 2)")],
        "fields[1].formula",
        "未知的函数",
    ),
    ("formula unknown field", [NUMBER, computed("n + m")], "fields[1].formula", "“m”"),
    ("formula later field", [computed("n * 2"), NUMBER], "fields[0].formula", "“n”"),
    ("formula text field", [TEXT, computed("t + 1")], "fields[1].formula", "“t”"),
    ("formula empty", [NUMBER, computed("")], "fields[1].formula", "需要公式"),
    ("formula sum of text", [TABLE, computed("sum(rows.item)")], "fields[1].formula", "rows.item"),
    ("formula sum unknown", [TABLE, computed("sum(rows.qty)")], "fields[1].formula", "rows.qty"),
    ("formula sum not table", [NUMBER, computed("sum(n.x)")], "fields[1].formula", "n.x"),
    ("formula sum form", [TABLE, computed("sum(rows)")], "fields[1].formula", "sum("),
    ("formula days of number", [NUMBER, computed("days(n)")], "fields[1].formula", "days()"),
    ("formula string", [computed("'a'")], "fields[0].formula", "数字常量"),
    (
        "visibleIf unknown",
        [TEXT, shown_if(field="zzz", op="eq", value=1)],
        "fields[1].visible_if.field",
        "“zzz”不存在",
    ),
    (
        "visibleIf later",
        [shown_if(field="t", op="eq", value="x"), TEXT],
        "fields[0].visible_if.field",
        "之前",
    ),
    ("visibleIf itself", [shown_if(field="s", op="filled")], "fields[0].visible_if.field", "之前"),
    (
        "visibleIf no value",
        [TEXT, shown_if(field="t", op="eq")],
        "fields[1].visible_if.value",
        "值",
    ),
    (
        "visibleIf in not list",
        [TEXT, shown_if(field="t", op="in", value="a")],
        "fields[1].visible_if.value",
        "列表",
    ),
    (
        "visibleIf gt list",
        [NUMBER, shown_if(field="n", op="gt", value=[1])],
        "fields[1].visible_if.value",
        "数字或日期",
    ),
    (
        "visibleIf contains number",
        [NUMBER, shown_if(field="n", op="contains", value=1)],
        "fields[1].visible_if.op",
        "包含",
    ),
    (
        "enum empty",
        [{"key": "k", "label": "类型", "widget": "select"}],
        "fields[0].options",
        "选项",
    ),
    (
        "multiselect empty",
        [{"key": "k", "label": "类型", "widget": "multiselect", "options": []}],
        "fields[0].options",
        "选项",
    ),
    (
        "duplicate option",
        [
            {
                "key": "k",
                "label": "类型",
                "widget": "select",
                "options": [{"value": "a"}, {"value": "a"}],
            }
        ],
        "fields[0].options[1].value",
        "重复",
    ),
    (
        "blank option",
        [{"key": "k", "label": "类型", "widget": "select", "options": [{"value": ""}]}],
        "fields[0].options[0].value",
        "不能为空",
    ),
    (
        "table without columns",
        [{"key": "rows", "label": "明细", "widget": "table"}],
        "fields[0].columns",
        "至少要有一列",
    ),
    (
        "column duplicate",
        [{**TABLE, "columns": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]}],
        "fields[0].columns[1].key",
        "重复",
    ),
    (
        "column bad key",
        [{**TABLE, "columns": [{"key": "A", "label": "A"}]}],
        "fields[0].columns[0].key",
        "小写字母",
    ),
    (
        "column widget",
        [{**TABLE, "columns": [{"key": "a", "label": "A", "widget": "person"}]}],
        "fields[0].columns[0].widget",
        "不支持",
    ),
    (
        "column no label",
        [{**TABLE, "columns": [{"key": "a", "label": ""}]}],
        "fields[0].columns[0].label",
        "列名",
    ),
    (
        "column select empty",
        [{**TABLE, "columns": [{"key": "a", "label": "A", "widget": "select"}]}],
        "fields[0].columns[0].options",
        "选项",
    ),
    (
        "sum of text column",
        [{**TABLE, "columns": [{"key": "a", "label": "A", "sum": True}]}],
        "fields[0].columns[0].sum",
        "合计",
    ),
    ("min above max", [{**NUMBER, "min": 5, "max": 1}], "fields[0].max", "最大值"),
    ("text length fraction", [{**TEXT, "max": 2.5}], "fields[0].max", "整数"),
    (
        "negative money",
        [{"key": "m", "label": "金额", "widget": "money", "min": -1}],
        "fields[0].min",
        "负数",
    ),
    ("step zero", [{**NUMBER, "step": 0}], "fields[0].step", "大于 0"),
    ("bad pattern", [{**TEXT, "pattern": "(["}], "fields[0].pattern", "正则"),
    ("unknown prefill", [{**TEXT, "prefill": "person.salary"}], "fields[0].prefill", "未知"),
    ("prefill does not fit", [{**NUMBER, "prefill": "person.name"}], "fields[0].prefill", "不适用"),
    (
        "prefill phone into org",
        [{"key": "o", "label": "单位", "widget": "org", "prefill": "person.phone"}],
        "fields[0].prefill",
        "不适用",
    ),
]


@pytest.mark.parametrize(
    ("raw", "place", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_definition_errors_name_the_place(
    raw: list[dict[str, Any]], place: str, words: str
) -> None:
    found = {e.field: str(e.reason) for e in definition_errors(field_list(raw))}
    assert place in found, found
    assert words in found[place]
    with pytest.raises(InvalidInput) as refused:
        check_fields(field_list(raw))
    assert refused.value.status == 422


def test_every_problem_is_reported_at_once() -> None:
    raw = [
        {"key": "a", "label": "", "widget": "slider"},
        {"key": "a", "label": "B", "widget": "select"},
        computed("a ** 2"),
    ]
    with pytest.raises(InvalidInput) as refused:
        check_fields(field_list(raw))
    places = {e.field for e in refused.value.errors}
    assert {
        "fields[0].label",
        "fields[0].widget",
        "fields[1].key",
        "fields[1].options",
        "fields[2].formula",
    } <= places


def test_a_sound_definition_passes() -> None:
    assert definition_errors(field_list(LEAVE)) == []
    schema, ui = check_fields(field_list(LEAVE))
    assert ui["ui:order"][0] == "kind"
    assert "days" not in schema["required"]  # a computed field is never asked for
