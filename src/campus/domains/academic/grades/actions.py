"""Writes of grades: the sheet's set-up (scale, components and weights), the teacher's marks
(by form, API or Excel), and the sheet's way draft → submitted → reviewed → published, with a
return to draft and its reason. ``check_*`` validates before ``do_*`` writes; a refusal
changes nothing. Each write is audited; publishing writes the course results and emits
``academic.grades.published`` in the same transaction."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.grades import policy, queries, scales
from campus.domains.academic.grades.models import (
    CourseResult,
    GradeCorrection,
    GradeEntry,
    GradePolicy,
    GradeSheet,
)
from campus.domains.academic.grades.schemas import (
    LEVEL_LABELS,
    STATE_LABELS,
    CorrectionIn,
    EntryIn,
    PolicyIn,
    SetupIn,
)
from campus.domains.academic.offering.models import Section
from campus.kernel import audit, clock, runtime
from campus.kernel.context import Principal
from campus.kernel.db import after_commit
from campus.kernel.errors import Conflict, FieldError, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.workflow import service as workflow

MAX_MARK = Decimal(100)


def _locked_state(sheet: GradeSheet) -> Conflict:
    return Conflict.on(
        "state",
        _(
            "成绩单当前为“{state}”，不能修改；如需修改请由审核人退回",
            state=STATE_LABELS[sheet.state],
        )
        if sheet.state != "published"
        else _("成绩已发布，不能修改；发布后的更正须走成绩更正审批"),
    )


def _editable(sheet: GradeSheet) -> None:
    if sheet.state != "draft":
        raise _locked_state(sheet)


# ---------------------------------------------------------------- set-up


async def check_setup(
    session: AsyncSession, principal: Principal, section: Section, body: SetupIn
) -> GradeSheet:
    errors: list[FieldError] = []
    total = sum(c.weight for c in body.components)
    if total != 100:
        errors.append(
            FieldError("components", _("各成绩构成的权重之和须为 100（当前为 {n}）", n=total))
        )
    names = [c.name.strip() for c in body.components]
    for i, name in enumerate(names):
        if not name:
            errors.append(FieldError(f"components[{i}].name", _("请填写名称")))
        elif name in names[:i]:
            errors.append(FieldError(f"components[{i}].name", _("名称“{n}”重复", n=name)))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    sheet = await queries.sheet_of(session, section.id, lock=True)
    if sheet is not None:
        _editable(sheet)
    return await do_setup(session, principal, section, sheet, body.scale, names, body)


async def do_setup(
    session: AsyncSession,
    principal: Principal,
    section: Section,
    sheet: GradeSheet | None,
    scale: str,
    names: list[str],
    body: SetupIn,
) -> GradeSheet:
    now = clock.now()
    before = None
    old_keys = {}
    if sheet is None:
        sheet = GradeSheet(
            section_id=section.id,
            term_id=section.term_id,
            course_id=section.course_id,
            org_unit_id=section.org_unit_id,
            scale=scale,
            components=[],
            state="draft",
            return_reason="",
            created_at=now,
            updated_at=now,
        )
        session.add(sheet)
    else:
        before = {"scale": sheet.scale, "components": sheet.components}
        old_keys = {c["name"]: c["key"] for c in sheet.components}
    # A component keeps its key (and its marks) while its name stays.
    used = set(old_keys.values())
    components: list[dict[str, Any]] = []
    for name, comp in zip(names, body.components, strict=True):
        key = old_keys.get(name)
        if key is None:
            n = 1
            while f"c{n}" in used:
                n += 1
            key = f"c{n}"
            used.add(key)
        components.append({"key": key, "name": name, "weight": comp.weight})
    sheet.scale = scale
    sheet.components = components
    sheet.updated_at = now
    await session.flush()
    for entry in (await queries.entries_of(session, sheet.id)).values():
        entry.marks = {
            c["key"]: entry.marks[c["key"]] for c in components if c["key"] in entry.marks
        }
        if entry.level and entry.level not in scales.LEVELS_OF_SCALE[scale]:
            entry.level = ""
        entry.total = total_of(sheet, entry.marks, entry.special)
    audit.record(
        session,
        "academic.grade.setup",
        "grade_sheet",
        sheet.id,
        before=before,
        after={"section_id": section.id, "scale": scale, "components": components},
    )
    return sheet


def total_of(sheet: GradeSheet, marks: dict[str, Any], special: str) -> Decimal | None:
    """The percentage total, when every component has a mark and no special mark is set."""
    if sheet.scale != "percentage" or special or not sheet.components:
        return None
    values = [marks.get(c["key"]) for c in sheet.components]
    if any(v in (None, "") for v in values):
        return None
    return scales.weighted_total(
        [Decimal(str(v)) for v in values], [int(c["weight"]) for c in sheet.components]
    )


# ---------------------------------------------------------------- marks


@dataclass
class CheckedEntry:
    person_id: int
    marks: dict[str, str]
    level: str
    special: str
    attempt: str


def mark_problem(value: Any) -> tuple[Decimal | None, str | None]:
    """A mark parsed (0–100, at most one decimal), or the reason it is refused."""
    if value is None or value == "":
        return None, None
    try:
        mark = Decimal(str(value).strip())
    except InvalidOperation:
        return None, str(_("不是数字"))
    if not mark.is_finite() or mark < 0 or mark > MAX_MARK:
        return None, str(_("须在 0–100 之间"))
    if mark != mark.quantize(scales.ONE_PLACE):
        return None, str(_("最多一位小数"))
    return mark, None


def entry_problems(
    sheet: GradeSheet, members: set[int], entry: EntryIn
) -> tuple[CheckedEntry | None, list[FieldError]]:
    """An entry checked against the sheet; problems by field (``person_id``, ``marks.<key>``,
    ``level``)."""
    errors: list[FieldError] = []
    if entry.person_id not in members:
        errors.append(FieldError("person_id", _("该学生不在本教学班")))
    keys = {c["key"]: c["name"] for c in sheet.components}
    marks: dict[str, str] = {}
    for key, value in entry.marks.items():
        if key not in keys:
            errors.append(FieldError(f"marks.{key}", _("没有这一成绩构成")))
            continue
        mark, problem = mark_problem(value)
        if problem is not None:
            errors.append(FieldError(f"marks.{key}", f"{keys[key]}{problem}"))
        elif mark is not None:
            marks[key] = str(mark)
    level = entry.level.strip()
    level = {v: k for k, v in LEVEL_LABELS.items()}.get(level, level)
    allowed = scales.LEVELS_OF_SCALE[sheet.scale]
    if level and level not in allowed:
        errors.append(
            FieldError(
                "level",
                _("百分制成绩不填等级，总评由各项成绩计算")
                if not allowed
                else _(
                    "等级须为 {levels} 之一", levels="、".join(LEVEL_LABELS[x] for x in allowed)
                ),
            )
        )
    if errors:
        return None, errors
    return CheckedEntry(entry.person_id, marks, level, entry.special, entry.attempt), []


async def check_entries(
    session: AsyncSession, principal: Principal, section: Section, entries: Sequence[EntryIn]
) -> int:
    """Save the marks of these students (others keep theirs); any bad entry refuses all."""
    sheet = await _sheet_or_refuse(session, section, lock=True)
    _editable(sheet)
    members = set(await queries.roster(session, section.id))
    checked: list[CheckedEntry] = []
    errors: list[FieldError] = []
    seen: set[int] = set()
    for i, entry in enumerate(entries):
        found, problems = entry_problems(sheet, members, entry)
        if entry.person_id in seen:
            problems.append(FieldError("person_id", _("同一学生重复出现")))
        seen.add(entry.person_id)
        errors += [FieldError(f"entries[{i}].{p.field}", p.reason) for p in problems]
        if found is not None and not problems:
            checked.append(found)
    if errors:
        raise InvalidInput(
            _(
                "有 {n} 处成绩不合法，未保存任何成绩：{first}",
                n=len(errors),
                first=errors[0].reason,
            ),
            errors=errors,
        )
    await do_entries(session, sheet, checked)
    return len(checked)


async def _sheet_or_refuse(
    session: AsyncSession, section: Section, lock: bool = False
) -> GradeSheet:
    sheet = await queries.sheet_of(session, section.id, lock=lock)
    if sheet is None or not sheet.components:
        raise InvalidInput.on("components", _("请先设置成绩构成与记分制"))
    return sheet


async def do_entries(
    session: AsyncSession, sheet: GradeSheet, checked: Sequence[CheckedEntry]
) -> None:
    now = clock.now()
    existing = await queries.entries_of(session, sheet.id)
    changed: list[dict[str, Any]] = []
    for c in checked:
        total = total_of(sheet, c.marks, c.special)
        level = "" if c.special else c.level
        entry = existing.get(c.person_id)
        if entry is None:
            entry = GradeEntry(sheet_id=sheet.id, person_id=c.person_id)
            session.add(entry)
        elif (entry.marks, entry.level, entry.special, entry.attempt, entry.total) == (
            c.marks,
            level,
            c.special,
            c.attempt,
            total,
        ):
            continue
        entry.marks, entry.level, entry.special = c.marks, level, c.special
        entry.attempt, entry.total, entry.updated_at = c.attempt, total, now
        changed.append(
            {
                "person_id": c.person_id,
                "marks": c.marks,
                "level": level,
                "special": c.special,
                "total": None if total is None else str(total),
            }
        )
    sheet.updated_at = now
    if changed:
        audit.record(
            session,
            "academic.grade.enter",
            "grade_sheet",
            sheet.id,
            after={"section_id": sheet.section_id, "entries": changed},
        )
    await session.flush()


# ---------------------------------------------------------------- the sheet's way


async def _move(
    session: AsyncSession,
    sheet: GradeSheet,
    from_states: tuple[str, ...],
    to_state: str,
    values: dict[str, Any],
) -> None:
    """Move the sheet on if it still stands where it should; of two moves at once only one
    claims it, the other is refused (409)."""
    result: Any = await session.execute(
        update(GradeSheet)
        .where(GradeSheet.id == sheet.id, GradeSheet.state.in_(from_states))
        .values(state=to_state, updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        await session.refresh(sheet)
        raise _wrong_state(sheet, to_state)
    await session.refresh(sheet)


def _wrong_state(sheet: GradeSheet, to_state: str) -> Conflict:
    if sheet.state == to_state:
        return Conflict.on(
            "state", _("成绩单已经是“{state}”状态，无需重复操作", state=STATE_LABELS[to_state])
        )
    return Conflict.on(
        "state",
        _("成绩单当前为“{state}”，不能进行此操作", state=STATE_LABELS[sheet.state]),
    )


async def check_submit(session: AsyncSession, principal: Principal, section: Section) -> GradeSheet:
    sheet = await _sheet_or_refuse(session, section, lock=True)
    if sheet.state != "draft":
        raise _wrong_state(sheet, "submitted")
    members = await queries.roster(session, section.id)
    entries = await queries.entries_of(session, sheet.id)
    missing = [pid for pid in members if not queries.is_complete(sheet, entries.get(pid))]
    if missing:
        raise InvalidInput.on(
            "entries", _("还有 {n} 名学生的成绩未录入完整，不能提交", n=len(missing))
        )
    if not members:
        raise InvalidInput.on("entries", _("本教学班没有学生，无需提交成绩"))
    await _move(
        session,
        sheet,
        ("draft",),
        "submitted",
        {"submitted_at": clock.now(), "submitted_by": principal.person_id, "return_reason": ""},
    )
    audit.record(
        session,
        "academic.grade.submit",
        "grade_sheet",
        sheet.id,
        after={"section_id": section.id, "students": len(members)},
    )
    return sheet


async def check_review(session: AsyncSession, principal: Principal, section: Section) -> GradeSheet:
    sheet = await _sheet_or_refuse(session, section, lock=True)
    await _move(
        session,
        sheet,
        ("submitted",),
        "reviewed",
        {"reviewed_at": clock.now(), "reviewed_by": principal.person_id},
    )
    audit.record(
        session, "academic.grade.review", "grade_sheet", sheet.id, after={"section_id": section.id}
    )
    return sheet


async def check_return(
    session: AsyncSession,
    principal: Principal,
    section: Section,
    reason: str,
    from_state: str,
) -> GradeSheet:
    """Back to the teacher with a reason: a reviewer returns a submitted sheet, the registrar
    a reviewed one."""
    reason = reason.strip()
    if len(reason) < 2:
        raise InvalidInput.on("reason", _("请填写退回理由"))
    sheet = await _sheet_or_refuse(session, section, lock=True)
    await _move(session, sheet, (from_state,), "draft", {"return_reason": reason})
    audit.record(
        session,
        "academic.grade.return",
        "grade_sheet",
        sheet.id,
        before={"state": from_state},
        after={"section_id": section.id, "reason": reason},
    )
    return sheet


async def check_publish(
    session: AsyncSession, principal: Principal, section: Section
) -> GradeSheet:
    sheet = await _sheet_or_refuse(session, section, lock=True)
    now = clock.now()
    await _move(
        session,
        sheet,
        ("reviewed",),
        "published",
        {"published_at": now, "published_by": principal.person_id},
    )
    failed_before = await failed_credits(session, await queries.roster_of_sheet(session, sheet.id))
    count, person_ids = await do_write_results(session, sheet, section)
    audit.record(
        session,
        "academic.grade.publish",
        "grade_sheet",
        sheet.id,
        after={"section_id": section.id, "results": count},
    )
    await emit(
        session,
        events.GRADES_PUBLISHED,
        events.GradesPublished(
            sheet_id=sheet.id,
            section_id=section.id,
            section_name=section.name,
            course_id=section.course_id,
            term_id=section.term_id,
            results=count,
            person_ids=person_ids,
            published_by=principal.person_id,
        ),
    )
    course = await session.get(Course, section.course_id)
    if person_ids:
        await notify(
            session,
            person_ids,
            f"成绩发布：{course.name if course else section.name}",
            f"“{section.name}”的成绩已发布，请在“我的成绩”中查看。",
            f"academic.grades.published:{sheet.id}:{now.isoformat()}",
        )
    await do_warnings(session, section, failed_before, person_ids)
    return sheet


NOTIFY_REQUESTED = "messaging.notify_requested"  # the messaging center's request event


async def notify(
    session: AsyncSession, person_ids: Sequence[int], title: str, body: str, source: str
) -> None:
    """Ask the messaging center (by its event: academic affairs does not depend on it) to
    notify these students."""
    await emit(
        session,
        NOTIFY_REQUESTED,
        {
            "category": "academic",
            "title": title,
            "body": body,
            "link": "/academic/grades/me",
            "audience": {"person_ids": list(person_ids)},
            "source": source,
        },
    )


async def failed_credits(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Decimal]:
    rules = await policy.current(session)
    tried = await queries.attempts_by_person(session, person_ids)
    return {pid: scales.gpa_of(found, rules).failed_credits for pid, found in tried.items()}


async def do_warnings(
    session: AsyncSession,
    section: Section,
    before: dict[int, Decimal],
    person_ids: Sequence[int],
) -> None:
    """An ``academic.warning`` (and a notice) for each student whose failed credits reached
    the policy's threshold with these results."""
    threshold = (await policy.current(session)).warning_credits
    after = await failed_credits(session, person_ids)
    for pid in person_ids:
        failed = after.get(pid, Decimal(0))
        if failed < threshold or before.get(pid, Decimal(0)) >= threshold:
            continue
        warning = events.AcademicWarning(
            person_id=pid,
            failed_credits=str(failed),
            threshold=str(threshold),
            term_id=section.term_id,
            section_id=section.id,
        )
        await _warn(session, warning, f"academic.warning:{pid}:{section.id}")


async def do_warnings_after_lowering(
    session: AsyncSession, lowered_from: Decimal, threshold: Decimal, source: str
) -> int:
    """The registrar lowered the warning threshold: warn each student whose failed credits now
    reach it but did not reach the old one (those were warned when they crossed it). Returns
    how many were warned."""
    people = await queries.people_with_failures(session)
    warned = 0
    for start in range(0, len(people), 500):
        after = await failed_credits(session, people[start : start + 500])
        for pid, failed in after.items():
            if threshold <= failed < lowered_from:
                warning = events.AcademicWarning(
                    person_id=pid, failed_credits=str(failed), threshold=str(threshold)
                )
                await _warn(session, warning, f"academic.warning:{pid}:{source}")
                warned += 1
    return warned


async def _warn(session: AsyncSession, warning: events.AcademicWarning, source: str) -> None:
    """The warning's event, audit entry and notice to the student."""
    await emit(session, events.ACADEMIC_WARNING, warning)
    failed, threshold = warning.failed_credits, warning.threshold
    audit.record(
        session,
        "academic.grade.warning",
        "person",
        warning.person_id,
        after={"failed_credits": failed, "threshold": threshold},
    )
    await notify(
        session,
        [warning.person_id],
        "学业预警",
        f"你的未通过课程学分已达 {failed}（预警线 {threshold}），请尽快联系辅导员制定学习计划。",
        source,
    )


def result_values(
    rules: scales.Policy, sheet: GradeSheet, entry: GradeEntry, credits: Decimal
) -> dict[str, Any]:
    """The course result of an entry: score and level, 4.0 grade point, passed."""
    score = entry.total if sheet.scale == "percentage" and not entry.special else None
    level = entry.level
    if sheet.scale == "percentage":
        level = scales.level_of_score(score) if score is not None else "fail"
    elif entry.special:
        level = "failed" if sheet.scale == "pass_fail" else "fail"
    passed = scales.passed_of(sheet.scale, score, level, entry.special)
    earned = scales.points(rules, scales.DEFAULT_SCALE, score, level, entry.special)
    return {
        "scale": sheet.scale,
        "score": score,
        "level": level,
        "special": entry.special,
        "grade_point": earned if earned is not None else Decimal(0),
        "passed": passed,
        "credits": credits,
    }


async def do_write_results(
    session: AsyncSession, sheet: GradeSheet, section: Section
) -> tuple[int, list[int]]:
    """One course result per student of the sheet (a deferred exam, 缓考, writes none until
    its own sheet); a result published before for the same section and attempt is replaced."""
    course = await session.get(Course, section.course_id)
    assert course is not None
    rules = await policy.current(session)
    now = clock.now()
    rows = []
    for entry in (await queries.entries_of(session, sheet.id)).values():
        if entry.special == "deferred":
            continue
        rows.append(
            {
                "person_id": entry.person_id,
                "course_id": section.course_id,
                "term_id": section.term_id,
                "section_id": section.id,
                "sheet_id": sheet.id,
                "attempt": entry.attempt,
                "published_at": now,
                **result_values(rules, sheet, entry, course.credits),
            }
        )
    person_ids = sorted(r["person_id"] for r in rows)
    if rows:
        await session.execute(
            delete(CourseResult).where(
                CourseResult.section_id == section.id, CourseResult.person_id.in_(person_ids)
            )
        )
        await session.execute(insert(CourseResult), rows)
    return len(rows), person_ids


# ---------------------------------------------------------------- corrections (成绩更正)

CORRECTION_SOURCE = "academic.grades"
CORRECTION_PROCESS = "academic.grades.correction"
CORRECTION_CHAIN: dict[str, Any] = {
    "nodes": [
        {
            "type": "approve",
            "name": "教务处审批",
            "assignee": {"kind": "role", "role": "registrar"},
            "mode": "any",
        }
    ]
}


def correction_key(correction_id: int) -> str:
    return f"grade-correction:{correction_id}"


def correction_id_of(key: str | None) -> int | None:
    if not key or not key.startswith("grade-correction:"):
        return None
    tail = key.removeprefix("grade-correction:")
    return int(tail) if tail.isdigit() else None


async def ensure_correction_process(session: AsyncSession) -> None:
    await workflow.ensure_process(
        session,
        key=CORRECTION_PROCESS,
        name="成绩更正",
        chain=CORRECTION_CHAIN,
        description="发布后的成绩更正：任课教师申请，教务处审批；通过后自动更正成绩",
    )


def _result_view(result: CourseResult) -> dict[str, str | None]:
    return {
        "score": None if result.score is None else str(result.score),
        "level": result.level,
        "special": result.special,
    }


async def check_correction(
    session: AsyncSession, principal: Principal, section: Section, body: CorrectionIn
) -> GradeCorrection:
    """A correction of a published result, checked against the sheet's scale, filed into its
    approval. The result itself does not change here."""
    sheet = await queries.sheet_of(session, section.id)
    if sheet is None or sheet.state != "published":
        raise Conflict.on("state", _("成绩发布后才能申请更正；发布前请直接修改"))
    result = await session.scalar(
        select(CourseResult)
        .where(CourseResult.section_id == section.id, CourseResult.person_id == body.person_id)
        .order_by(CourseResult.id.desc())
        .limit(1)
    )
    if result is None:
        raise InvalidInput.on("person_id", _("该学生在本教学班没有已发布的成绩"))
    score: Decimal | None = None
    level = body.level.strip()
    level = {v: k for k, v in LEVEL_LABELS.items()}.get(level, level)
    if body.special:
        level = ""
    elif sheet.scale == "percentage":
        score, problem = mark_problem(body.score)
        if problem is not None or score is None:
            raise InvalidInput.on("score", problem or _("请填写更正后的成绩（0–100）"))
        level = scales.level_of_score(score)
    elif level not in scales.LEVELS_OF_SCALE[sheet.scale]:
        allowed = "、".join(LEVEL_LABELS[x] for x in scales.LEVELS_OF_SCALE[sheet.scale])
        raise InvalidInput.on("level", _("等级须为 {levels} 之一", levels=allowed))
    after = {
        "score": None if score is None else str(score),
        "level": level,
        "special": body.special,
    }
    if after == _result_view(result):
        raise InvalidInput.on("score", _("更正后的成绩与现有成绩相同"))
    return await do_file_correction(session, principal, section, result, body.reason, after)


async def do_file_correction(
    session: AsyncSession,
    principal: Principal,
    section: Section,
    result: CourseResult,
    reason: str,
    after: dict[str, str | None],
) -> GradeCorrection:
    correction = GradeCorrection(
        result_id=result.id,
        section_id=section.id,
        person_id=result.person_id,
        state="pending",
        open_key=result.id,
        reason=reason.strip(),
        before=_result_view(result),
        after=after,
        requested_by=principal.person_id,
        outcome_note="",
        created_at=clock.now(),
    )
    try:
        async with session.begin_nested():
            session.add(correction)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict.on("person_id", _("该学生已有一份审批中的成绩更正")) from exc
    people = await users.get_people(session, [result.person_id])
    person = people.get(result.person_id)
    who = f"{person.name}（{person.number}）" if person else str(result.person_id)
    await ensure_correction_process(session)
    correction.instance_id = await workflow.start_process(
        session,
        process_key=CORRECTION_PROCESS,
        applicant_id=principal.person_id,
        title=f"成绩更正：{section.name} {who}",
        data={
            "correction_id": correction.id,
            "section": section.name,
            "student": who,
            "before": _label(correction.before),
            "after": _label(after),
            "reason": correction.reason,
            "link": f"/academic/grades/sections/{section.id}",
        },
        source=CORRECTION_SOURCE,
        business_key=correction_key(correction.id),
    )
    audit.record(
        session,
        "academic.grade.correction_file",
        "grade_correction",
        correction.id,
        before=correction.before,
        after={**after, "reason": correction.reason, "instance_id": correction.instance_id},
    )
    return correction


def _label(view: dict[str, Any]) -> str:
    if view.get("special"):
        return {"absent": "缺考", "deferred": "缓考", "cheating": "作弊"}[view["special"]]
    if view.get("score") is not None:
        return str(view["score"])
    return LEVEL_LABELS.get(view.get("level") or "", "")


async def pending_correction(
    session: AsyncSession, key: str | None, instance_id: int
) -> GradeCorrection | None:
    """The correction an outcome is about, if still pending for that instance."""
    found = correction_id_of(key)
    if found is None:
        return None
    correction = await session.get(GradeCorrection, found, with_for_update=True)
    if correction is None or correction.state != "pending" or correction.instance_id != instance_id:
        return None
    return correction


async def _claim_correction(
    session: AsyncSession, correction: GradeCorrection, state: str, note: str
) -> bool:
    now = clock.now()
    result: Any = await session.execute(
        update(GradeCorrection)
        .where(GradeCorrection.id == correction.id, GradeCorrection.state == "pending")
        .values(state=state, open_key=None, decided_at=now, outcome_note=note)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    correction.state, correction.open_key, correction.decided_at = state, None, now
    correction.outcome_note = note
    return True


async def do_apply_correction(session: AsyncSession, correction: GradeCorrection) -> bool:
    """The approved correction applied to the result (and the sheet's entry); True if this
    call applied it."""
    if not await _claim_correction(session, correction, "approved", ""):
        return False
    result = await session.get(CourseResult, correction.result_id, with_for_update=True)
    if result is None:
        return False
    sheet = await session.get(GradeSheet, result.sheet_id) if result.sheet_id else None
    after = correction.after
    score = Decimal(after["score"]) if after.get("score") is not None else None
    special = after.get("special") or ""
    level = after.get("level") or ""
    scale = result.scale
    if special:
        level = "failed" if scale == "pass_fail" else "fail"
    passed = scales.passed_of(scale, score, level, special)
    earned = scales.points(
        await policy.current(session), scales.DEFAULT_SCALE, score, level, special
    )
    before = _result_view(result)
    result.score, result.level, result.special, result.passed = score, level, special, passed
    result.grade_point = earned if earned is not None else Decimal(0)
    if sheet is not None:
        entry = (await queries.entries_of(session, sheet.id)).get(result.person_id)
        if entry is not None:
            entry.special = special
            entry.level = "" if scale == "percentage" or special else level
            entry.total = score
            entry.updated_at = clock.now()
    audit.record(
        session,
        "academic.grade.correct",
        "course_result",
        result.id,
        before=before,
        after={**_result_view(result), "correction_id": correction.id},
    )
    await emit(
        session,
        events.GRADE_CORRECTED,
        events.GradeCorrected(
            correction_id=correction.id,
            result_id=result.id,
            person_id=result.person_id,
            course_id=result.course_id,
            term_id=result.term_id,
            section_id=result.section_id,
            passed=passed,
        ),
    )
    await notify(
        session,
        [result.person_id],
        "成绩更正",
        f"你的一门课程成绩已更正为 {_label(after)}，请在“我的成绩”中查看。",
        f"academic.grade.correct:{correction.id}",
    )
    return True


async def do_close_correction(
    session: AsyncSession, correction: GradeCorrection, state: str, note: str
) -> bool:
    """Rejected or withdrawn: closed, the result unchanged."""
    if not await _claim_correction(session, correction, state, note):
        return False
    audit.record(
        session,
        "academic.grade.correction_close",
        "grade_correction",
        correction.id,
        after={"state": state, "note": note},
    )
    return True


# ---------------------------------------------------------------- the grade policy (成绩规则)


async def ensure_policy(session: AsyncSession) -> None:
    """The default policy's row (the seed): a fresh install computes as the constants did."""
    if await session.get(GradePolicy, policy.POLICY_ID) is None:
        values = _policy_values(scales.DEFAULT_POLICY, None)
        session.add(GradePolicy(id=policy.POLICY_ID, **values))


def _policy_values(rules: scales.Policy, person_id: int | None) -> dict[str, Any]:
    return {
        "scales": policy.stored_scales(rules),
        "pass_fail_counted": rules.pass_fail_counted,
        "makeup": rules.makeup,
        "retake": rules.retake,
        "warning_credits": rules.warning_credits,
        "updated_by": person_id,
        "updated_at": clock.now(),
    }


async def check_policy(session: AsyncSession, principal: Principal, body: PolicyIn) -> GradePolicy:
    """The registrar's new policy: every problem refused at once (422 by field), else saved."""
    errors = policy.problems(body)
    if errors:
        raise InvalidInput(_("成绩规则有误，请检查标出的项"), errors=errors)
    return await do_policy(session, principal, policy.of_body(body))


async def do_policy(
    session: AsyncSession, principal: Principal, rules: scales.Policy
) -> GradePolicy:
    """Saved, audited and announced; every process reloads it once this commits."""
    row = await session.get(GradePolicy, policy.POLICY_ID, with_for_update=True)
    old = scales.DEFAULT_POLICY if row is None else policy.of_row(row)
    values = _policy_values(rules, principal.person_id)
    if row is None:
        session.add(row := GradePolicy(id=policy.POLICY_ID, **values))
    else:
        for column, value in values.items():
            setattr(row, column, value)
    before, after = policy.view(old), policy.view(rules)
    audit.record(
        session,
        "academic.grade.policy",
        "grade_policy",
        policy.POLICY_ID,
        before=before,
        after=after,
    )
    await emit(
        session,
        events.GRADE_POLICY_CHANGED,
        events.GradePolicyChanged(
            changed_by=principal.person_id,
            makeup=rules.makeup,
            retake=rules.retake,
            pass_fail_counted=rules.pass_fail_counted,
            warning_credits=str(rules.warning_credits),
            changed=policy.differences(old, rules),
            previous_warning_credits=str(old.warning_credits),
        ),
    )
    after_commit(session, _bump_policy_version)
    return row


async def _bump_policy_version() -> None:
    await runtime.current().cache.set(policy.VERSION_KEY, secrets.token_hex(8).encode())
