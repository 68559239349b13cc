"""Fixtures of timetabling's tests: a small term of the test's own, made directly through the
academic tables (a week of 5 days × 4 blocks, a building with rooms, two classes, two teachers,
four sections), clients for the registrar, a teacher and students of each class, and a runner
that runs the queued tasks in the test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.domains.academic.timetabling import models
from campus.domains.academic.timetabling.runner import TASKS
from campus.kernel import clock
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.kernel.tasks import TaskRunner
from tests.domains.academic import factories
from tests.platform.access.conftest import SignIn, Tree, assert_problem, staff_in, student_in
from tests.platform.users.conftest import unique

__all__ = ["API", "PUBLIC", "SignIn", "Small", "assert_problem", "counts"]

API = "/api/v1/academic/timetabling"
PUBLIC = "/api/v1/academic/timetable"


@dataclass(frozen=True)
class Small:
    term_id: int
    rooms: list[int]  # multimedia rooms, then the lab
    sections: list[int]
    class_a: int
    class_b: int
    teacher_1: dict[str, Any]
    teacher_2: dict[str, Any]
    student_a: dict[str, Any]
    student_b: dict[str, Any]
    holiday: date


@pytest.fixture
async def small(db: Runtime, admin: httpx.AsyncClient, tree: Tree) -> Small:
    class_b = await factories.create_class(admin, tree.major_a, 2024, "甲2402班")
    teacher_1 = await staff_in(admin, tree, tree.college_a)
    teacher_2 = await staff_in(admin, tree, tree.college_a)
    student_a = await student_in(admin, tree)
    student_b = await student_in(admin, tree, class_id=class_b)
    holiday = date(2026, 9, 14)  # Monday of week 2 (the term starts on Monday 2026-09-07)
    async with db.db.transaction() as session:
        term = await factories.add_term(session, teaching_weeks=4, exam_week_from=5, exam_week_to=5)
        await factories.add_grid(session, term.id, split=True)
        await factories.add_holiday(session, term.id, holiday)
        building = await factories.add_building(session)
        rooms = await factories.add_rooms(session, building.id, 3)
        lab = await factories.add_room(
            session,
            building.id,
            code=unique("L"),
            name="实验室",
            room_type="lab",
            capacity=40,
            exam_capacity=20,
        )
        rooms.append(lab)
        course = await factories.add_course(session, name_en="Test", org_unit_id=tree.college_a)
        plan = [  # name, lectures, room type, teacher, classes
            ("高等数学（01班）", 2, "multimedia", teacher_1, [tree.class_a]),
            ("大学英语（01班）", 2, "multimedia", teacher_2, [tree.class_a, class_b]),
            ("程序设计（01班）", 1, "lab", teacher_1, [class_b]),
            ("线性代数（01班）", 2, "multimedia", teacher_2, [class_b]),
        ]
        sections = []
        for name, lectures, room_type, teacher, classes in plan:
            section = await factories.add_section(
                session,
                term_id=term.id,
                course_id=course.id,
                org_unit_id=tree.college_a,
                teacher_id=teacher["id"],
                class_ids=classes,
                name=name,
                lectures_per_week=lectures,
                room_type=room_type,
                week_to=4,
            )
            sections.append(section.id)
        return Small(
            term.id,
            [r.id for r in rooms],
            sections,
            tree.class_a,
            class_b,
            teacher_1,
            teacher_2,
            student_a,
            student_b,
            holiday,
        )


@pytest.fixture
def runner(db: Runtime) -> TaskRunner:
    return TaskRunner(db.db, TASKS, heartbeat_every=60.0, progress_every=0.5)


async def place(
    db: Runtime, small: Small, spots: list[tuple[int, int, int, int, int]]
) -> list[int]:
    """Write draft lectures directly: (section index, number, day, block, room index)."""
    async with db.db.transaction() as session:
        rows = [
            models.Lecture(
                term_id=small.term_id,
                section_id=small.sections[s],
                number=n,
                day=d,
                block=b,
                room_id=small.rooms[r],
                pinned=False,
            )
            for s, n, d, b, r in spots
        ]
        session.add_all(rows)
        timetable = models.Timetable(
            term_id=small.term_id, revision=1, published_version=0, updated_at=clock.now()
        )
        session.add(timetable)
        await session.flush()
        return [row.id for row in rows]


# A valid timetable of the small term: no clashes of room, teacher or class.
VALID = [
    (0, 0, 0, 1, 0),
    (0, 1, 2, 1, 0),  # 高数: Mon 1, Wed 1, room 0 (teacher 1, class A)
    (1, 0, 0, 2, 1),
    (1, 1, 3, 2, 1),  # 英语: Mon 2, Thu 2, room 1 (teacher 2, A+B)
    (2, 0, 1, 1, 3),  # 程序设计: Tue 1, lab (teacher 1, B)
    (3, 0, 1, 3, 2),
    (3, 1, 4, 3, 2),  # 线代: Tue 3, Fri 3, room 2 (teacher 2, B)
]


async def counts(db: Runtime) -> dict[str, int]:
    return await factories.count_rows(
        db,
        {
            "lectures": models.Lecture,
            "published": models.PublishedLecture,
            "runs": models.Run,
            "audit": AuditEntry,
            "outbox": OutboxRow,
        },
    )


async def lecture_spots(db: Runtime, term_id: int) -> list[tuple[int, int, int, int, int]]:
    async with db.db.read() as session:
        rows = await session.execute(
            select(
                models.Lecture.section_id,
                models.Lecture.number,
                models.Lecture.day,
                models.Lecture.block,
                models.Lecture.room_id,
            )
            .where(models.Lecture.term_id == term_id)
            .order_by(models.Lecture.section_id, models.Lecture.number)
        )
        return [(a, b, c, d, e) for a, b, c, d, e in rows]
