"""The audit itself, free of the database: a programme's requirements against the courses a
student has passed. The property tests hold it against an independent count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel


@dataclass(frozen=True)
class Requirement:
    """A course of the programme: its group, whether it is required, its credits there."""

    course_id: int
    code: str
    name: str
    group_id: int
    required: bool
    credits: Decimal


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    min_credits: Decimal


@dataclass(frozen=True)
class Programme:
    id: int
    name: str
    total_credits: Decimal
    groups: list[Group]
    courses: dict[int, Requirement] = field(default_factory=dict)


class MissingCourse(BaseModel):
    course_id: int
    code: str
    name: str
    credits: Decimal


class GroupReport(BaseModel):
    name: str
    min_credits: Decimal
    earned: Decimal
    missing_credits: Decimal
    missing_required: list[MissingCourse]

    @property
    def met(self) -> bool:
        return self.missing_credits == 0 and not self.missing_required


class Report(BaseModel):
    """What the student has against what the programme asks; ``passed`` only when every group
    is met, no required course is missing and the total is reached."""

    programme_id: int
    programme: str
    total_required: Decimal
    total_earned: Decimal
    missing_total: Decimal
    outside_credits: Decimal  # passed courses outside the programme (count toward the total)
    groups: list[GroupReport]
    passed: bool

    @property
    def missing_required(self) -> int:
        return sum(len(g.missing_required) for g in self.groups)


def audit(programme: Programme, passed: Mapping[int, Decimal]) -> Report:
    """``passed``: each course the student has passed, once, with the credits it earned.
    Credits earned in a group beyond its minimum do not make up for another group."""
    groups = []
    for group in programme.groups:
        inside = [r for r in programme.courses.values() if r.group_id == group.id]
        earned = sum((passed[r.course_id] for r in inside if r.course_id in passed), Decimal(0))
        missing = [
            MissingCourse(course_id=r.course_id, code=r.code, name=r.name, credits=r.credits)
            for r in sorted(inside, key=lambda r: r.code)
            if r.required and r.course_id not in passed
        ]
        groups.append(
            GroupReport(
                name=group.name,
                min_credits=group.min_credits,
                earned=earned,
                missing_credits=max(group.min_credits - earned, Decimal(0)),
                missing_required=missing,
            )
        )
    total = sum(passed.values(), Decimal(0))
    outside = sum(
        (credits for course, credits in passed.items() if course not in programme.courses),
        Decimal(0),
    )
    missing_total = max(programme.total_credits - total, Decimal(0))
    return Report(
        programme_id=programme.id,
        programme=programme.name,
        total_required=programme.total_credits,
        total_earned=total,
        missing_total=missing_total,
        outside_credits=outside,
        groups=groups,
        passed=missing_total == 0 and all(g.met for g in groups),
    )
