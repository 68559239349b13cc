"""Events academic affairs emits, with their payloads. Consumers (the data platform, the
portal's calendar, messaging) act on the payload alone."""

from __future__ import annotations

from datetime import datetime

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
QUEUE_RATE_CHANGED = "academic.selection.queue_rate_changed"


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


class QueueRateChanged(BaseModel):
    """The registrar changed how many students a round's queue admits a second (none: the
    queue is off)."""

    round_id: int
    term_id: int
    before: int | None
    after: int | None


# ---------------------------------------------------------------- teaching evaluation (评教)

EVALUATION_FORM_SAVED = "academic.evaluation.form_saved"
EVALUATION_CLOSED = "academic.evaluation.closed"
EVALUATION_SUBMITTED = "academic.evaluation.submitted"


class EvaluationFormSaved(BaseModel):
    """A term's evaluation form was published (``created``) or changed before any answer."""

    form_id: int
    term_id: int
    name: str
    opens_at: datetime
    closes_at: datetime
    items: int
    created: bool


class EvaluationClosed(BaseModel):
    """The registrar ended a term's evaluation window early."""

    form_id: int
    term_id: int
    closes_at: datetime


class EvaluationSubmitted(BaseModel):
    """An anonymous evaluation of a section was handed in. Deliberately without the person (nor
    the scores): the event says how many a section has, never who answered what."""

    form_id: int
    term_id: int
    section_id: int
    answers: int


# ---------------------------------------------------------------- grades (成绩)

GRADES_PUBLISHED = "academic.grades.published"


class GradesPublished(BaseModel):
    """A section's grade sheet was published: one course result per student was written
    (students now see them; transcripts and GPA change)."""

    sheet_id: int
    section_id: int
    section_name: str
    course_id: int
    term_id: int
    results: int
    person_ids: list[int]
    published_by: int | None


GRADE_POLICY_CHANGED = "academic.grades.policy_changed"


class GradePolicyChanged(BaseModel):
    """The registrar changed the grade policy (成绩规则: GPA tables, make-up and retake rules,
    the academic warning's threshold); GPAs computed from now on follow it."""

    changed_by: int | None
    makeup: str
    retake: str
    pass_fail_counted: bool
    warning_credits: str
    changed: list[str]  # the parts that changed: scales, makeup, retake, …
    previous_warning_credits: str | None = None  # the threshold before (lowered: warn again)


# ---------------------------------------------------------------- transcripts (成绩单)

TRANSCRIPT_ISSUED = "academic.transcript.issued"


class TranscriptIssued(BaseModel):
    """A transcript was issued (its content is kept; the verification page confirms it)."""

    transcript_id: int
    person_id: int
    language: str
    courses: int


ACADEMIC_WARNING = "academic.warning"


class AcademicWarning(BaseModel):
    """学业预警: a student's failed credits (of the results that count, see the grades docs)
    reached the warning threshold — by publishing a section's results (``term_id`` and
    ``section_id`` name it) or by the registrar lowering the threshold under them (both None).
    For student affairs (counsellors) to follow up; the student is notified too."""

    person_id: int
    failed_credits: str
    threshold: str
    term_id: int | None = None
    section_id: int | None = None


# ---------------------------------------------------------------- graduation audit (毕业审核)

GRADUATION_AUDITED = "academic.graduation.audited"


class GraduationAudited(BaseModel):
    """A graduation audit run over a cohort finished (its results feed batch graduation)."""

    run_id: int
    grade: int
    major_id: int | None
    passed: int
    failed: int
    no_programme: int


GRADE_CORRECTED = "academic.grades.corrected"


class GradeCorrected(BaseModel):
    """A published result was corrected after its approval (成绩更正)."""

    correction_id: int
    result_id: int
    person_id: int
    course_id: int
    term_id: int
    section_id: int | None
    passed: bool
