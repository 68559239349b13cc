"""Submissions: the server drops hidden fields, recomputes computed ones, validates the rest
against the JSON Schema, checks people and org units, and names every problem at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import ImmutableMultiDict

from campus.kernel.errors import InvalidInput
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.workflow.forms.validate import (
    clean_submission,
    condition_holds,
    data_from_form,
    errors_by_field,
)
from tests.platform.workflow.forms.conftest import LEAVE, demo_person, version_of

SHORT = {"start": "2026-03-02", "end": "2026-03-03"}  # 2 days
LONG = {"start": "2026-03-02", "end": "2026-03-06"}  # 5 days


async def refused(session: AsyncSession, raw: list[dict[str, Any]], data: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        await clean_submission(session, version_of(raw), data)
    assert caught.value.status == 422
    return {e.field: str(e.reason) for e in caught.value.errors}


async def test_a_good_submission_comes_back_clean(session: AsyncSession) -> None:
    data = {
        "kind": "sick",
        "leave": SHORT,
        "items": [{"name": " 挂号 ", "amount": 12.5}, {"name": "药", "amount": 30}],
        "fee": 0.07,
    }
    clean = await clean_submission(session, version_of(LEAVE), data)
    assert clean == {
        "kind": "sick",
        "leave": SHORT,
        "days": 2,
        "items": [{"name": "挂号", "amount": 12.5}, {"name": "药", "amount": 30}],
        "total": 42.5,
        "fee": 0.07,
    }


async def test_a_hidden_required_field_is_not_required_and_is_dropped(
    session: AsyncSession,
) -> None:
    # Two days: the reason (required, shown from 4 days on) is hidden; its value is dropped.
    data = {"kind": "personal", "leave": SHORT, "reason": "不该保留"}
    clean = await clean_submission(session, version_of(LEAVE), data)
    assert "reason" not in clean
    # Five days: now it is shown, so required.
    errors = await refused(session, LEAVE, {"kind": "personal", "leave": LONG})
    assert errors == {"data.reason": "必填"}
    clean = await clean_submission(
        session, version_of(LEAVE), {"kind": "personal", "leave": LONG, "reason": "回家"}
    )
    assert clean["reason"] == "回家"


async def test_computed_values_from_the_client_are_ignored(session: AsyncSession) -> None:
    data = {
        "kind": "sick",
        "leave": LONG,
        "reason": "住院",
        "days": 1,
        "items": [{"name": "a", "amount": 1.1}, {"name": "b", "amount": 2.2}],
        "total": 1_000_000,
    }
    clean = await clean_submission(session, version_of(LEAVE), data)
    assert clean["days"] == 5
    assert clean["total"] == 3.3  # the table's sum, in decimal arithmetic


async def test_a_date_range_must_not_end_before_it_starts(session: AsyncSession) -> None:
    backwards = {"start": "2026-03-06", "end": "2026-03-02"}
    errors = await refused(session, LEAVE, {"kind": "sick", "leave": backwards})
    assert errors == {"data.leave": "结束日期不能早于开始日期"}
    errors = await refused(session, LEAVE, {"kind": "sick", "leave": {"start": "2026-02-30"}})
    assert set(errors) == {"data.leave"}


@pytest.mark.parametrize(
    ("fee", "reason"),
    [(12.345, "最多两位小数"), (-1, "不能小于 0"), (1000.01, "不能大于 1000"), ("12", "应为数字")],
)
async def test_money_has_two_decimals_and_its_bounds(
    session: AsyncSession, fee: Any, reason: str
) -> None:
    errors = await refused(session, LEAVE, {"kind": "sick", "leave": SHORT, "fee": fee})
    assert errors == {"data.fee": reason}


@pytest.mark.parametrize("fee", [0, 0.07, 0.1, 19.99, 1000])
async def test_money_in_fen_is_fine(session: AsyncSession, fee: float) -> None:
    clean = await clean_submission(
        session, version_of(LEAVE), {"kind": "sick", "leave": SHORT, "fee": fee}
    )
    assert clean["fee"] == fee


async def test_people_and_org_units_must_exist(session: AsyncSession, demo: SeedContext) -> None:
    teacher = await demo_person(session, demo, "teacher")
    base = {"kind": "sick", "leave": SHORT}
    clean = await clean_submission(
        session,
        version_of(LEAVE),
        {**base, "approver": teacher.id, "dept": teacher.org_unit_id},
    )
    assert (clean["approver"], clean["dept"]) == (teacher.id, teacher.org_unit_id)
    errors = await refused(session, LEAVE, {**base, "approver": 987654321, "dept": 987654321})
    assert errors == {"data.approver": "人员不存在", "data.dept": "组织机构不存在"}
    errors = await refused(session, LEAVE, {**base, "approver": "张三", "dept": 0})
    assert errors == {"data.approver": "应为整数", "data.dept": "不能小于 1"}


async def test_every_error_at_once_each_on_its_field(session: AsyncSession) -> None:
    data = {
        "kind": "annual",
        "leave": LONG,
        "items": [
            {"name": "a", "amount": 1},
            {"amount": 2.005},
            {"name": "c", "amount": "x", "extra": 1},
        ],
        "fee": 5000,
        "colour": "red",
    }
    errors = await refused(session, LEAVE, data)
    assert errors == {
        "data.kind": "不是可选的值",
        "data.reason": "必填",
        "data.items[1].name": "必填",
        "data.items[1].amount": "最多两位小数",
        "data.items[2].amount": "应为数字",
        "data.items[2].extra": "表单中没有这一项",
        "data.fee": "不能大于 1000",
        "data.colour": "表单中没有这一项",
    }


async def test_problem_order_follows_the_form(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as caught:
        await clean_submission(session, version_of(LEAVE), {"fee": -1, "colour": 1})
    order = [e.field for e in caught.value.errors]
    assert order == ["data.kind", "data.leave", "data.fee", "data.colour"]
    assert errors_by_field(caught.value)["data.kind"] == "必填"


WIDGETS: list[dict[str, Any]] = [
    {"key": "title", "label": "标题", "widget": "text", "min": 2, "pattern": "^[A-Z]"},
    {"key": "note", "label": "备注", "widget": "textarea"},
    {"key": "count", "label": "人数", "widget": "number", "step": 0.5, "max": 10},
    {"key": "day", "label": "日期", "widget": "date"},
    {"key": "at", "label": "时间", "widget": "time"},
    {"key": "when", "label": "日期时间", "widget": "datetime"},
    {
        "key": "tags",
        "label": "标签",
        "widget": "multiselect",
        "max": 2,
        "options": [{"value": "x"}, {"value": "y"}, {"value": "z"}],
    },
    {"key": "files", "label": "附件", "widget": "attachments"},
    {
        "key": "rows",
        "label": "明细",
        "widget": "table",
        "max": 1,
        "columns": [{"key": "v", "label": "值", "widget": "number"}],
    },
]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("title", "A", "至少 2 个字符"),
        ("title", "ab", "格式不正确"),
        ("title", "A" * 201, "不能超过 200 个字符"),
        ("note", "字" * 5001, "不能超过 5000 个字符"),
        ("count", 1.25, "应为 0.5 的整数倍"),
        ("count", 11, "不能大于 10"),
        ("count", True, "应为数字"),
        ("day", "2026/03/01", "日期格式不正确，应为 YYYY-MM-DD"),
        ("day", "2026-13-01", "日期格式不正确，应为 YYYY-MM-DD"),
        ("at", "25:00", "时间格式不正确，应为 HH:MM"),
        ("when", "2026-03-01 08:00", "日期时间格式不正确，应为 YYYY-MM-DDTHH:MM"),
        ("tags", ["x", "x"], "不能重复"),
        ("tags", ["x", "w"], "不是可选的值"),
        ("tags", ["x", "y", "z"], "至多 2 项"),
        ("tags", "x", "应为列表"),
        ("files", ["../../etc/passwd"], "格式不正确"),
        ("files", ["f" * 22] * 21, "至多 20 项"),
        ("rows", [{"v": 1}, {"v": 2}], "至多 1 项"),
        ("rows", ["row"], "应为对象"),
    ],
)
async def test_each_rule_speaks_chinese(
    session: AsyncSession, key: str, value: Any, reason: str
) -> None:
    errors = await refused(session, WIDGETS, {key: value})
    assert reason in errors.values(), errors
    assert all(name.startswith(f"data.{key}") for name in errors)


async def test_good_values_of_each_widget(session: AsyncSession) -> None:
    data = {
        "title": "Ab",
        "count": 2.5,
        "day": "2026-03-01",
        "at": "08:30",
        "when": "2026-03-01T08:30",
        "tags": ["x", "z"],
        "files": ["Zx3_-abcdefGHIJ012345"],
        "rows": [{"v": 1}],
    }
    assert await clean_submission(session, version_of(WIDGETS), data) == data


async def test_not_a_dict_is_refused(session: AsyncSession) -> None:
    with pytest.raises(InvalidInput) as caught:
        await clean_submission(session, version_of(LEAVE), ["kind"])  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "data"


@pytest.mark.parametrize(
    ("cond", "data", "holds"),
    [
        (None, {}, True),
        ({"field": "a", "op": "eq", "value": 3}, {"a": "3"}, True),
        ({"field": "a", "op": "eq", "value": "x"}, {"a": "y"}, False),
        ({"field": "a", "op": "ne", "value": "x"}, {}, True),
        ({"field": "a", "op": "gt", "value": 3}, {"a": 4}, True),
        ({"field": "a", "op": "gt", "value": 3}, {"a": 3}, False),
        ({"field": "a", "op": "ge", "value": 3}, {"a": 3}, True),
        ({"field": "a", "op": "lt", "value": 3}, {}, False),
        ({"field": "a", "op": "le", "value": "2026-03-01"}, {"a": "2026-02-28"}, True),
        ({"field": "a", "op": "gt", "value": 3}, {"a": "abc"}, False),
        ({"field": "a", "op": "in", "value": ["x", "y"]}, {"a": "y"}, True),
        ({"field": "a", "op": "in", "value": ["x", "y"]}, {"a": "z"}, False),
        ({"field": "a", "op": "contains", "value": "x"}, {"a": ["x", "z"]}, True),
        ({"field": "a", "op": "contains", "value": "病"}, {"a": "生病了"}, True),
        ({"field": "a", "op": "filled"}, {"a": []}, False),
        ({"field": "a", "op": "filled"}, {"a": 0}, True),
    ],
)
def test_conditions(cond: dict[str, Any] | None, data: dict[str, Any], holds: bool) -> None:
    assert condition_holds(cond, data) is holds


async def test_a_posted_html_form_becomes_the_data(
    session: AsyncSession, demo: SeedContext
) -> None:
    teacher = await demo_person(session, demo, "teacher")
    unit = await users.get_org_unit(session, teacher.org_unit_id)
    assert unit is not None
    posted = ImmutableMultiDict(
        [
            ("csrf_token", "ignored"),
            ("title", "ignored: no data. prefix"),
            ("data.kind", "sick"),
            ("data.leave.start", "2026-03-02"),
            ("data.leave.end", "2026-03-06"),
            ("data.reason", "  发烧  "),
            ("data.days", "99"),
            # Rows 0 and 5 (the browser removed those between): renumbered 0 and 1; row 7 is blank.
            ("data.items[5].name", "药"),
            ("data.items[5].amount", "30"),
            ("data.items[0].name", "挂号"),
            ("data.items[0].amount", "12.50"),
            ("data.items[7].name", ""),
            ("data.items[7].amount", " "),
            ("data.items[0].unknown", "x"),
            ("data.fee", ""),
            ("data.approver", str(teacher.id)),
            ("data.dept", str(unit.id)),
            ("data.nothing", "x"),
        ]
    )
    version = version_of(LEAVE)
    data = data_from_form(version, posted)
    assert data == {
        "kind": "sick",
        "leave": {"start": "2026-03-02", "end": "2026-03-06"},
        "reason": "  发烧  ",
        "days": 99,
        "items": [{"name": "挂号", "amount": 12.5}, {"name": "药", "amount": 30}],
        "fee": "",
        "approver": teacher.id,
        "dept": unit.id,
    }
    clean = await clean_submission(session, version, data)
    assert clean["reason"] == "发烧"
    assert (clean["days"], clean["total"]) == (5, 42.5)
    assert "fee" not in clean


async def test_a_posted_form_with_errors_names_rows_as_posted(session: AsyncSession) -> None:
    posted = ImmutableMultiDict(
        [
            ("data.kind", "sick"),
            ("data.leave.start", "2026-03-02"),
            ("data.leave.end", "2026-03-02"),
            ("data.items[0].name", "a"),
            ("data.items[0].amount", "1"),
            ("data.items[1].name", "b"),
            ("data.items[1].amount", "abc"),
            ("data.fee", "1,500"),  # thousands separators are fine
        ]
    )
    data = data_from_form(version_of(LEAVE), posted)
    errors = await refused(session, LEAVE, data)
    assert errors == {"data.items[1].amount": "应为数字", "data.fee": "不能大于 1000"}
