"""The designer's format: a flat list of fields, each a widget with its settings.

This is what the browser designer edits and what seeds write; ``compile.py`` turns it into the
JSON Schema + UI schema pair that is stored, and back. The models only hold shapes; what makes a
definition sound (known widgets, unique keys, formulas, conditions…) is checked in ``checks.py``
so that every problem is reported at once, each naming its place (``fields[2].key``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from campus.kernel.i18n import LazyText, _

Widget = str  # one of WIDGETS; an unknown one is reported by the checks, not by the parser

WIDGETS: dict[str, LazyText] = {
    "text": _("单行文本"),
    "textarea": _("多行文本"),
    "number": _("数字"),
    "money": _("金额"),
    "date": _("日期"),
    "time": _("时间"),
    "datetime": _("日期时间"),
    "daterange": _("日期区间"),
    "select": _("单选"),
    "multiselect": _("多选"),
    "person": _("人员"),
    "org": _("组织机构"),
    "attachments": _("附件"),
    "table": _("明细表"),
    "computed": _("计算字段"),
}
COLUMN_WIDGETS: dict[str, LazyText] = {
    "text": _("单行文本"),
    "number": _("数字"),
    "money": _("金额"),
    "date": _("日期"),
    "select": _("单选"),
}

# Settings that mean something for each kind of widget; the others are dropped when compiling.
TEXTUAL = frozenset({"text", "textarea"})
NUMERIC = frozenset({"number", "money"})
CHOICE = frozenset({"select", "multiselect"})
COUNTED = frozenset({"multiselect", "attachments", "table"})  # min/max count items
WITH_PLACEHOLDER = frozenset({"text", "textarea", "number", "money"})

Op = Literal["eq", "ne", "gt", "ge", "lt", "le", "in", "contains", "filled"]
OPS: dict[str, LazyText] = {
    "eq": _("等于"),
    "ne": _("不等于"),
    "gt": _("大于"),
    "ge": _("大于等于"),
    "lt": _("小于"),
    "le": _("小于等于"),
    "in": _("属于"),
    "contains": _("包含"),
    "filled": _("已填写"),
}

PREFILLS: dict[str, LazyText] = {
    "person.name": _("申请人姓名"),
    "person.number": _("学号/工号"),
    "person.college": _("所在学院"),
    "person.org_unit": _("所在单位"),
    "person.class": _("所在班级"),
    "person.phone": _("手机号"),
    "person.email": _("电子邮箱"),
}
# Which prefills fit which widget: names into text, org unit ids into an org picker.
PREFILL_WIDGETS: dict[str, frozenset[str]] = {
    "person.name": TEXTUAL,
    "person.number": TEXTUAL,
    "person.college": TEXTUAL | {"org"},
    "person.org_unit": TEXTUAL | {"org"},
    "person.class": TEXTUAL,
    "person.phone": TEXTUAL,
    "person.email": TEXTUAL,
}

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
MAX_FIELDS = 100
MAX_COLUMNS = 20
MAX_OPTIONS = 200
MAX_ATTACHMENTS = 20
MAX_TABLE_ROWS = 200


class _Def(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Option(_Def):
    value: str = Field(max_length=100)
    label: str = Field("", max_length=100)


class VisibleIf(_Def):
    """Show the field only when an earlier field meets the condition."""

    field: str = Field(max_length=40)
    op: Op = "eq"
    value: Any = None


class ColumnDef(_Def):
    """A column of a detail table."""

    key: str = Field(max_length=40)
    label: str = Field("", max_length=60)
    widget: Widget = "text"
    required: bool = False
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    min: float | None = None
    max: float | None = None
    sum: bool = Field(False, description="在表尾合计此列（数字、金额列）")


class FieldDef(_Def):
    """One field of a form as the designer edits it."""

    key: str = Field(max_length=40, description="数据中的键：小写字母开头，字母数字下划线")
    label: str = Field("", max_length=60)
    widget: Widget = "text"
    required: bool = False
    help: str = Field("", max_length=300)
    placeholder: str = Field("", max_length=100)
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    min: float | None = Field(
        None, description="数字、金额：最小值；文本：最少字数；多选、附件、明细表：最少项数"
    )
    max: float | None = Field(None, description="同上，最大")
    step: float | None = Field(None, description="数字：必须是它的整数倍")
    pattern: str | None = Field(None, max_length=300, description="文本：正则表达式")
    visible_if: VisibleIf | None = None
    prefill: str | None = None
    formula: str | None = Field(None, max_length=500, description="计算字段的公式")
    columns: list[ColumnDef] = Field(default_factory=list, max_length=MAX_COLUMNS)

    def option_labels(self) -> dict[str, str]:
        return {o.value: o.label or o.value for o in self.options}


def column_sums(field: FieldDef) -> list[str]:
    """The keys of the table's columns that are totalled."""
    return [c.key for c in field.columns if c.sum]
