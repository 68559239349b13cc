"""What a transcript says, gathered once at issue and kept as issued: the student's record,
every published result by term (make-up and retake attempts included, marked), earned credits
and the GPA on the 4.0 scale. Labels are resolved here, in the transcript's language, so that
the PDF and the verification page only lay the content out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel
from pypinyin import lazy_pinyin
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import service as academic
from campus.domains.academic.grades import results as grades
from campus.domains.academic.grades.schemas import (
    ATTEMPT_LABELS,
    LEVEL_LABELS,
    SPECIAL_LABELS,
    ResultOut,
)
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.status.schemas import STATUS_LABELS
from campus.platform.users import service as users
from campus.platform.users.schemas import OrgUnitOut

Language = Literal["zh", "en"]
GPA_SCALE = "4.0"

LEVEL_LABELS_EN = {
    "excellent": "Excellent",
    "good": "Good",
    "fair": "Fair",
    "pass": "Pass",
    "fail": "Fail",
    "passed": "Pass",
    "failed": "Fail",
}
SPECIAL_LABELS_EN = {"absent": "Absent", "deferred": "Deferred", "cheating": "Misconduct"}
ATTEMPT_LABELS_EN = {"normal": "", "makeup": "Make-up", "retake": "Retake"}
STATUS_LABELS_EN = {
    "studying": "Enrolled",
    "suspended": "Suspended",
    "withdrawn": "Withdrawn",
    "graduated": "Graduated",
    "completed": "Completed",
}
SEASONS_EN = {1: "Autumn", 2: "Spring", 3: "Summer"}


class Line(BaseModel):
    code: str
    name: str
    credits: str
    grade: str  # the score, or the level, or the special mark
    points: str
    attempt: str  # blank for a first attempt


class TermBlock(BaseModel):
    name: str
    lines: list[Line]


class TranscriptContent(BaseModel):
    language: Language
    student_no: str
    name: str
    college: str
    major: str
    major_code: str
    cohort: int
    enrolled_on: str
    status: str
    terms: list[TermBlock]
    courses: int
    credits_earned: str
    gpa: str | None
    gpa_scale: str = GPA_SCALE


def digest_of(results: Sequence[ResultOut]) -> str:
    """A fingerprint of the results a transcript lists: it changes when a grade is corrected,
    a result added or withdrawn, so the verification page can say the record has moved on."""
    rows = sorted(
        (r.id, r.course_id, r.term_id, str(r.score), r.level, r.special, r.attempt, r.passed)
        for r in results
    )
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def _grade(result: ResultOut, language: Language) -> str:
    if result.special:
        labels = SPECIAL_LABELS if language == "zh" else SPECIAL_LABELS_EN
        return labels.get(result.special, result.special)
    if result.score is not None and result.scale == "percentage":
        return f"{result.score.normalize():f}"
    labels = LEVEL_LABELS if language == "zh" else LEVEL_LABELS_EN
    return labels.get(result.level, result.level)


def _attempt(attempt: str, language: Language) -> str:
    if attempt == "normal":
        return ""
    return (ATTEMPT_LABELS if language == "zh" else ATTEMPT_LABELS_EN).get(attempt, attempt)


async def _term_names(session: AsyncSession, language: Language) -> dict[int, str]:
    names = {}
    for term in await academic.list_terms(session):
        if language == "zh":
            names[term.id] = term.name
        else:
            year = term.academic_year
            names[term.id] = f"{year}-{year + 1} {SEASONS_EN.get(term.season, term.season)}"
    return names


async def gather(
    session: AsyncSession, record: StudentStatus, language: Language
) -> tuple[TranscriptContent, str]:
    """The transcript of ``record``'s student as of now, and the digest of its results."""
    results = await grades.course_results_of(session, record.person_id, GPA_SCALE)
    courses = await academic.get_courses(session, sorted({r.course_id for r in results}))
    terms = await _term_names(session, language)
    blocks: dict[int, TermBlock] = {}
    for r in results:
        course = courses.get(r.course_id)
        name = r.course_name if language == "zh" or course is None else course.name_en
        block = blocks.setdefault(r.term_id, TermBlock(name=terms.get(r.term_id, ""), lines=[]))
        block.lines.append(
            Line(
                code=r.course_code,
                name=name,
                credits=f"{r.credits.normalize():f}",
                grade=_grade(r, language),
                points=f"{r.grade_point:.1f}",
                attempt=_attempt(r.attempt, language),
            )
        )
    gpa = grades.gpa_of_results(results, GPA_SCALE, await grades.current_policy(session))
    units = await users.get_org_units(session, [record.college_id, record.major_id])
    college, major = units.get(record.college_id), units.get(record.major_id)
    statuses = STATUS_LABELS if language == "zh" else STATUS_LABELS_EN
    content = TranscriptContent(
        language=language,
        student_no=record.student_no,
        name=record.name if language == "zh" else _pinyin(record.name),
        college=_unit_name(college, language),
        major=_unit_name(major, language),
        major_code=(major.discipline_code or "") if major else "",
        cohort=record.grade,
        enrolled_on=record.enrolled_on.isoformat(),
        status=str(statuses.get(record.status, record.status)),
        terms=list(blocks.values()),
        courses=len({r.course_id for r in results}),
        credits_earned=f"{gpa.earned_credits.normalize():f}",
        gpa=None if gpa.gpa is None else f"{gpa.gpa:.2f}",
    )
    return content, digest_of(results)


def _unit_name(unit: OrgUnitOut | None, language: str) -> str:
    """The college or major as the transcript's language writes it (the Chinese name where no
    English one was given)."""
    if unit is None:
        return ""
    return unit.name_en if language == "en" and unit.name_en else unit.name


def _pinyin(name: str) -> str:
    """A Chinese name as on a passport: family name first, in capitals, then the given name
    (张三丰 → ZHANG Sanfeng). Two-character family names are not told apart from given names."""
    syllables = lazy_pinyin(name)
    if not syllables or not all(s.isascii() for s in syllables):
        return name
    return f"{syllables[0].upper()} {''.join(syllables[1:]).capitalize()}".strip()
