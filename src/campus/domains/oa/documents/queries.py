"""Reads of documents: the drafter's and the office's lists, the 收文 inbox, one document with
its addressees, and the distribution progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, people
from campus.domains.oa.models import Document, DocumentAddressee, DocumentReceipt, IssuingPrefix
from campus.domains.oa.permissions import DOCUMENT_MANAGE, DOCUMENT_SEAL
from campus.domains.oa.schemas import (
    AddresseeOut,
    DocumentListItem,
    DocumentOut,
    DocumentPage,
    InboxItem,
    InboxPage,
    PrefixOut,
    ReceiptPerson,
    ReceiptSummary,
    UnitCount,
)
from campus.kernel.context import Principal
from campus.kernel.pagination import PageParams, paginate
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory

# What the office sees of a document: from its approval on (drafts stay the drafter's).
OFFICE_STATUSES = ("approved", "sealed", "distributed")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """Documents the principal drafted, manages, or seals (once approved)."""
    return or_(
        Document.drafter_id == principal.person_id,
        access.scope_filter(principal, DOCUMENT_MANAGE, Document.issuing_org_id),
        and_(
            Document.status.in_(OFFICE_STATUSES),
            access.scope_filter(principal, DOCUMENT_SEAL, Document.issuing_org_id),
        ),
    )


@dataclass(frozen=True)
class DocumentFilter:
    box: str = "all"  # all, mine (drafted by me), office (awaiting seal or distribution)
    status: str | None = None
    q: str | None = None


async def documents_page(
    session: AsyncSession, principal: Principal, f: DocumentFilter, params: PageParams
) -> DocumentPage:
    stmt = select(Document).where(visible_to(principal))
    if f.box == "mine":
        stmt = stmt.where(Document.drafter_id == principal.person_id)
    elif f.box == "office":
        stmt = stmt.where(
            Document.status.in_(("approved", "sealed")),
            access.scope_filter(principal, DOCUMENT_SEAL, Document.issuing_org_id),
        )
    if f.status:
        stmt = stmt.where(Document.status == f.status)
    if f.q:
        pattern = _like(f.q)
        stmt = stmt.where(
            or_(
                Document.title.like(pattern, escape="\\"),
                Document.number.like(pattern, escape="\\"),
            )
        )
    stmt = stmt.order_by(Document.updated_at.desc(), Document.id.desc())
    page = await paginate(session, stmt, params.page, params.page_size)
    directory = await users.org_directory(session)
    drafters = await users.get_people(session, sorted({d.drafter_id for d in page.items}))
    return page.into(
        DocumentPage,
        lambda d: DocumentListItem(
            id=d.id,
            title=d.title,
            kind=d.kind,
            issuing_org_name=directory.name(d.issuing_org_id),
            urgency=d.urgency,
            status=d.status,
            number=d.number,
            drafter_name=drafters[d.drafter_id].name if d.drafter_id in drafters else "",
            updated_at=d.updated_at,
            return_reason=d.return_reason,
        ),
    )


async def addressees_of(session: AsyncSession, document_id: int) -> list[DocumentAddressee]:
    rows = await session.scalars(
        select(DocumentAddressee)
        .where(DocumentAddressee.document_id == document_id)
        .order_by(DocumentAddressee.id)
    )
    return list(rows)


async def addressee_names(
    session: AsyncSession, rows: Sequence[DocumentAddressee], directory: OrgDirectory
) -> list[AddresseeOut]:
    persons = await users.get_people(session, [r.target_id for r in rows if r.kind == "person"])
    out = []
    for row in rows:
        if row.kind == "org":
            name = directory.name(row.target_id)
        else:
            person = persons.get(row.target_id)
            name = person.name if person else ""
        out.append(AddresseeOut(role=row.role, kind=row.kind, id=row.target_id, name=name))
    return out


async def progress_counts(session: AsyncSession, document_id: int) -> tuple[int, int]:
    """(recipients, of whom read)."""
    row = (
        await session.execute(
            select(func.count(), func.count(DocumentReceipt.read_at)).where(
                DocumentReceipt.document_id == document_id
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def receipt_of(
    session: AsyncSession, document_id: int, person_id: int
) -> DocumentReceipt | None:
    found: DocumentReceipt | None = await session.get(DocumentReceipt, (document_id, person_id))
    return found


async def document_out(
    session: AsyncSession, document: Document, viewer_id: int | None = None
) -> DocumentOut:
    directory = await users.org_directory(session)
    ids = [document.drafter_id, *([document.sealed_by] if document.sealed_by else [])]
    names = await users.get_people(session, ids)
    recipients, read = await progress_counts(session, document.id)
    mine = await receipt_of(session, document.id, viewer_id) if viewer_id else None
    return DocumentOut(
        id=document.id,
        title=document.title,
        kind=document.kind,
        issuing_org_id=document.issuing_org_id,
        issuing_org_name=directory.name(document.issuing_org_id),
        urgency=document.urgency,
        secrecy=document.secrecy,
        body=document.body,
        attachments=await attachments.listed(session, document.attachments or []),
        drafter_id=document.drafter_id,
        drafter_name=names[document.drafter_id].name if document.drafter_id in names else "",
        status=document.status,
        instance_id=document.instance_id,
        return_reason=document.return_reason,
        number=document.number,
        seal_name=document.seal_name,
        sealed_by_name=names[document.sealed_by].name
        if document.sealed_by in names and document.sealed_by is not None
        else None,
        sealed_at=document.sealed_at,
        distributed_at=document.distributed_at,
        submitted_at=document.submitted_at,
        approved_at=document.approved_at,
        created_at=document.created_at,
        updated_at=document.updated_at,
        addressees=await addressee_names(
            session, await addressees_of(session, document.id), directory
        ),
        recipients=recipients,
        read=read,
        my_receipt_read_at=mine.read_at if mine else None,
    )


# ---------------------------------------------------------------- 收文 inbox


async def inbox(
    session: AsyncSession, person_id: int, params: PageParams, *, unread: bool = False
) -> InboxPage:
    stmt = cast(
        "Select[Any]",
        select(DocumentReceipt, Document)
        .join(Document, Document.id == DocumentReceipt.document_id)
        .where(DocumentReceipt.person_id == person_id)
        .order_by(DocumentReceipt.delivered_at.desc(), Document.id.desc()),
    )
    if unread:
        stmt = stmt.where(DocumentReceipt.read_at.is_(None))
    page = await paginate(session, stmt, params.page, params.page_size)
    directory = await users.org_directory(session)
    unread_total = await session.scalar(
        select(func.count()).where(
            DocumentReceipt.person_id == person_id, DocumentReceipt.read_at.is_(None)
        )
    )
    return page.into(
        InboxPage,
        lambda row: InboxItem(
            document_id=row[1].id,
            title=row[1].title,
            kind=row[1].kind,
            number=row[1].number,
            issuing_org_name=directory.name(row[1].issuing_org_id),
            urgency=row[1].urgency,
            secrecy=row[1].secrecy,
            role=row[0].role,
            delivered_at=row[0].delivered_at,
            read_at=row[0].read_at,
        ),
        unread=int(unread_total or 0),
    )


# ---------------------------------------------------------------- distribution progress


@dataclass(frozen=True)
class Progress:
    rows: list[ReceiptPerson]
    summary: ReceiptSummary


async def progress(session: AsyncSession, document_id: int) -> Progress:
    """Every recipient with when they read it, and the counts per unit."""
    directory = await users.org_directory(session)
    receipts = list(
        await session.scalars(
            select(DocumentReceipt).where(DocumentReceipt.document_id == document_id)
        )
    )
    persons = await users.get_people(session, [r.person_id for r in receipts])
    group_of = people.group_units(directory, {r.org_unit_id for r in receipts})
    totals: dict[int, list[int]] = {}
    rows = []
    for r in receipts:
        counts = totals.setdefault(group_of[r.org_unit_id], [0, 0])
        counts[0] += 1
        counts[1] += r.read_at is not None
        person = persons.get(r.person_id)
        rows.append(
            ReceiptPerson(
                person_id=r.person_id,
                name=person.name if person else "",
                number=person.number if person else None,
                org_unit_id=r.org_unit_id,
                org_unit_name=directory.name(r.org_unit_id),
                read_at=r.read_at,
            )
        )
    rows.sort(key=lambda r: (directory.path(r.org_unit_id), r.number or "", r.person_id))
    read = sum(c[1] for c in totals.values())
    units = [
        UnitCount(org_unit_id=u, name=directory.name(u), total=c[0], read=c[1])
        for u, c in sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]
    summary = ReceiptSummary(total=len(rows), read=read, unread=len(rows) - read, units=units)
    return Progress(rows, summary)


# ---------------------------------------------------------------- 发文字号 prefixes


def default_prefix(name: str) -> str:
    """A unit without a configured prefix numbers its documents as “<unit name>发”."""
    return f"{name}发"


async def prefix_of(session: AsyncSession, org_unit_id: int, directory: OrgDirectory) -> str:
    configured = await session.get(IssuingPrefix, org_unit_id)
    return configured.prefix if configured else default_prefix(directory.name(org_unit_id))


async def prefixes(session: AsyncSession, principal: Principal) -> list[PrefixOut]:
    """The prefixes of the units the principal's ``oa.document.manage`` reaches."""
    directory = await users.org_directory(session)
    configured = {p.org_unit_id: p.prefix for p in await session.scalars(select(IssuingPrefix))}
    out = []
    for unit_id, name, _depth in directory.ordered():
        if not access.allows(principal, DOCUMENT_MANAGE, directory.path(unit_id)):
            continue
        out.append(
            PrefixOut(
                org_unit_id=unit_id,
                org_unit_name=name,
                prefix=configured.get(unit_id, default_prefix(name)),
                configured=unit_id in configured,
            )
        )
    return out
