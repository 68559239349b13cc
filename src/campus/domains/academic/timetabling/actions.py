"""Writes of timetabling: runs (submitted as background tasks), manual moves and pins, the
constraints (teacher times, room closures, fixed slots) and publishing. ``check_*`` validates
before ``do_*`` writes; a refusal changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events, runs
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.offering.models import Section
from campus.domains.academic.rooms.models import Room
from campus.domains.academic.timetabling import build, queries, runner
from campus.domains.academic.timetabling.engine import itc2007, scoring
from campus.domains.academic.timetabling.models import (
    FixedSlot,
    Lecture,
    PublishedLecture,
    RoomClosure,
    Run,
    TeacherTime,
    Timetable,
)
from campus.domains.academic.timetabling.schemas import (
    FixedSlotIn,
    MoveIn,
    RoomClosureIn,
    RunIn,
    TeacherTimeIn,
)
from campus.kernel import audit, clock, tasks
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.users import service as users

MAX_INSTANCE_BYTES = 2_000_000

# ---------------------------------------------------------------- runs


async def check_start_run(
    session: AsyncSession, principal: Principal, term_id: int, body: RunIn
) -> Run:
    term = await queries.term_or_404(session, term_id)
    if await queries.active_run(session, term.id) is not None:
        raise Conflict(_("本学期已有排课任务在运行，请等待其完成或先取消"))
    if body.mode == "reschedule":
        has_draft = await session.scalar(select(Lecture.id).where(Lecture.term_id == term.id))
        if has_draft is None:
            raise Conflict.on("mode", _("本学期还没有课表，无法增量调整，请先完整排课"))
    name = f"{term.name} {'增量调整' if body.mode == 'reschedule' else '完整排课'}"
    return await do_start_run(
        session, principal, term.id, body.mode, name, body.time_limit, body.seed, None
    )


async def do_start_run(
    session: AsyncSession,
    principal: Principal,
    term_id: int | None,
    mode: str,
    name: str,
    time_limit: int,
    seed: int,
    instance: str | None,
) -> Run:
    run = Run(
        term_id=term_id,
        mode=mode,
        name=name[:120],
        time_limit=time_limit,
        seed=seed,
        instance=instance,
        applied=False,
        report={},
        created_by=principal.person_id,
        created_at=clock.now(),
    )
    await runs.submit(session, runner.KIND, run, principal.person_id)
    audit.record(
        session,
        "academic.timetable.run",
        "timetable_run",
        run.id,
        after={"term_id": term_id, "mode": mode, "time_limit": time_limit, "seed": seed},
    )
    return run


async def check_cancel_run(session: AsyncSession, run_id: int) -> Run:
    run = await queries.run_or_404(session, run_id)
    status = await tasks.cancel(session, run.task_id)
    if status in tasks.FINISHED and status != tasks.CANCELLED:
        raise Conflict(_("该排课运行已结束"))
    audit.record(session, "academic.timetable.run_cancel", "timetable_run", run.id)
    return run


async def check_benchmark(
    session: AsyncSession, principal: Principal, text: str, time_limit: int, seed: int
) -> Run:
    """A sandbox run of an uploaded ITC-2007 instance: parsed first (422 with the line)."""
    if not 1 <= time_limit <= 1800:
        raise InvalidInput.on("time_limit", _("求解时限应在 1 到 1800 秒之间"))
    try:
        problem = itc2007.loads(text)
    except itc2007.ParseError as exc:
        raise InvalidInput(
            _("文件格式错误：{detail}", detail=str(exc)),
            errors=[FieldError("file", str(exc))],
            extra={"line": exc.line},
        ) from exc
    return await do_start_run(
        session, principal, None, "benchmark", f"基准测试 {problem.name}", time_limit, seed, text
    )


# ---------------------------------------------------------------- manual changes


async def _lecture(session: AsyncSession, lecture_id: int) -> tuple[Lecture, Term]:
    lecture = await session.get(Lecture, lecture_id)
    if lecture is None:
        raise NotFound(_("课次不存在"))
    term = await session.get(Term, lecture.term_id)
    assert term is not None
    return lecture, term


async def check_move(session: AsyncSession, lecture_id: int, body: MoveIn) -> Lecture:
    """Move one lecture by hand: refused (409, with the reasons) when it would clash."""
    lecture, term = await _lecture(session, lecture_id)
    if lecture.pinned:
        raise Conflict(_("该课次已锁定，请先解锁再调整"))
    room_id = body.room_id if body.room_id is not None else lecture.room_id
    occupancy = await queries.occupancy(session, term)
    reasons, warnings = occupancy.check(lecture.id, body.day, body.block, room_id)
    if reasons:
        raise Conflict(
            _("不能调到该时段：{reasons}", reasons="；".join(reasons)),
            extra={"reasons": reasons, "warnings": warnings},
        )
    before = {"day": lecture.day, "block": lecture.block, "room_id": lecture.room_id}
    lecture.day, lecture.block, lecture.room_id = body.day, body.block, room_id
    try:
        await session.flush()
    except IntegrityError as exc:  # another move took the room at that slot meanwhile
        raise Conflict(_("该教室在该时段已被占用")) from exc
    await runner.bump_revision(session, term.id, None)
    audit.record(
        session,
        "academic.timetable.move",
        "lecture",
        lecture.id,
        before=before,
        after={"day": body.day, "block": body.block, "room_id": room_id},
    )
    return lecture


async def check_pin(session: AsyncSession, lecture_id: int, pinned: bool) -> Lecture:
    lecture, term = await _lecture(session, lecture_id)
    if lecture.pinned != pinned:
        lecture.pinned = pinned
        await runner.bump_revision(session, term.id, None)
        audit.record(
            session, "academic.timetable.pin", "lecture", lecture.id, after={"pinned": pinned}
        )
    return lecture


async def check_publish(session: AsyncSession, principal: Principal, term_id: int) -> Timetable:
    """Publish the draft as a new version; refused while it breaks a hard constraint."""
    term = await queries.term_or_404(session, term_id)
    timetable = await queries.timetable_of(session, term.id)
    count = len(list(await session.scalars(select(Lecture.id).where(Lecture.term_id == term.id))))
    if timetable is None or count == 0:
        raise Conflict(_("本学期还没有课表可以发布"))
    built = await build.build_problem(session, term, with_pins=False)
    placements = await build.draft_placements(session, term.id, built.grid)
    score = scoring.score(built.problem, placements)
    if not score.feasible:
        raise Conflict(
            _("课表违反 {n} 项硬约束，不能发布", n=score.hard),
            extra={"hard": score.hard},
        )
    return await do_publish(session, principal, term, timetable, count)


async def do_publish(
    session: AsyncSession, principal: Principal, term: Term, timetable: Timetable, count: int
) -> Timetable:
    version = timetable.published_version + 1
    await session.execute(delete(PublishedLecture).where(PublishedLecture.term_id == term.id))
    rows = [
        {
            "term_id": term.id,
            "version": version,
            "section_id": lec.section_id,
            "number": lec.number,
            "day": lec.day,
            "block": lec.block,
            "room_id": lec.room_id,
        }
        for lec in await session.scalars(select(Lecture).where(Lecture.term_id == term.id))
    ]
    await session.execute(insert(PublishedLecture), rows)
    timetable.published_version = version
    timetable.published_revision = timetable.revision
    timetable.published_at = clock.now()
    timetable.published_by = principal.person_id
    await session.flush()
    audit.record(
        session,
        "academic.timetable.publish",
        "term",
        term.id,
        after={"version": version, "lectures": count, "revision": timetable.revision},
    )
    await emit(
        session,
        events.TIMETABLE_PUBLISHED,
        events.TimetablePublished(
            term_id=term.id,
            term_code=term.code,
            version=version,
            lectures=count,
            published_by=principal.person_id,
        ),
    )
    return timetable


# ---------------------------------------------------------------- constraints


async def _check_slot(session: AsyncSession, term: Term, day: int, block: int) -> None:
    grid = await build.grid_of(session, term)
    if not grid.has(day, block):
        raise InvalidInput(
            _("不是本学期的上课时间"),
            errors=[FieldError("day", _("超出教学日")), FieldError("block", _("没有该大节"))],
        )


async def check_teacher_time(
    session: AsyncSession, term_id: int, body: TeacherTimeIn
) -> TeacherTime:
    term = await queries.term_or_404(session, term_id)
    await _check_slot(session, term, body.day, body.block)
    if await users.get_person_ref(session, body.person_id) is None:
        raise InvalidInput.on("person_id", _("人员不存在"))
    row = await session.scalar(
        select(TeacherTime).where(
            TeacherTime.term_id == term.id,
            TeacherTime.person_id == body.person_id,
            TeacherTime.day == body.day,
            TeacherTime.block == body.block,
        )
    )
    if row is None:
        row = TeacherTime(term_id=term.id, person_id=body.person_id, day=body.day, block=body.block)
        session.add(row)
    row.kind, row.reason = body.kind, body.reason
    await session.flush()
    audit.record(
        session, "academic.timetable.teacher_time", "teacher_time", row.id, after=body.model_dump()
    )
    return row


async def check_room_closure(
    session: AsyncSession, term_id: int, body: RoomClosureIn
) -> RoomClosure:
    term = await queries.term_or_404(session, term_id)
    await _check_slot(session, term, body.day, body.block)
    if await session.get(Room, body.room_id) is None:
        raise InvalidInput.on("room_id", _("教室不存在"))
    row = await session.scalar(
        select(RoomClosure).where(
            RoomClosure.term_id == term.id,
            RoomClosure.room_id == body.room_id,
            RoomClosure.day == body.day,
            RoomClosure.block == body.block,
        )
    )
    if row is None:
        row = RoomClosure(term_id=term.id, room_id=body.room_id, day=body.day, block=body.block)
        session.add(row)
    row.reason = body.reason
    await session.flush()
    audit.record(
        session, "academic.timetable.room_closure", "room_closure", row.id, after=body.model_dump()
    )
    return row


async def check_fixed(session: AsyncSession, term_id: int, body: FixedSlotIn) -> FixedSlot:
    term = await queries.term_or_404(session, term_id)
    await _check_slot(session, term, body.day, body.block)
    section = await session.get(Section, body.section_id)
    if section is None or section.term_id != term.id:
        raise InvalidInput.on("section_id", _("教学班不属于该学期"))
    if body.number >= section.lectures_per_week:
        raise InvalidInput.on("number", _("该教学班每周只有 {n} 次课", n=section.lectures_per_week))
    if await session.get(Room, body.room_id) is None:
        raise InvalidInput.on("room_id", _("教室不存在"))
    row = await session.scalar(
        select(FixedSlot).where(
            FixedSlot.section_id == body.section_id, FixedSlot.number == body.number
        )
    )
    if row is None:
        row = FixedSlot(term_id=term.id, section_id=body.section_id, number=body.number)
        session.add(row)
    row.day, row.block, row.room_id = body.day, body.block, body.room_id
    await session.flush()
    audit.record(session, "academic.timetable.fixed", "fixed_slot", row.id, after=body.model_dump())
    return row


CONSTRAINTS: dict[str, Any] = {
    "teacher-times": TeacherTime,
    "room-closures": RoomClosure,
    "fixed-slots": FixedSlot,
}


async def check_remove_constraint(session: AsyncSession, kind: str, row_id: int) -> None:
    model = CONSTRAINTS.get(kind)
    row = None if model is None else await session.get(model, row_id)
    if row is None:
        raise NotFound(_("约束不存在"))
    await session.delete(row)
    await session.flush()
    audit.record(session, f"academic.timetable.{kind}.remove", kind, row_id)
