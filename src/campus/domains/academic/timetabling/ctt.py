"""A term's problem as an ITC-2007 ``.ctt`` file (the engine's writer when it has one). The
format knows one teacher per course and no room types: the first teacher is written, and a
course's unavailable slots are its teachers'."""

from __future__ import annotations

from campus.domains.academic.timetabling.engine import itc2007
from campus.domains.academic.timetabling.engine.problem import Problem


def dumps(problem: Problem) -> str:
    writer = getattr(itc2007, "dumps", None)
    if writer is not None:
        return str(writer(problem))
    unavailable: list[tuple[str, int, int]] = []
    for course in problem.courses:
        slots = set(course.unavailable)
        for teacher in course.teachers:
            slots |= set(problem.teacher_unavailable.get(teacher, ()))
        unavailable += [(course.id, *problem.day_period(s)) for s in sorted(slots)]
    lines = [
        f"Name: {problem.name.replace(' ', '_') or 'campus'}",
        f"Courses: {len(problem.courses)}",
        f"Rooms: {len(problem.rooms)}",
        f"Days: {problem.days}",
        f"Periods_per_day: {problem.periods_per_day}",
        f"Curricula: {len(problem.curricula)}",
        f"Constraints: {len(unavailable)}",
        "",
        "COURSES:",
        *(
            f"{c.id} {c.teachers[0] if c.teachers else 'none'} {c.lectures} {c.min_days} "
            f"{c.students}"
            for c in problem.courses
        ),
        "",
        "ROOMS:",
        *(f"{r.id} {r.capacity}" for r in problem.rooms),
        "",
        "CURRICULA:",
        *(f"{q.id} {len(q.courses)} {' '.join(q.courses)}" for q in problem.curricula),
        "",
        "UNAVAILABILITY_CONSTRAINTS:",
        *(f"{c} {d} {p}" for c, d, p in unavailable),
        "",
        "END.",
    ]
    return "\n".join(lines) + "\n"
