"""Who may read one document, and in which part: every read of one document goes through
``access_document``."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa.documents import queries
from campus.domains.oa.models import Document
from campus.domains.oa.permissions import DOCUMENT_MANAGE, DOCUMENT_SEAL
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.workflow import service as workflow


class DocumentAccess(StrEnum):
    DRAFTER = "drafter"  # edits the draft, submits it, follows its approval and distribution
    MANAGER = "manager"  # oa.document.manage reaches the issuing unit: sees everything
    OFFICE = "office"  # oa.document.seal reaches the issuing unit: seals, distributes
    APPROVER = "approver"  # has (had) a task in its approval: reads it
    RECIPIENT = "recipient"  # it was distributed to them: reads it

    @property
    def sees_progress(self) -> bool:
        return self in (DocumentAccess.DRAFTER, DocumentAccess.MANAGER, DocumentAccess.OFFICE)


async def document_or_404(session: AsyncSession, document_id: int) -> Document:
    document = await session.get(Document, document_id)
    if document is None:
        raise NotFound(_("公文 {id} 不存在", id=document_id))
    return document


async def level_of(
    session: AsyncSession, principal: Principal, document: Document
) -> DocumentAccess | None:
    if document.drafter_id == principal.person_id:
        return DocumentAccess.DRAFTER
    path = (await users.org_directory(session)).path(document.issuing_org_id)
    if access.allows(principal, DOCUMENT_MANAGE, path):
        return DocumentAccess.MANAGER
    if document.status in queries.OFFICE_STATUSES and access.allows(principal, DOCUMENT_SEAL, path):
        return DocumentAccess.OFFICE
    if await queries.receipt_of(session, document.id, principal.person_id) is not None:
        return DocumentAccess.RECIPIENT
    if document.instance_id is not None and await _is_approver(
        session, document.instance_id, principal.person_id
    ):
        return DocumentAccess.APPROVER
    return None


async def _is_approver(session: AsyncSession, instance_id: int, person_id: int) -> bool:
    try:
        instance = await workflow.get_instance(session, instance_id)
    except NotFound:
        return False
    return any(task.assignee_id == person_id for task in instance.tasks)


async def access_document(
    session: AsyncSession, principal: Principal, document_id: int
) -> tuple[Document, DocumentAccess]:
    """The document and the principal's access to it; a refusal is a 403 in the audit log."""
    document = await document_or_404(session, document_id)
    level = await level_of(session, principal, document)
    if level is None:
        raise await access.denied(
            principal,
            "oa.document.read",
            _("您无权查看这份公文"),
            target_type="document",
            target_id=document_id,
        )
    return document, level
