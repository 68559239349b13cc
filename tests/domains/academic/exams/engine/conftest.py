"""Shared helpers: the ITC-2007 exam data (read in place, never copied) and tiny problems."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from campus.domains.academic.exams.engine.itc2007 import read_exam
from campus.domains.academic.exams.engine.problem import ExamProblem, Period

ROOT = Path(__file__).resolve().parents[5]
DATA = Path(
    os.environ.get("CAMPUS_ITC2007_EXAM", ROOT.parent / "shared/data/timetabling/itc2007-exam")
)


def itc_set(number: int) -> ExamProblem:
    path = DATA / f"exam_comp_set{number}.exam"
    if not path.exists():
        pytest.skip(f"ITC-2007 exam data not found at {path} (set CAMPUS_ITC2007_EXAM)")
    return read_exam(path)


def periods(
    per_day: list[int], *, duration: int = 120, penalties: dict[int, int] | None = None
) -> tuple[Period, ...]:
    """Periods over consecutive days, ``per_day[d]`` of them on day d."""
    out: list[Period] = []
    penalties = penalties or {}
    for day, count in enumerate(per_day):
        for slot in range(count):
            out.append(
                Period(
                    date=dt.date(2026, 1, 5) + dt.timedelta(days=day),
                    start=dt.time(8 + 3 * slot),
                    duration=duration,
                    penalty=penalties.get(len(out), 0),
                )
            )
    return tuple(out)
