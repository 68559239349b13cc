"""The collaborative office's part of the demo university: 发文字号 prefixes, the 发文审批 process,
notices for various audiences (a few already read), meetings for the demo logins, and documents
in draft and in approval.

Quick and deterministic: a few dozen rows, written through the module's own ``do_*`` actions;
no per-student rows beyond a handful of read receipts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import people
from campus.domains.oa.documents import actions as document_actions
from campus.domains.oa.models import Document, Notice
from campus.domains.oa.notices import actions as notice_actions
from campus.domains.oa.notices import queries as notice_queries
from campus.domains.oa.notices.actions import CheckedNotice, CheckedTarget
from campus.domains.oa.schedules import actions as schedule_actions
from campus.domains.oa.schemas import EventCreate
from campus.kernel.clock import CHINA, today
from campus.kernel.context import Principal
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory
from campus.platform.users.schemas import PersonRef
from campus.platform.workflow import service as workflow

PRESIDENT_OFFICE = "802"
DEMO_COLLEGE = "12"
OTHER_COLLEGE = "01"
PREFIXES = {
    "801": "党办发",
    "802": "校办发",
    "803": "校教发",
    "804": "校学发",
    "807": "校人发",
}
READERS_OF_COLLEGE_NOTICE = 12

# 发文审批: the drafter's head (an office's head, a college's dean), then the president's office
# (its 校办文书 role, or its head), then a school leader signs (签发).
HEAD_OF_UNIT = {
    "kind": "union",
    "of": [
        {"kind": "position", "position": "head", "relative": True},
        {"kind": "position", "position": "dean", "relative": True},
    ],
}


def document_chain(president_office_id: int) -> dict[str, Any]:
    office = {
        "kind": "union",
        "of": [
            {"kind": "role", "role": "office"},
            {"kind": "org", "org_unit_id": president_office_id, "position": "head"},
        ],
    }
    return {
        "nodes": [
            {"type": "approve", "name": "部门负责人审核", "assignee": HEAD_OF_UNIT, "mode": "any"},
            {"type": "approve", "name": "校办核稿", "assignee": office, "mode": "any"},
            {
                "type": "approve",
                "name": "校领导签发",
                "assignee": {"kind": "role", "role": "school_leader"},
                "mode": "any",
            },
        ]
    }


@dataclass(frozen=True)
class Cast:
    """The demo people the seed writes for (None when a login is missing)."""

    admin: PersonRef | None
    staff: PersonRef | None
    teacher: PersonRef | None
    counselor: PersonRef | None
    student: PersonRef | None


async def _cast(session: AsyncSession, ctx: SeedContext) -> Cast:
    found: dict[str, PersonRef | None] = {}
    for role in ("admin", "staff", "teacher", "counselor", "student"):
        login = next((x.login for x in ctx.logins if x.role == role), None)
        found[role] = await users.find_person_by_login(session, login) if login else None
    return Cast(**found)


def _as(person: PersonRef) -> Principal:
    return Principal(person_id=person.id, name=person.name, login=person.number or "")


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        directory = await users.org_directory(session)
        units = {code: await users.find_org_unit_by_code(session, code) for code in PREFIXES}
        for code, prefix in PREFIXES.items():
            unit = units[code]
            if unit is not None:
                await document_actions.do_set_prefix(session, unit.id, prefix)
        cast = await _cast(session, ctx)
        await _notices(session, cast, directory)
        await _meetings(session, cast)
        office = units[PRESIDENT_OFFICE]
        if office is not None:
            await workflow.ensure_process(
                session,
                key=document_actions.PROCESS_KEY,
                name="发文审批",
                chain=document_chain(office.id),
                description="公文拟稿后的审批：部门负责人审核、校办核稿、校领导签发",
            )
            await _documents(session, cast, office.id)


# ---------------------------------------------------------------- notices


def _unit_target(directory: OrgDirectory, unit_id: int) -> CheckedTarget:
    return CheckedTarget("org", unit_id, True, tuple(directory.subtree(unit_id)))


def _campus(directory: OrgDirectory) -> CheckedTarget:
    return CheckedTarget("campus", None, True, tuple(directory.roots))


def _notice(
    title: str, body: str, unit: int, targets: list[CheckedTarget], **extra: Any
) -> CheckedNotice:
    return CheckedNotice(
        title=title,
        body=body,
        org_unit_id=unit,
        people=extra.get("people", "all"),
        targets=targets,
        pinned=extra.get("pinned", False),
        expires_on=extra.get("expires_on"),
        attachments=[],
    )


async def _publish(session: AsyncSession, author: PersonRef, notice: CheckedNotice) -> int:
    notice_id = await notice_actions.do_create_notice(session, _as(author), notice)
    row = await session.get(Notice, notice_id)
    assert row is not None
    await notice_actions.do_publish(
        session, row, await notice_queries.targets_of(session, notice_id)
    )
    return notice_id


async def _notices(session: AsyncSession, cast: Cast, directory: OrgDirectory) -> None:
    if cast.admin is None:
        return
    office = await users.find_org_unit_by_code(session, PRESIDENT_OFFICE)
    affairs = await users.find_org_unit_by_code(session, "804")
    personnel = await users.find_org_unit_by_code(session, "807")
    college = await users.find_org_unit_by_code(session, DEMO_COLLEGE)
    other = await users.find_org_unit_by_code(session, OTHER_COLLEGE)
    if not (office and affairs and personnel and college and other):
        return
    year = today().year
    await _publish(
        session,
        cast.admin,
        _notice(
            f"关于{year}年寒假放假安排的通知",
            "各单位、全体师生：\n\n根据校历安排，现将寒假放假有关事项通知如下：\n\n"
            "1. 学生自 1 月 17 日起放假，2 月 23 日报到注册；\n"
            "2. 教职工自 1 月 24 日起放假，2 月 20 日上班；\n"
            "3. 假期内各单位须做好值班安排和安全检查。\n\n**请各单位于放假前报送值班表。**",
            office.id,
            [_campus(directory)],
            pinned=True,
        ),
    )
    await _publish(
        session,
        cast.admin,
        _notice(
            "关于开展学生心理健康普查的通知",
            "请全体在校学生于本月底前登录“心理健康中心”完成普查问卷，预计用时 15 分钟。",
            affairs.id,
            [_campus(directory)],
            people="students",
        ),
    )
    await _publish(
        session,
        cast.admin,
        _notice(
            "关于做好年度考核工作的通知",
            "各单位：年度考核工作即将开始，请全体教职工按要求填写《年度考核登记表》。",
            personnel.id,
            [_campus(directory)],
            people="staff",
        ),
    )
    await _publish(
        session,
        cast.admin,
        _notice(
            "关于图书馆闭馆维护的通知",
            "图书馆将于上周六闭馆维护一天。",
            office.id,
            [_campus(directory)],
            expires_on=today() - timedelta(days=1),
        ),
    )
    await _publish(
        session,
        cast.admin,
        _notice(
            f"{other.name}关于举办读书节的通知",
            "本院读书节系列活动即将开幕，欢迎师生参加。",
            other.id,
            [_unit_target(directory, other.id)],
        ),
    )
    author = cast.counselor or cast.admin
    college_notice = await _publish(
        session,
        author,
        _notice(
            f"{college.name}关于毕业设计选题的通知",
            "请毕业班同学于下周五前在系统中完成毕业设计选题，并与指导教师确认。\n\n"
            "| 时间 | 事项 |\n|---|---|\n| 第 1 周 | 公布选题 |\n| 第 2 周 | 双向选择 |",
            college.id,
            [_unit_target(directory, college.id)],
        ),
    )
    await _some_readers(session, college_notice, college.id, cast)
    if cast.counselor and cast.student and cast.student.class_id:
        await _publish(
            session,
            cast.counselor,
            _notice(
                "关于本周五召开主题班会的通知",
                "本周五下午 4 点在教学楼 A201 召开主题班会，请全体同学准时参加。",
                college.id,
                [CheckedTarget("class", cast.student.class_id, False, (college.id,))],
            ),
        )
    if cast.staff:
        await notice_actions.do_create_notice(
            session,
            _as(cast.staff),
            _notice(
                "关于期末考试安排的通知（征求意见稿）",
                "期末考试安排初稿，请审阅。",
                cast.staff.org_unit_id,
                [_unit_target(directory, cast.staff.org_unit_id)],
            ),
        )


async def _some_readers(session: AsyncSession, notice_id: int, college_id: int, cast: Cast) -> None:
    """A few of the college have read its notice already (the first in number order)."""
    notice = await session.get(Notice, notice_id)
    assert notice is not None
    members = await users.members_of_org(session, college_id, subtree=True)
    skip = {cast.student.id} if cast.student else set()
    directory = await users.org_directory(session)
    for person in [m for m in members if m.id not in skip][:READERS_OF_COLLEGE_NOTICE]:
        reader = await people.reader_of(session, person.id, directory)
        if reader is not None:
            await notice_actions.do_mark_read(session, notice, reader)


# ---------------------------------------------------------------- schedules


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHINA)


def _next_weekday(weekday: int) -> date:
    """The next such weekday (0 = Monday), at least one day ahead."""
    start = today() + timedelta(days=1)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


async def _event(
    session: AsyncSession,
    owner: PersonRef,
    title: str,
    starts: datetime,
    ends: datetime,
    invited: list[int],
    **extra: Any,
) -> int:
    body = EventCreate(
        title=title,
        place=extra.get("place", ""),
        notes=extra.get("notes", ""),
        starts_at=starts,
        ends_at=ends,
        all_day=extra.get("all_day", False),
        reminder_minutes=extra.get("reminder", 15),
    )
    span = schedule_actions.check_span(body.starts_at, body.ends_at, body.all_day)
    invited = [pid for pid in dict.fromkeys(invited) if pid != owner.id]
    return await schedule_actions.do_create_event(session, owner.id, body, span, invited)


async def _meetings(session: AsyncSession, cast: Cast) -> None:
    monday, wednesday, friday = _next_weekday(0), _next_weekday(2), _next_weekday(4)
    if cast.admin:
        invited = [p.id for p in (cast.staff, cast.teacher, cast.counselor) if p is not None]
        await _event(
            session,
            cast.admin,
            "信息化建设推进会",
            _at(wednesday, 14, 30),
            _at(wednesday, 16),
            invited,
            place="行政楼 305 会议室",
            notes="议题：统一身份认证上线、办事大厅推广。",
            reminder=30,
        )
    if cast.staff:
        colleagues = await users.members_of_org(session, cast.staff.org_unit_id)
        await _event(
            session,
            cast.staff,
            "教务处周例会",
            _at(monday, 9),
            _at(monday, 10),
            [p.id for p in colleagues[:8]],
            place="行政楼 210",
        )
    if cast.counselor and cast.student and cast.student.class_id:
        classmates = await users.members_of_class(session, cast.student.class_id)
        await _event(
            session,
            cast.counselor,
            "班委会",
            _at(friday, 16),
            _at(friday, 17),
            [cast.student.id, *[p.id for p in classmates[:5]]],
            place="教学楼 A201",
        )
    if cast.student:
        await _event(
            session,
            cast.student,
            "高等数学复习",
            _at(friday, 0),
            _at(friday, 0),
            [],
            all_day=True,
            reminder=None,
        )
    if cast.teacher:
        await _event(
            session,
            cast.teacher,
            "指导毕业设计",
            _at(wednesday, 10),
            _at(wednesday, 11, 30),
            [],
            place="实验楼 402",
        )


# ---------------------------------------------------------------- documents


async def _documents(session: AsyncSession, cast: Cast, president_office: int) -> None:
    """A notice to the colleges in draft, and a request (请示) to the president's office in
    approval."""
    if cast.staff is None:
        return
    colleges = [
        unit.id
        for code in (DEMO_COLLEGE, OTHER_COLLEGE)
        if (unit := await users.find_org_unit_by_code(session, code)) is not None
    ]
    draft = document_actions.CheckedDocument(
        title="关于做好下学期教学准备工作的通知",
        kind="notice",
        issuing_org_id=cast.staff.org_unit_id,
        urgency="normal",
        secrecy="internal",
        body="各学院：\n\n为保证下学期教学工作顺利开展，请于开学前两周完成课表核对、教材征订和实验室安全检查。",
        attachments=[],
        main=[("org", unit) for unit in colleges],
        copy_to=[("org", cast.staff.org_unit_id)],
    )
    await document_actions.do_create_document(session, cast.staff.id, draft)
    reviewing = document_actions.CheckedDocument(
        title="关于调整期末考试周安排的请示",
        kind="request",
        issuing_org_id=cast.staff.org_unit_id,
        urgency="urgent",
        secrecy="internal",
        body="校领导：\n\n因元旦假期调整，拟将期末考试周顺延一周，妥否，请批示。",
        attachments=[],
        main=[("org", president_office)],
        copy_to=[],
    )
    document_id = await document_actions.do_create_document(session, cast.staff.id, reviewing)
    document = await session.get(Document, document_id)
    assert document is not None
    await document_actions.do_submit(session, document)
