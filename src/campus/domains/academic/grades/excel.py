"""The grade sheet as Excel: the section's students (学号, 姓名, 班级), a column per
component (and 等级 on a level scale), 特殊情况 and 修读方式. The upload reads the same
columns back; any bad row refuses the whole file with its row and column."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import sheets
from campus.domains.academic.grades import actions, queries
from campus.domains.academic.grades.schemas import (
    ATTEMPT_BY_LABEL,
    ATTEMPT_LABELS,
    LEVEL_LABELS,
    SPECIAL_BY_LABEL,
    SPECIAL_LABELS,
    EntryIn,
    SheetOut,
)
from campus.domains.academic.offering.models import Section
from campus.domains.academic.schemas import ImportProblem, ImportReport
from campus.kernel.context import Principal
from campus.kernel.errors import FieldError, InvalidInput
from campus.kernel.i18n import _

NUMBER, NAME, CLASS, LEVEL, SPECIAL, ATTEMPT = (
    "学号",
    "姓名",
    "班级",
    "等级",
    "特殊情况",
    "修读方式",
)


def columns_of(sheet: SheetOut) -> list[sheets.Column]:
    columns = [
        sheets.Column(NUMBER, "number", required=True),
        sheets.Column(NAME, "name"),
        sheets.Column(CLASS, "class_name", width=18),
    ]
    columns += [
        sheets.Column(f"{c.name}（{c.weight}%）", f"marks.{c.key}", width=12)
        for c in sheet.components
    ]
    if sheet.scale != "percentage":
        columns.append(sheets.Column(LEVEL, "level", width=10))
    columns += [
        sheets.Column(SPECIAL, "special", width=10),
        sheets.Column(ATTEMPT, "attempt", width=10),
    ]
    return columns


def _number(value: object) -> float | None:
    return None if value is None or value == "" else float(str(value))


def workbook(sheet: SheetOut) -> bytes:
    columns = columns_of(sheet)
    rows = []
    for e in sheet.entries:
        row: list[object] = [e.number or "", e.name, e.class_name or ""]
        row += [_number(e.marks.get(c.key)) for c in sheet.components]
        if sheet.scale != "percentage":
            row.append(LEVEL_LABELS.get(e.level, ""))
        row += [SPECIAL_LABELS.get(e.special, ""), ATTEMPT_LABELS.get(e.attempt, "正常")]
        rows.append(row)
    levels = "、".join(
        LEVEL_LABELS[x]
        for x in (
            ("excellent", "good", "fair", "pass", "fail")
            if sheet.scale == "five_level"
            else ("passed", "failed")
        )
    )
    notes = [
        f"{sheet.course_name}（{sheet.section_code}）{sheet.term_name}",
        "每项成绩填 0–100 的数字，最多一位小数；留空表示未录入。",
        "特殊情况可填：缺考、缓考、作弊（填写后不计各项成绩）；修读方式可填：正常、补考、重修。",
        "请勿修改学号列与表头；任何一行有错误时整份文件不导入。",
    ]
    if sheet.scale != "percentage":
        notes.insert(2, f"等级填：{levels}。")
    return sheets.workbook("成绩", columns, rows, notes)


async def check_upload(
    session: AsyncSession, principal: Principal, section: Section, sheet: SheetOut, data: bytes
) -> int:
    """Read the file, check every row against the sheet, and save all rows or none."""
    columns = columns_of(sheet)
    headers = {c.field: c.header for c in columns}
    rows = sheets.read_rows(data, columns)
    by_number = {e.number: e.person_id for e in sheet.entries if e.number}
    stored = await queries.sheet_of(session, section.id)
    if stored is None or not stored.components:
        raise InvalidInput.on("file", _("请先设置成绩构成与记分制"))
    members = set(by_number.values())
    problems: list[ImportProblem] = []
    entries: list[EntryIn] = []
    seen: dict[str, int] = {}
    for row in rows:
        errors: list[FieldError] = []
        number = row.values.get("number", "")
        person_id = by_number.get(number)
        if person_id is None:
            errors.append(FieldError("number", _("学号 {n} 不在本教学班", n=number or "（空）")))
        elif number in seen:
            errors.append(FieldError("number", _("与第 {row} 行重复", row=seen[number])))
        else:
            seen[number] = row.number
        special_text = row.values.get("special", "")
        special = SPECIAL_BY_LABEL.get(special_text)
        if special_text and special is None:
            errors.append(FieldError("special", _("须为 缺考、缓考、作弊 之一或留空")))
        attempt_text = row.values.get("attempt", "") or "正常"
        attempt = ATTEMPT_BY_LABEL.get(attempt_text)
        if attempt is None:
            errors.append(FieldError("attempt", _("须为 正常、补考、重修 之一")))
        entry = EntryIn.model_validate(
            {
                "person_id": person_id or 0,
                "marks": {c.key: None for c in sheet.components},
                "level": row.values.get("level", ""),
                "special": special or "",
                "attempt": attempt or "normal",
            }
        )
        raw_marks = {c.key: row.values.get(f"marks.{c.key}", "") for c in sheet.components}
        entry.marks = {k: None for k in raw_marks}
        checked, found = actions.entry_problems(stored, members, entry)
        for key, value in raw_marks.items():
            mark, problem = actions.mark_problem(value)
            if problem is not None:
                errors.append(FieldError(f"marks.{key}", problem))
            else:
                entry.marks[key] = mark
        errors += [e for e in found if e.field != "person_id"]
        problems += [
            ImportProblem(
                row=row.number, column=headers.get(e.field, e.field), reason=str(e.reason)
            )
            for e in errors
        ]
        if not errors and checked is not None:
            entries.append(entry)
    if problems:
        report = ImportReport(total_rows=len(rows), imported=0, problems=problems)
        raise InvalidInput(
            sheets.problems_detail(len(rows), len({p.row for p in problems})),
            extra={"report": report.model_dump(mode="json")},
        )
    return await actions.check_entries(session, principal, section, entries)
