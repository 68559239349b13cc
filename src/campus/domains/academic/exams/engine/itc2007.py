"""The ITC-2007 examination-track formats: problems (``.exam``) and solutions (``.sln``).

A solution file has one line ``period, room`` per exam, in exam order. Malformed input raises
``ParseError`` with the line number and a message in Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .problem import (
    Exam,
    ExamProblem,
    Kind,
    Period,
    PeriodConstraint,
    Placement,
    Room,
    Solution,
    Weightings,
)

_HEADER = re.compile(r"^\[(\w+)(?::(\d+))?\]$")
_SECTIONS = {
    "Exams",
    "Periods",
    "Rooms",
    "PeriodHardConstraints",
    "RoomHardConstraints",
    "InstitutionalWeightings",
}
_COUNTED = {"Exams", "Periods", "Rooms"}


class ParseError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"第 {line} 行：{message}" if line else message)
        self.line = line
        self.message = message


def _fields(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",")]
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _int(token: str, line: int, what: str, *, minimum: int | None = 0) -> int:
    try:
        value = int(token)
    except ValueError:
        raise ParseError(line, f"{what}应为整数，却是“{token}”") from None
    if minimum is not None and value < minimum:
        raise ParseError(line, f"{what}不能小于 {minimum}（是 {value}）")
    return value


def parse_exam(text: str, name: str = "") -> ExamProblem:
    """Parse the contents of an ITC-2007 ``.exam`` file."""
    exams: list[Exam] = []
    periods: list[Period] = []
    rooms: list[Room] = []
    raw_constraints: list[tuple[int, int, Kind, int]] = []  # line, first, kind, second
    exclusive: list[tuple[int, int]] = []  # line, exam
    weights: dict[str, list[int]] = {}
    section: str | None = None
    expected = 0
    seen: set[str] = set()
    section_line = 0

    def close(line: int) -> None:
        if section in _COUNTED:
            got = {"Exams": len(exams), "Periods": len(periods), "Rooms": len(rooms)}[section]
            if got != expected:
                raise ParseError(section_line, f"[{section}] 声明了 {expected} 行，实际有 {got} 行")

    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("["):
            match = _HEADER.match(line)
            if match is None or match.group(1) not in _SECTIONS:
                raise ParseError(number, f"无法识别的段落标题“{line}”")
            close(number)
            section, count = match.group(1), match.group(2)
            if section in seen:
                raise ParseError(number, f"段落 [{section}] 重复出现")
            seen.add(section)
            section_line = number
            if section in _COUNTED:
                if count is None:
                    raise ParseError(number, f"段落 [{section}] 缺少数量（应写作 [{section}:N]）")
                expected = int(count)
            continue
        parts = _fields(line)
        if section is None:
            raise ParseError(number, "第一个段落标题之前出现了内容")
        if not parts or not parts[0]:
            raise ParseError(number, "此行缺少第一项")
        if section == "Exams":
            if len(exams) >= expected:
                raise ParseError(number, f"[Exams] 声明了 {expected} 门考试，此处多出一行")
            duration = _int(parts[0], number, "考试时长")
            students: dict[int, None] = {}
            for token in parts[1:]:
                students[_int(token, number, "学生编号")] = None
            exams.append(Exam(duration=duration, students=tuple(students), id=str(len(exams))))
        elif section == "Periods":
            if len(periods) >= expected:
                raise ParseError(number, f"[Periods] 声明了 {expected} 个时段，此处多出一行")
            if len(parts) != 4:
                raise ParseError(number, "时段一行应为“日期, 开始时间, 时长, 惩罚”四项")
            try:
                date = dt.datetime.strptime(parts[0], "%d:%m:%Y").date()
            except ValueError:
                raise ParseError(number, f"日期“{parts[0]}”应为 dd:mm:yyyy") from None
            try:
                start = dt.datetime.strptime(parts[1], "%H:%M:%S").time()
            except ValueError:
                raise ParseError(number, f"开始时间“{parts[1]}”应为 hh:mm:ss") from None
            periods.append(
                Period(
                    date=date,
                    start=start,
                    duration=_int(parts[2], number, "时段时长", minimum=1),
                    penalty=_int(parts[3], number, "时段惩罚"),
                    id=str(len(periods)),
                )
            )
        elif section == "Rooms":
            if len(rooms) >= expected:
                raise ParseError(number, f"[Rooms] 声明了 {expected} 个考场，此处多出一行")
            if len(parts) != 2:
                raise ParseError(number, "考场一行应为“容量, 惩罚”两项")
            rooms.append(
                Room(
                    capacity=_int(parts[0], number, "考场容量"),
                    penalty=_int(parts[1], number, "考场惩罚"),
                    id=str(len(rooms)),
                )
            )
        elif section == "PeriodHardConstraints":
            if len(parts) != 3:
                raise ParseError(number, "时段约束一行应为“考试, 类型, 考试”三项")
            try:
                kind = Kind(parts[1])
            except ValueError:
                raise ParseError(
                    number, f"未知的时段约束“{parts[1]}”（应为 AFTER、EXAM_COINCIDENCE、EXCLUSION）"
                ) from None
            first = _int(parts[0], number, "考试编号")
            second = _int(parts[2], number, "考试编号")
            raw_constraints.append((number, first, kind, second))
        elif section == "RoomHardConstraints":
            if len(parts) != 2 or parts[1] != "ROOM_EXCLUSIVE":
                raise ParseError(number, "考场约束一行应为“考试, ROOM_EXCLUSIVE”")
            exclusive.append((number, _int(parts[0], number, "考试编号")))
        else:  # InstitutionalWeightings
            key = parts[0]
            arity = {
                "TWOINAROW": 1,
                "TWOINADAY": 1,
                "PERIODSPREAD": 1,
                "NONMIXEDDURATIONS": 1,
                "FRONTLOAD": 3,
            }.get(key)
            if arity is None:
                raise ParseError(number, f"未知的权重“{key}”")
            if len(parts) != arity + 1:
                raise ParseError(number, f"权重 {key} 应有 {arity} 个数值")
            if key in weights:
                raise ParseError(number, f"权重 {key} 重复出现")
            weights[key] = [_int(token, number, f"权重 {key}") for token in parts[1:]]
    close(len(lines))
    for required in ("Exams", "Periods", "Rooms"):
        if required not in seen:
            raise ParseError(0, f"缺少段落 [{required}]")
    for number, first, _kind, second in raw_constraints:
        for exam in (first, second):
            if exam >= len(exams):
                raise ParseError(number, f"考试编号 {exam} 不存在（共 {len(exams)} 门考试）")
    for number, exam in exclusive:
        if exam >= len(exams):
            raise ParseError(number, f"考试编号 {exam} 不存在（共 {len(exams)} 门考试）")
    front = weights.get("FRONTLOAD", [0, 0, 0])
    return ExamProblem(
        exams=tuple(exams),
        periods=tuple(periods),
        rooms=tuple(rooms),
        constraints=tuple(PeriodConstraint(f, k, s) for _n, f, k, s in raw_constraints),
        room_exclusive=frozenset(exam for _n, exam in exclusive),
        weightings=Weightings(
            two_in_a_row=weights.get("TWOINAROW", [0])[0],
            two_in_a_day=weights.get("TWOINADAY", [0])[0],
            period_spread=weights.get("PERIODSPREAD", [0])[0],
            non_mixed_durations=weights.get("NONMIXEDDURATIONS", [0])[0],
            front_load_exams=front[0],
            front_load_periods=front[1],
            front_load_penalty=front[2],
        ),
        name=name,
    )


def read_exam(path: str | Path) -> ExamProblem:
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as error:
        raise ParseError(0, f"文件 {path.name} 含有非 ASCII 字符（位置 {error.start}）") from None
    return parse_exam(text, name=path.stem)


def format_solution(solution: Solution) -> str:
    """The competition solution format: ``period, room`` per exam (-1, -1 when not placed)."""
    lines: list[str] = []
    for placement in solution.placements:
        if placement is None:
            lines.append("-1, -1")
        else:
            if len(placement.rooms) != 1:
                raise ValueError("ITC-2007 解答每门考试只能用一个考场")
            lines.append(f"{placement.period}, {placement.rooms[0]}")
    return "\n".join(lines) + "\n"


def parse_solution(text: str, problem: ExamProblem) -> Solution:
    placements: list[Placement | None] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = _fields(line)
        if len(parts) != 2:
            raise ParseError(number, "解答一行应为“时段, 考场”两项")
        period = _int(parts[0], number, "时段编号", minimum=-1)
        room = _int(parts[1], number, "考场编号", minimum=-1)
        if period == -1 or room == -1:
            placements.append(None)
            continue
        if period >= len(problem.periods):
            raise ParseError(
                number, f"时段编号 {period} 不存在（共 {len(problem.periods)} 个时段）"
            )
        if room >= len(problem.rooms):
            raise ParseError(number, f"考场编号 {room} 不存在（共 {len(problem.rooms)} 个考场）")
        placements.append(Placement(period=period, rooms=(room,)))
    if len(placements) != len(problem.exams):
        raise ParseError(0, f"解答有 {len(placements)} 行，而问题有 {len(problem.exams)} 门考试")
    return Solution(placements=tuple(placements))
