"""Writes of buildings and rooms: ``check_*`` validates, ``do_*`` writes and audits. A refusal
changes nothing; an Excel import is all or nothing."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import sheets
from campus.domains.academic.rooms import queries
from campus.domains.academic.rooms.models import Building, Room
from campus.domains.academic.rows import delete_unless_used
from campus.domains.academic.schemas import BuildingIn, ImportReport, RoomIn
from campus.kernel import audit
from campus.kernel.errors import Conflict, FieldError, InvalidInput
from campus.kernel.i18n import _

# ---------------------------------------------------------------- buildings


async def check_save_building(
    session: AsyncSession, body: BuildingIn, building_id: int | None = None
) -> Building:
    building = None if building_id is None else await queries.building_or_404(session, building_id)
    other = await session.scalar(select(Building).where(Building.code == body.code))
    if other is not None and other is not building:
        raise Conflict.on("code", _("教学楼编号 {code} 已存在", code=body.code))
    return await do_save_building(session, body, building)


async def do_save_building(
    session: AsyncSession, body: BuildingIn, building: Building | None
) -> Building:
    before = None if building is None else _building_state(building)
    if building is None:
        building = Building(**body.model_dump())
        session.add(building)
    else:
        for key, value in body.model_dump().items():
            setattr(building, key, value)
    await session.flush()
    audit.record(
        session,
        "academic.building.create" if before is None else "academic.building.update",
        "building",
        building.id,
        before=before,
        after=_building_state(building),
    )
    return building


def _building_state(b: Building) -> dict[str, Any]:
    return {"code": b.code, "name": b.name, "campus": b.campus, "sort_order": b.sort_order}


async def check_delete_building(session: AsyncSession, building_id: int) -> None:
    building = await queries.building_or_404(session, building_id)
    rooms = await session.scalar(
        select(func.count()).select_from(Room).where(Room.building_id == building.id)
    )
    if rooms:
        raise Conflict(_("“{name}”还有 {n} 间教室，不能删除", name=building.name, n=rooms))
    before = _building_state(building)
    await delete_unless_used(session, building, _("该教学楼仍被引用，不能删除"))
    audit.record(session, "academic.building.delete", "building", building_id, before=before)


# ---------------------------------------------------------------- rooms


def _check_room_fields(body: RoomIn) -> list[FieldError]:
    errors = []
    if body.exam_capacity > body.capacity:
        errors.append(FieldError("exam_capacity", _("考试座位数不能多于容量 {n}", n=body.capacity)))
    return errors


async def check_save_room(session: AsyncSession, body: RoomIn, room_id: int | None = None) -> Room:
    room = None if room_id is None else await queries.room_or_404(session, room_id)
    errors = _check_room_fields(body)
    if await session.get(Building, body.building_id) is None:
        errors.append(FieldError("building_id", _("教学楼 {id} 不存在", id=body.building_id)))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    other = await session.scalar(select(Room).where(Room.code == body.code))
    if other is not None and other is not room:
        raise Conflict.on("code", _("教室编号 {code} 已存在", code=body.code))
    return await do_save_room(session, body, room)


def _room_values(body: RoomIn) -> dict[str, Any]:
    values = body.model_dump()
    values["name"] = body.name.strip() or body.code
    return values


async def do_save_room(session: AsyncSession, body: RoomIn, room: Room | None) -> Room:
    before = None if room is None else _room_state(room)
    if room is None:
        room = Room(**_room_values(body))
        session.add(room)
    else:
        for key, value in _room_values(body).items():
            setattr(room, key, value)
    await session.flush()
    audit.record(
        session,
        "academic.room.create" if before is None else "academic.room.update",
        "room",
        room.id,
        before=before,
        after=_room_state(room),
    )
    return room


def _room_state(r: Room) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "building_id": r.building_id,
        "floor": r.floor,
        "room_type": r.room_type,
        "capacity": r.capacity,
        "exam_capacity": r.exam_capacity,
        "active": r.active,
    }


async def check_delete_room(session: AsyncSession, room_id: int) -> None:
    room = await queries.room_or_404(session, room_id)
    before = _room_state(room)
    await delete_unless_used(session, room, _("该教室已被课表或考试使用，不能删除；可改为停用"))
    audit.record(session, "academic.room.delete", "room", room_id, before=before)


# ---------------------------------------------------------------- Excel

COLUMNS = (
    sheets.Column("教室编号", "code", required=True, width=12),
    sheets.Column("名称", "name", width=18),
    sheets.Column("教学楼编号", "building", required=True, width=12),
    sheets.Column("楼层", "floor", width=8),
    sheets.Column("类型", "room_type", required=True, width=12),
    sheets.Column("容量", "capacity", required=True, width=8),
    sheets.Column("考试座位", "exam_capacity", required=True, width=10),
    sheets.Column("启用", "active", width=8),
)
HEADERS = {c.field: c.header for c in COLUMNS}
TYPE_BY_LABEL = {label: code for code, label in queries.ROOM_TYPE_LABELS.items()}
NOTES = (
    "带 * 的列必须填写；第 1 行表头不要修改，从第 2 行开始每行一间教室。",
    "教学楼编号：填已建教学楼的编号，如 J1。",
    "类型：" + "、".join(queries.ROOM_TYPE_LABELS.values()) + "。",
    "容量须大于 0；考试座位不能多于容量。启用：是/否，留空为是。",
    "任何一行有错误时整批不导入；改正后重新上传即可。",
)


async def export(session: AsyncSession, f: queries.RoomFilter) -> bytes:
    codes = {b_id: code for code, b_id in (await queries.building_codes(session)).items()}
    rooms = await queries.all_rooms(session, f)
    return sheets.workbook(
        "教室",
        COLUMNS,
        (
            [
                r.code,
                r.name,
                codes.get(r.building_id, ""),
                r.floor,
                queries.ROOM_TYPE_LABELS[r.room_type],
                r.capacity,
                r.exam_capacity,
                "是" if r.active else "否",
            ]
            for r in rooms
        ),
    )


def template() -> bytes:
    return sheets.workbook(
        "教室", COLUMNS, [["J1-101", "第一教学楼101", "J1", 1, "多媒体教室", 120, 60, "是"]], NOTES
    )


def _parse_room(
    row: sheets.SheetRow, buildings: dict[str, int]
) -> tuple[RoomIn | None, list[FieldError]]:
    v = row.values
    errors: list[FieldError] = []
    building_id = buildings.get(v.get("building", ""))
    if v.get("building") and building_id is None:
        errors.append(FieldError("building", _("教学楼编号 {code} 不存在", code=v["building"])))
    raw_type = v.get("room_type", "")
    room_type = TYPE_BY_LABEL.get(raw_type) or (
        raw_type if raw_type in queries.ROOM_TYPE_LABELS else None
    )
    if raw_type and room_type is None:
        errors.append(
            FieldError(
                "room_type",
                _(
                    "未知类型“{t}”，应为：{all}",
                    t=raw_type,
                    all="、".join(queries.ROOM_TYPE_LABELS.values()),
                ),
            )
        )
    active = v.get("active", "") or "是"
    if active not in ("是", "否"):
        errors.append(FieldError("active", _("应为“是”或“否”")))
    data = {
        "code": v.get("code", ""),
        "name": v.get("name", ""),
        "building_id": building_id or 0,
        "floor": v.get("floor") or 1,
        "room_type": room_type or "ordinary",
        "capacity": v.get("capacity", ""),
        "exam_capacity": v.get("exam_capacity", ""),
        "active": active == "是",
    }
    try:
        body = RoomIn.model_validate(data)
    except ValidationError as exc:
        errors += sheets.validation_problems(exc, v, errors, COLUMNS, {"building_id": "building"})
        return None, errors
    errors += _check_room_fields(body)
    return (None if errors else body), errors


async def check_import(session: AsyncSession, data: bytes) -> ImportReport:
    """Check every row; import all of them or, when any row is wrong, none (422 with the
    problems by row number)."""
    rows = sheets.read_rows(data, COLUMNS)
    buildings = await queries.building_codes(session)
    taken = await queries.taken_room_codes(session, [r.values.get("code", "") for r in rows])
    valid = sheets.checked_rows(
        rows,
        lambda row: _parse_room(row, buildings),
        taken,
        lambda code: _("教室编号 {code} 已存在", code=code),
        HEADERS,
    )
    imported = await do_import(session, valid)
    return ImportReport(total_rows=len(rows), imported=imported, problems=[])


async def do_import(session: AsyncSession, rooms: list[RoomIn]) -> int:
    if rooms:
        await session.execute(insert(Room), [_room_values(r) for r in rooms])
    audit.record(session, "academic.room.import", "room", None, after={"count": len(rooms)})
    return len(rooms)
