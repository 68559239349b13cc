"""Writes of student status: filing a change request (学籍异动) into its approval process, the
outcome of the process (the change applied atomically, or the request closed), opening a
record, and graduating a cohort in batches. ``check_*`` validates before ``do_*`` writes; a
refusal changes nothing. Every applied change writes the record, a history row, the user
center's status and class, an audit entry and ``academic.student_status.changed``, in one
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic.permissions import STATUS_MANAGE
from campus.domains.academic.status import processes, queries
from campus.domains.academic.status.access import access_managed_record, access_own_record
from campus.domains.academic.status.models import (
    GraduationBatch,
    StatusChange,
    StatusHistory,
    StudentStatus,
)
from campus.domains.academic.status.schemas import (
    ALLOWED_FROM,
    IN_SCHOOL,
    KIND_LABELS,
    PERSON_STATUS,
    RESULT_STATUS,
    STATUS_LABELS,
    BatchCreate,
    ChangeCreate,
    RecordCreate,
)
from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES
from campus.platform.workflow import service as workflow

REGISTRAR_KINDS = frozenset({"graduate", "complete"})
BATCH_CHUNK = 200


# ---------------------------------------------------------------- filing a request


@dataclass(frozen=True)
class CheckedChange:
    kind: str
    reason: str
    terms: int | None = None
    target_major_id: int | None = None
    target_college_id: int | None = None
    target_class_id: int | None = None
    target_grade: int | None = None


async def check_file(session: AsyncSession, principal: Principal, body: ChangeCreate) -> int:
    """File a change for oneself, or (``academic.status.manage``) for a student in reach."""
    on_behalf = body.person_id is not None and body.person_id != principal.person_id
    if on_behalf:
        assert body.person_id is not None
        record = await access_managed_record(session, principal, body.person_id)
    else:
        record = await access_own_record(session, principal)
    if body.kind in REGISTRAR_KINDS and not on_behalf:
        raise InvalidInput.on("kind", _("毕业、结业由教务处办理，不能自行申请"))
    checked = await check_fits(session, record, body)
    if await queries.open_change(session, record.person_id, body.kind) is not None:
        raise _already_open(body.kind)
    return await do_file(session, principal.person_id, record, checked)


def _already_open(kind: str) -> Conflict:
    return Conflict.on(
        "kind", _("已有一份审批中的{kind}申请，不能重复提交", kind=KIND_LABELS[kind])
    )


async def check_fits(
    session: AsyncSession, record: StudentStatus, body: ChangeCreate
) -> CheckedChange:
    """Whether the change fits the record as it stands now."""
    kind = body.kind
    if record.status not in ALLOWED_FROM[kind]:
        raise Conflict.on(
            "kind",
            _(
                "当前学籍状态为“{status}”，不能办理{kind}",
                status=STATUS_LABELS[record.status],
                kind=KIND_LABELS[kind],
            ),
        )
    if kind == "suspend":
        if body.terms is None:
            raise InvalidInput.on("terms", _("请填写休学学期数（1–4）"))
        return CheckedChange(kind, body.reason, terms=body.terms)
    if kind in ("resume", "repeat"):
        target = await _target_class(session, body.target_class_id)
        if target.org_unit_id != record.major_id:
            raise InvalidInput.on("target_class_id", _("班级须为本专业的班级"))
        if target.grade <= record.grade:
            raise InvalidInput.on(
                "target_class_id", _("须编入{grade}级之后年级的班级", grade=record.grade)
            )
        return CheckedChange(
            kind, body.reason, target_class_id=target.id, target_grade=target.grade
        )
    if kind == "transfer":
        if body.target_major_id is None:
            raise InvalidInput.on("target_major_id", _("请选择转入专业"))
        major = await users.get_org_unit(session, body.target_major_id)
        if major is None or major.kind != "major" or not major.active:
            raise InvalidInput.on("target_major_id", _("转入专业不存在"))
        if major.id == record.major_id:
            raise InvalidInput.on("target_major_id", _("转入专业与当前专业相同"))
        target = await _target_class(session, body.target_class_id)
        if target.org_unit_id != major.id:
            raise InvalidInput.on("target_class_id", _("转入班级不属于转入专业"))
        if target.grade < record.grade:
            raise InvalidInput.on(
                "target_class_id", _("转入班级须为{grade}级或之后年级的班级", grade=record.grade)
            )
        return CheckedChange(
            kind,
            body.reason,
            target_major_id=major.id,
            target_college_id=major.parent_id,
            target_class_id=target.id,
            target_grade=target.grade,
        )
    return CheckedChange(kind, body.reason)


async def _target_class(session: AsyncSession, class_id: int | None) -> Any:
    if class_id is None:
        raise InvalidInput.on("target_class_id", _("请选择班级"))
    found = await users.get_class(session, class_id)
    if found is None:
        raise InvalidInput.on("target_class_id", _("班级不存在"))
    return found


async def _receiving_approvers(session: AsyncSession, college_id: int | None) -> list[int]:
    """The receiving college's dean and academic secretaries (a change of major's extra step)."""
    if college_id is None:
        return []
    college = await users.get_org_unit(session, college_id)
    if college is None:
        return []
    path = [college.parent_id, college.id] if college.parent_id else [college.id]
    found = [p.id for p in await users.holders_of(session, "dean", org_unit_id=college.id)]
    found += await access.holders_of_role(session, "academic_secretary", path)
    return list(dict.fromkeys(found))


async def do_file(
    session: AsyncSession, filer_id: int, record: StudentStatus, checked: CheckedChange
) -> int:
    now = clock.now()
    change = StatusChange(
        person_id=record.person_id,
        kind=checked.kind,
        state="pending",
        open_key=f"{record.person_id}:{checked.kind}",
        reason=checked.reason,
        terms=checked.terms,
        target_major_id=checked.target_major_id,
        target_class_id=checked.target_class_id,
        target_grade=checked.target_grade,
        college_id=record.college_id,
        filed_by=filer_id,
        outcome_note="",
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(change)
            await session.flush()
    except IntegrityError as exc:  # a second request of the kind filed at the same moment
        raise _already_open(checked.kind) from exc
    names = await queries.names_of(
        session,
        [record.major_id, checked.target_major_id],
        [record.class_id, checked.target_class_id],
    )
    data: dict[str, Any] = {
        "change_id": change.id,
        "kind": KIND_LABELS[checked.kind],
        "student_no": record.student_no,
        "name": record.name,
        "major": names.unit(record.major_id),
        "class": names.klass(record.class_id),
        "grade": record.grade,
        "status": STATUS_LABELS[record.status],
        "reason": checked.reason,
        "link": f"/academic/status/records/{record.person_id}",
    }
    if checked.terms is not None:
        data["terms"] = checked.terms
    if checked.target_class_id is not None:
        data["target_class"] = names.klass(checked.target_class_id)
        data["target_grade"] = checked.target_grade
    if checked.kind == "transfer":
        data["target_major"] = names.unit(checked.target_major_id)
        data[processes.RECEIVING_FIELD] = await _receiving_approvers(
            session, checked.target_college_id
        )
    change.instance_id = await workflow.start_process(
        session,
        process_key=processes.process_key(checked.kind),
        applicant_id=record.person_id,
        title=f"{KIND_LABELS[checked.kind]}申请：{record.name}（{record.student_no}）",
        data=data,
        source=processes.SOURCE,
        business_key=processes.business_key(change.id),
    )
    audit.record(
        session,
        "academic.status.file",
        "status_change",
        change.id,
        after={
            "person_id": record.person_id,
            "kind": checked.kind,
            "reason": checked.reason,
            "terms": checked.terms,
            "target_major_id": checked.target_major_id,
            "target_class_id": checked.target_class_id,
            "instance_id": change.instance_id,
        },
    )
    return change.id


# ---------------------------------------------------------------- the outcome of approval


async def pending_change(
    session: AsyncSession, key: str | None, instance_id: int
) -> StatusChange | None:
    """The request an outcome is about, if it still waits for that very instance (a repeated
    or stale outcome finds none and changes nothing)."""
    change_id = processes.change_id_of(key)
    if change_id is None:
        return None
    change = await session.get(StatusChange, change_id, with_for_update=True)
    if change is None or change.state != "pending" or change.instance_id != instance_id:
        return None
    return change


async def _claim(session: AsyncSession, change: StatusChange, state: str, note: str) -> bool:
    """Close the request if it is still pending; of two outcomes at once only one claims it."""
    now = clock.now()
    result: Any = await session.execute(
        update(StatusChange)
        .where(StatusChange.id == change.id, StatusChange.state == "pending")
        .values(state=state, open_key=None, decided_at=now, outcome_note=note)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    change.state, change.open_key, change.decided_at, change.outcome_note = state, None, now, note
    return True


async def _locked_record(session: AsyncSession, person_id: int) -> StudentStatus:
    record: StudentStatus | None = await session.scalar(
        select(StudentStatus).where(StudentStatus.person_id == person_id).with_for_update()
    )
    if record is None:
        raise NotFound(_("学籍记录不存在"))
    return record


async def do_apply_change(
    session: AsyncSession, change: StatusChange, actor_id: int | None
) -> bool:
    """The approved request, applied: True if this call applied it. If the record no longer
    fits (graduated in a batch meanwhile, say) the request lapses with a note."""
    record = await _locked_record(session, change.person_id)
    target_college = None
    if change.kind == "transfer" and change.target_major_id is not None:
        major = await users.get_org_unit(session, change.target_major_id)
        target_college = major.parent_id if major else None
    if record.status not in ALLOWED_FROM[change.kind] or (
        change.kind == "transfer" and target_college is None
    ):
        note = f"审批通过时学籍状态为“{STATUS_LABELS[record.status]}”，未执行"
        if await _claim(session, change, "lapsed", note):
            audit.record(
                session, "academic.status.lapse", "status_change", change.id, after={"note": note}
            )
        return False
    if not await _claim(session, change, "approved", ""):
        return False
    await apply(
        session,
        record,
        kind=change.kind,
        major_id=change.target_major_id or record.major_id,
        college_id=target_college or record.college_id,
        class_id=change.target_class_id or record.class_id,
        grade=change.target_grade or record.grade,
        reason=change.reason,
        actor_id=actor_id,
        change_id=change.id,
        instance_id=change.instance_id,
    )
    return True


async def do_close_change(
    session: AsyncSession, change: StatusChange, outcome: str, note: str
) -> bool:
    """Rejected or withdrawn: the request is closed and the record stays as it was."""
    if not await _claim(session, change, outcome, note):
        return False
    audit.record(
        session,
        f"academic.status.{outcome}",
        "status_change",
        change.id,
        after={"state": outcome, "note": note},
    )
    return True


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def apply(
    session: AsyncSession,
    record: StudentStatus,
    *,
    kind: str,
    major_id: int,
    college_id: int,
    class_id: int | None,
    grade: int,
    reason: str,
    actor_id: int | None,
    change_id: int | None = None,
    instance_id: int | None = None,
    batch_id: int | None = None,
) -> None:
    """Write one change: the record, its history row, the user center, audit and event."""
    before = _state(record)
    status = RESULT_STATUS[kind]
    now = clock.now()
    session.add(
        StatusHistory(
            person_id=record.person_id,
            change_id=change_id,
            kind=kind,
            from_status=record.status,
            to_status=status,
            from_major_id=record.major_id,
            to_major_id=major_id,
            from_class_id=record.class_id,
            to_class_id=class_id,
            from_grade=record.grade,
            to_grade=grade,
            reason=reason,
            actor_id=actor_id,
            instance_id=instance_id,
            batch_id=batch_id,
            at=now,
        )
    )
    if grade != record.grade:
        record.expected_graduation = _shift_years(record.expected_graduation, grade - record.grade)
    record.status, record.in_school = status, status in IN_SCHOOL
    record.major_id, record.college_id, record.class_id, record.grade = (
        major_id,
        college_id,
        class_id,
        grade,
    )
    record.updated_at = now
    await users.place_student(
        session,
        record.person_id,
        status=PERSON_STATUS[status],
        org_unit_id=major_id,
        class_id=class_id,
        reason=f"学籍异动（{KIND_LABELS[kind]}）：{reason}",
    )
    audit.record(
        session,
        f"academic.status.{kind}",
        "student_status",
        record.person_id,
        before=before,
        after={**_state(record), "change_id": change_id, "batch_id": batch_id},
    )
    await emit(
        session,
        events.STUDENT_STATUS_CHANGED,
        events.StudentStatusChanged(
            person_id=record.person_id,
            student_no=record.student_no,
            kind=kind,
            from_status=before["status"],
            to_status=status,
            major_id=major_id,
            class_id=class_id,
            grade=grade,
            in_school=record.in_school,
            change_id=change_id,
            instance_id=instance_id,
            batch_id=batch_id,
        ),
    )


def _state(record: StudentStatus) -> dict[str, Any]:
    return {
        "status": record.status,
        "major_id": record.major_id,
        "college_id": record.college_id,
        "class_id": record.class_id,
        "grade": record.grade,
        "in_school": record.in_school,
    }


# ---------------------------------------------------------------- opening a record


def default_years(level: str, discipline_code: str | None) -> int:
    """学制: three years for postgraduates; five for architecture and medicine; else four."""
    if level == "postgraduate":
        return 3
    code = discipline_code or ""
    return 5 if code.startswith(("0828", "1002", "1003")) else 4


def expected_graduation(grade: int, years: int) -> date:
    return date(grade + years, 6, 30)


async def check_open_record(session: AsyncSession, principal: Principal, body: RecordCreate) -> int:
    person = await users.get_person_ref(session, body.person_id)
    if person is None:
        raise InvalidInput.on("person_id", _("人员 {id} 不存在", id=body.person_id))
    if person.person_type not in STUDENT_TYPES:
        raise InvalidInput.on("person_id", _("只有学生有学籍"))
    if not person.number:
        raise InvalidInput.on("person_id", _("该学生没有学号"))
    if person.class_id is None:
        raise InvalidInput.on("person_id", _("该学生没有行政班，请先在用户中心编班"))
    major = await users.get_org_unit(session, person.org_unit_id)
    if major is None or major.kind != "major" or major.parent_id is None:
        raise InvalidInput.on("person_id", _("该学生不属于任何专业"))
    path = [u for u in (await users.org_path_of(session, person.id))]
    if not access.allows(principal, STATUS_MANAGE, path):
        raise await access.denied(principal, STATUS_MANAGE, _("该学生不在您的管理范围内"))
    if await queries.record_of(session, person.id) is not None:
        raise Conflict.on("person_id", _("该学生已有学籍记录"))
    admin_class = await users.get_class(session, person.class_id)
    assert admin_class is not None
    level = "postgraduate" if person.person_type == "postgraduate" else "undergraduate"
    years = body.years or default_years(level, major.discipline_code)
    grade = admin_class.grade
    record = StudentStatus(
        person_id=person.id,
        student_no=person.number,
        name=person.name,
        level=level,
        college_id=major.parent_id,
        major_id=major.id,
        class_id=admin_class.id,
        grade=grade,
        enrolled_on=body.enrolled_on or date(grade, 9, 1),
        expected_graduation=expected_graduation(grade, years),
        years=years,
        status="studying",
        in_school=True,
        updated_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict.on("person_id", _("该学生或学号已有学籍记录")) from exc
    audit.record(session, "academic.status.open", "student_status", person.id, after=_state(record))
    await emit(
        session,
        events.STUDENT_STATUS_CHANGED,
        events.StudentStatusChanged(
            person_id=person.id,
            student_no=record.student_no,
            kind="enrol",
            from_status="",
            to_status="studying",
            major_id=record.major_id,
            class_id=record.class_id,
            grade=grade,
            in_school=True,
            change_id=None,
            instance_id=None,
            batch_id=None,
        ),
    )
    return person.id


# ---------------------------------------------------------------- batch graduation


def _batch_where(principal: Principal, batch: GraduationBatch) -> list[Any]:
    where: list[Any] = [
        StudentStatus.grade == batch.grade,
        StudentStatus.status == "studying",
        queries.managed(principal),
    ]
    if batch.major_id is not None:
        where.append(StudentStatus.major_id == batch.major_id)
    excluded = [n for n in batch.excluded.split("\n") if n]
    if excluded:
        where.append(StudentStatus.student_no.not_in(excluded))
    return where


async def check_start_batch(session: AsyncSession, principal: Principal, body: BatchCreate) -> int:
    if body.major_id is not None:
        major = await users.get_org_unit(session, body.major_id)
        if major is None or major.kind != "major":
            raise InvalidInput.on("major_id", _("专业不存在"))
    running = await session.scalar(
        select(GraduationBatch.id).where(
            GraduationBatch.state == "running",
            GraduationBatch.grade == body.grade,
        )
    )
    if running is not None:
        raise Conflict.on("grade", _("{grade}级已有一个正在办理的批次", grade=body.grade))
    excluded = sorted({n.strip() for n in body.excluded if n.strip()})
    batch = GraduationBatch(
        kind=body.kind,
        grade=body.grade,
        major_id=body.major_id,
        excluded="\n".join(excluded),
        total=0,
        done=0,
        state="running",
        reason=body.reason or f"{body.grade}级{KIND_LABELS[body.kind]}",
        created_by=principal.person_id,
        created_at=clock.now(),
    )
    if len(batch.excluded) > 4000:
        raise InvalidInput.on("excluded", _("排除的学号过多"))
    total = int(
        await session.scalar(
            select(func.count()).select_from(StudentStatus).where(*_batch_where(principal, batch))
        )
        or 0
    )
    if total == 0:
        raise InvalidInput.on(
            "grade", _("{grade}级没有可办理的在读学生（在您的管理范围内）", grade=body.grade)
        )
    batch.total = total
    session.add(batch)
    await session.flush()
    audit.record(
        session,
        "academic.status.batch",
        "graduation_batch",
        batch.id,
        after={
            "kind": batch.kind,
            "grade": batch.grade,
            "major_id": batch.major_id,
            "total": total,
        },
    )
    return batch.id


async def do_batch_step(
    session: AsyncSession, principal: Principal, batch: GraduationBatch, size: int = BATCH_CHUNK
) -> int:
    """Apply the batch to its next ``size`` students; returns how many. The batch finishes
    when none is left."""
    claimed: Any = await session.execute(
        update(GraduationBatch)
        .where(GraduationBatch.id == batch.id, GraduationBatch.state == "running")
        .values(state="running")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return 0
    records = list(
        await session.scalars(
            select(StudentStatus)
            .where(*_batch_where(principal, batch))
            .order_by(StudentStatus.id)
            .limit(size)
            .with_for_update()
        )
    )
    for record in records:
        await apply(
            session,
            record,
            kind=batch.kind,
            major_id=record.major_id,
            college_id=record.college_id,
            class_id=record.class_id,
            grade=record.grade,
            reason=batch.reason,
            actor_id=principal.person_id,
            batch_id=batch.id,
        )
    batch.done += len(records)
    if len(records) < size:
        batch.state = "finished"
        batch.finished_at = clock.now()
        batch.total = batch.done
    return len(records)
