"""Prefill: the applicant's own record fills the fields that ask for it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.workflow.forms.prefill import prefill
from tests.platform.workflow.forms.conftest import LEAVE, demo_person, version_of

PREFILLED = [
    {"key": "name", "label": "姓名", "widget": "text", "prefill": "person.name"},
    {"key": "number", "label": "学号", "widget": "text", "prefill": "person.number"},
    {"key": "college", "label": "学院", "widget": "text", "prefill": "person.college"},
    {"key": "college_id", "label": "学院", "widget": "org", "prefill": "person.college"},
    {"key": "unit", "label": "单位", "widget": "text", "prefill": "person.org_unit"},
    {"key": "unit_id", "label": "单位", "widget": "org", "prefill": "person.org_unit"},
    {"key": "klass", "label": "班级", "widget": "text", "prefill": "person.class"},
    {"key": "phone", "label": "手机", "widget": "text", "prefill": "person.phone"},
    {"key": "email", "label": "邮箱", "widget": "textarea", "prefill": "person.email"},
    {"key": "other", "label": "其他", "widget": "text"},
]


async def test_a_student_gets_their_own_details(session: AsyncSession, demo: SeedContext) -> None:
    student = await demo_person(session, demo, "student")
    detail = await users.person_detail(session, student.id, users.PersonAccess.FULL)
    assert detail is not None
    colleges = [u for u in detail.org_path if u.kind == "college"]
    assert colleges, "the demo student studies in a college"
    own = detail.org_path[-1]

    values = await prefill(session, student.id, version_of(PREFILLED))
    assert values["name"] == detail.name
    assert values["number"] == detail.number
    assert values["college"] == colleges[-1].name
    assert values["college_id"] == colleges[-1].id
    assert (values["unit"], values["unit_id"]) == (own.name, own.id)
    assert values.get("klass") == detail.class_name
    if detail.phone:
        assert values["phone"] == detail.phone  # their own, unmasked
        assert "*" not in values["phone"]
    assert values.get("email") == detail.email
    assert "other" not in values


async def test_staff_without_a_class_leave_the_class_empty(
    session: AsyncSession, demo: SeedContext
) -> None:
    teacher = await demo_person(session, demo, "teacher")
    values = await prefill(session, teacher.id, version_of(PREFILLED))
    assert values["name"] == teacher.name
    assert "klass" not in values


async def test_nothing_to_fill_or_nobody(session: AsyncSession, demo: SeedContext) -> None:
    student = await demo_person(session, demo, "student")
    assert await prefill(session, student.id, version_of(LEAVE)) == {}
    assert await prefill(session, 987654321, version_of(PREFILLED)) == {}
