"""Events academic affairs emits, with their payloads. Consumers (the data platform, the
portal's calendar, messaging) act on the payload alone."""

from __future__ import annotations

from pydantic import BaseModel

# ---------------------------------------------------------------- calendar and catalogue

TERM_CURRENT_CHANGED = "academic.term.current_changed"
COURSE_SAVED = "academic.course.saved"


class TermCurrentChanged(BaseModel):
    term_id: int
    code: str
    name: str


class CourseSaved(BaseModel):
    course_id: int
    code: str
    name: str
    org_unit_id: int
    created: bool
    active: bool


# ---------------------------------------------------------------- timetabling

TIMETABLE_PUBLISHED = "academic.timetable.published"


class TimetablePublished(BaseModel):
    """A term's timetable was published (a new version): timetables and free rooms change."""

    term_id: int
    term_code: str
    version: int
    lectures: int
    published_by: int | None


# ---------------------------------------------------------------- exams

EXAMS_PUBLISHED = "academic.exams.published"


class ExamsPublished(BaseModel):
    """A term's exam timetable was published (a new version): students' exam timetables,
    seats and invigilation duties change."""

    term_id: int
    term_code: str
    version: int
    exams: int
    seats: int
    published_by: int | None


# ---------------------------------------------------------------- student status (学籍)

STUDENT_STATUS_CHANGED = "academic.student_status.changed"


class StudentStatusChanged(BaseModel):
    """A student's status (学籍) changed: a change request was approved, a batch graduated
    them, or a record was opened (``kind`` "enrol")."""

    person_id: int
    student_no: str
    kind: str
    from_status: str
    to_status: str
    major_id: int
    class_id: int | None
    grade: int
    in_school: bool
    change_id: int | None
    instance_id: int | None
    batch_id: int | None


# ---------------------------------------------------------------- programmes

PROGRAMME_PUBLISHED = "academic.programme.published"


class ProgrammePublished(BaseModel):
    """A version of a training programme was published (teaching plans may be regenerated)."""

    programme_id: int
    major_id: int
    cohort: int
    version: int


# ---------------------------------------------------------------- course selection

PLACE_CHANGED = "academic.selection.place_changed"
ROUND_SETTLED = "academic.selection.round_settled"


class PlaceChanged(BaseModel):
    """A student's place in a section changed: selected, waitlisted, wished for (lottery),
    dropped, promoted from the waitlist, drawn or not drawn, or given by an override. The
    student is told through the messaging center; the data platform counts selections."""

    person_id: int
    section_id: int
    course_id: int
    term_id: int
    round_id: int | None
    status: str  # selected | waitlisted | preferred | lost | dropped
    source: str  # self | promoted | lottery | override
    section_name: str


class RoundSettled(BaseModel):
    """A lottery round was drawn."""

    round_id: int
    term_id: int
    sections: int
    drawn: int
    lost: int
