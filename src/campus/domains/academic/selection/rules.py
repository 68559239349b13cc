"""The rules every selection is checked against, as plain functions of what was read: each
refusal carries a reason code (for the registrar's refusal statistics) and a sentence for the
student naming what is in the way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from campus.kernel.i18n import _


def weeks_of(week_from: int, week_to: int, parity: str) -> frozenset[int]:
    """The teaching weeks a section meets in (all, odd or even weeks of its range)."""
    weeks = range(week_from, week_to + 1)
    if parity == "odd":
        return frozenset(w for w in weeks if w % 2 == 1)
    if parity == "even":
        return frozenset(w for w in weeks if w % 2 == 0)
    return frozenset(weeks)


@dataclass(frozen=True)
class Meeting:
    """When a section meets: its weeks and its (day, block) slots of the week."""

    weeks: frozenset[int]
    slots: frozenset[tuple[int, int]]

    def clashes(self, other: Meeting) -> bool:
        return bool(self.slots & other.slots) and bool(self.weeks & other.weeks)


@dataclass(frozen=True)
class Offer:
    """A section as selection sees it."""

    section_id: int
    term_id: int
    course_id: int
    name: str
    capacity: int
    credits: Decimal
    open: bool
    meeting: Meeting
    majors: tuple[tuple[int, int | None], ...] = ()  # (major, grade or any); empty: not offered
    gender: str = ""  # open only to this gender (GB/T 2261.1: "1" men, "2" women); "" anyone


@dataclass(frozen=True)
class Student:
    person_id: int
    major_id: int
    grade: int
    in_school: bool
    gender: str = ""  # GB/T 2261.1 as users stores it; read only for a gender-restricted section


@dataclass(frozen=True)
class Holding:
    """A section already on the student's timetable: assigned to their class, or held in
    selection (selected, waitlisted or wished for in a lottery round)."""

    section_id: int
    course_id: int
    name: str
    credits: Decimal  # counted against the round's limit (0 for a class's own sections)
    meeting: Meeting


@dataclass(frozen=True)
class Window:
    """A round as the rules see it."""

    term_id: int
    opens_at: datetime
    closes_at: datetime
    grades: tuple[int, ...]
    major_ids: tuple[int, ...]
    max_credits: Decimal


@dataclass(frozen=True)
class Record:
    """What the student has passed, and what their programme asks to pass before a course:
    course → its prerequisites (course id and name)."""

    passed: frozenset[int] = frozenset()
    prerequisites: Mapping[int, tuple[tuple[int, str], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str
    extra: dict[str, object] = field(default_factory=dict)


def in_population(window: Window, student: Student) -> bool:
    return (not window.grades or student.grade in window.grades) and (
        not window.major_ids or student.major_id in window.major_ids
    )


def barring(
    majors: tuple[tuple[int, int | None], ...], gender: str, student: Student
) -> Refusal | None:
    """What shuts the student out of a section open to ``majors`` (and grades) and to
    ``gender`` ("" anyone): their major and grade, or their gender."""
    if not any(m == student.major_id and g in (None, student.grade) for m, g in majors):
        return Refusal("restricted", str(_("该教学班只面向指定的专业和年级")))
    return gender_barred(gender, student)


def gender_barred(gender: str, student: Student) -> Refusal | None:
    """A section open only to the other gender (or to one, when the student's is not known)."""
    if not gender or gender == student.gender:
        return None
    message = _("该教学班仅限男生") if gender == "1" else _("该教学班仅限女生")
    return Refusal("gender", str(message))


def refusal(
    window: Window,
    student: Student,
    offer: Offer,
    held: list[Holding],
    now: datetime,
    record: Record = Record(),
) -> Refusal | None:
    """The first rule the selection breaks, or ``None`` when it may go ahead (seats apart)."""
    checks = (
        _in_round(window, student, now),
        _offered(window, offer, student),
        _not_passed(offer, record),
        _new_course(offer, held),
        _prerequisites(offer, record),
        _no_clash(offer, held),
        _within_credits(window, offer, held),
    )
    return next((r for r in checks if r is not None), None)


def _in_round(window: Window, student: Student, now: datetime) -> Refusal | None:
    if not student.in_school:
        return Refusal("not_in_school", str(_("你当前不在校（学籍状态），不能选课")))
    if not window.opens_at <= now < window.closes_at:
        return Refusal("round_closed", str(_("当前不在选课时间内")))
    if not in_population(window, student):
        return Refusal("outside_round", str(_("本轮选课不面向你的年级或专业")))
    return None


def _offered(window: Window, offer: Offer, student: Student) -> Refusal | None:
    # A section offered to no major is taught to its assigned classes only (a required
    # course): selection offers the sections opened to majors, as the course search lists them.
    if offer.term_id != window.term_id or not offer.open or not offer.majors:
        return Refusal("not_offered", str(_("该教学班不在本轮选课范围内或已停开")))
    return barring(offer.majors, offer.gender, student)


def _new_course(offer: Offer, held: list[Holding]) -> Refusal | None:
    for h in held:
        if h.section_id == offer.section_id:
            return Refusal("already", str(_("你已选了这个教学班")))
        if h.course_id == offer.course_id:
            message = _("你已选了同一门课的“{name}”，请先退选", name=h.name)
            return Refusal("same_course", str(message), {"section_id": h.section_id})
    return None


def _not_passed(offer: Offer, record: Record) -> Refusal | None:
    # A course failed before may be taken again (重修); one passed may not.
    if offer.course_id in record.passed:
        return Refusal("passed_before", str(_("你已修读通过这门课，不能再选")))
    return None


def _prerequisites(offer: Offer, record: Record) -> Refusal | None:
    missing = [
        name
        for course_id, name in record.prerequisites.get(offer.course_id, ())
        if course_id not in record.passed
    ]
    if missing:
        message = _("须先修读通过先修课“{names}”", names="”“".join(missing))
        return Refusal("prerequisite", str(message), {"missing": missing})
    return None


def _no_clash(offer: Offer, held: list[Holding]) -> Refusal | None:
    for h in held:
        if offer.meeting.clashes(h.meeting):
            message = _("与“{name}”上课时间冲突", name=h.name)
            return Refusal("clash", str(message), {"section_id": h.section_id})
    return None


def _within_credits(window: Window, offer: Offer, held: list[Holding]) -> Refusal | None:
    total = sum((h.credits for h in held), Decimal(0)) + offer.credits
    if total > window.max_credits:
        message = _(
            "选后共 {total} 学分，超过本轮上限 {limit} 学分", total=total, limit=window.max_credits
        )
        return Refusal("credits", str(message), {"credits": str(total)})
    return None
