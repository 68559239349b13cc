"""Who may change a course: ``academic.course.manage`` reaching the course's owning department
(a college's academic secretary keeps their college's courses, the registrar every course).
Reading the catalogue needs no code."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.permissions import COURSE_MANAGE
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory

# Org units that may own courses (开课单位): colleges, their departments, and offices.
OWNER_KINDS = ("college", "department", "office")


def owners(directory: OrgDirectory) -> list[tuple[int, str, int]]:
    """The units that may own courses, as (id, name, depth) in display order."""
    return [row for row in directory.ordered() if directory.kinds[row[0]] in OWNER_KINDS]


def may_manage_unit(principal: Principal | None, index: OrgDirectory, unit_id: int) -> bool:
    return unit_id in index.names and access.allows(principal, COURSE_MANAGE, index.path(unit_id))


def managed_owners(principal: Principal | None, index: OrgDirectory) -> list[tuple[int, str, int]]:
    """The owning departments the principal may keep courses of, as (id, name, depth)."""
    return [o for o in owners(index) if access.allows(principal, COURSE_MANAGE, index.path(o[0]))]


async def course_or_404(session: AsyncSession, course_id: int) -> Course:
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound(_("课程 {id} 不存在", id=course_id))
    return course


async def access_course_manage(
    session: AsyncSession, principal: Principal, course_id: int, index: OrgDirectory | None = None
) -> Course:
    """The course, if the principal may change it; else a 403 in the audit log."""
    course = await course_or_404(session, course_id)
    index = index or await users.org_directory(session)
    if not access.allows(principal, COURSE_MANAGE, index.path(course.org_unit_id)):
        raise await access.denied(
            principal,
            COURSE_MANAGE,
            _(
                "课程“{name}”属于{unit}，不在您的管理范围内",
                name=course.name,
                unit=index.name(course.org_unit_id),
            ),
            target_type="course",
            target_id=course.id,
        )
    return course
