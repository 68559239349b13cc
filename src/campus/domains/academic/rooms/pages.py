"""Pages of buildings and rooms: the room list with its filters (everyone signed in), the forms,
and the Excel import (``academic.room.manage``)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import sheets
from campus.domains.academic.permissions import ROOM_MANAGE
from campus.domains.academic.rooms import actions, queries
from campus.domains.academic.rooms.routes import read_upload
from campus.domains.academic.schemas import BuildingIn, RoomIn
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import LazyText, _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import flash, form_errors, is_htmx, render
from campus.platform.access.service import require, signed_in

router = APIRouter(tags=["academic-pages"])
MANAGE = require(ROOM_MANAGE)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


@router.get("/academic/rooms")
async def rooms_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    building_id: Annotated[str | None, Query(max_length=12)] = None,
    room_type: Annotated[str | None, Query(max_length=20)] = None,
    min_capacity: Annotated[str | None, Query(max_length=5)] = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    kind = room_type if room_type in queries.ROOM_TYPE_LABELS else None
    f = queries.RoomFilter(
        building_id=_int(building_id),
        room_type=kind,
        min_capacity=_int(min_capacity),
        q=(q or "").strip() or None,
    )
    result = await queries.room_page(session, f, paging)
    query = urlencode(
        {
            k: v
            for k, v in {
                "building_id": f.building_id,
                "room_type": f.room_type,
                "min_capacity": f.min_capacity,
                "q": f.q,
            }.items()
            if v not in (None, "")
        }
    )
    name = "academic/rooms/partials/rows.html" if is_htmx(request) else "academic/rooms/list.html"
    return render(
        request,
        name,
        result=result,
        f=f,
        query=query,
        buildings=await queries.buildings_out(session),
        types=queries.ROOM_TYPE_LABELS,
        can_manage=principal.can(ROOM_MANAGE),
    )


# ---------------------------------------------------------------- the room form


class RoomForm:
    def __init__(
        self,
        code: Annotated[str, Form(max_length=40)] = "",
        name: Annotated[str, Form(max_length=80)] = "",
        building_id: Annotated[str, Form(max_length=12)] = "",
        floor: Annotated[str, Form(max_length=4)] = "1",
        room_type: Annotated[str, Form(max_length=20)] = "",
        capacity: Annotated[str, Form(max_length=6)] = "",
        exam_capacity: Annotated[str, Form(max_length=6)] = "",
        active: Annotated[str | None, Form(max_length=2)] = None,
    ) -> None:
        self.values: dict[str, Any] = {
            "code": code.strip(),
            "name": name.strip(),
            "building_id": building_id,
            "floor": floor or "1",
            "room_type": room_type,
            "capacity": capacity,
            "exam_capacity": exam_capacity,
            "active": bool(active),
        }

    def body(self) -> RoomIn:
        v = self.values
        return RoomIn.model_validate(
            {**v, **{k: v[k] or None for k in ("building_id", "capacity", "exam_capacity")}}
        )


async def _room_form(
    request: Request,
    session: AsyncSession,
    room_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    errors = errors or {}
    return render(
        request,
        "academic/rooms/form.html",
        422 if errors else 200,
        room_id=room_id,
        values=values,
        errors=errors,
        buildings=await queries.buildings_out(session),
        types=queries.ROOM_TYPE_LABELS,
    )


@router.get("/academic/rooms/new", dependencies=[MANAGE])
async def new_room_page(request: Request, session: ReadSessionDep) -> Response:
    values = {"floor": 1, "active": True, "room_type": "multimedia"}
    return await _room_form(request, session, None, values)


@router.get("/academic/rooms/{room_id}/edit", dependencies=[MANAGE])
async def edit_room_page(request: Request, room_id: int, session: ReadSessionDep) -> Response:
    room = await queries.room_or_404(session, room_id)
    values = {c: getattr(room, c) for c in RoomIn.model_fields}
    return await _room_form(request, session, room_id, values)


async def _save_room(
    request: Request, session: AsyncSession, room_id: int | None, form: RoomForm
) -> Response:
    try:
        await actions.check_save_room(session, form.body(), room_id)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _room_form(request, session, room_id, form.values, errors)
    response = RedirectResponse("/academic/rooms", status_code=303)
    flash(request, response, _("教室 {code} 已保存", code=form.values["code"]))
    return response


@router.post("/academic/rooms/new", dependencies=[MANAGE])
async def new_room_submit(
    request: Request, session: SessionDep, form: Annotated[RoomForm, Depends()]
) -> Response:
    return await _save_room(request, session, None, form)


@router.post("/academic/rooms/{room_id}/edit", dependencies=[MANAGE])
async def edit_room_submit(
    request: Request, room_id: int, session: SessionDep, form: Annotated[RoomForm, Depends()]
) -> Response:
    await queries.room_or_404(session, room_id)
    return await _save_room(request, session, room_id, form)


async def _delete(
    request: Request, session: AsyncSession, deleting: Awaitable[None], back: str, done: LazyText
) -> Response:
    """Back to the list after ``deleting``, saying why when it was refused (an unknown row
    stays a 404)."""
    response = RedirectResponse(back, status_code=303)
    try:
        await deleting
    except Problem as exc:
        if exc.status == 404:
            raise
        await session.rollback()
        flash(request, response, str(exc.detail), "danger")
        return response
    flash(request, response, done)
    return response


@router.post("/academic/rooms/{room_id}/delete", dependencies=[MANAGE])
async def delete_room_submit(request: Request, room_id: int, session: SessionDep) -> Response:
    deleting = actions.check_delete_room(session, room_id)
    return await _delete(request, session, deleting, "/academic/rooms", _("教室已删除"))


# ---------------------------------------------------------------- import


@router.get("/academic/rooms/import", dependencies=[MANAGE])
async def import_page(request: Request) -> Response:
    return render(request, "academic/rooms/import.html", report=None, errors={})


@router.post("/academic/rooms/import", dependencies=[MANAGE])
async def import_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        data = await read_upload(file, rt.settings.max_upload_bytes)
        report = await actions.check_import(session, data)
    except Problem as exc:
        await session.rollback()
        return sheets.import_refused(request, "academic/rooms/import.html", exc)
    return sheets.import_done(request, "/academic/rooms", _("已导入 {n} 间教室", n=report.imported))


# ---------------------------------------------------------------- buildings


async def _buildings(
    request: Request,
    session: AsyncSession,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    editing: int | None = None,
) -> Response:
    errors = errors or {}
    return render(
        request,
        "academic/rooms/buildings.html",
        422 if errors else 200,
        buildings=await queries.buildings_out(session),
        values=values or {"campus": "主校区", "sort_order": 0},
        errors=errors,
        editing=editing,
    )


@router.get("/academic/buildings", dependencies=[MANAGE])
async def buildings_page(
    request: Request, session: ReadSessionDep, edit: int | None = None
) -> Response:
    values = None
    if edit is not None:
        building = await queries.building_or_404(session, edit)
        values = {c: getattr(building, c) for c in BuildingIn.model_fields}
    return await _buildings(request, session, values, editing=edit)


@router.post("/academic/buildings", dependencies=[MANAGE])
async def save_building_submit(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=80)] = "",
    campus: Annotated[str, Form(max_length=40)] = "",
    sort_order: Annotated[str, Form(max_length=5)] = "0",
    building_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    values = {"code": code.strip(), "name": name.strip(), "campus": campus.strip() or "主校区"}
    values["sort_order"] = sort_order or "0"
    editing = _int(building_id)
    try:
        body = BuildingIn.model_validate(values)
        await actions.check_save_building(session, body, editing)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _buildings(request, session, values, errors, editing)
    response = RedirectResponse("/academic/buildings", status_code=303)
    flash(request, response, _("教学楼 {name} 已保存", name=values["name"]))
    return response


@router.post("/academic/buildings/{building_id}/delete", dependencies=[MANAGE])
async def delete_building_submit(
    request: Request, building_id: int, session: SessionDep
) -> Response:
    deleting = actions.check_delete_building(session, building_id)
    return await _delete(request, session, deleting, "/academic/buildings", _("教学楼已删除"))
