"""Who may read which published timetable: a student their own class's, a teacher their own,
a timetable manager any. Rooms' timetables and free rooms are open to everyone signed in."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import TIMETABLE_MANAGE
from campus.kernel.context import Principal
from campus.kernel.errors import Forbidden, NotFound
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES, ClassOut


async def access_class_timetable(
    session: AsyncSession, principal: Principal, class_id: int
) -> ClassOut:
    """A class's timetable: its own students, staff (teachers, counselors) and managers."""
    found = await users.get_class(session, class_id)
    if found is None:
        raise NotFound(_("班级不存在"))
    if principal.can(TIMETABLE_MANAGE):
        return found
    me = await users.get_person_ref(session, principal.person_id)
    if me is not None and (me.class_id == class_id or me.person_type in STAFF_TYPES):
        return found
    raise Forbidden(_("只能查看本班的课表"))


async def access_teacher_timetable(
    session: AsyncSession, principal: Principal, person_id: int
) -> str:
    """A teacher's timetable: the teacher themselves and managers; returns their name."""
    if person_id != principal.person_id and not principal.can(TIMETABLE_MANAGE):
        raise Forbidden(_("只能查看自己的课表"))
    person = await users.get_person_ref(session, person_id)
    if person is None:
        raise NotFound(_("人员不存在"))
    return person.name


async def own_class_ids(session: AsyncSession, principal: Principal) -> list[int]:
    """The classes whose timetable is the reader's own (a student's class)."""
    me = await users.get_person_ref(session, principal.person_id)
    return [me.class_id] if me is not None and me.class_id is not None else []
