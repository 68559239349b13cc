"""Reads of buildings and rooms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.rooms.models import ROOM_TYPES, Building, Room
from campus.domains.academic.schemas import BuildingOut, RoomOut, RoomPage
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, paginate

ROOM_TYPE_LABELS = {
    "ordinary": "普通教室",
    "multimedia": "多媒体教室",
    "hall": "阶梯教室",
    "lab": "实验室",
    "computer": "机房",
    "language": "语音室",
    "sports": "体育场馆",
    "studio": "画室/琴房",
}
assert tuple(ROOM_TYPE_LABELS) == ROOM_TYPES


@dataclass(frozen=True)
class RoomFilter:
    building_id: int | None = None
    room_type: str | None = None
    min_capacity: int | None = None
    active: bool | None = None
    q: str | None = None


def _room_stmt(f: RoomFilter) -> Select[Room, str]:
    stmt = select(Room, Building.name).join(Building, Building.id == Room.building_id)
    if f.building_id is not None:
        stmt = stmt.where(Room.building_id == f.building_id)
    if f.room_type:
        stmt = stmt.where(Room.room_type == f.room_type)
    if f.min_capacity is not None:
        stmt = stmt.where(Room.capacity >= f.min_capacity)
    if f.active is not None:
        stmt = stmt.where(Room.active.is_(f.active))
    if f.q:
        like = f"%{f.q}%"
        stmt = stmt.where(or_(Room.code.ilike(like), Room.name.ilike(like)))
    return stmt.order_by(Building.sort_order, Building.code, Room.code)


def _out(room: Room, building_name: str) -> RoomOut:
    return RoomOut.model_validate(room).model_copy(update={"building_name": building_name})


async def room_page(session: AsyncSession, f: RoomFilter, paging: PageParams) -> RoomPage:
    stmt: Any = _room_stmt(f)  # paginate takes any select
    page = await paginate(session, stmt, paging.page, paging.page_size)
    return page.into(RoomPage, lambda row: _out(row[0], row[1]))


async def all_rooms(session: AsyncSession, f: RoomFilter) -> list[RoomOut]:
    return [_out(room, name) for room, name in (await session.execute(_room_stmt(f))).all()]


async def rooms_out(session: AsyncSession, room_ids: Sequence[int]) -> dict[int, RoomOut]:
    if not room_ids:
        return {}
    stmt = (
        select(Room, Building.name)
        .join(Building, Building.id == Room.building_id)
        .where(Room.id.in_(list(room_ids)))
    )
    return {room.id: _out(room, name) for room, name in (await session.execute(stmt)).all()}


async def room_or_404(session: AsyncSession, room_id: int) -> Room:
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound(_("教室 {id} 不存在", id=room_id))
    return room


async def building_or_404(session: AsyncSession, building_id: int) -> Building:
    building = await session.get(Building, building_id)
    if building is None:
        raise NotFound(_("教学楼 {id} 不存在", id=building_id))
    return building


async def buildings_out(session: AsyncSession) -> list[BuildingOut]:
    counts = dict(
        (
            await session.execute(select(Room.building_id, func.count()).group_by(Room.building_id))
        ).all()
    )
    rows = await session.scalars(select(Building).order_by(Building.sort_order, Building.code))
    return [
        BuildingOut.model_validate(b).model_copy(update={"rooms": int(counts.get(b.id, 0))})
        for b in rows
    ]


async def building_codes(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Building.code, Building.id))
    return {code: building_id for code, building_id in rows.all()}


async def taken_room_codes(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    if not codes:
        return set()
    found: set[str] = set()
    unique = sorted(set(codes))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        found |= set(await session.scalars(select(Room.code).where(Room.code.in_(chunk))))
    return found
