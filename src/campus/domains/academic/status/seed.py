"""Student status' part of the demo university: a record for every student (bulk inserts), the
approval process of each kind of change, a few changes already applied (suspensions, a
resumption, a change of major, a withdrawal) and a couple of requests in approval (the demo
student's suspension, a classmate's change of major filed by the registrar)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.status import actions, processes, queries
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.status.schemas import RESULT_STATUS
from campus.kernel import clock
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES, ClassOut, PersonRef
from campus.platform.workflow import service as workflow

CHUNK = 1000


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        for kind in processes.KINDS:
            await workflow.ensure_process(
                session,
                key=processes.process_key(kind),
                name=processes.NAMES[kind],
                chain=processes.chain(kind),
                description=processes.description(kind),
            )
        classes = {c.id: c for c in await users.list_classes(session)}
        students = await _students(session)
        await _records(session, students, classes)
        await _history(session, ctx, students, classes)
        await _pending(session, ctx, students, classes)


async def _students(session: AsyncSession) -> list[PersonRef]:
    ids = await users.person_ids_of_types(session, STUDENT_TYPES, status=None)
    found = await users.get_people(session, ids)
    return [found[i] for i in ids if i in found and found[i].number and found[i].class_id]


async def _records(
    session: AsyncSession, students: Sequence[PersonRef], classes: dict[int, ClassOut]
) -> None:
    units = await users.get_org_units(session, sorted({s.org_unit_id for s in students}))
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for person in students:
        major = units.get(person.org_unit_id)
        admin_class = classes.get(person.class_id or 0)
        if major is None or major.parent_id is None or admin_class is None:
            continue
        level = "postgraduate" if person.person_type == "postgraduate" else "undergraduate"
        years = actions.default_years(level, major.discipline_code)
        status = {"suspended": "suspended", "left": "withdrawn", "graduated": "graduated"}.get(
            person.status, "studying"
        )
        rows.append(
            {
                "person_id": person.id,
                "student_no": person.number,
                "name": person.name,
                "level": level,
                "college_id": major.parent_id,
                "major_id": major.id,
                "class_id": admin_class.id,
                "grade": admin_class.grade,
                "enrolled_on": date(admin_class.grade, 9, 1),
                "expected_graduation": actions.expected_graduation(admin_class.grade, years),
                "years": years,
                "status": status,
                "in_school": status == "studying",
                "updated_at": now,
            }
        )
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(StudentStatus), rows[start : start + CHUNK])


async def _login(session: AsyncSession, ctx: SeedContext, role: str) -> PersonRef | None:
    login = next((x.login for x in ctx.logins if x.role == role), None)
    return await users.find_person_by_login(session, login) if login else None


def _later_class(
    classes: dict[int, ClassOut], major_id: int, grade: int, *, exact: int | None = None
) -> ClassOut | None:
    """A class of the major in a later cohort (the next one that exists)."""
    later = sorted(
        (c for c in classes.values() if c.org_unit_id == major_id and c.grade > grade),
        key=lambda c: (c.grade, c.code),
    )
    if exact is not None:
        later = [c for c in later if c.grade == exact]
    return later[0] if later else None


async def _apply(
    session: AsyncSession,
    person: PersonRef,
    kind: str,
    reason: str,
    actor_id: int | None,
    *,
    major_id: int | None = None,
    college_id: int | None = None,
    target: ClassOut | None = None,
) -> None:
    record = await queries.record_of(session, person.id)
    if record is None:
        return
    await actions.apply(
        session,
        record,
        kind=kind,
        major_id=major_id or record.major_id,
        college_id=college_id or record.college_id,
        class_id=target.id if target else record.class_id,
        grade=target.grade if target else record.grade,
        reason=reason,
        actor_id=actor_id,
    )
    assert record.status == RESULT_STATUS[kind]


async def _history(
    session: AsyncSession,
    ctx: SeedContext,
    students: Sequence[PersonRef],
    classes: dict[int, ClassOut],
) -> None:
    """A handful of changes already made, spread over the roll (deterministic)."""
    rng = ctx.rng("academic.status")
    registrar = await _login(session, ctx, "staff")
    demo = await _login(session, ctx, "student")
    actor = registrar.id if registrar else None
    pool = [s for s in students if demo is None or s.class_id != demo.class_id]
    if len(pool) < 20:
        return
    picked = rng.sample(pool, 12)
    for person in picked[:3]:
        await _apply(session, person, "suspend", "因病休学一学期", actor)
    for person in picked[3:6]:
        grade = classes[person.class_id or 0].grade
        target = _later_class(classes, person.org_unit_id, grade)
        if target is None:
            continue
        await _apply(session, person, "suspend", "应征入伍，保留学籍", actor)
        await _apply(session, person, "resume", "服役期满，申请复学", actor, target=target)
    for person in picked[6:8]:
        await _apply(session, person, "withdraw", "本人申请退学", actor)
    for person in picked[8:10]:
        grade = classes[person.class_id or 0].grade
        target = _later_class(classes, person.org_unit_id, grade, exact=grade + 1)
        if target is not None:
            await _apply(session, person, "repeat", "学分未达升级要求，留级", actor, target=target)
    for person in picked[10:12]:
        grade = classes[person.class_id or 0].grade
        other = next(
            (
                c
                for c in sorted(classes.values(), key=lambda c: c.code)
                if c.grade == grade and c.org_unit_id != person.org_unit_id
            ),
            None,
        )
        if other is None:
            continue
        major = await users.get_org_unit(session, other.org_unit_id)
        if major is None or major.parent_id is None:
            continue
        await _apply(
            session,
            person,
            "transfer",
            "对新专业更有兴趣，成绩符合转专业条件",
            actor,
            major_id=major.id,
            college_id=major.parent_id,
            target=other,
        )


async def _pending(
    session: AsyncSession,
    ctx: SeedContext,
    students: Sequence[PersonRef],
    classes: dict[int, ClassOut],
) -> None:
    """The demo student's suspension in approval; a classmate's change of major, filed by the
    registrar on their behalf."""
    demo = await _login(session, ctx, "student")
    registrar = await _login(session, ctx, "staff")
    if demo is None:
        return
    record = await queries.record_of(session, demo.id)
    if record is not None and record.status == "studying":
        checked = actions.CheckedChange("suspend", "身体原因需休养，申请休学两学期", terms=2)
        await actions.do_file(session, demo.id, record, checked)
    mate = next((s for s in students if s.class_id == demo.class_id and s.id != demo.id), None)
    if mate is None or registrar is None:
        return
    mate_record = await queries.record_of(session, mate.id)
    if mate_record is None or mate_record.status != "studying":
        return
    other = next(
        (
            c
            for c in sorted(classes.values(), key=lambda c: c.code)
            if c.grade == mate_record.grade and c.org_unit_id != mate_record.major_id
        ),
        None,
    )
    if other is None:
        return
    major = await users.get_org_unit(session, other.org_unit_id)
    if major is None:
        return
    checked = actions.CheckedChange(
        "transfer",
        "对计算机方向更有兴趣，第一学年成绩排名专业前10%",
        target_major_id=major.id,
        target_college_id=major.parent_id,
        target_class_id=other.id,
        target_grade=other.grade,
    )
    await actions.do_file(session, registrar.id, mate_record, checked)
