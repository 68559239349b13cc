"""Published course results read back: a student's own (by term, with GPA and ranks), the
GPA ranking of a major's cohort or a class, and the schemas ``service.py`` hands to other
code (transcripts, graduation audit, prerequisites). Every computation follows the grade
policy in force (``current_policy``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.grades import policy, queries, scales
from campus.domains.academic.grades.schemas import (
    MAKEUP_LABELS,
    RETAKE_LABELS,
    MyResults,
    RankRow,
    ResultOut,
    TermResults,
)
from campus.domains.academic.permissions import GRADE_PUBLISH
from campus.kernel.context import Principal
from campus.kernel.errors import InvalidInput, NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES

current_policy = policy.current  # the grade policy in force, for transcripts and the service


async def course_results_of(
    session: AsyncSession, person_id: int, scale: str = scales.DEFAULT_SCALE
) -> list[ResultOut]:
    """Every published result of the student, oldest term first; ``counted`` marks the
    result of each course that counts (see ``scales.counting``), ``grade_point`` on ``scale``."""
    rules = await current_policy(session)
    rows = await queries.results_rows(session, [person_id])
    tried = [queries.attempted(r[0], order) for order, r in enumerate(rows)]
    counting = {id(a) for a in scales.counting(tried, rules, scale)}
    out = []
    for attempt, (result, code, name, term_name, _start) in zip(tried, rows, strict=True):
        earned = scales.earned(rules, scale, attempt) or Decimal(0)
        capped = scales.capped(rules, attempt)
        counted = id(attempt) in counting
        out.append(queries.result_out(result, code, name, term_name, counted, earned, capped))
    return out


def gpa_of_results(results: Sequence[ResultOut], scale: str, rules: scales.Policy) -> scales.Gpa:
    """The GPA of these results (all of a student's, or one term's) under ``rules``."""
    return scales.gpa_of(
        [
            scales.Attempted(
                r.course_id, r.credits, r.score, r.level, r.special, r.attempt, r.passed, i
            )
            for i, r in enumerate(results)
        ],
        rules,
        scale,
    )


async def cohort_of(session: AsyncSession, person_id: int) -> tuple[list[int], list[int]]:
    """The student's major cohort (same major and grade) and class, as person ids."""
    person = await users.get_person_ref(session, person_id)
    if person is None or person.class_id is None:
        return [], []
    klass = await users.get_class(session, person.class_id)
    if klass is None:
        return [], []
    return await major_cohort(
        session, klass.org_unit_id, klass.grade
    ), await users.people_in_groups(session, class_ids=[klass.id], person_types=STUDENT_TYPES)


async def major_cohort(session: AsyncSession, major_id: int, grade: int) -> list[int]:
    class_ids = [
        c.id
        for c in await users.list_classes(session)
        if c.org_unit_id == major_id and c.grade == grade
    ]
    if not class_ids:
        return []
    return await users.people_in_groups(session, class_ids=class_ids, person_types=STUDENT_TYPES)


async def gpas_of(
    session: AsyncSession, person_ids: Sequence[int], scale: str
) -> dict[int, scales.Gpa]:
    rules = await current_policy(session)
    tried = await queries.attempts_by_person(session, person_ids)
    return {pid: scales.gpa_of(found, rules, scale) for pid, found in tried.items()}


def ranks(gpas: dict[int, scales.Gpa]) -> list[tuple[int, int, scales.Gpa]]:
    """(rank, person, GPA) best first; equal GPAs share a rank (1, 2, 2, 4); without a GPA
    a student is not ranked."""
    graded = sorted(
        ((pid, g) for pid, g in gpas.items() if g.gpa is not None),
        key=lambda pair: (-(pair[1].gpa or 0), pair[0]),
    )
    out: list[tuple[int, int, scales.Gpa]] = []
    for i, (pid, g) in enumerate(graded):
        rank = out[-1][0] if out and out[-1][2].gpa == g.gpa else i + 1
        out.append((rank, pid, g))
    return out


def rank_of(ranked: list[tuple[int, int, scales.Gpa]], person_id: int) -> int | None:
    return next((rank for rank, pid, _g in ranked if pid == person_id), None)


async def my_results(session: AsyncSession, person_id: int, scale: str) -> MyResults:
    rules = await current_policy(session)
    found = await course_results_of(session, person_id, scale)
    by_term: dict[int, list[ResultOut]] = defaultdict(list)
    for r in found:
        by_term[r.term_id].append(r)
    terms = []
    for term_id, rows in reversed(list(by_term.items())):
        term_gpa = gpa_of_results(rows, scale, rules)
        terms.append(
            TermResults(
                term_id=term_id,
                term_name=rows[0].term_name,
                gpa=term_gpa.gpa,
                credits=sum((r.credits for r in rows if r.passed), Decimal(0)),
                results=rows,
            )
        )
    overall = gpa_of_results(found, scale, rules)
    major, klass = await cohort_of(session, person_id)
    major_ranked = ranks(await gpas_of(session, major, scale)) if major else []
    class_ranked = ranks(await gpas_of(session, klass, scale)) if klass else []
    return MyResults(
        scale=scale,
        makeup_rule=MAKEUP_LABELS[rules.makeup],
        retake_rule=RETAKE_LABELS[rules.retake],
        gpa=overall.gpa,
        graded_credits=overall.graded_credits,
        earned_credits=overall.earned_credits,
        failed_credits=overall.failed_credits,
        major_rank=rank_of(major_ranked, person_id) if overall.gpa is not None else None,
        major_size=len(major_ranked),
        class_rank=rank_of(class_ranked, person_id) if overall.gpa is not None else None,
        class_size=len(class_ranked),
        terms=terms,
    )


async def ranking(
    session: AsyncSession,
    principal: Principal,
    major_id: int | None,
    class_id: int | None,
    scale: str,
    grade: int | None = None,
) -> list[RankRow]:
    """The GPA ranking of a class, or of a major's cohort (``grade``, else every cohort's
    classes of the major ranked together), for a reader whose publish scope reaches it."""
    tree = await users.org_directory(session)
    if class_id is not None:
        klass = await users.get_class(session, class_id)
        if klass is None:
            raise NotFound(_("班级 {id} 不存在", id=class_id))
        unit = klass.org_unit_id
        people = await users.people_in_groups(
            session, class_ids=[class_id], person_types=STUDENT_TYPES
        )
    elif major_id is not None:
        unit = major_id
        classes = [
            c
            for c in await users.list_classes(session)
            if c.org_unit_id == major_id and (grade is None or c.grade == grade)
        ]
        people = (
            await users.people_in_groups(
                session, class_ids=[c.id for c in classes], person_types=STUDENT_TYPES
            )
            if classes
            else []
        )
    else:
        raise InvalidInput.on("major_id", _("请选择专业或班级"))
    if not access.allows(principal, GRADE_PUBLISH, tree.path(unit)):
        raise NotFound(_("该专业或班级不在您的范围内"))
    ranked = ranks(await gpas_of(session, people, scale))
    refs = await users.get_people(session, [pid for _r, pid, _g in ranked])
    class_names: dict[int, str] = {}
    for ref in refs.values():
        if ref.class_id is not None and ref.class_id not in class_names:
            found = await users.get_class(session, ref.class_id)
            class_names[ref.class_id] = found.name if found else ""
    return [
        RankRow(
            rank=rank,
            person_id=pid,
            name=refs[pid].name if pid in refs else str(pid),
            number=refs[pid].number if pid in refs else None,
            class_name=class_names.get(refs[pid].class_id or 0) if pid in refs else None,
            gpa=g.gpa or Decimal(0),
            credits=g.graded_credits,
        )
        for rank, pid, g in ranked
    ]
