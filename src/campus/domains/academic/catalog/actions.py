"""Writes of the course catalogue: ``check_*`` validates (input, the owning department, the
writer's reach), ``do_*`` writes, audits and emits. A refusal changes nothing; an Excel import is
all or nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events, sheets
from campus.domains.academic.catalog import access as course_access
from campus.domains.academic.catalog import queries
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.permissions import COURSE_MANAGE
from campus.domains.academic.rooms.queries import ROOM_TYPE_LABELS
from campus.domains.academic.rows import delete_unless_used
from campus.domains.academic.schemas import CourseIn, ImportReport
from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, FieldError, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory


def _state(c: Course) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "name_en": c.name_en,
        "credits": str(c.credits),
        "lecture_hours": c.lecture_hours,
        "lab_hours": c.lab_hours,
        "assessment": c.assessment,
        "org_unit_id": c.org_unit_id,
        "room_type": c.room_type,
        "active": c.active,
    }


async def _check_owner(principal: Principal, index: OrgDirectory, org_unit_id: int) -> None:
    if org_unit_id not in index.names:
        raise InvalidInput.on("org_unit_id", _("开课单位 {id} 不存在", id=org_unit_id))
    if index.kinds[org_unit_id] not in course_access.OWNER_KINDS:
        raise InvalidInput.on("org_unit_id", _("开课单位应为学院、系或职能部门"))
    if not course_access.may_manage_unit(principal, index, org_unit_id):
        raise await access.denied(
            principal,
            COURSE_MANAGE,
            _("您不能维护“{unit}”的课程", unit=index.name(org_unit_id)),
            target_type="org_unit",
            target_id=org_unit_id,
        )


async def check_create_course(
    session: AsyncSession, principal: Principal, body: CourseIn
) -> Course:
    index = await users.org_directory(session)
    await _check_owner(principal, index, body.org_unit_id)
    if await queries.course_by_code(session, body.code) is not None:
        raise Conflict.on("code", _("课程代码 {code} 已存在", code=body.code))
    return await do_save_course(session, body, None)


async def check_update_course(
    session: AsyncSession, principal: Principal, course_id: int, body: CourseIn
) -> Course:
    index = await users.org_directory(session)
    course = await course_access.access_course_manage(session, principal, course_id, index)
    if body.org_unit_id != course.org_unit_id:
        await _check_owner(principal, index, body.org_unit_id)
    other = await queries.course_by_code(session, body.code)
    if other is not None and other.id != course.id:
        raise Conflict.on("code", _("课程代码 {code} 已存在", code=body.code))
    return await do_save_course(session, body, course)


async def do_save_course(session: AsyncSession, body: CourseIn, course: Course | None) -> Course:
    now = clock.now()
    before = None if course is None else _state(course)
    values = body.model_dump()
    values["name"], values["name_en"] = body.name.strip(), body.name_en.strip()
    if course is None:
        course = Course(**values, created_at=now, updated_at=now)
        session.add(course)
    else:
        for key, value in values.items():
            setattr(course, key, value)
        course.updated_at = now
    await session.flush()
    audit.record(
        session,
        "academic.course.create" if before is None else "academic.course.update",
        "course",
        course.id,
        before=before,
        after=_state(course),
    )
    await emit(
        session,
        events.COURSE_SAVED,
        events.CourseSaved(
            course_id=course.id,
            code=course.code,
            name=course.name,
            org_unit_id=course.org_unit_id,
            created=before is None,
            active=course.active,
        ),
    )
    return course


async def check_delete_course(session: AsyncSession, principal: Principal, course_id: int) -> None:
    course = await course_access.access_course_manage(session, principal, course_id)
    before = _state(course)
    await delete_unless_used(session, course, _("该课程已用于培养方案或开课，不能删除；可改为停用"))
    audit.record(session, "academic.course.delete", "course", course_id, before=before)


# ---------------------------------------------------------------- Excel

COLUMNS = (
    sheets.Column("课程代码", "code", required=True, width=12),
    sheets.Column("课程名称", "name", required=True, width=24),
    sheets.Column("英文名称", "name_en", width=30),
    sheets.Column("学分", "credits", required=True, width=6),
    sheets.Column("理论学时", "lecture_hours", required=True, width=9),
    sheets.Column("实验学时", "lab_hours", width=9),
    sheets.Column("考核方式", "assessment", required=True, width=9),
    sheets.Column("开课单位代码", "org_code", required=True, width=12),
    sheets.Column("开课单位", "org_name", width=20),  # for reading; not imported
    sheets.Column("教室类型", "room_type", width=12),
    sheets.Column("课程简介", "description", width=40),
    sheets.Column("启用", "active", width=6),
)
HEADERS = {c.field: c.header for c in COLUMNS}
ASSESSMENT_BY_LABEL = {label: code for code, label in queries.ASSESSMENT_LABELS.items()}
TYPE_BY_LABEL = {label: code for code, label in ROOM_TYPE_LABELS.items()}
NOTES = (
    "带 * 的列必须填写；第 1 行表头不要修改，从第 2 行开始每行一门课程。",
    "学分为 0.5 的整数倍，如 2、2.5、3。考核方式：考试 / 考查。",
    "开课单位代码：学院或职能部门的代码（见组织机构），只能填写您有权维护的单位；“开课单位”列只供阅读。",
    "教室类型："
    + "、".join(ROOM_TYPE_LABELS.values())
    + "，留空为多媒体教室。启用：是/否，留空为是。",
    "任何一行有错误时整批不导入；改正后重新上传即可。",
)


def _row(c: Any, code: str) -> list[Any]:
    return [
        c.code,
        c.name,
        c.name_en,
        float(c.credits),
        c.lecture_hours,
        c.lab_hours,
        queries.ASSESSMENT_LABELS.get(c.assessment, c.assessment),
        code,
        c.org_unit_name,
        ROOM_TYPE_LABELS.get(c.room_type, c.room_type),
        c.description,
        "是" if c.active else "否",
    ]


async def export(session: AsyncSession, f: queries.CourseFilter) -> bytes:
    index = await users.org_directory(session)
    courses = await queries.all_courses(session, f)
    return sheets.workbook(
        "课程", COLUMNS, (_row(c, index.codes.get(c.org_unit_id, "")) for c in courses)
    )


def template() -> bytes:
    sample = [
        "08090101",
        "数据结构",
        "Data Structures",
        3.5,
        48,
        16,
        "考试",
        "12",
        "",
        "多媒体教室",
        "",
        "是",
    ]
    return sheets.workbook("课程", COLUMNS, [sample], NOTES)


def _parse(
    row: sheets.SheetRow, principal: Principal, index: OrgDirectory, by_code: dict[str, int]
) -> tuple[CourseIn | None, list[FieldError]]:
    v = row.values
    errors: list[FieldError] = []
    org_code = v.get("org_code", "")
    unit_id = by_code.get(org_code)
    if org_code and unit_id is None:
        errors.append(FieldError("org_code", _("单位代码 {code} 不存在", code=org_code)))
    elif unit_id is not None:
        if index.kinds[unit_id] not in course_access.OWNER_KINDS:
            errors.append(FieldError("org_code", _("开课单位应为学院、系或职能部门")))
        elif not course_access.may_manage_unit(principal, index, unit_id):
            errors.append(
                FieldError("org_code", _("您不能维护“{unit}”的课程", unit=index.name(unit_id)))
            )
    assessment = v.get("assessment", "")
    if (
        assessment
        and assessment not in ASSESSMENT_BY_LABEL
        and assessment not in queries.ASSESSMENT_LABELS
    ):
        errors.append(FieldError("assessment", _("考核方式应为“考试”或“考查”")))
    room_type = v.get("room_type", "") or "多媒体教室"
    if room_type not in TYPE_BY_LABEL and room_type not in ROOM_TYPE_LABELS:
        errors.append(FieldError("room_type", _("未知教室类型“{t}”", t=room_type)))
    active = v.get("active", "") or "是"
    if active not in ("是", "否"):
        errors.append(FieldError("active", _("应为“是”或“否”")))
    data = {
        "code": v.get("code", ""),
        "name": v.get("name", ""),
        "name_en": v.get("name_en", ""),
        "credits": v.get("credits", ""),
        "lecture_hours": v.get("lecture_hours", ""),
        "lab_hours": v.get("lab_hours") or 0,
        "assessment": ASSESSMENT_BY_LABEL.get(assessment, assessment) or "exam",
        "org_unit_id": unit_id or 0,
        "room_type": TYPE_BY_LABEL.get(room_type, room_type),
        "description": v.get("description", ""),
        "active": active == "是",
    }
    if not any(e.field in ("assessment", "room_type") for e in errors):
        try:
            body = CourseIn.model_validate(data)
        except ValidationError as exc:
            errors += sheets.validation_problems(
                exc, v, errors, COLUMNS, {"org_unit_id": "org_code"}
            )
            return None, errors
        return (None if errors else body), errors
    return None, errors


async def check_import(session: AsyncSession, principal: Principal, data: bytes) -> ImportReport:
    rows = sheets.read_rows(data, COLUMNS)
    index = await users.org_directory(session)
    by_code = index.by_code()
    taken = await queries.taken_codes(session, [r.values.get("code", "") for r in rows])
    valid = sheets.checked_rows(
        rows,
        lambda row: _parse(row, principal, index, by_code),
        taken,
        lambda code: _("课程代码 {code} 已存在", code=code),
        HEADERS,
    )
    imported = await do_import(session, valid)
    return ImportReport(total_rows=len(rows), imported=imported, problems=[])


async def do_import(session: AsyncSession, courses: list[CourseIn]) -> int:
    now = clock.now()
    rows = [{**c.model_dump(), "created_at": now, "updated_at": now} for c in courses]
    ids: dict[str, int] = {}
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        inserted = await session.execute(insert(Course).returning(Course.code, Course.id), chunk)
        ids.update({code: course_id for code, course_id in inserted.all()})
    for c in courses:
        await emit(
            session,
            events.COURSE_SAVED,
            events.CourseSaved(
                course_id=ids[c.code],
                code=c.code,
                name=c.name,
                org_unit_id=c.org_unit_id,
                created=True,
                active=c.active,
            ),
        )
    audit.record(session, "academic.course.import", "course", None, after={"count": len(courses)})
    return len(courses)


def credits_text(value: Decimal) -> str:
    """3 or 3.5, as a person writes credits."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.1f}"
