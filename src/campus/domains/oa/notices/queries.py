"""Reads of notices: what a reader is sent, what a publisher manages, who has read what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, people
from campus.domains.oa.models import Notice, NoticeRead, NoticeTarget
from campus.domains.oa.people import Reader
from campus.domains.oa.permissions import NOTICE_MANAGE
from campus.domains.oa.schemas import (
    NoticeListItem,
    NoticeOut,
    NoticePage,
    ReceiptPerson,
    ReceiptSummary,
    TargetOut,
    UnitCount,
)
from campus.kernel.clock import today
from campus.kernel.context import Principal
from campus.kernel.pagination import PageParams, paginate
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory
from campus.platform.users.schemas import PersonRef


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def addressed_to(reader: Reader) -> ColumnElement[bool]:
    """A WHERE clause keeping the notices whose audience includes the reader."""
    kinds = ["all"]
    if reader.is_student:
        kinds.append("students")
    if reader.is_staff:
        kinds.append("staff")
    by_class: ColumnElement[bool] = (
        and_(NoticeTarget.kind == "class", NoticeTarget.target_id == reader.class_id)
        if reader.class_id is not None
        else false()
    )
    target = exists().where(
        NoticeTarget.notice_id == Notice.id,
        or_(
            NoticeTarget.kind == "campus",
            and_(NoticeTarget.kind == "org", NoticeTarget.target_id == reader.org_unit_id),
            and_(
                NoticeTarget.kind == "org",
                NoticeTarget.subtree.is_(True),
                NoticeTarget.target_id.in_(reader.org_path),
            ),
            by_class,
        ),
    )
    return and_(Notice.people.in_(kinds), target)


def current() -> ColumnElement[bool]:
    """Published and not expired."""
    return and_(
        Notice.status == "published",
        or_(Notice.expires_on.is_(None), Notice.expires_on >= today()),
    )


async def is_addressed(session: AsyncSession, notice_id: int, reader: Reader) -> bool:
    found = await session.scalar(
        select(Notice.id).where(Notice.id == notice_id, addressed_to(reader))
    )
    return found is not None


@dataclass(frozen=True)
class InboxFilter:
    unread: bool = False
    expired: bool = False  # include notices past their expiry date
    q: str | None = None


def _listing(stmt: Select[Any]) -> Select[Any]:
    return stmt.order_by(
        Notice.pinned.desc(), Notice.published_at.desc().nulls_last(), Notice.id.desc()
    )


async def my_notices(
    session: AsyncSession, reader: Reader, f: InboxFilter, params: PageParams
) -> NoticePage:
    """The notices sent to the reader, pinned first, each marked read or unread."""
    stmt = cast(
        "Select[Any]",
        select(Notice, NoticeRead.read_at)
        .outerjoin(
            NoticeRead,
            and_(NoticeRead.notice_id == Notice.id, NoticeRead.person_id == reader.person_id),
        )
        .where(Notice.status == "published", addressed_to(reader)),
    )
    if not f.expired:
        stmt = stmt.where(or_(Notice.expires_on.is_(None), Notice.expires_on >= today()))
    if f.unread:
        stmt = stmt.where(NoticeRead.read_at.is_(None))
    if f.q:
        stmt = stmt.where(Notice.title.like(_like(f.q), escape="\\"))
    page = await paginate(session, _listing(stmt), params.page, params.page_size)
    names = await _names(session, [n for n, _r in page.items])
    unread = await unread_count(session, reader)
    return page.into(
        NoticePage,
        lambda row: _item(row[0], names, read=row[1] is not None),
        unread=unread,
    )


async def unread_count(session: AsyncSession, reader: Reader) -> int:
    read = exists().where(
        NoticeRead.notice_id == Notice.id, NoticeRead.person_id == reader.person_id
    )
    stmt = select(func.count(Notice.id)).where(current(), addressed_to(reader), ~read)
    return int(await session.scalar(stmt) or 0)


def managed_by(principal: Principal) -> ColumnElement[bool]:
    """Notices the principal published, or whose issuing unit their manage grant reaches."""
    return or_(
        Notice.publisher_id == principal.person_id,
        access.scope_filter(principal, NOTICE_MANAGE, Notice.org_unit_id),
    )


async def managed_notices(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    status: str | None = None,
    q: str | None = None,
) -> NoticePage:
    stmt: Select[Any] = select(Notice).where(managed_by(principal))
    if status:
        stmt = stmt.where(Notice.status == status)
    if q:
        stmt = stmt.where(Notice.title.like(_like(q), escape="\\"))
    stmt = stmt.order_by(Notice.updated_at.desc(), Notice.id.desc())
    page = await paginate(session, stmt, params.page, params.page_size)
    names = await _names(session, list(page.items))
    return page.into(NoticePage, lambda notice: _item(notice, names, read=None))


@dataclass(frozen=True)
class Names:
    units: OrgDirectory
    people: dict[int, PersonRef]

    def person(self, person_id: int) -> str:
        person = self.people.get(person_id)
        return person.name if person else ""


async def _names(session: AsyncSession, notices: list[Notice]) -> Names:
    directory = await users.org_directory(session)
    publishers = await users.get_people(session, sorted({n.publisher_id for n in notices}))
    return Names(directory, publishers)


def _item(notice: Notice, names: Names, *, read: bool | None) -> NoticeListItem:
    return NoticeListItem(
        id=notice.id,
        title=notice.title,
        status=notice.status,
        org_unit_id=notice.org_unit_id,
        org_unit_name=names.units.name(notice.org_unit_id),
        publisher_name=names.person(notice.publisher_id),
        pinned=notice.pinned,
        expires_on=notice.expires_on,
        published_at=notice.published_at,
        updated_at=notice.updated_at,
        read=read,
    )


async def targets_of(session: AsyncSession, notice_id: int) -> list[NoticeTarget]:
    rows = await session.scalars(
        select(NoticeTarget).where(NoticeTarget.notice_id == notice_id).order_by(NoticeTarget.id)
    )
    return list(rows)


async def target_names(
    session: AsyncSession, targets: list[NoticeTarget], directory: OrgDirectory
) -> list[TargetOut]:
    out = []
    for t in targets:
        if t.kind == "campus":
            name = "全校"
        elif t.kind == "org":
            name = directory.name(t.target_id)
        else:
            found = await users.get_class(session, t.target_id) if t.target_id else None
            name = found.name if found else ""
        out.append(TargetOut(kind=t.kind, id=t.target_id, subtree=t.subtree, name=name))
    return out


async def notice_out(
    session: AsyncSession, notice: Notice, reader_id: int | None = None
) -> NoticeOut:
    directory = await users.org_directory(session)
    publisher = await users.get_person_ref(session, notice.publisher_id)
    read_at = None
    if reader_id is not None:
        read_at = await session.scalar(
            select(NoticeRead.read_at).where(
                NoticeRead.notice_id == notice.id, NoticeRead.person_id == reader_id
            )
        )
    targets = await target_names(session, await targets_of(session, notice.id), directory)
    return NoticeOut(
        id=notice.id,
        title=notice.title,
        body=notice.body,
        status=notice.status,
        people=notice.people,
        org_unit_id=notice.org_unit_id,
        org_unit_name=directory.name(notice.org_unit_id),
        publisher_id=notice.publisher_id,
        publisher_name=publisher.name if publisher else "",
        pinned=notice.pinned,
        expires_on=notice.expires_on,
        attachments=await attachments.listed(session, notice.attachments or []),
        targets=targets,
        published_at=notice.published_at,
        withdrawn_at=notice.withdrawn_at,
        withdraw_reason=notice.withdraw_reason,
        created_at=notice.created_at,
        updated_at=notice.updated_at,
        read_at=read_at,
    )


# ---------------------------------------------------------------- read receipts


@dataclass(frozen=True)
class Receipts:
    """The audience of a notice, who of it has read, and the units they are counted under."""

    members: dict[int, PersonRef]
    read_at: dict[int, datetime]
    group_of: dict[int, int]  # a person's org unit -> the unit they are counted under
    directory: OrgDirectory

    def summary(self) -> ReceiptSummary:
        totals: dict[int, list[int]] = {}
        for person in self.members.values():
            counts = totals.setdefault(self.group_of[person.org_unit_id], [0, 0])
            counts[0] += 1
            counts[1] += person.id in self.read_at
        read = sum(c[1] for c in totals.values())
        units = [
            UnitCount(org_unit_id=u, name=self.directory.name(u), total=c[0], read=c[1])
            for u, c in sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ]
        return ReceiptSummary(
            total=len(self.members), read=read, unread=len(self.members) - read, units=units
        )

    def people(self, state: str | None = None, unit: int | None = None) -> list[ReceiptPerson]:
        rows = []
        for person in self.members.values():
            read_at = self.read_at.get(person.id)
            if (state == "read" and read_at is None) or (state == "unread" and read_at is not None):
                continue
            if unit is not None and self.group_of[person.org_unit_id] != unit:
                continue
            rows.append(
                ReceiptPerson(
                    person_id=person.id,
                    name=person.name,
                    number=person.number,
                    org_unit_id=person.org_unit_id,
                    org_unit_name=self.directory.name(person.org_unit_id),
                    read_at=read_at,
                )
            )
        rows.sort(key=lambda r: (self.directory.path(r.org_unit_id), r.number or "", r.person_id))
        return rows


async def receipts(session: AsyncSession, notice: Notice) -> Receipts:
    directory = await users.org_directory(session)
    targets = [(t.kind, t.target_id, t.subtree) for t in await targets_of(session, notice.id)]
    members = await people.members_of_targets(session, targets, directory, notice.people)
    rows = await session.execute(
        select(NoticeRead.person_id, NoticeRead.read_at).where(NoticeRead.notice_id == notice.id)
    )
    read_at = {pid: at for pid, at in rows.all() if pid in members}
    group_of = people.group_units(directory, {p.org_unit_id for p in members.values()})
    return Receipts(members, read_at, group_of, directory)
