"""Writes of exam scheduling: generating a term's exams and sessions (idempotent), editing
them, starting and cancelling scheduling runs (background tasks), moving one exam by hand,
people's unavailable sessions, and publishing. ``check_*`` validates before ``do_*`` writes; a
refusal changes nothing."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events, runs
from campus.domains.academic.calendar.models import Term, TermDay
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.exams import adjust, build, queries, runner
from campus.domains.academic.exams.engine.invigilators import InvigilationError
from campus.domains.academic.exams.models import (
    Exam,
    ExamPlan,
    ExamRoom,
    ExamRun,
    ExamSeat,
    ExamSection,
    ExamSession,
    ExamUnavailability,
)
from campus.domains.academic.exams.schemas import (
    ExamPatch,
    GeneratedOut,
    GenerateSessionsIn,
    MoveIn,
    RunIn,
    SessionIn,
    UnavailabilityIn,
)
from campus.domains.academic.offering.models import Section
from campus.domains.academic.rooms.models import Room
from campus.kernel import audit, clock, tasks
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES, STUDENT_TYPES, PersonRef

DEFAULT_DURATION = 120


# ---------------------------------------------------------------- exams


async def check_generate_exams(session: AsyncSession, term_id: int) -> GeneratedOut:
    term = await queries.term_or_404(session, term_id)
    return await do_generate_exams(session, term)


async def do_generate_exams(session: AsyncSession, term: Term) -> GeneratedOut:
    """One exam per course assessed by exam with open sections in the term, holding the
    sections not yet in an exam. Running it again adds only what is new."""
    rows = list(
        await session.execute(
            select(Section.id, Section.course_id)
            .join(Course, Course.id == Section.course_id)
            .where(
                Section.term_id == term.id,
                Section.status == "open",
                Course.assessment == "exam",
            )
            .order_by(Section.id)
        )
    )
    existing = {
        course_id: exam_id
        for exam_id, course_id in await session.execute(
            select(Exam.id, Exam.course_id).where(Exam.term_id == term.id)
        )
    }
    linked = set(
        await session.scalars(
            select(ExamSection.section_id).where(
                ExamSection.section_id.in_([s for s, _c in rows] or [0])
            )
        )
    )
    created = 0
    now = clock.now()
    for section_id, course_id in rows:
        if course_id not in existing:
            exam = Exam(
                term_id=term.id,
                course_id=course_id,
                duration=DEFAULT_DURATION,
                excluded=False,
                manual=False,
                students=0,
                updated_at=now,
            )
            session.add(exam)
            await session.flush()
            existing[course_id] = exam.id
            created += 1
        if section_id not in linked:
            session.add(ExamSection(exam_id=existing[course_id], section_id=section_id))
            linked.add(section_id)
    await session.flush()
    await _count_students(session, term.id)
    audit.record(session, "academic.exams.generate", "term", term.id, after={"created": created})
    return GeneratedOut(created=created, existing=len(existing) - created)


async def _count_students(session: AsyncSession, term_id: int) -> None:
    exams = list(await session.scalars(select(Exam).where(Exam.term_id == term_id)))
    students, _teachers = await build.students_of_exams(session, [e.id for e in exams])
    for exam in exams:
        exam.students = len(students.get(exam.id, []))


async def exam_or_404(session: AsyncSession, exam_id: int) -> Exam:
    exam = await session.get(Exam, exam_id)
    if exam is None:
        raise NotFound(_("考试不存在"))
    return exam


async def check_patch_exam(session: AsyncSession, exam_id: int, body: ExamPatch) -> Exam:
    exam = await exam_or_404(session, exam_id)
    errors: list[FieldError] = []
    fields = body.model_fields_set
    if "section_ids" in fields:
        wanted = sorted(set(body.section_ids or []))
        if not wanted:
            errors.append(FieldError("section_ids", _("考试至少包含一个教学班")))
        else:
            found = list(
                await session.execute(
                    select(Section.id, Section.term_id, Section.course_id).where(
                        Section.id.in_(wanted)
                    )
                )
            )
            if len(found) != len(wanted) or any(
                t != exam.term_id or c != exam.course_id for _s, t, c in found
            ):
                errors.append(FieldError("section_ids", _("只能包含本学期本课程的教学班")))
    manual = body.manual if body.manual is not None else exam.manual
    duration = body.duration if body.duration is not None else exam.duration
    session_id = body.session_id if "session_id" in fields else exam.session_id
    target: ExamSession | None = None
    if "session_id" in fields and body.session_id is not None:
        if not manual:
            errors.append(FieldError("session_id", _("只有手工安排的考试可以指定场次")))
        target = await session.get(ExamSession, body.session_id)
        if target is None or target.term_id != exam.term_id:
            errors.append(FieldError("session_id", _("场次不属于本学期")))
            target = None
    elif session_id is not None:
        target = await session.get(ExamSession, session_id)
    if target is not None and duration > build.minutes(target.starts, target.ends):
        errors.append(
            FieldError(
                "duration",
                _(
                    "考试时长 {d} 分钟，超过所在场次的 {m} 分钟",
                    d=duration,
                    m=build.minutes(target.starts, target.ends),
                ),
            )
        )
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    plan = None
    if "session_id" in fields and body.session_id != exam.session_id:
        # a manual exam given (or taken out of) a session by hand: the same check as a move
        plan = await _plan(session, exam, body.session_id, [])
    return await do_patch_exam(session, exam, body, plan)


async def do_patch_exam(
    session: AsyncSession, exam: Exam, body: ExamPatch, plan: adjust.MovePlan | None = None
) -> Exam:
    fields = body.model_fields_set
    before = {"duration": exam.duration, "excluded": exam.excluded, "manual": exam.manual}
    if body.duration is not None:
        exam.duration = body.duration
    if body.excluded is not None:
        exam.excluded = body.excluded
    if body.manual is not None:
        exam.manual = body.manual
    if plan is not None:
        await _write_move(session, plan)
    if "section_ids" in fields:
        wanted = set(body.section_ids or [])
        current = {
            row.section_id: row
            for row in await session.scalars(
                select(ExamSection).where(ExamSection.exam_id == exam.id)
            )
        }
        for section_id, row in current.items():
            if section_id not in wanted:
                await session.delete(row)
        await session.flush()
        others = list(
            await session.scalars(
                select(ExamSection).where(
                    ExamSection.section_id.in_(list(wanted - set(current))),
                )
            )
        )
        for row in others:  # a section moves from another exam of the course
            await session.delete(row)
        await session.flush()
        for section_id in sorted(wanted - set(current)):
            session.add(ExamSection(exam_id=exam.id, section_id=section_id))
    exam.updated_at = clock.now()
    await session.flush()
    await _count_students(session, exam.term_id)
    audit.record(
        session,
        "academic.exams.update",
        "exam",
        exam.id,
        before=before,
        after=body.model_dump(mode="json", exclude_unset=True),
    )
    return exam


# ---------------------------------------------------------------- sessions


async def check_generate_sessions(
    session: AsyncSession, term_id: int, body: GenerateSessionsIn
) -> GeneratedOut:
    term = await queries.term_or_404(session, term_id)
    errors = _check_times([(t.starts, t.ends) for t in body.times], "times")
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    return await do_generate_sessions(session, term, body)


def _check_times(times: list[tuple[time, time]], field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, (starts, ends) in enumerate(times):
        if ends <= starts:
            where = f"{field}.{index}.ends" if field else "ends"
            errors.append(FieldError(where, _("结束时间应晚于开始时间")))
    ordered = sorted(times)
    for a, b in itertools.pairwise(ordered):
        if b[0] < a[1]:
            errors.append(FieldError(field or "starts", _("考试时间段相互重叠")))
            break
    return errors


async def do_generate_sessions(
    session: AsyncSession, term: Term, body: GenerateSessionsIn
) -> GeneratedOut:
    """The sessions of every teaching weekday of the exam weeks that is not a holiday; the
    ones already there are kept (so generating twice adds nothing)."""
    first, last = queries.exam_days(term)
    holidays = set(
        await session.scalars(
            select(TermDay.day).where(TermDay.term_id == term.id, TermDay.kind == "holiday")
        )
    )
    have = {
        (d, s)
        for d, s in await session.execute(
            select(ExamSession.day, ExamSession.starts).where(ExamSession.term_id == term.id)
        )
    }
    created = existing = 0
    day = first
    while day <= last:
        if day.weekday() < term.days_per_week and day not in holidays:
            for t in body.times:
                if (day, t.starts) in have:
                    existing += 1
                    continue
                if await _overlap(session, term.id, day, t.starts, t.ends, None):
                    existing += 1
                    continue
                session.add(ExamSession(term_id=term.id, day=day, starts=t.starts, ends=t.ends))
                await session.flush()
                created += 1
        day += timedelta(days=1)
    audit.record(
        session, "academic.exams.sessions_generate", "term", term.id, after={"created": created}
    )
    return GeneratedOut(created=created, existing=existing)


async def _overlap(
    session: AsyncSession, term_id: int, day: date, starts: time, ends: time, skip: int | None
) -> ExamSession | None:
    stmt = select(ExamSession).where(
        ExamSession.term_id == term_id,
        ExamSession.day == day,
        ExamSession.starts < ends,
        ExamSession.ends > starts,
    )
    if skip is not None:
        stmt = stmt.where(ExamSession.id != skip)
    return await session.scalar(stmt.limit(1))


async def _check_session(
    session: AsyncSession, term: Term, body: SessionIn, skip: int | None
) -> None:
    first, last = queries.exam_days(term)
    errors: list[FieldError] = []
    if not first <= body.day <= last:
        errors.append(FieldError("day", _("考试日期应在考试周内（{a} 至 {b}）", a=first, b=last)))
    errors += _check_times([(body.starts, body.ends)], "")
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    clash = await _overlap(session, term.id, body.day, body.starts, body.ends, skip)
    if clash is not None:
        raise Conflict.on(
            "starts",
            _(
                "与场次 {d} {s}-{e} 时间重叠",
                d=clash.day,
                s=clash.starts.strftime("%H:%M"),
                e=clash.ends.strftime("%H:%M"),
            ),
        )


async def check_add_session(session: AsyncSession, term_id: int, body: SessionIn) -> ExamSession:
    term = await queries.term_or_404(session, term_id)
    await _check_session(session, term, body, None)
    row = ExamSession(term_id=term.id, day=body.day, starts=body.starts, ends=body.ends)
    session.add(row)
    await session.flush()
    audit.record(
        session,
        "academic.exams.session_add",
        "exam_session",
        row.id,
        after=body.model_dump(mode="json"),
    )
    return row


async def session_or_404(session: AsyncSession, session_id: int) -> ExamSession:
    row = await session.get(ExamSession, session_id)
    if row is None:
        raise NotFound(_("考试场次不存在"))
    return row


async def check_update_session(
    session: AsyncSession, session_id: int, body: SessionIn
) -> ExamSession:
    row = await session_or_404(session, session_id)
    term = await queries.term_or_404(session, row.term_id)
    await _check_session(session, term, body, row.id)
    minutes = build.minutes(body.starts, body.ends)
    longest = await session.scalar(select(func.max(Exam.duration)).where(Exam.session_id == row.id))
    if longest is not None and longest > minutes:
        raise InvalidInput.on(
            "ends", _("场次只有 {m} 分钟，短于安排在其中的考试（{d} 分钟）", m=minutes, d=longest)
        )
    before = {"day": str(row.day), "starts": str(row.starts), "ends": str(row.ends)}
    row.day, row.starts, row.ends = body.day, body.starts, body.ends
    await session.flush()
    audit.record(
        session,
        "academic.exams.session_update",
        "exam_session",
        row.id,
        before=before,
        after=body.model_dump(mode="json"),
    )
    return row


async def check_delete_session(session: AsyncSession, session_id: int) -> None:
    row = await session_or_404(session, session_id)
    used = await session.scalar(select(func.count(Exam.id)).where(Exam.session_id == row.id))
    if used:
        raise Conflict(_("有 {n} 门考试安排在该场次，不能删除", n=used))
    await session.delete(row)
    await session.flush()
    audit.record(session, "academic.exams.session_delete", "exam_session", session_id)


# ---------------------------------------------------------------- runs


async def check_start_run(
    session: AsyncSession, principal: Principal, term_id: int, body: RunIn
) -> ExamRun:
    term = await queries.term_or_404(session, term_id)
    if await queries.active_run(session, term.id) is not None:
        raise Conflict(_("本学期已有考试安排任务在运行，请等待其完成或先取消"))
    if body.room_ids:
        errors = await _room_errors(session, body.room_ids)
        if errors:
            raise InvalidInput(errors[0].reason, errors=errors)
    elif not await build.exam_rooms(session, []):
        raise Conflict.on("room_ids", _("没有任何有考试座位的教室"))
    if not await session.scalar(select(ExamSession.id).where(ExamSession.term_id == term.id)):
        raise Conflict(_("本学期还没有考试场次，请先生成或添加场次"))
    if not await session.scalar(
        select(Exam.id).where(
            Exam.term_id == term.id, Exam.excluded.is_(False), Exam.manual.is_(False)
        )
    ):
        raise Conflict(_("本学期没有需要安排的考试，请先生成考试"))
    return await do_start_run(session, principal, term, body)


async def _room_errors(session: AsyncSession, room_ids: list[int]) -> list[FieldError]:
    """Rooms an exam may use: existing, active, with exam seats."""
    wanted = sorted(set(room_ids))
    rooms = {r.id: r for r in await session.scalars(select(Room).where(Room.id.in_(wanted)))}
    errors = [FieldError("room_ids", _("教室 {id} 不存在", id=r)) for r in wanted if r not in rooms]
    errors += [
        FieldError("room_ids", _("教室 {code} 没有考试座位", code=rooms[r].code))
        for r in wanted
        if r in rooms and rooms[r].exam_capacity <= 0
    ]
    errors += [
        FieldError("room_ids", _("教室 {code} 已停用", code=rooms[r].code))
        for r in wanted
        if r in rooms and not rooms[r].active
    ]
    return errors


async def do_start_run(
    session: AsyncSession, principal: Principal, term: Term, body: RunIn
) -> ExamRun:
    run = ExamRun(
        term_id=term.id,
        time_limit=body.time_limit,
        seed=body.seed,
        room_ids=sorted(set(body.room_ids)),
        applied=False,
        report={},
        created_by=principal.person_id,
        created_at=clock.now(),
    )
    await runs.submit(session, runner.KIND, run, principal.person_id)
    audit.record(
        session,
        "academic.exams.run",
        "exam_run",
        run.id,
        after={"term_id": term.id, "time_limit": body.time_limit, "seed": body.seed},
    )
    return run


async def check_cancel_run(session: AsyncSession, run_id: int) -> ExamRun:
    run = await queries.run_or_404(session, run_id)
    status = await tasks.cancel(session, run.task_id)
    if status not in (tasks.CANCELLED, tasks.RUNNING):
        raise Conflict(_("运行已结束，无法取消"))
    audit.record(session, "academic.exams.run_cancel", "exam_run", run.id)
    return run


# ---------------------------------------------------------------- moving an exam by hand


async def _plan(
    session: AsyncSession, exam: Exam, session_id: int | None, room_ids: list[int]
) -> adjust.MovePlan:
    """The move planned, refused (409) when a run is going or it breaks a hard rule."""
    plan = await _planned(session, exam, session_id, room_ids)
    if plan.problems:
        raise Conflict(
            _("不能调整：{reasons}", reasons="；".join(str(e.reason) for e in plan.problems)),
            errors=plan.problems,
            extra={"warnings": plan.warnings},
        )
    return plan


async def _planned(
    session: AsyncSession, exam: Exam, session_id: int | None, room_ids: list[int]
) -> adjust.MovePlan:
    term = await queries.term_or_404(session, exam.term_id)
    if await queries.active_run(session, term.id) is not None:
        raise Conflict(_("考试安排任务正在运行，请等待其完成后再调整"))
    return await adjust.plan_move(session, term, exam, session_id, room_ids)


async def preview_move(session: AsyncSession, exam_id: int, body: MoveIn) -> adjust.MovePlan:
    """What moving an exam would do (nothing written): its problems, warnings, rooms, seats
    taken and invigilators. Bad input is refused as by the move itself."""
    exam = await exam_or_404(session, exam_id)
    if exam.excluded:
        raise Conflict(_("该考试不统一安排，不能调整"))
    if not exam.manual and exam.session_id is None:
        raise Conflict(_("该考试尚未安排：请先安排考试，或将其设为手工安排"))
    errors: list[FieldError] = []
    target = await session.get(ExamSession, body.session_id)
    if target is None or target.term_id != exam.term_id:
        errors.append(FieldError("session_id", _("场次不属于本学期")))
    errors += await _room_errors(session, body.room_ids)
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    if not body.room_ids and not exam.manual and not await _rooms_of(session, exam.id):
        raise InvalidInput.on("room_ids", _("请选择考场"))
    return await _planned(session, exam, body.session_id, body.room_ids)


async def _rooms_of(session: AsyncSession, exam_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(ExamRoom.room_id).where(ExamRoom.exam_id == exam_id).order_by(ExamRoom.position)
        )
    )


async def check_move(session: AsyncSession, exam_id: int, body: MoveIn) -> Exam:
    """Move one exam by hand: refused (409, ``errors`` per field) when it breaks a hard rule;
    with warnings (students sitting two in a row, …) only with ``confirm``."""
    plan = await preview_move(session, exam_id, body)
    if plan.problems:
        raise Conflict(
            _("不能调整：{reasons}", reasons="；".join(str(e.reason) for e in plan.problems)),
            errors=plan.problems,
            extra={"warnings": plan.warnings},
        )
    if plan.warnings and not body.confirm:
        reason = _("调整后：{w}。请确认后再保存", w="；".join(plan.warnings))
        raise Conflict(
            reason, errors=[FieldError("confirm", reason)], extra={"warnings": plan.warnings}
        )
    return await do_move(session, plan, fix=body.fix)


async def do_move(session: AsyncSession, plan: adjust.MovePlan, *, fix: bool) -> Exam:
    exam = plan.exam
    before = {
        "session_id": exam.session_id,
        "room_ids": await _rooms_of(session, exam.id),
        "manual": exam.manual,
    }
    if fix:
        exam.manual = True
    await _write_move(session, plan)
    audit.record(
        session,
        "academic.exams.move",
        "exam",
        exam.id,
        before=before,
        after={
            "session_id": plan.session_id,
            "room_ids": [use.room.id for use in plan.rooms],
            "manual": exam.manual,
            "warnings": plan.warnings,
        },
    )
    return exam


async def _write_move(session: AsyncSession, plan: adjust.MovePlan) -> None:
    """The exam's session, rooms and seats, the seats of the rooms it joins and the term's
    duties as planned; a published timetable goes back to unpublished (publish it again)."""
    exam = plan.exam
    exam.session_id = plan.session_id
    exam.updated_at = clock.now()
    await session.execute(delete(ExamRoom).where(ExamRoom.exam_id == exam.id))
    await session.execute(delete(ExamSeat).where(ExamSeat.exam_id == exam.id))
    for session_id, room_id in plan.reseat:
        await session.execute(
            delete(ExamSeat).where(
                ExamSeat.room_id == room_id,
                ExamSeat.exam_id.in_(select(Exam.id).where(Exam.session_id == session_id)),
            )
        )
    for position, use in enumerate(plan.rooms):
        session.add(
            ExamRoom(exam_id=exam.id, room_id=use.room.id, seats=use.seats, position=position)
        )
    if plan.seats:
        await session.execute(insert(ExamSeat), plan.seats)
    await adjust.write_duties(session, exam.term_id, plan.duties)
    plan_row = await session.scalar(select(ExamPlan).where(ExamPlan.term_id == exam.term_id))
    if plan_row is not None:
        plan_row.published = False
    await session.flush()


# ---------------------------------------------------------------- unavailable sessions


async def check_add_unavailability(
    session: AsyncSession, principal: Principal, term_id: int, body: UnavailabilityIn
) -> list[ExamUnavailability]:
    """A student who cannot sit, or staff who cannot invigilate, in some sessions. Refused
    (409) when the student already has an exam then (move it first) or when nobody else is
    free to take over the person's duties; otherwise their duties go to others at once."""
    term = await queries.term_or_404(session, term_id)
    errors: list[FieldError] = []
    field = "number" if body.person_id is None else "person_id"
    person: PersonRef | None = None
    if (body.person_id is None) == (body.number is None):
        errors.append(
            FieldError("person_id", _("请给出人员（person_id）或学号/工号（number）之一"))
        )
    elif body.person_id is not None:
        person = await users.get_person_ref(session, body.person_id)
        if person is None:
            errors.append(FieldError(field, _("人员 {id} 不存在", id=body.person_id)))
    else:
        person = await users.find_person_by_login(session, body.number or "")
        if person is None:
            errors.append(FieldError(field, _("学号或工号 {n} 不存在", n=body.number)))
    if person is not None and person.person_type not in (*STUDENT_TYPES, *STAFF_TYPES):
        errors.append(FieldError(field, _("只能为学生或教职工登记")))
    elif person is not None and person.status != "active":
        errors.append(FieldError(field, _("{name} 不在校", name=person.name)))
    wanted = list(dict.fromkeys(body.session_ids))
    found = {
        row.id: row
        for row in await session.scalars(select(ExamSession).where(ExamSession.id.in_(wanted)))
    }
    errors += [
        FieldError("session_ids", _("场次 {id} 不属于本学期", id=s))
        for s in wanted
        if s not in found or found[s].term_id != term.id
    ]
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    assert person is not None
    duties = await _unavailability_duties(session, term, person, wanted, found)
    return await do_add_unavailability(session, principal, term, person, wanted, body, duties)


async def _unavailability_duties(
    session: AsyncSession,
    term: Term,
    person: PersonRef,
    wanted: list[int],
    found: dict[int, ExamSession],
) -> adjust.Duties | None:
    """The duties after the person is away (None when theirs need no change); a student
    with an exam in one of the sessions is refused."""
    busy = await session.scalar(
        select(Exam.id).where(Exam.term_id == term.id, Exam.session_id.in_(wanted)).limit(1)
    )
    if busy is None:
        return None
    built = await build.build_problem(session, term, [], rooms_in_use=True)
    solution = await build.stored_solution(session, built)
    if person.person_type in STUDENT_TYPES:
        for e, placement in enumerate(solution.placements):
            exam_id = built.exam_ids[e]
            when = None if placement is None else built.session_ids[placement.period]
            if when in wanted and person.id in built.students[exam_id]:
                row = found[when]
                raise Conflict.on(
                    "session_ids",
                    _(
                        "{name} 在 {d} {t} 有考试 {course}，请先调整该考试",
                        name=person.name,
                        d=row.day,
                        t=row.starts.strftime("%H:%M"),
                        course=built.names[exam_id],
                    ),
                )
        return None
    current = await adjust.current_duties(session, term.id)
    if not any(s in wanted and person.id in people for (s, _r), people in current.items()):
        return None
    try:
        return await adjust.duties_after(session, built, solution, away={person.id: set(wanted)})
    except InvigilationError as exc:
        raise Conflict.on("session_ids", str(exc)) from exc


async def do_add_unavailability(
    session: AsyncSession,
    principal: Principal,
    term: Term,
    person: PersonRef,
    wanted: list[int],
    body: UnavailabilityIn,
    duties: adjust.Duties | None,
) -> list[ExamUnavailability]:
    have = {
        row.session_id: row
        for row in await session.scalars(
            select(ExamUnavailability).where(
                ExamUnavailability.person_id == person.id,
                ExamUnavailability.session_id.in_(wanted),
            )
        )
    }
    now = clock.now()
    rows: list[ExamUnavailability] = []
    for session_id in wanted:
        row = have.get(session_id)
        if row is None:
            row = ExamUnavailability(
                term_id=term.id,
                session_id=session_id,
                person_id=person.id,
                created_by=principal.person_id,
                created_at=now,
            )
            session.add(row)
        row.reason = body.reason
        rows.append(row)
    replaced = 0 if duties is None else await adjust.write_duties(session, term.id, duties)
    await session.flush()
    audit.record(
        session,
        "academic.exams.unavailable_add",
        "person",
        person.id,
        after={
            "term_id": term.id,
            "session_ids": wanted,
            "reason": body.reason,
            "duties_reassigned": replaced,
        },
    )
    return rows


async def check_delete_unavailability(session: AsyncSession, row_id: int) -> ExamUnavailability:
    row = await session.get(ExamUnavailability, row_id)
    if row is None:
        raise NotFound(_("不可考场次登记不存在"))
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        "academic.exams.unavailable_delete",
        "person",
        row.person_id,
        before={"session_id": row.session_id, "reason": row.reason},
    )
    return row


# ---------------------------------------------------------------- publishing


async def check_publish(session: AsyncSession, principal: Principal, term_id: int) -> ExamPlan:
    term = await queries.term_or_404(session, term_id)
    plan = await session.scalar(select(ExamPlan).where(ExamPlan.term_id == term.id))
    if plan is None or plan.scheduled_at is None:
        raise Conflict(_("本学期的考试还没有安排，不能发布"))
    if await queries.active_run(session, term.id) is not None:
        raise Conflict(_("考试安排任务正在运行，请等待其完成"))
    return await do_publish(session, principal, term, plan)


async def do_publish(
    session: AsyncSession, principal: Principal, term: Term, plan: ExamPlan
) -> ExamPlan:
    exams = int(
        await session.scalar(
            select(func.count(Exam.id)).where(
                Exam.term_id == term.id, Exam.session_id.is_not(None), Exam.excluded.is_(False)
            )
        )
        or 0
    )
    seats = int(
        await session.scalar(
            select(func.count(ExamSeat.id))
            .join(Exam, Exam.id == ExamSeat.exam_id)
            .where(Exam.term_id == term.id)
        )
        or 0
    )
    plan.version += 1
    plan.published = True
    plan.published_at = clock.now()
    plan.published_by = principal.person_id
    await session.flush()
    audit.record(
        session,
        "academic.exams.publish",
        "term",
        term.id,
        after={"version": plan.version, "exams": exams, "seats": seats},
    )
    await emit(
        session,
        events.EXAMS_PUBLISHED,
        events.ExamsPublished(
            term_id=term.id,
            term_code=term.code,
            version=plan.version,
            exams=exams,
            seats=seats,
            published_by=principal.person_id,
        ),
    )
    return plan
