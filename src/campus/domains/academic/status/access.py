"""Who may read one student's record: the student themselves, and readers whose
``academic.status.read`` or ``.manage`` reaches the record's major. Anyone else is told it does
not exist (a student probing another's number learns nothing). Whoever has a task in the
approval of one of the student's requests reads the record too."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.status import queries
from campus.domains.academic.status.models import StatusChange, StudentStatus
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.workflow import service as workflow


async def access_record(
    session: AsyncSession, principal: Principal, person_id: int
) -> StudentStatus:
    record = await queries.reaches(session, person_id, queries.within(principal))
    if record is None and await _approves_for(session, principal.person_id, person_id):
        record = await queries.record_of(session, person_id)
    if record is None:
        raise NotFound(_("学籍记录不存在"))
    return record


async def _approves_for(session: AsyncSession, reader_id: int, person_id: int) -> bool:
    """Whether the reader has (had) a task in the approval of one of the student's requests
    (a counselor or dean deciding needs to see the record)."""
    for instance_id in await queries.instances_of(session, person_id):
        try:
            instance = await workflow.get_instance(session, instance_id)
        except NotFound:
            continue
        if any(task.assignee_id == reader_id for task in instance.tasks):
            return True
    return False


async def access_own_record(session: AsyncSession, principal: Principal) -> StudentStatus:
    record = await queries.record_of(session, principal.person_id)
    if record is None:
        raise NotFound(_("您没有学籍记录"))
    return record


async def access_managed_record(
    session: AsyncSession, principal: Principal, person_id: int
) -> StudentStatus:
    """A record whose changes the reader may handle (``academic.status.manage`` reaches it)."""
    record = await queries.reaches(session, person_id, queries.managed(principal))
    if record is None:
        raise NotFound(_("学籍记录不存在或不在您的管理范围内"))
    return record


async def access_change(
    session: AsyncSession, principal: Principal, change_id: int
) -> tuple[StatusChange, StudentStatus]:
    found = await queries.change_with_record(session, change_id)
    if found is None:
        raise NotFound(_("学籍异动申请 {id} 不存在", id=change_id))
    await access_record(session, principal, found[1].person_id)
    return found
