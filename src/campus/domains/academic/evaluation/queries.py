"""Reads of teaching evaluation (评教): forms, whom a section is for, completion, and the tallies
of the anonymous ballots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import service as academic
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.evaluation.models import (
    EvalBallot,
    EvalCompletion,
    EvalForm,
    EvalItem,
    EvalScore,
)
from campus.domains.academic.evaluation.schemas import (
    SCORES,
    CollegeCompletion,
    CompletionOut,
    DimensionResult,
    FormOut,
    GroupResult,
    ItemOut,
    ItemResult,
    MyEvaluation,
    ResultsOut,
    SectionCompletion,
    SectionResult,
    State,
    Tally,
    Task,
)
from campus.domains.academic.offering import queries as offering_queries
from campus.domains.academic.offering.models import Section, SectionClass, SectionTeacher
from campus.domains.academic.offering.schemas import SectionOut
from campus.domains.academic.permissions import EVALUATION_MANAGE, EVALUATION_READ
from campus.domains.academic.selection import queries as selection_queries
from campus.domains.academic.status.models import StudentStatus
from campus.kernel.audit import AuditEntry
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access

REMIND_ACTION = "academic.evaluation.remind"

# ---------------------------------------------------------------- forms


def state_of(form: EvalForm, now: datetime) -> State:
    if now < form.opens_at:
        return "upcoming"
    return "open" if now < form.closes_at else "closed"


async def form_or_404(session: AsyncSession, form_id: int) -> EvalForm:
    found = await session.get(EvalForm, form_id)
    if found is None:
        raise NotFound(_("评教问卷 {id} 不存在", id=form_id))
    return found


async def form_of_term(session: AsyncSession, term_id: int) -> EvalForm | None:
    found: EvalForm | None = await session.scalar(
        select(EvalForm).where(EvalForm.term_id == term_id)
    )
    return found


async def forms(session: AsyncSession) -> list[EvalForm]:
    return list(await session.scalars(select(EvalForm).order_by(EvalForm.opens_at.desc())))


async def items_of(session: AsyncSession, form_id: int) -> list[EvalItem]:
    return list(
        await session.scalars(
            select(EvalItem).where(EvalItem.form_id == form_id).order_by(EvalItem.number)
        )
    )


async def answers_of(session: AsyncSession, form_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(EvalBallot).where(EvalBallot.form_id == form_id)
        )
        or 0
    )


async def form_out(session: AsyncSession, form: EvalForm, now: datetime) -> FormOut:
    term = await session.get(Term, form.term_id)
    return FormOut(
        id=form.id,
        term_id=form.term_id,
        term_name=term.name if term is not None else "",
        name=form.name,
        intro=form.intro,
        anchors=list(form.anchors),
        comment_enabled=form.comment_enabled,
        min_answers=form.min_answers,
        opens_at=form.opens_at,
        closes_at=form.closes_at,
        state=state_of(form, now),
        answers=await answers_of(session, form.id),
        items=[ItemOut.model_validate(i) for i in await items_of(session, form.id)],
    )


# ---------------------------------------------------------------- who evaluates what


async def completed_sections(session: AsyncSession, person_id: int, form_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(EvalCompletion.section_id).where(
                EvalCompletion.person_id == person_id, EvalCompletion.form_id == form_id
            )
        )
    )


async def rosters(session: AsyncSession, section_ids: Sequence[int]) -> dict[int, set[int]]:
    """Who is to evaluate each section: the students in school of its classes, and those who
    hold a seat of it in course selection (the same two sources a student's timetable has)."""
    found: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(section_ids), 500):
        chunk = list(section_ids[start : start + 500])
        for section_id, person_id in await session.execute(
            select(SectionClass.section_id, StudentStatus.person_id)
            .join(StudentStatus, StudentStatus.class_id == SectionClass.class_id)
            .where(SectionClass.section_id.in_(chunk), StudentStatus.in_school.is_(True))
        ):
            found[section_id].add(person_id)
        for section_id, people in (await selection_queries.holders(session, chunk)).items():
            found[section_id].update(people)
    return found


async def completion_counts(session: AsyncSession, form_id: int) -> dict[int, int]:
    return {
        section_id: n
        for section_id, n in await session.execute(
            select(EvalCompletion.section_id, func.count())
            .where(EvalCompletion.form_id == form_id)
            .group_by(EvalCompletion.section_id)
        )
    }


# ---------------------------------------------------------------- scope


def in_scope(principal: Principal | None) -> ColumnElement[bool]:
    """The sections whose completion and results the reader may see: by the section's
    开课单位, where ``academic.evaluation.manage`` or ``.read`` reaches."""
    return or_(
        access.scope_filter(principal, EVALUATION_MANAGE, Section.org_unit_id),
        access.scope_filter(principal, EVALUATION_READ, Section.org_unit_id),
    )


def _open_in_scope(principal: Principal, term_id: int) -> tuple[ColumnElement[bool], ...]:
    """The term's open sections the reader's evaluation codes reach."""
    return (Section.term_id == term_id, Section.status == "open", in_scope(principal))


async def sections_in_scope(
    session: AsyncSession, principal: Principal, term_id: int
) -> list[SectionOut]:
    rows = list(
        await session.scalars(
            select(Section).where(*_open_in_scope(principal, term_id)).order_by(Section.code)
        )
    )
    return await offering_queries.sections_out(session, rows)


async def unfinished_students(
    session: AsyncSession, principal: Principal, form: EvalForm
) -> list[int]:
    """The students with a section in the reader's scope still to evaluate on ``form``."""
    section_ids = list(
        await session.scalars(select(Section.id).where(*_open_in_scope(principal, form.term_id)))
    )
    done: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(section_ids), 500):
        for section_id, person_id in await session.execute(
            select(EvalCompletion.section_id, EvalCompletion.person_id).where(
                EvalCompletion.form_id == form.id,
                EvalCompletion.section_id.in_(section_ids[start : start + 500]),
            )
        ):
            done[section_id].add(person_id)
    rostered = await rosters(session, section_ids)
    return sorted({p for s, people in rostered.items() for p in people - done[s]})


async def last_reminder(
    session: AsyncSession, form_id: int, person_id: int, since: datetime
) -> datetime | None:
    """When this person last reminded the students of ``form``, if after ``since``."""
    return await session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.action == REMIND_ACTION,
            AuditEntry.target_type == "acad_eval_form",
            AuditEntry.target_id == str(form_id),
            AuditEntry.actor_id == person_id,
            AuditEntry.at >= since,
        )
    )


async def reaches_section(session: AsyncSession, principal: Principal, section_id: int) -> bool:
    found = await session.scalar(
        select(Section.id).where(Section.id == section_id, in_scope(principal))
    )
    return found is not None


async def teaches(session: AsyncSession, person_id: int, section_id: int) -> bool:
    found = await session.scalar(
        select(SectionTeacher.id).where(
            SectionTeacher.section_id == section_id, SectionTeacher.person_id == person_id
        )
    )
    return found is not None


async def sections_taught(session: AsyncSession, person_id: int, term_id: int) -> list[SectionOut]:
    rows = list(
        await session.scalars(
            select(Section)
            .join(SectionTeacher, SectionTeacher.section_id == Section.id)
            .where(
                SectionTeacher.person_id == person_id,
                Section.term_id == term_id,
                Section.status == "open",
            )
            .order_by(Section.code)
        )
    )
    return await offering_queries.sections_out(session, rows)


# ---------------------------------------------------------------- tallies

Counts = dict[int, dict[int, list[int]]]  # section → item → how many gave 1..5


async def ballot_counts(
    session: AsyncSession, form_id: int, section_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """Ballots per section (of these sections only, if given)."""
    stmt = (
        select(EvalBallot.section_id, func.count())
        .where(EvalBallot.form_id == form_id)
        .group_by(EvalBallot.section_id)
    )
    if section_ids is not None:
        stmt = stmt.where(EvalBallot.section_id.in_(section_ids))
    return {section_id: n for section_id, n in await session.execute(stmt)}


async def score_counts(session: AsyncSession, form_id: int, section_ids: Sequence[int]) -> Counts:
    found: Counts = defaultdict(lambda: defaultdict(lambda: [0] * len(SCORES)))
    for start in range(0, len(section_ids), 500):
        chunk = list(section_ids[start : start + 500])
        for section_id, item_id, score, n in await session.execute(
            select(EvalBallot.section_id, EvalScore.item_id, EvalScore.score, func.count())
            .join(EvalBallot, EvalBallot.id == EvalScore.ballot_id)
            .where(EvalBallot.form_id == form_id, EvalBallot.section_id.in_(chunk))
            .group_by(EvalBallot.section_id, EvalScore.item_id, EvalScore.score)
        ):
            found[section_id][item_id][score - 1] += n
    return found


async def comments_of(session: AsyncSession, form_id: int, section_id: int) -> list[str]:
    """The section's comments, ordered by their text (never by when they were written)."""
    return sorted(
        c
        for c in await session.scalars(
            select(EvalBallot.comment).where(
                EvalBallot.form_id == form_id,
                EvalBallot.section_id == section_id,
                EvalBallot.comment != "",
            )
        )
    )


def _mean(distribution: Iterable[int]) -> tuple[int, int]:
    counts = list(distribution)
    return sum(s * n for s, n in zip(SCORES, counts, strict=True)), sum(counts)


def tally(items: Sequence[ItemOut], answers: int, counts: Sequence[dict[int, list[int]]]) -> Tally:
    """The averages and distributions of the summed counts of some sections."""
    merged: dict[int, list[int]] = {
        item.id: [sum(c.get(item.id, [0] * 5)[k] for c in counts) for k in range(5)]
        for item in items
    }

    def mean(total: int, n: int) -> float | None:
        return round(total / n, 2) if n else None

    item_results = []
    dims: dict[str, list[int]] = {}
    whole = [0, 0]
    for item in items:
        total, n = _mean(merged[item.id])
        item_results.append(
            ItemResult(
                item_id=item.id,
                number=item.number,
                dimension=item.dimension,
                text=item.text,
                mean=mean(total, n),
                distribution=merged[item.id],
            )
        )
        acc = dims.setdefault(item.dimension, [0, 0])
        acc[0] += total
        acc[1] += n
        whole[0] += total
        whole[1] += n
    return Tally(
        answers=answers,
        mean=mean(*whole),
        dimensions=[DimensionResult(name=d, mean=mean(*acc)) for d, acc in dims.items()],
        items=item_results,
    )


# ---------------------------------------------------------------- completion and results


async def completion(
    session: AsyncSession, principal: Principal, form: EvalForm, threshold: float
) -> CompletionOut:
    """Completion per section and per college (the sections' 开课单位) within the reader's
    scope, and the sections whose rate is below ``threshold`` (0..1)."""
    sections = await sections_in_scope(session, principal, form.term_id)
    people = await rosters(session, [s.id for s in sections])
    done = await completion_counts(session, form.id)

    def rate(n: int, of: int) -> float:
        return round(n / of, 4) if of else 0.0

    rows = [
        SectionCompletion(
            section_id=s.id,
            section_code=s.code,
            section_name=s.name,
            college_id=s.org_unit_id,
            college_name=s.org_unit_name,
            teachers=[t.name for t in s.teachers],
            students=len(people.get(s.id, ())),
            completed=done.get(s.id, 0),
            rate=rate(done.get(s.id, 0), len(people.get(s.id, ()))),
        )
        for s in sections
    ]
    by_college: dict[int, list[SectionCompletion]] = defaultdict(list)
    for row in rows:
        by_college[row.college_id].append(row)
    colleges = [
        CollegeCompletion(
            college_id=college_id,
            college_name=group[0].college_name,
            sections=len(group),
            students=sum(r.students for r in group),
            completed=sum(r.completed for r in group),
            rate=rate(sum(r.completed for r in group), sum(r.students for r in group)),
        )
        for college_id, group in by_college.items()
    ]
    colleges.sort(key=lambda c: (c.rate, c.college_name))
    students, completed = sum(r.students for r in rows), sum(r.completed for r in rows)
    return CompletionOut(
        form_id=form.id,
        threshold=threshold,
        students=students,
        completed=completed,
        rate=rate(completed, students),
        colleges=colleges,
        sections=rows,
        below=sorted(
            (r for r in rows if r.students and r.rate < threshold),
            key=lambda r: (r.rate, r.section_code),
        ),
    )


def section_result(
    form: FormOut, section: SectionOut, answers: int, counts: dict[int, list[int]]
) -> SectionResult:
    shown = answers >= form.min_answers
    return SectionResult(
        section_id=section.id,
        section_code=section.code,
        section_name=section.name,
        college_id=section.org_unit_id,
        college_name=section.org_unit_name,
        teachers=[t.name for t in section.teachers],
        answers=answers,
        shown=shown,
        tally=tally(form.items, answers, [counts]) if shown else None,
    )


async def results(session: AsyncSession, form: FormOut, sections: list[SectionOut]) -> ResultsOut:
    """Results of the sections, and of their teachers and colleges over the sections with
    enough answers. A section under the form's ``min_answers`` shows its count only, and is
    left out of every sum (else the sum less the sections shown would reveal it)."""
    answers = await ballot_counts(session, form.id)
    counts = await score_counts(session, form.id, [s.id for s in sections])
    rows = [section_result(form, s, answers.get(s.id, 0), counts.get(s.id, {})) for s in sections]
    shown = {r.section_id for r in rows if r.shown}
    teachers: dict[int, tuple[str, list[int]]] = {}
    colleges: dict[int, tuple[str, list[int]]] = {}
    for s in sections:
        if s.id not in shown:
            continue
        for t in s.teachers:
            teachers.setdefault(t.person_id, (t.name, []))[1].append(s.id)
        colleges.setdefault(s.org_unit_id, (s.org_unit_name, []))[1].append(s.id)

    def groups(found: dict[int, tuple[str, list[int]]]) -> list[GroupResult]:
        out = [
            GroupResult(
                id=key,
                name=name,
                sections=len(ids),
                answers=sum(answers.get(i, 0) for i in ids),
                tally=tally(
                    form.items, sum(answers.get(i, 0) for i in ids), [counts[i] for i in ids]
                ),
            )
            for key, (name, ids) in found.items()
        ]
        return sorted(out, key=lambda g: (-(g.tally.mean or 0), g.name))

    return ResultsOut(
        form=form, colleges=groups(colleges), teachers=groups(teachers), sections=rows
    )


async def my_evaluation(
    session: AsyncSession, person_id: int, term_id: int, now: datetime
) -> MyEvaluation:
    """A student's sections of the term to evaluate, and which of them they have."""
    found = await form_of_term(session, term_id)
    if found is None:
        return MyEvaluation(form=None, tasks=[], done=0, total=0)
    ids = await academic.sections_taken(session, person_id, term_id)
    rows = list(await session.scalars(select(Section).where(Section.id.in_(ids))))
    done = await completed_sections(session, person_id, found.id)
    tasks = [
        Task(
            section_id=s.id,
            section_code=s.code,
            section_name=s.name,
            course_name=s.course_name,
            teachers=[t.name for t in s.teachers],
            done=s.id in done,
        )
        for s in await offering_queries.sections_out(session, rows)
    ]
    tasks.sort(key=lambda t: (t.done, t.section_code))
    return MyEvaluation(
        form=await form_out(session, found, now),
        tasks=tasks,
        done=sum(t.done for t in tasks),
        total=len(tasks),
    )


async def section_detail(
    session: AsyncSession, form: FormOut, section: SectionOut
) -> SectionResult:
    """One section's results with its comments (none under the form's ``min_answers``)."""
    answers = (await ballot_counts(session, form.id, [section.id])).get(section.id, 0)
    counts = await score_counts(session, form.id, [section.id])
    found = section_result(form, section, answers, counts.get(section.id, {}))
    if found.shown:
        found.comments = await comments_of(session, form.id, section.id)
    return found
