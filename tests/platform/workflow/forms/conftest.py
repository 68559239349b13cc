"""Fixtures of the forms' tests: field lists written as the designer sends them, versions
compiled from them (without saving), a session in the test's rolled-back transaction, and the
demo people."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef
from campus.platform.workflow.forms.checks import check_fields
from campus.platform.workflow.forms.fields import FieldDef
from campus.platform.workflow.forms.schemas import FormVersionOut
from tests.conftest import LoginAs

HTML = {"Accept": "text/html"}

# A leave request: a choice, a date range, its day count, a reason shown for long leaves only,
# an expense table with a total, a fee in yuan, an approver and a department.
LEAVE: list[dict[str, Any]] = [
    {
        "key": "kind",
        "label": "请假类型",
        "widget": "select",
        "required": True,
        "options": [{"value": "sick", "label": "病假"}, {"value": "personal", "label": "事假"}],
    },
    {"key": "leave", "label": "请假时间", "widget": "daterange", "required": True},
    {"key": "days", "label": "天数", "widget": "computed", "formula": "days(leave)"},
    {
        "key": "reason",
        "label": "详细理由",
        "widget": "textarea",
        "required": True,
        "visible_if": {"field": "days", "op": "gt", "value": 3},
    },
    {
        "key": "items",
        "label": "费用明细",
        "widget": "table",
        "columns": [
            {"key": "name", "label": "项目", "widget": "text", "required": True},
            {"key": "amount", "label": "金额", "widget": "money", "required": True, "sum": True},
        ],
    },
    {"key": "total", "label": "合计", "widget": "computed", "formula": "sum(items.amount)"},
    {"key": "fee", "label": "押金", "widget": "money", "max": 1000},
    {"key": "approver", "label": "审批人", "widget": "person"},
    {"key": "dept", "label": "部门", "widget": "org"},
]


def field_list(raw: list[dict[str, Any]]) -> list[FieldDef]:
    return [FieldDef.model_validate(f) for f in raw]


def version_of(raw: list[dict[str, Any]], version_id: int = 0) -> FormVersionOut:
    """A version compiled from designer fields, as the renderer and the cleaning see it."""
    schema, ui_schema = check_fields(field_list(raw))
    return FormVersionOut(
        id=version_id,
        form_id=0,
        form_key="test",
        form_name="测试表单",
        version=1,
        schema=schema,
        ui_schema=ui_schema,
        published=True,
    )


@pytest.fixture
async def session(db: Runtime) -> AsyncIterator[AsyncSession]:
    async with db.db.transaction() as opened:
        yield opened


async def demo_person(session: AsyncSession, demo: SeedContext, role: str) -> PersonRef:
    login = next(x for x in demo.logins if x.role == role)
    person = await users.find_person_by_login(session, login.login)
    assert person is not None
    return person


@pytest.fixture
async def admin(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def student(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("student")
