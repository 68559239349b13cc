"""Reads of the notifications core: the inbox (targeted rows united with the campus-wide
notifications matching the reader now), one notification for its reader, the sender's list,
statistics and read receipts, preferences and templates."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.db import on_connection
from campus.kernel.pagination import PageParams
from campus.platform.messaging import audience as audiences
from campus.platform.messaging.models import (
    BroadcastRead,
    ChannelPreference,
    Delivery,
    Notification,
    QuietHours,
    Recipient,
    Template,
)
from campus.platform.messaging.schemas import (
    CHANNELS,
    ChannelStats,
    InboxPage,
    NotificationOut,
    NotificationStats,
    ReadBucket,
    ReceiptRow,
    SentItem,
    SentPage,
)
from campus.platform.users import service as users

# Buckets of the read-over-time chart: hourly for two days, then daily.
HOURLY_SPAN = timedelta(hours=48)


@dataclass(frozen=True)
class Reader:
    """Who reads the inbox: their id and, for campus-wide notifications, their kind."""

    person_id: int
    kind: str  # student, staff, other


# How far before the last notification a reconnecting client saw its replay reaches back.
REPLAY_LOOKBACK = timedelta(seconds=60)


@dataclass(frozen=True)
class InboxFilter:
    category: str | None = None
    unread: bool = False
    after_id: int | None = None  # only newer than this (a reconnecting live client)
    # ... or created since this time: ids are taken before commit, so a notification may
    # commit after one with a higher id that the client has already seen.
    created_since: datetime | None = None


async def reader_of(session: AsyncSession, person_id: int) -> Reader:
    person = await users.get_person_ref(session, person_id)
    return Reader(person_id, audiences.kind_of(person.person_type) if person else "other")


def _current(now: datetime) -> ColumnElement[bool]:
    return or_(Notification.expires_at.is_(None), Notification.expires_at > now)


def _inbox_ids(reader: Reader, f: InboxFilter, now: datetime) -> Any:
    """(id, read_at) of every notification in the reader's inbox: targeted rows, and the
    campus-wide notifications whose rule matches the reader now."""
    targeted = (
        select(Notification.id.label("id"), Recipient.read_at.label("read_at"))
        .join(Recipient, Recipient.notification_id == Notification.id)
        .where(Recipient.person_id == reader.person_id, _current(now))
    )
    read = and_(
        BroadcastRead.notification_id == Notification.id,
        BroadcastRead.person_id == reader.person_id,
    )
    wide = (
        select(Notification.id.label("id"), BroadcastRead.read_at.label("read_at"))
        .outerjoin(BroadcastRead, read)
        .where(
            Notification.broadcast.is_(True),
            Notification.person_scope.in_(("all", reader.kind)),
            _current(now),
        )
    )
    if f.category:
        targeted = targeted.where(Notification.category == f.category)
        wide = wide.where(Notification.category == f.category)
    if f.unread:
        targeted = targeted.where(Recipient.read_at.is_(None))
        wide = wide.where(BroadcastRead.person_id.is_(None))
    if f.after_id is not None:
        newer: ColumnElement[bool] = Notification.id > f.after_id
        if f.created_since is not None:
            late = and_(Notification.created_at >= f.created_since, Notification.id != f.after_id)
            newer = or_(newer, late)
        targeted = targeted.where(newer)
        wide = wide.where(newer)
    return union_all(targeted, wide).subquery("inbox")


async def _with_senders(items: list[NotificationOut], session: AsyncSession) -> None:
    sender_ids = sorted({i.sender_id for i in items if i.sender_id is not None})
    names = {pid: p.name for pid, p in (await users.get_people(session, sender_ids)).items()}
    for item in items:
        item.sender_name = names.get(item.sender_id) if item.sender_id else None


def _out(notification: Notification, read_at: datetime | None) -> NotificationOut:
    out = NotificationOut.model_validate(notification)
    out.read_at = read_at
    return out


async def inbox(
    session: AsyncSession, reader: Reader, f: InboxFilter, params: PageParams
) -> InboxPage:
    now = clock.now()
    ids = _inbox_ids(reader, f, now)
    total = int(await session.scalar(select(func.count()).select_from(ids)) or 0)
    rows = await session.execute(
        select(Notification, ids.c.read_at)
        .join(ids, ids.c.id == Notification.id)
        .order_by(Notification.id.desc())
        .offset(params.offset)
        .limit(params.page_size)
    )
    items = [_out(n, read_at) for n, read_at in rows.all()]
    await _with_senders(items, session)
    unread = await unread_count(session, reader)
    return InboxPage.of(items, total, params, unread=unread)


async def unread_count(session: AsyncSession, reader: Reader) -> int:
    ids = _inbox_ids(reader, InboxFilter(unread=True), clock.now())
    return int(await session.scalar(select(func.count()).select_from(ids)) or 0)


async def missed(
    session: AsyncSession, reader: Reader, after_id: int, limit: int
) -> list[NotificationOut]:
    """What arrived after ``after_id``, oldest first (for a live client that reconnects): the
    higher ids, and those created up to ``REPLAY_LOOKBACK`` before ``after_id`` was (one that
    committed late under a lower id); the client skips the ids it has seen."""
    last_seen = await session.scalar(
        select(Notification.created_at).where(Notification.id == after_id)
    )
    since = last_seen - REPLAY_LOOKBACK if last_seen is not None else None
    ids = _inbox_ids(reader, InboxFilter(after_id=after_id, created_since=since), clock.now())
    rows = await session.execute(
        select(Notification, ids.c.read_at)
        .join(ids, ids.c.id == Notification.id)
        .order_by(Notification.id)
        .limit(limit)
    )
    return [_out(n, read_at) for n, read_at in rows.all()]


async def for_reader(
    session: AsyncSession, reader: Reader, notification_id: int
) -> tuple[Notification, datetime | None] | None:
    """The notification and the reader's read time, if it is in their inbox (expired ones
    stay readable by link)."""
    notification = await session.get(Notification, notification_id)
    if notification is None:
        return None
    if notification.broadcast:
        if not audiences.matches(notification.person_scope, reader.kind):
            return None
        read_at = await session.scalar(
            select(BroadcastRead.read_at).where(
                BroadcastRead.notification_id == notification_id,
                BroadcastRead.person_id == reader.person_id,
            )
        )
        return notification, read_at
    row = await session.execute(
        select(Recipient.read_at).where(
            Recipient.notification_id == notification_id, Recipient.person_id == reader.person_id
        )
    )
    found = row.first()
    return None if found is None else (notification, found[0])


async def unread_broadcast_ids(session: AsyncSession, reader: Reader) -> list[int]:
    ids = _inbox_ids(reader, InboxFilter(unread=True), clock.now())
    rows = await session.scalars(
        select(ids.c.id)
        .join(Notification, Notification.id == ids.c.id)
        .where(Notification.broadcast.is_(True))
    )
    return list(rows)


# ---------------------------------------------------------------- the sender's side


def _sent_select(sender_id: int | None) -> Select[Any]:
    stmt = select(Notification)
    if sender_id is not None:
        stmt = stmt.where(Notification.sender_id == sender_id)
    return stmt


async def read_counts(session: AsyncSession, notification_ids: list[int]) -> dict[int, int]:
    if not notification_ids:
        return {}
    targeted = await session.execute(
        select(Recipient.notification_id, func.count())
        .where(Recipient.notification_id.in_(notification_ids), Recipient.read_at.is_not(None))
        .group_by(Recipient.notification_id)
    )
    wide = await session.execute(
        select(BroadcastRead.notification_id, func.count())
        .where(BroadcastRead.notification_id.in_(notification_ids))
        .group_by(BroadcastRead.notification_id)
    )
    counts = {nid: int(n) for nid, n in targeted.all()}
    counts.update({nid: int(n) for nid, n in wide.all()})
    return counts


async def sent(session: AsyncSession, sender_id: int | None, params: PageParams) -> SentPage:
    """Notifications sent by ``sender_id`` (everyone's for None), newest first."""
    stmt = _sent_select(sender_id)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = list(
        await session.scalars(
            stmt.order_by(Notification.id.desc()).offset(params.offset).limit(params.page_size)
        )
    )
    counts = await read_counts(session, [n.id for n in rows])
    items = [
        SentItem.model_validate(n).model_copy(update={"read_count": counts.get(n.id, 0)})
        for n in rows
    ]
    return SentPage.of(items, total, params)


async def audience_size(session: AsyncSession, notification: Notification) -> int:
    """Targeted: the rows written. Campus-wide: the people the rule matches now."""
    if notification.broadcast:
        return await audiences.broadcast_size(session, notification.person_scope)
    return int(
        await session.scalar(
            select(func.count()).where(Recipient.notification_id == notification.id)
        )
        or 0
    )


async def read_times(session: AsyncSession, notification: Notification) -> list[datetime]:
    stmt: Select[Any]
    if notification.broadcast:
        stmt = select(BroadcastRead.read_at).where(BroadcastRead.notification_id == notification.id)
    else:
        stmt = select(Recipient.read_at).where(
            Recipient.notification_id == notification.id, Recipient.read_at.is_not(None)
        )
    return sorted(t for t in await session.scalars(stmt) if t is not None)


def read_buckets(start: datetime, times: list[datetime], now: datetime) -> list[ReadBucket]:
    """Reads per hour since ``start`` (per day after two days), with the running total."""
    step = timedelta(hours=1) if now - start <= HOURLY_SPAN else timedelta(days=1)
    first = start.replace(minute=0, second=0, microsecond=0)
    buckets: list[ReadBucket] = []
    index, cumulative, at = 0, 0, first
    while at <= now or index < len(times):
        end = at + step
        count = 0
        while index < len(times) and times[index] < end:
            count += 1
            index += 1
        cumulative += count
        buckets.append(ReadBucket(at=at, read=count, cumulative=cumulative))
        at = end
        if len(buckets) > 400:  # a very old notification: the chart keeps its first 400 steps
            break
    return buckets


async def channel_stats(session: AsyncSession, notification_id: int) -> list[ChannelStats]:
    rows = await session.execute(
        select(Delivery.channel, Delivery.status, func.count())
        .where(Delivery.notification_id == notification_id)
        .group_by(Delivery.channel, Delivery.status)
    )
    found: dict[str, ChannelStats] = {c: ChannelStats(channel=c) for c in CHANNELS}
    for channel, status, count in rows.all():
        stats = found.setdefault(channel, ChannelStats(channel=channel))
        setattr(stats, status, int(count))
    return list(found.values())


async def stats(session: AsyncSession, notification: Notification) -> NotificationStats:
    size = await audience_size(session, notification)
    times = await read_times(session, notification)
    return NotificationStats(
        id=notification.id,
        title=notification.title,
        broadcast=notification.broadcast,
        audience_size=size,
        read_count=len(times),
        read_percent=round(100.0 * len(times) / size, 1) if size else 0.0,
        channels=await channel_stats(session, notification.id),
        reads_over_time=read_buckets(notification.created_at, times, clock.now()),
    )


async def receipts(
    session: AsyncSession, notification: Notification
) -> list[tuple[int, datetime | None]]:
    """Every person of the audience with their read time (None: unread), by person id.
    Campus-wide: the people the rule matches now."""
    if notification.broadcast:
        found = await session.execute(
            select(BroadcastRead.person_id, BroadcastRead.read_at).where(
                BroadcastRead.notification_id == notification.id
            )
        )
        reads: dict[int, datetime | None] = {pid: at for pid, at in found.all()}
        kinds = [] if notification.person_scope == "all" else [notification.person_scope]
        people = await users.person_ids_of_types(session, audiences.person_types(kinds))
        return [(pid, reads.get(pid)) for pid in sorted(set(people) | set(reads))]
    rows = await session.execute(
        select(Recipient.person_id, Recipient.read_at)
        .where(Recipient.notification_id == notification.id)
        .order_by(Recipient.person_id)
    )
    return [(pid, read_at) for pid, read_at in rows.all()]


# ---------------------------------------------------------------- preferences and templates


async def preferences(session: AsyncSession, person_id: int) -> dict[str, ChannelPreference]:
    rows = await session.scalars(
        select(ChannelPreference).where(ChannelPreference.person_id == person_id)
    )
    return {p.category: p for p in rows}


async def quiet_hours(session: AsyncSession, person_id: int) -> QuietHours | None:
    return await session.get(QuietHours, person_id)


async def templates(session: AsyncSession) -> list[Template]:
    return list(await session.scalars(select(Template).order_by(Template.category, Template.code)))


async def template_by_code(session: AsyncSession, code: str) -> Template | None:
    return await session.scalar(select(Template).where(Template.code == code))


async def deliveries(
    session: AsyncSession, notification_id: int, limit: int = 200
) -> list[Delivery]:
    return list(
        await session.scalars(
            select(Delivery)
            .where(Delivery.notification_id == notification_id)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- deliveries

_CHUNK = 900


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


async def recipient_ids(session: AsyncSession, notification_id: int) -> list[int]:
    rows = await session.scalars(
        select(Recipient.person_id)
        .where(Recipient.notification_id == notification_id)
        .order_by(Recipient.person_id)
    )
    return list(rows)


async def channel_choices(
    session: AsyncSession, category: str, person_ids: list[int] | None
) -> dict[int, set[str]]:
    """The external channels each person chose for the category (only those with a choice;
    of the given people, or of everyone who chose one for None)."""
    found: dict[int, set[str]] = {}
    if person_ids is None:
        everyone = select(ChannelPreference).where(ChannelPreference.category == category)
        for p in await session.scalars(everyone):
            found[p.person_id] = {c for c in CHANNELS if getattr(p, c)}
        return found
    for chunk in _chunks(person_ids):
        params = {"category": category, "ids": chunk}
        for row in await on_connection(session, _CHOICES_OF, params):
            found[row.person_id] = {c for c in CHANNELS if getattr(row, c)}
    return found


# Run for every notice sent (its external channels), so built once.
_CHOICES_OF = select(ChannelPreference.__table__).where(
    ChannelPreference.category == bindparam("category"),
    ChannelPreference.person_id.in_(bindparam("ids", expanding=True)),
)


async def quiet_hours_of(session: AsyncSession, person_ids: list[int]) -> dict[int, QuietHours]:
    found: dict[int, QuietHours] = {}
    for chunk in _chunks(person_ids):
        for q in await session.scalars(select(QuietHours).where(QuietHours.person_id.in_(chunk))):
            found[q.person_id] = q
    return found


async def has_deliveries(session: AsyncSession, notification_id: int) -> bool:
    found = await session.scalar(
        select(Delivery.id).where(Delivery.notification_id == notification_id).limit(1)
    )
    return found is not None


async def due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[Delivery]:
    stmt = (
        select(Delivery)
        .where(Delivery.status.in_(("queued", "held", "sending")), Delivery.due_at <= now)
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two workers never take the same rows.
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.scalars(stmt))


# ---------------------------------------------------------------- read receipts


async def receipt_rows(
    session: AsyncSession, pairs: list[tuple[int, datetime | None]]
) -> list[ReceiptRow]:
    """The people of ``pairs`` (person id, read time) with their names, numbers and units."""
    people: dict[int, Any] = {}
    ids = [pid for pid, _at in pairs]
    for chunk in _chunks(ids):
        people.update(await users.get_people(session, chunk))
    units = await users.get_org_units(session, sorted({p.org_unit_id for p in people.values()}))
    rows = []
    for pid, read_at in pairs:
        person = people.get(pid)
        unit = units.get(person.org_unit_id) if person else None
        rows.append(
            ReceiptRow(
                person_id=pid,
                name=person.name if person else str(pid),
                number=person.number if person else None,
                org_unit_name=unit.name if unit else None,
                read_at=read_at,
            )
        )
    return rows


def filter_receipts(
    pairs: list[tuple[int, datetime | None]], state: str | None
) -> list[tuple[int, datetime | None]]:
    if state == "read":
        return [p for p in pairs if p[1] is not None]
    if state == "unread":
        return [p for p in pairs if p[1] is None]
    return pairs


def receipts_workbook(title: str, rows: list[ReceiptRow], fmt: Any) -> bytes:
    """Who has read and who has not, as offices pass such lists around."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("阅读情况")
    columns = (("姓名", 10), ("学号/工号", 14), ("单位", 28), ("状态", 8), ("阅读时间", 18))
    for index, (_name, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    read = sum(1 for r in rows if r.read_at)
    sheet.append([title])
    sheet.append([f"应读 {len(rows)} 人，已读 {read} 人，未读 {len(rows) - read} 人"])
    sheet.append([name for name, _w in columns])
    for row in rows:
        sheet.append(
            [
                row.name,
                row.number,
                row.org_unit_name,
                "已读" if row.read_at else "未读",
                fmt(row.read_at) or None,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
