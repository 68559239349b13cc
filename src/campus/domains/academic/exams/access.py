"""Who may read whose exams: a student their own timetable and seats, a teacher their own
duties and courses, an exam manager anyone's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import EXAM_MANAGE
from campus.kernel.context import Principal
from campus.kernel.errors import Forbidden, NotFound
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef


async def access_person_exams(
    session: AsyncSession, principal: Principal, person_id: int
) -> PersonRef:
    """A person's exam timetable, seats and duties: the person themselves and exam managers."""
    if person_id != principal.person_id and not principal.can(EXAM_MANAGE):
        raise Forbidden(_("只能查看自己的考试安排"))
    person = await users.get_person_ref(session, person_id)
    if person is None:
        raise NotFound(_("人员不存在"))
    return person
