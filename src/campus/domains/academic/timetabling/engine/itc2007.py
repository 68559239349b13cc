"""Reading and writing the ITC-2007 curriculum-based formats (``.ctt`` and ``.ectt``).

Files are read as whitespace-separated tokens (the originals use CRLF and trailing blanks). A
malformed file raises :class:`ParseError` with the line number and a Chinese message; nothing
else escapes. The ``.ectt`` extras (daily min/max, double lectures, room constraints) are not part
of the UD2 objective: the building of a room is kept, the rest is read and ignored unless
``room_constraints=True`` turns ``ROOM_CONSTRAINTS`` into allowed-room sets.

A solution file has one lecture per line: ``course room day period`` (0-based day and period).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .problem import Course, Curriculum, Placement, Problem, Room

__all__ = ["ParseError", "dumps_solution", "load", "loads", "loads_solution", "read_solution"]


class ParseError(ValueError):
    """A malformed instance or solution file; ``line`` is 1-based (0 when unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"第 {line} 行：{message}" if line else message)
        self.line = line
        self.message = message


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, int]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            self.items.extend((token, number) for token in raw.split())
        self.pos = 0
        self.last_line = len(text.splitlines()) or 1

    def line(self) -> int:
        return self.items[self.pos][1] if self.pos < len(self.items) else self.last_line

    def peek(self) -> str | None:
        return self.items[self.pos][0] if self.pos < len(self.items) else None

    def next(self, what: str) -> str:
        if self.pos >= len(self.items):
            raise ParseError(self.last_line, f"文件意外结束，缺少{what}")
        token = self.items[self.pos][0]
        self.pos += 1
        return token

    def expect(self, keyword: str) -> None:
        line = self.line()
        token = self.next(f"“{keyword}”")
        if token != keyword:
            raise ParseError(line, f"应为“{keyword}”，实为“{token}”")

    def integer(self, what: str, minimum: int = 0) -> int:
        line = self.line()
        token = self.next(what)
        try:
            value = int(token)
        except ValueError:
            raise ParseError(line, f"{what}应为整数，实为“{token}”") from None
        if value < minimum:
            raise ParseError(line, f"{what}不能小于 {minimum}，实为 {value}")
        return value


def load(path: str | Path, *, room_constraints: bool = False) -> Problem:
    """Read a ``.ctt`` or ``.ectt`` file (the format is recognised from its header)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ParseError(0, "文件不是 UTF-8 文本") from None
    return loads(text, room_constraints=room_constraints)


def loads(text: str, *, room_constraints: bool = False) -> Problem:
    tokens = _Tokens(text)
    tokens.expect("Name:")
    name = tokens.next("实例名称")
    tokens.expect("Courses:")
    n_courses = tokens.integer("课程数")
    tokens.expect("Rooms:")
    n_rooms = tokens.integer("教室数")
    tokens.expect("Days:")
    days = tokens.integer("天数", 1)
    tokens.expect("Periods_per_day:")
    periods = tokens.integer("每天节数", 1)
    tokens.expect("Curricula:")
    n_curricula = tokens.integer("课程组数")
    extended = tokens.peek() == "Min_Max_Daily_Lectures:"
    n_room_constraints = 0
    if extended:
        tokens.expect("Min_Max_Daily_Lectures:")
        tokens.integer("每日最少课次")
        tokens.integer("每日最多课次")
        tokens.expect("UnavailabilityConstraints:")
        n_unavailable = tokens.integer("不可用约束数")
        tokens.expect("RoomConstraints:")
        n_room_constraints = tokens.integer("教室约束数")
    else:
        tokens.expect("Constraints:")
        n_unavailable = tokens.integer("不可用约束数")

    tokens.expect("COURSES:")
    raw_courses: list[tuple[str, str, int, int, int]] = []
    seen: dict[str, int] = {}
    for _ in range(n_courses):
        line = tokens.line()
        if tokens.peek() == "ROOMS:":
            raise ParseError(line, f"课程行数少于头部声明的 {n_courses} 门")
        cid = tokens.next("课程编号")
        if cid in seen:
            raise ParseError(line, f"课程“{cid}”重复（第 {seen[cid]} 行已有）")
        seen[cid] = line
        teacher = tokens.next("教师")
        lectures = tokens.integer("周课次数")
        min_days = tokens.integer("最少上课天数")
        students = tokens.integer("学生数")
        if extended:
            tokens.integer("连堂标记")
        raw_courses.append((cid, teacher, lectures, min_days, students))
    if tokens.peek() != "ROOMS:":
        raise ParseError(tokens.line(), f"课程行数多于头部声明的 {n_courses} 门，或缺少“ROOMS:”")
    tokens.expect("ROOMS:")
    rooms: list[Room] = []
    room_ids: set[str] = set()
    for _ in range(n_rooms):
        line = tokens.line()
        if tokens.peek() == "CURRICULA:":
            raise ParseError(line, f"教室行数少于头部声明的 {n_rooms} 间")
        rid = tokens.next("教室编号")
        if rid in room_ids:
            raise ParseError(line, f"教室“{rid}”重复")
        room_ids.add(rid)
        capacity = tokens.integer("教室容量")
        building = tokens.next("楼宇") if extended else None
        rooms.append(Room(id=rid, capacity=capacity, building=building))
    if tokens.peek() != "CURRICULA:":
        raise ParseError(tokens.line(), f"教室行数多于头部声明的 {n_rooms} 间，或缺少“CURRICULA:”")
    tokens.expect("CURRICULA:")
    curricula: list[Curriculum] = []
    curriculum_ids: set[str] = set()
    for _ in range(n_curricula):
        line = tokens.line()
        if tokens.peek() == "UNAVAILABILITY_CONSTRAINTS:":
            raise ParseError(line, f"课程组行数少于头部声明的 {n_curricula} 个")
        qid = tokens.next("课程组编号")
        if qid in curriculum_ids:
            raise ParseError(line, f"课程组“{qid}”重复")
        curriculum_ids.add(qid)
        count = tokens.integer("课程组的课程数")
        members: list[str] = []
        for _ in range(count):
            member_line = tokens.line()
            cid = tokens.next("课程组的课程")
            if cid not in seen:
                raise ParseError(member_line, f"课程组“{qid}”含未知课程“{cid}”")
            if cid not in members:
                members.append(cid)
        curricula.append(Curriculum(id=qid, courses=tuple(members)))
    if tokens.peek() != "UNAVAILABILITY_CONSTRAINTS:":
        raise ParseError(
            tokens.line(),
            f"课程组行数多于头部声明的 {n_curricula} 个，或缺少“UNAVAILABILITY_CONSTRAINTS:”",
        )
    tokens.expect("UNAVAILABILITY_CONSTRAINTS:")
    unavailable: dict[str, set[int]] = {}
    for _ in range(n_unavailable):
        line = tokens.line()
        if tokens.peek() in ("END.", "ROOM_CONSTRAINTS:"):
            raise ParseError(line, f"不可用约束行数少于头部声明的 {n_unavailable} 条")
        cid = tokens.next("课程编号")
        if cid not in seen:
            raise ParseError(line, f"不可用约束含未知课程“{cid}”")
        day = tokens.integer("星期")
        period = tokens.integer("节次")
        if day >= days or period >= periods:
            raise ParseError(line, f"时段（{day}, {period}）超出 {days} 天 × {periods} 节")
        unavailable.setdefault(cid, set()).add(day * periods + period)
    forbidden: dict[str, set[str]] = {}
    if extended:
        if tokens.peek() != "ROOM_CONSTRAINTS:":
            raise ParseError(tokens.line(), "缺少“ROOM_CONSTRAINTS:”或不可用约束行数多于声明")
        tokens.expect("ROOM_CONSTRAINTS:")
        for _ in range(n_room_constraints):
            line = tokens.line()
            if tokens.peek() == "END.":
                raise ParseError(line, f"教室约束行数少于头部声明的 {n_room_constraints} 条")
            cid = tokens.next("课程编号")
            rid = tokens.next("教室编号")
            if cid not in seen:
                raise ParseError(line, f"教室约束含未知课程“{cid}”")
            if rid not in room_ids:
                raise ParseError(line, f"教室约束含未知教室“{rid}”")
            forbidden.setdefault(cid, set()).add(rid)
    if tokens.peek() != "END.":
        raise ParseError(tokens.line(), "缺少结束标记“END.”，或某一节的行数多于头部声明")
    tokens.expect("END.")
    if tokens.peek() is not None:
        raise ParseError(tokens.line(), f"“END.”之后还有多余内容“{tokens.peek()}”")

    courses = []
    for cid, teacher, lectures, min_days, students in raw_courses:
        allowed = None
        if room_constraints and cid in forbidden:
            allowed = frozenset(r.id for r in rooms if r.id not in forbidden[cid])
        courses.append(
            Course(
                id=cid,
                teachers=(teacher,),
                lectures=lectures,
                min_days=min_days,
                students=students,
                unavailable=frozenset(unavailable.get(cid, ())),
                rooms=allowed,
            )
        )
    return Problem(
        name=name,
        days=days,
        periods_per_day=periods,
        courses=tuple(courses),
        rooms=tuple(rooms),
        curricula=tuple(curricula),
    )


def dumps_solution(problem: Problem, placements: Iterable[Placement]) -> str:
    lines = []
    for p in placements:
        day, period = problem.day_period(p.slot)
        lines.append(f"{p.course} {p.room} {day} {period}")
    return "\n".join(lines) + ("\n" if lines else "")


def loads_solution(problem: Problem, text: str) -> list[Placement]:
    """Read a solution; unknown courses or rooms and out-of-range slots are errors."""
    courses = {c.id for c in problem.courses}
    rooms = {r.id for r in problem.rooms}
    result: list[Placement] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise ParseError(number, f"每行应为“课程 教室 星期 节次”四项，实为 {len(parts)} 项")
        cid, rid, day_text, period_text = parts
        if cid not in courses:
            raise ParseError(number, f"未知课程“{cid}”")
        if rid not in rooms:
            raise ParseError(number, f"未知教室“{rid}”")
        try:
            day, period = int(day_text), int(period_text)
        except ValueError:
            raise ParseError(number, "星期和节次应为整数") from None
        if not (0 <= day < problem.days and 0 <= period < problem.periods_per_day):
            raise ParseError(number, f"时段（{day}, {period}）超出范围")
        result.append(Placement(course=cid, room=rid, slot=problem.slot(day, period)))
    return result


def read_solution(problem: Problem, path: str | Path) -> list[Placement]:
    return loads_solution(problem, Path(path).read_text(encoding="utf-8"))
