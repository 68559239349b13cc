"""Writes of documents (发文): drafting, submitting for approval, the outcome of the approval
(number or back to draft), sealing, distribution and reading. ``check_*`` validates state,
input and reach before ``do_*`` writes; a refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, events, labels
from campus.domains.oa.documents import numbering, queries
from campus.domains.oa.documents.access import DocumentAccess, access_document
from campus.domains.oa.models import (
    Document,
    DocumentAddressee,
    DocumentReceipt,
    IssuingPrefix,
)
from campus.domains.oa.permissions import DOCUMENT_DRAFT, DOCUMENT_MANAGE, DOCUMENT_SEAL
from campus.domains.oa.schemas import AddresseeIn, DocumentCreate, DocumentUpdate
from campus.kernel import audit, clock
from campus.kernel.clock import local
from campus.kernel.context import Principal
from campus.kernel.db import insert_ignore
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory
from campus.platform.users.schemas import STAFF_TYPES
from campus.platform.workflow import service as workflow

PROCESS_KEY = "oa.document"
SOURCE = "oa"
EDITABLE = ("draft",)


def business_key(document_id: int) -> str:
    return f"document:{document_id}"


def document_id_of(key: str | None) -> int | None:
    """The document a workflow instance's business key names (None if it names none)."""
    if not key or not key.startswith("document:"):
        return None
    tail = key.removeprefix("document:")
    return int(tail) if tail.isdigit() else None


# ---------------------------------------------------------------- drafting


@dataclass(frozen=True)
class CheckedDocument:
    title: str
    kind: str
    issuing_org_id: int
    urgency: str
    secrecy: str
    body: str
    attachments: list[str]
    main: list[tuple[str, int]]
    copy_to: list[tuple[str, int]]


async def _check_addressees(
    session: AsyncSession, items: list[AddresseeIn], field: str, directory: OrgDirectory
) -> list[tuple[str, int]]:
    persons = await users.get_people(session, [a.id for a in items if a.kind == "person"])
    errors = []
    for n, item in enumerate(items):
        if item.kind == "org" and item.id not in directory:
            errors.append(FieldError(f"{field}.{n}.id", _("单位 {id} 不存在", id=item.id)))
        if item.kind == "person" and item.id not in persons:
            errors.append(FieldError(f"{field}.{n}.id", _("人员 {id} 不存在", id=item.id)))
    if errors:
        raise InvalidInput(_("收文单位或人员不存在"), errors=errors)
    return list(dict.fromkeys((a.kind, a.id) for a in items))


async def _check_fields(
    session: AsyncSession, principal: Principal, values: dict[str, Any]
) -> CheckedDocument:
    directory = await users.org_directory(session)
    issuing = values["issuing_org_id"]
    if issuing is None:
        me = await users.get_person_ref(session, principal.person_id)
        issuing = me.org_unit_id if me else None
    if issuing not in directory:
        raise InvalidInput.on("issuing_org_id", _("发文单位不存在"))
    if not access.allows(principal, DOCUMENT_DRAFT, directory.path(issuing)):
        message = _("您不能以“{unit}”的名义发文", unit=directory.name(issuing))
        raise await access.denied(principal, DOCUMENT_DRAFT, message)
    main = await _check_addressees(session, values["main"], "main", directory)
    copy_to = await _check_addressees(session, values["copy_to"], "copy_to", directory)
    files = await attachments.check(
        session,
        principal,
        values["attachments"],
        "attachments",
        kind="document",
        object_id=values.get("id"),
    )
    return CheckedDocument(
        title=values["title"],
        kind=values["kind"],
        issuing_org_id=issuing,
        urgency=values["urgency"],
        secrecy=values["secrecy"],
        body=values["body"],
        attachments=files,
        main=main,
        copy_to=[a for a in copy_to if a not in main],
    )


async def check_create_document(
    session: AsyncSession, principal: Principal, body: DocumentCreate
) -> int:
    values = {**body.model_dump(), "main": body.main, "copy_to": body.copy_to}
    checked = await _check_fields(session, principal, values)
    return await do_create_document(session, principal.person_id, checked)


async def do_create_document(
    session: AsyncSession, drafter_id: int, checked: CheckedDocument
) -> int:
    now = clock.now()
    document = Document(
        title=checked.title,
        kind=checked.kind,
        issuing_org_id=checked.issuing_org_id,
        urgency=checked.urgency,
        secrecy=checked.secrecy,
        body=checked.body,
        attachments=checked.attachments,
        drafter_id=drafter_id,
        status="draft",
        return_reason="",
        seal_name="",
        created_at=now,
        updated_at=now,
    )
    session.add(document)
    await session.flush()
    _add_addressees(session, document.id, checked)
    await attachments.bind(session, checked.attachments, "document", document.id)
    audit.record(session, "oa.document.create", "document", document.id, after=_state(document))
    return document.id


def _add_addressees(session: AsyncSession, document_id: int, checked: CheckedDocument) -> None:
    for role, items in (("main", checked.main), ("copy", checked.copy_to)):
        for kind, target_id in items:
            session.add(
                DocumentAddressee(
                    document_id=document_id, role=role, kind=kind, target_id=target_id
                )
            )


def _state(document: Document) -> dict[str, Any]:
    return {
        "title": document.title,
        "kind": document.kind,
        "issuing_org_id": document.issuing_org_id,
        "urgency": document.urgency,
        "secrecy": document.secrecy,
        "status": document.status,
        "number": document.number,
        "attachments": list(document.attachments or []),
    }


async def _own_draft(session: AsyncSession, principal: Principal, document_id: int) -> Document:
    document, level = await access_document(session, principal, document_id)
    if level is not DocumentAccess.DRAFTER:
        raise await access.denied(
            principal,
            DOCUMENT_DRAFT,
            _("只有拟稿人可以修改或提交这份公文"),
            target_type="document",
            target_id=document_id,
        )
    if document.status not in EDITABLE:
        raise Conflict(
            _("公文“{status}”，不能再修改", status=labels.DOCUMENT_STATUS_LABELS[document.status])
        )
    return document


async def _current_values(session: AsyncSession, document: Document) -> dict[str, Any]:
    rows = await queries.addressees_of(session, document.id)
    return {
        "id": document.id,
        "title": document.title,
        "kind": document.kind,
        "issuing_org_id": document.issuing_org_id,
        "urgency": document.urgency,
        "secrecy": document.secrecy,
        "body": document.body,
        "attachments": list(document.attachments or []),
        "main": [AddresseeIn(kind=r.kind, id=r.target_id) for r in rows if r.role == "main"],
        "copy_to": [AddresseeIn(kind=r.kind, id=r.target_id) for r in rows if r.role == "copy"],
    }


async def check_update_document(
    session: AsyncSession, principal: Principal, document_id: int, body: DocumentUpdate
) -> None:
    document = await _own_draft(session, principal, document_id)
    values = await _current_values(session, document)
    given = body.model_dump(exclude_unset=True)
    for key in given:
        value = getattr(body, key)
        if value is None and key != "issuing_org_id":
            raise InvalidInput.on(key, _("不能为空"))
        values[key] = value
    checked = await _check_fields(session, principal, values)
    await do_update_document(session, document, checked)


async def do_update_document(
    session: AsyncSession, document: Document, checked: CheckedDocument
) -> None:
    before = _state(document)
    added = [f for f in checked.attachments if f not in (document.attachments or [])]
    for key in ("title", "kind", "issuing_org_id", "urgency", "secrecy", "body", "attachments"):
        setattr(document, key, getattr(checked, key))
    document.updated_at = clock.now()
    await session.execute(
        delete(DocumentAddressee).where(DocumentAddressee.document_id == document.id)
    )
    _add_addressees(session, document.id, checked)
    await attachments.bind(session, added, "document", document.id)
    audit.record(
        session,
        "oa.document.update",
        "document",
        document.id,
        before=before,
        after=_state(document),
    )


async def check_delete_document(
    session: AsyncSession, principal: Principal, document_id: int
) -> None:
    document = await _own_draft(session, principal, document_id)
    if document.instance_id is not None:
        raise Conflict(_("已送审过的公文不能删除，可修改后重新提交"))
    audit.record(session, "oa.document.delete", "document", document.id, before=_state(document))
    await session.delete(document)


# ---------------------------------------------------------------- approval


async def check_submit(session: AsyncSession, principal: Principal, document_id: int) -> int:
    """Send the draft into the 发文审批 process; returns the workflow instance id."""
    document = await _own_draft(session, principal, document_id)
    values = await _current_values(session, document)
    checked = await _check_fields(session, principal, values)
    if not checked.main:
        raise InvalidInput.on("main", _("请至少填写一个主送单位或人员"))
    if not checked.body.strip():
        raise InvalidInput.on("body", _("正文不能为空"))
    return await do_submit(session, document)


async def do_submit(session: AsyncSession, document: Document) -> int:
    directory = await users.org_directory(session)
    rows = await queries.addressees_of(session, document.id)
    names = await queries.addressee_names(session, rows, directory)
    instance_id = await workflow.start_process(
        session,
        process_key=PROCESS_KEY,
        applicant_id=document.drafter_id,
        title=f"发文审批：{document.title}",
        data={
            "document_id": document.id,
            "title": document.title,
            "kind": labels.DOCUMENT_KIND_LABELS[document.kind],
            "issuing_org": directory.name(document.issuing_org_id),
            "urgency": labels.URGENCY_LABELS[document.urgency],
            "secrecy": labels.SECRECY_LABELS[document.secrecy],
            "main": "、".join(n.name for n in names if n.role == "main"),
            "copy": "、".join(n.name for n in names if n.role == "copy"),
            "body": document.body,
            "link": f"/oa/documents/{document.id}",
        },
        source=SOURCE,
        business_key=business_key(document.id),
    )
    before = _state(document)
    now = clock.now()
    document.status = "reviewing"
    document.instance_id = instance_id
    document.number_prefix = await queries.prefix_of(session, document.issuing_org_id, directory)
    document.submitted_at = now
    document.return_reason = ""
    document.updated_at = now
    audit.record(
        session,
        "oa.document.submit",
        "document",
        document.id,
        before=before,
        after={**_state(document), "instance_id": instance_id},
    )
    await emit(
        session,
        events.DOCUMENT_SUBMITTED,
        events.DocumentSubmitted(
            document_id=document.id,
            instance_id=instance_id,
            title=document.title,
            drafter_id=document.drafter_id,
        ),
    )
    return instance_id


async def reviewing_document(
    session: AsyncSession, key: str | None, instance_id: int
) -> Document | None:
    """The document an approval outcome is about, if it is still waiting for that very
    instance (a repeated or stale outcome finds none and changes nothing)."""
    document_id = document_id_of(key)
    if document_id is None:
        return None
    document = await session.get(Document, document_id, with_for_update=True)
    if document is None or document.status != "reviewing" or document.instance_id != instance_id:
        return None
    return document


async def do_approve(session: AsyncSession, document: Document) -> str:
    """签发: the document gets the next number of its prefix and year."""
    before = _state(document)
    now = clock.now()
    prefix = document.number_prefix or queries.default_prefix("")
    year = local(now).year
    seq = await numbering.next_seq(session, prefix, year)
    document.number_prefix, document.number_year, document.number_seq = prefix, year, seq
    document.number = numbering.format_number(prefix, year, seq)
    document.status = "approved"
    document.approved_at = now
    document.updated_at = now
    audit.record(
        session,
        "oa.document.approve",
        "document",
        document.id,
        before=before,
        after=_state(document),
    )
    await emit(
        session,
        events.DOCUMENT_APPROVED,
        events.DocumentApproved(
            document_id=document.id,
            number=document.number,
            drafter_id=document.drafter_id,
            issuing_org_id=document.issuing_org_id,
        ),
    )
    return document.number


async def do_return(session: AsyncSession, document: Document, outcome: str, reason: str) -> None:
    """Rejected or withdrawn: a draft again, with the reason, to be edited and resubmitted."""
    before = _state(document)
    document.status = "draft"
    document.return_reason = reason
    document.updated_at = clock.now()
    audit.record(
        session,
        f"oa.document.{outcome}",
        "document",
        document.id,
        before=before,
        after={**_state(document), "reason": reason},
    )
    await emit(
        session,
        events.DOCUMENT_RETURNED,
        events.DocumentReturned(
            document_id=document.id, drafter_id=document.drafter_id, outcome=outcome, reason=reason
        ),
    )


# ---------------------------------------------------------------- seal and distribution


async def _office_document(
    session: AsyncSession, principal: Principal, document_id: int
) -> Document:
    document, _level = await access_document(session, principal, document_id)
    path = (await users.org_directory(session)).path(document.issuing_org_id)
    if not access.allows(principal, DOCUMENT_SEAL, path):
        raise await access.denied(
            principal,
            DOCUMENT_SEAL,
            _("您不能为这个单位的公文用印或分发"),
            target_type="document",
            target_id=document_id,
        )
    return document


async def check_seal(
    session: AsyncSession, principal: Principal, document_id: int, seal_name: str
) -> None:
    document = await _office_document(session, principal, document_id)
    if document.status in ("draft", "reviewing"):
        raise Conflict(_("公文尚未签发，不能用印"))
    if document.status != "approved":
        raise Conflict(_("公文已经用印"))
    await do_seal(session, principal.person_id, document, seal_name)


async def do_seal(
    session: AsyncSession, sealer_id: int, document: Document, seal_name: str
) -> None:
    before = _state(document)
    # Claimed by its state: of two clerks sealing at once, one seals, the other is told.
    claimed: Any = await session.execute(
        update(Document)
        .where(Document.id == document.id, Document.status == "approved")
        .values(status="sealed")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(_("公文已经用印"))
    now = clock.now()
    document.status = "sealed"
    document.seal_name = seal_name
    document.sealed_by = sealer_id
    document.sealed_at = now
    document.updated_at = now
    audit.record(
        session,
        "oa.document.seal",
        "document",
        document.id,
        before=before,
        after={**_state(document), "seal_name": seal_name},
    )
    await emit(
        session,
        events.DOCUMENT_SEALED,
        events.DocumentSealed(
            document_id=document.id,
            number=document.number or "",
            seal_name=seal_name,
            sealed_by=sealer_id,
        ),
    )


async def recipients_of(session: AsyncSession, document_id: int) -> dict[int, tuple[str, int]]:
    """Who receives the document: each addressed unit's staff (units below included) and each
    addressed person, once, 主送 before 抄送; person id -> (role, their org unit)."""
    found: dict[int, tuple[str, int]] = {}
    rows = await queries.addressees_of(session, document_id)
    for role in ("main", "copy"):
        persons = await users.get_people(
            session, [r.target_id for r in rows if r.role == role and r.kind == "person"]
        )
        for person in persons.values():
            if person.status == "active":
                found.setdefault(person.id, (role, person.org_unit_id))
        for row in rows:
            if row.role != role or row.kind != "org":
                continue
            for person in await users.members_of_org(session, row.target_id, subtree=True):
                if person.person_type in STAFF_TYPES:
                    found.setdefault(person.id, (role, person.org_unit_id))
    return found


async def check_distribute(session: AsyncSession, principal: Principal, document_id: int) -> int:
    """Deliver the sealed document to its recipients' 收文 inboxes; returns how many."""
    document = await _office_document(session, principal, document_id)
    if document.status == "distributed":
        raise Conflict(_("公文已经分发，不能重复分发"))
    if document.status != "sealed":
        raise Conflict(_("公文用印后才能分发"))
    recipients = await recipients_of(session, document.id)
    if not recipients:
        raise Conflict(_("主送、抄送的单位里没有在职的收文人"))
    return await do_distribute(session, principal.person_id, document, recipients)


async def do_distribute(
    session: AsyncSession,
    distributor_id: int,
    document: Document,
    recipients: dict[int, tuple[str, int]],
) -> int:
    claimed: Any = await session.execute(
        update(Document)
        .where(Document.id == document.id, Document.status == "sealed")
        .values(status="distributed")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(_("公文已经分发，不能重复分发"))
    now = clock.now()
    rows = [
        {
            "document_id": document.id,
            "person_id": pid,
            "role": role,
            "org_unit_id": unit,
            "delivered_at": now,
        }
        for pid, (role, unit) in recipients.items()
    ]
    for start in range(0, len(rows), 500):
        await insert_ignore(
            session, DocumentReceipt, rows[start : start + 500], ["document_id", "person_id"]
        )
    document.status = "distributed"
    document.distributed_by = distributor_id
    document.distributed_at = now
    document.updated_at = now
    audit.record(
        session,
        "oa.document.distribute",
        "document",
        document.id,
        after={**_state(document), "recipients": len(rows)},
    )
    await emit(
        session,
        events.DOCUMENT_DISTRIBUTED,
        events.DocumentDistributed(
            document_id=document.id,
            number=document.number or "",
            title=document.title,
            recipient_ids=list(recipients),
            urgency=document.urgency,
            distributor_id=distributor_id,
        ),
    )
    return len(rows)


async def do_mark_read(session: AsyncSession, document_id: int, person_id: int) -> bool:
    """The recipient's read receipt, once (the first reading counts)."""
    result: Any = await session.execute(
        update(DocumentReceipt)
        .where(
            DocumentReceipt.document_id == document_id,
            DocumentReceipt.person_id == person_id,
            DocumentReceipt.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


# ---------------------------------------------------------------- 发文字号 prefixes


async def check_set_prefix(
    session: AsyncSession, principal: Principal, org_unit_id: int, prefix: str
) -> None:
    directory = await users.org_directory(session)
    if org_unit_id not in directory:
        raise NotFound(_("单位 {id} 不存在", id=org_unit_id))
    if not access.allows(principal, DOCUMENT_MANAGE, directory.path(org_unit_id)):
        raise await access.denied(principal, DOCUMENT_MANAGE, _("该单位不在您的管理范围内"))
    await do_set_prefix(session, org_unit_id, prefix)


async def do_set_prefix(session: AsyncSession, org_unit_id: int, prefix: str) -> None:
    """Numbers already given keep their prefix; documents submitted from now on take this."""
    row = await session.get(IssuingPrefix, org_unit_id)
    before = {"prefix": row.prefix} if row else None
    if row is None:
        session.add(IssuingPrefix(org_unit_id=org_unit_id, prefix=prefix))
    else:
        row.prefix = prefix
    await session.flush()
    audit.record(
        session, "oa.prefix.set", "org_unit", org_unit_id, before=before, after={"prefix": prefix}
    )
