"""Auditing students for graduation: one student's report, computed from their programme and
published results; runs over a cohort started and advanced in chunks (each chunk one
transaction: its audits, the run's counts, and when it finishes an audit entry and
``academic.graduation.audited``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic import service as academic
from campus.domains.academic.grades.queries import passed_courses
from campus.domains.academic.graduation import check
from campus.domains.academic.graduation.models import AuditRun, StudentAudit
from campus.domains.academic.graduation.schemas import RunCreate
from campus.domains.academic.status import queries as status_queries
from campus.domains.academic.status.models import StudentStatus
from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.users import service as users

RUN_CHUNK = 50
Programmes = dict[tuple[int, int], check.Programme | None]


async def programme_of(
    session: AsyncSession, major_id: int, cohort: int, known: Programmes | None = None
) -> check.Programme | None:
    """The requirements of the programme in force for the major and cohort (None: none is
    published), remembered in ``known`` across the students of a chunk."""
    key = (major_id, cohort)
    if known is not None and key in known:
        return known[key]
    found = await academic.programme_of(session, major_id, cohort)
    shape = None
    if found is not None:
        shape = check.Programme(
            id=found.id,
            name=found.name,
            total_credits=Decimal(str(found.total_credits)),
            groups=[check.Group(g.id, g.name, Decimal(str(g.min_credits))) for g in found.groups],
            courses={
                c.course_id: check.Requirement(
                    c.course_id, c.code, c.name, g.id, c.required, Decimal(str(c.credits))
                )
                for g in found.groups
                for c in g.courses
            },
        )
    if known is not None:
        known[key] = shape
    return shape


async def report_of(
    session: AsyncSession,
    record: StudentStatus,
    known: Programmes | None = None,
    passed: dict[int, Decimal] | None = None,
) -> check.Report | None:
    """The student's audit as of now (``passed``: their passed courses, when already read)."""
    programme = await programme_of(session, record.major_id, record.grade, known)
    if programme is None:
        return None
    if passed is None:
        passed = (await passed_courses(session, [record.person_id]))[record.person_id]
    return check.audit(programme, passed)


# ---------------------------------------------------------------- runs over a cohort


def _cohort(principal: Principal, run: AuditRun) -> list[Any]:
    where: list[Any] = [
        StudentStatus.grade == run.grade,
        StudentStatus.status == "studying",
        status_queries.managed(principal),
    ]
    if run.major_id is not None:
        where.append(StudentStatus.major_id == run.major_id)
    return where


async def check_start_run(session: AsyncSession, principal: Principal, body: RunCreate) -> AuditRun:
    if body.major_id is not None:
        major = await users.get_org_unit(session, body.major_id)
        if major is None or major.kind != "major":
            raise InvalidInput.on("major_id", _("专业不存在"))
    running = await session.scalar(
        select(AuditRun.id).where(AuditRun.state == "running", AuditRun.grade == body.grade)
    )
    if running is not None:
        raise Conflict.on("grade", _("{grade}级已有一次正在进行的毕业审核", grade=body.grade))
    run = AuditRun(
        grade=body.grade,
        major_id=body.major_id,
        state="running",
        total=0,
        created_by=principal.person_id,
        created_at=clock.now(),
    )
    run.total = int(
        await session.scalar(
            select(func.count()).select_from(StudentStatus).where(*_cohort(principal, run))
        )
        or 0
    )
    if run.total == 0:
        raise InvalidInput.on(
            "grade", _("{grade}级没有可审核的在读学生（在您的管理范围内）", grade=body.grade)
        )
    session.add(run)
    await session.flush()
    audit.record(
        session,
        "academic.graduation.run",
        "grad_audit_run",
        run.id,
        after={"grade": run.grade, "major_id": run.major_id, "total": run.total},
    )
    return run


async def do_run_step(
    session: AsyncSession, principal: Principal, run_id: int, size: int = RUN_CHUNK
) -> AuditRun | None:
    """Audit the run's next ``size`` students (those it has not audited yet); the run
    finishes when none is left. The run's row is locked first, so two steps never audit the
    same student twice."""
    run = await session.scalar(select(AuditRun).where(AuditRun.id == run_id).with_for_update())
    if run is None or run.state != "running":
        return run
    audited = select(StudentAudit.person_id).where(StudentAudit.run_id == run.id)
    records = list(
        await session.scalars(
            select(StudentStatus)
            .where(*_cohort(principal, run), StudentStatus.person_id.not_in(audited))
            .order_by(StudentStatus.id)
            .limit(size)
        )
    )
    known: Programmes = {}
    passed = await passed_courses(session, [r.person_id for r in records])
    now = clock.now()
    for record in records:
        report = await report_of(session, record, known, passed[record.person_id])
        verdict = "no_programme" if report is None else "passed" if report.passed else "failed"
        session.add(
            StudentAudit(
                run_id=run.id,
                person_id=record.person_id,
                student_no=record.student_no,
                name=record.name,
                major_id=record.major_id,
                verdict=verdict,
                total_earned=report.total_earned if report else Decimal(0),
                missing_total=report.missing_total if report else Decimal(0),
                missing_required=report.missing_required if report else 0,
                report=report.model_dump(mode="json") if report else None,
                audited_at=now,
            )
        )
        run.passed += verdict == "passed"
        run.failed += verdict == "failed"
        run.no_programme += verdict == "no_programme"
    run.done += len(records)
    if len(records) < size:
        await _finish(session, run)
    return run


async def _finish(session: AsyncSession, run: AuditRun) -> None:
    run.state = "finished"
    run.finished_at = clock.now()
    run.total = run.done
    counts = {"passed": run.passed, "failed": run.failed, "no_programme": run.no_programme}
    audit.record(session, "academic.graduation.finish", "grad_audit_run", run.id, after=counts)
    await emit(
        session,
        events.GRADUATION_AUDITED,
        events.GraduationAudited(run_id=run.id, grade=run.grade, major_id=run.major_id, **counts),
    )
