"""JSON API of buildings and rooms: /api/v1/academic/buildings, /api/v1/academic/rooms. Reading
is open to everyone signed in; writing needs ``academic.room.manage``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from campus.domains.academic.permissions import ROOM_MANAGE
from campus.domains.academic.rooms import actions, queries
from campus.domains.academic.schemas import (
    BuildingIn,
    BuildingOut,
    ImportReport,
    RoomIn,
    RoomOut,
    RoomPage,
    RoomType,
)
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import PayloadTooLarge
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic", tags=["academic"])


async def read_upload(file: UploadFile, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(_("上传内容不能超过 {mb} MB", mb=limit // 1048576))
    return data


# ---------------------------------------------------------------- buildings


@router.get(
    "/buildings", response_model=list[BuildingOut], dependencies=[signed_in()], summary="教学楼"
)
async def list_buildings(session: ReadSessionDep) -> list[BuildingOut]:
    return await queries.buildings_out(session)


async def _building(session: ReadSessionDep, building_id: int) -> BuildingOut:
    return next(b for b in await queries.buildings_out(session) if b.id == building_id)


@router.post(
    "/buildings",
    response_model=BuildingOut,
    status_code=201,
    dependencies=[require(ROOM_MANAGE)],
    summary="新建教学楼",
)
async def create_building(body: BuildingIn, session: SessionDep) -> BuildingOut:
    building = await actions.check_save_building(session, body)
    return await _building(session, building.id)


@router.put(
    "/buildings/{building_id}",
    response_model=BuildingOut,
    dependencies=[require(ROOM_MANAGE)],
    summary="修改教学楼",
)
async def update_building(building_id: int, body: BuildingIn, session: SessionDep) -> BuildingOut:
    await actions.check_save_building(session, body, building_id)
    return await _building(session, building_id)


@router.delete(
    "/buildings/{building_id}",
    status_code=204,
    dependencies=[require(ROOM_MANAGE)],
    summary="删除教学楼（须先删除其教室）",
)
async def delete_building(building_id: int, session: SessionDep) -> Response:
    await actions.check_delete_building(session, building_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- rooms


def room_filter(
    building_id: int | None = None,
    room_type: RoomType | None = None,
    min_capacity: Annotated[int | None, Query(ge=0, le=5000, description="容量不少于")] = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> queries.RoomFilter:
    return queries.RoomFilter(
        building_id=building_id,
        room_type=room_type,
        min_capacity=min_capacity,
        active=active,
        q=(q or "").strip() or None,
    )


@router.get("/rooms", response_model=RoomPage, dependencies=[signed_in()], summary="教室列表")
async def list_rooms(
    session: ReadSessionDep,
    paging: PageParamsDep,
    building_id: int | None = None,
    room_type: RoomType | None = None,
    min_capacity: Annotated[int | None, Query(ge=0, le=5000, description="容量不少于")] = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> RoomPage:
    f = room_filter(building_id, room_type, min_capacity, active, q)
    return await queries.room_page(session, f, paging)


@router.get("/rooms/export.xlsx", dependencies=[signed_in()], summary="教室导出为 Excel")
async def export_rooms(
    session: ReadSessionDep,
    building_id: int | None = None,
    room_type: RoomType | None = None,
    min_capacity: Annotated[int | None, Query(ge=0, le=5000)] = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    f = room_filter(building_id, room_type, min_capacity, active, q)
    return xlsx_response(await actions.export(session, f), "教室.xlsx", "rooms.xlsx")


@router.get(
    "/rooms/import-template.xlsx", dependencies=[require(ROOM_MANAGE)], summary="教室导入模板"
)
async def rooms_template() -> Response:
    return xlsx_response(actions.template(), "教室导入模板.xlsx", "rooms-template.xlsx")


@router.post(
    "/rooms/import",
    response_model=ImportReport,
    dependencies=[require(ROOM_MANAGE)],
    summary="从 Excel 导入教室（有一行错误则全部不导入）",
)
async def import_rooms(
    session: SessionDep,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="按导入模板填写的 .xlsx 文件")],
) -> ImportReport:
    data = await read_upload(file, rt.settings.max_upload_bytes)
    return await actions.check_import(session, data)


@router.post(
    "/rooms",
    response_model=RoomOut,
    status_code=201,
    dependencies=[require(ROOM_MANAGE)],
    summary="新建教室",
)
async def create_room(body: RoomIn, session: SessionDep) -> RoomOut:
    room = await actions.check_save_room(session, body)
    return (await queries.rooms_out(session, [room.id]))[room.id]


@router.get(
    "/rooms/{room_id}", response_model=RoomOut, dependencies=[signed_in()], summary="教室详情"
)
async def get_room(room_id: int, session: ReadSessionDep) -> RoomOut:
    room = await queries.room_or_404(session, room_id)
    return (await queries.rooms_out(session, [room.id]))[room.id]


@router.put(
    "/rooms/{room_id}",
    response_model=RoomOut,
    dependencies=[require(ROOM_MANAGE)],
    summary="修改教室",
)
async def update_room(room_id: int, body: RoomIn, session: SessionDep) -> RoomOut:
    await actions.check_save_room(session, body, room_id)
    return (await queries.rooms_out(session, [room_id]))[room_id]


@router.delete(
    "/rooms/{room_id}", status_code=204, dependencies=[require(ROOM_MANAGE)], summary="删除教室"
)
async def delete_room(room_id: int, session: SessionDep) -> Response:
    await actions.check_delete_room(session, room_id)
    return Response(status_code=204)
