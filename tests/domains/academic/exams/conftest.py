"""Fixtures of exam scheduling's tests: a small term of the test's own, made directly through
the academic tables (exam week 5 with its Monday a holiday, three rooms of 4 exam seats and one
with none, two classes of 5 and 3 students, two teachers, two courses assessed by exam with
three sections and one course assessed otherwise), clients for the registrar, the teachers and
students, and a runner that runs the queued tasks in the test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from campus.domains.academic.exams import models
from campus.domains.academic.exams.runner import TASKS
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.kernel.tasks import TaskRunner
from tests.domains.academic import factories
from tests.platform.access.conftest import SignIn, Tree, assert_problem, staff_in, student_in
from tests.platform.users.conftest import unique

__all__ = ["API", "SignIn", "Small", "assert_problem", "counts"]

API = "/api/v1/academic/exams"
HOLIDAY = date(2026, 10, 5)  # Monday of week 5, the exam week


@dataclass(frozen=True)
class Small:
    term_id: int
    rooms: list[int]  # three with 4 exam seats each
    no_seats: int  # a room with no exam seats
    courses: dict[str, int]  # 高数, 英语 (exam), 体育 (check)
    sections: dict[str, int]
    class_a: int
    class_b: int
    teacher_1: dict[str, Any]
    teacher_2: dict[str, Any]
    students_a: list[dict[str, Any]]
    students_b: list[dict[str, Any]]


@pytest.fixture
async def small(db: Runtime, admin: httpx.AsyncClient, tree: Tree) -> Small:
    class_b = await factories.create_class(admin, tree.major_a, 2024, "甲2402班")
    teacher_1 = await staff_in(admin, tree, tree.college_a)
    teacher_2 = await staff_in(admin, tree, tree.college_a)
    students_a = [await student_in(admin, tree) for _ in range(5)]
    students_b = [await student_in(admin, tree, class_id=class_b) for _ in range(3)]
    college = tree.college_a
    async with db.db.transaction() as session:
        term = await factories.add_term(
            session, name="考试测试学期", teaching_weeks=4, exam_week_from=5, exam_week_to=5
        )
        await factories.add_grid(session, term.id, blocks=1)
        await factories.add_holiday(session, term.id, HOLIDAY, "国庆节")
        building = await factories.add_building(session, name="考试楼")
        rooms = await factories.add_rooms(
            session, building.id, 3, name="考场", capacity=8, exam_capacity=4
        )
        bare = await factories.add_room(
            session,
            building.id,
            code=unique("N"),
            name="无考试座位",
            room_type="sports",
            capacity=100,
            exam_capacity=0,
        )
        courses = {
            name: await factories.add_course(
                session, name=name, assessment=assessment, org_unit_id=college
            )
            for name, assessment in (("高数", "exam"), ("英语", "exam"), ("体育", "check"))
        }
        plan = [  # key, course, teacher, classes
            ("高数01", "高数", teacher_1, [tree.class_a]),
            ("高数02", "高数", teacher_2, [class_b]),
            ("英语01", "英语", teacher_2, [tree.class_a, class_b]),
            ("体育01", "体育", teacher_1, [tree.class_a]),
        ]
        sections: dict[str, int] = {}
        for key, course, teacher, classes in plan:
            section = await factories.add_section(
                session,
                term_id=term.id,
                course_id=courses[course].id,
                org_unit_id=college,
                teacher_id=teacher["id"],
                class_ids=classes,
                name=f"{course}（{key[-2:]}班）",
                week_to=4,
            )
            sections[key] = section.id
        return Small(
            term.id,
            [r.id for r in rooms],
            bare.id,
            {k: c.id for k, c in courses.items()},
            sections,
            tree.class_a,
            class_b,
            teacher_1,
            teacher_2,
            students_a,
            students_b,
        )


@pytest.fixture
def runner(db: Runtime) -> TaskRunner:
    return TaskRunner(db.db, TASKS, heartbeat_every=60.0, progress_every=0.5)


async def counts(db: Runtime) -> dict[str, int]:
    return await factories.count_rows(
        db,
        {
            "exams": models.Exam,
            "exam_sections": models.ExamSection,
            "sessions": models.ExamSession,
            "rooms": models.ExamRoom,
            "seats": models.ExamSeat,
            "duties": models.Invigilation,
            "unavailable": models.ExamUnavailability,
            "runs": models.ExamRun,
            "plans": models.ExamPlan,
            "audit": AuditEntry,
            "outbox": OutboxRow,
        },
    )


async def prepare(client: httpx.AsyncClient, small: Small) -> list[dict[str, Any]]:
    """Generate the term's exams and sessions; returns the exams."""
    response = await client.post(f"{API}/terms/{small.term_id}/exams/generate")
    assert response.status_code == 200, response.text
    response = await client.post(f"{API}/terms/{small.term_id}/sessions/generate")
    assert response.status_code == 200, response.text
    response = await client.get(f"{API}/terms/{small.term_id}/exams")
    assert response.status_code == 200, response.text
    exams: list[dict[str, Any]] = response.json()
    return exams


async def schedule(
    client: httpx.AsyncClient, small: Small, runner: TaskRunner, **body: Any
) -> dict[str, Any]:
    """Start a scheduling run, run it here and return it finished."""
    response = await client.post(
        f"{API}/terms/{small.term_id}/runs",
        json={"time_limit": 2, "seed": 1, "room_ids": small.rooms, **body},
    )
    assert response.status_code == 202, response.text
    run = response.json()
    assert await runner.poll_once() == [run["task_id"]]
    await runner.wait(120)
    done: dict[str, Any] = (await client.get(f"{API}/runs/{run['id']}")).json()
    assert done["status"] == "succeeded", done
    return done
