"""Shared helpers of the solver's tests: the ITC-2007 data (skipped with a reason when absent)
and a small campus-like problem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from campus.domains.academic.timetabling.engine import itc2007
from campus.domains.academic.timetabling.engine.problem import (
    Course,
    Curriculum,
    Problem,
    Room,
    Weights,
)

ROOT = Path(__file__).resolve().parents[5]
DATA = Path(
    os.environ.get("CAMPUS_ITC2007_CBCTT", ROOT.parent / "shared/data/timetabling/itc2007-cbctt")
)


def data_file(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"ITC-2007 data missing: {path} (set CAMPUS_ITC2007_CBCTT to its folder)")
    return path


@pytest.fixture(scope="session")
def comp01() -> Problem:
    return itc2007.load(data_file("comp01.ctt"))


def campus_problem() -> Problem:
    """Five days × four blocks; two buildings; a lab type; two classes sharing a teacher."""
    rooms = (
        Room("A101", 60, "lecture", "A"),
        Room("A102", 40, "lecture", "A"),
        Room("B201", 120, "lecture", "B"),
        Room("LAB1", 30, "lab", "B", unavailable=frozenset({0, 1})),
    )
    courses = (
        Course("math-1", ("zhang",), 3, 3, 55, room_type="lecture", building="A"),
        Course("phys-1", ("li",), 2, 2, 55, room_type="lecture"),
        Course("lab-1", ("li",), 2, 1, 28, room_type="lab"),
        Course("eng-1", ("wang",), 2, 2, 55, unavailable=frozenset({4, 5, 6, 7})),
        Course("math-2", ("zhang",), 3, 3, 38, room_type="lecture"),
        Course("chem-2", ("zhao",), 2, 2, 38, rooms=frozenset({"A102", "B201"})),
        Course("lab-2", ("zhao",), 1, 1, 25, room_type="lab"),
        Course("pe", ("sun",), 1, 1, 110, rooms=frozenset({"B201"})),
    )
    curricula = (
        Curriculum("class-1", ("math-1", "phys-1", "lab-1", "eng-1", "pe")),
        Curriculum("class-2", ("math-2", "chem-2", "lab-2", "eng-1", "pe")),
    )
    return Problem(
        name="campus",
        days=5,
        periods_per_day=4,
        courses=courses,
        rooms=rooms,
        curricula=curricula,
        weights=Weights(teacher_preference=3, building_change=1, preferred_building=2),
        teacher_unavailable={"zhang": frozenset({0, 1, 2, 3})},
        teacher_dispreferred={"li": frozenset({3, 7, 11, 15, 19})},
    )
