"""Who may do what with a section's grade sheet. Its teachers (主讲 and 辅讲) read and edit
it; readers whose ``academic.grade.review`` or ``.publish`` reaches the section's 开课单位 read
it and move it on. Anyone else is told the section does not exist. A student reads only their
own published results (``access_own_results``). The grade policy is the registrar's: it is
changed only by a holder of ``academic.grade.publish`` reaching the whole university
(``access_policy``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.grades import queries
from campus.domains.academic.offering.models import Section
from campus.domains.academic.permissions import GRADE_PUBLISH, GRADE_REVIEW
from campus.kernel.context import Principal
from campus.kernel.errors import Forbidden, NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users


def _hidden(section_id: int) -> NotFound:
    return NotFound(_("教学班 {id} 不存在或您无权查看其成绩", id=section_id))


async def _path(session: AsyncSession, org_unit_id: int) -> list[int]:
    return (await users.org_directory(session)).path(org_unit_id)


async def oversees(
    session: AsyncSession, principal: Principal, section: Section, code: str
) -> bool:
    return access.allows(principal, code, await _path(session, section.org_unit_id))


async def access_sheet(session: AsyncSession, principal: Principal, section_id: int) -> Section:
    """A section whose sheet the reader may read: its teacher, or a reviewer or publisher."""
    section = await session.get(Section, section_id)
    if section is None:
        raise _hidden(section_id)
    if principal.person_id in await queries.teacher_ids(session, section.id):
        return section
    for code in (GRADE_REVIEW, GRADE_PUBLISH):
        if await oversees(session, principal, section, code):
            return section
    raise _hidden(section_id)


async def access_own_sheet(session: AsyncSession, principal: Principal, section_id: int) -> Section:
    """A section the reader teaches (only its teachers enter marks)."""
    section = await access_sheet(session, principal, section_id)
    if principal.person_id not in await queries.teacher_ids(session, section.id):
        raise Forbidden(_("只有本教学班的任课教师可以录入和提交成绩"))
    return section


async def access_overseen_sheet(
    session: AsyncSession, principal: Principal, section_id: int, code: str
) -> Section:
    """A section whose sheet the reader may review (``code`` review) or publish."""
    section = await access_sheet(session, principal, section_id)
    if not await oversees(session, principal, section, code):
        raise Forbidden(
            _("您无权审核该教学班的成绩") if code == GRADE_REVIEW else _("您无权发布该教学班的成绩")
        )
    return section


def may_change_policy(principal: Principal) -> bool:
    """The grade policy holds for the whole university: only a publisher of every unit's
    grades (the registrar) changes it; a college's publishers read it."""
    return access.reach(principal, GRADE_PUBLISH).everywhere


def access_policy(principal: Principal) -> None:
    if not may_change_policy(principal):
        raise Forbidden(_("只有全校范围的成绩发布人（教务处）可以修改成绩规则"))
